"""promptship's library: the registry format, its rules, and its storage in git.

The core modules (``model``, ``lifecycle``, ``promotion``, ``history``, ``check``, ``templates``)
read snapshots and return change sets; ``gitstore`` reads snapshots from git and writes change sets
as commits. Importing ``registry`` itself is cheap: git and templates load on first use.
"""

from .errors import (
    CannotCheck,
    ConcurrentChange,
    DirtyWorkTree,
    IdentityMissing,
    InputError,
    InvalidName,
    InvalidRegistry,
    LifecycleError,
    MissingVariables,
    NoProductionVersion,
    Problem,
    PromptExists,
    PromptNotFound,
    PromptshipError,
    RenderError,
    RepositoryError,
    Superseded,
    TemplateSyntaxError,
    UnknownVariables,
    VariablesError,
    VersionNotFound,
)

__all__ = [
    "CannotCheck",
    "ConcurrentChange",
    "DirtyWorkTree",
    "IdentityMissing",
    "InputError",
    "InvalidName",
    "InvalidRegistry",
    "LifecycleError",
    "MissingVariables",
    "NoProductionVersion",
    "Problem",
    "PromptExists",
    "PromptNotFound",
    "PromptshipError",
    "RenderError",
    "RepositoryError",
    "Superseded",
    "TemplateSyntaxError",
    "UnknownVariables",
    "VariablesError",
    "VersionNotFound",
]
