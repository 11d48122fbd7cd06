"""promptship's library: the registry format, its rules, and its storage in git.

The core modules (``model``, ``lifecycle``, ``promotion``, ``history``, ``templates``) read
snapshots and return change sets; ``registry.git`` reads snapshots from git and writes change sets
as commits, ``registry.check`` holds the check, ``registry.read`` what applications read and
``registry.panel`` the test panel. Importing ``registry`` itself is cheap: git and templates
load on first use.

Applications read prompts with ``Registry`` (``from registry import Registry``); see
docs/consumers.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import (
    BranchDiverged,
    BranchExists,
    CannotCheck,
    ConcurrentChange,
    DirtyWorkTree,
    GoldenTestsFailed,
    IdentityMissing,
    InputError,
    InvalidBundle,
    InvalidConfig,
    InvalidName,
    InvalidRegistry,
    LifecycleError,
    LockFileExists,
    MissingExtra,
    MissingVariables,
    NoProductionVersion,
    Problem,
    PromptExists,
    PromptNotFound,
    PromptshipError,
    ProviderError,
    PushRejected,
    RemoteError,
    RenderError,
    RepositoryError,
    RunNotFound,
    Superseded,
    TemplateSyntaxError,
    UnknownVariables,
    VariablesError,
    VersionNotFound,
)

if TYPE_CHECKING:
    from .read.registry import Registry
    from .read.versions import PromptVersion
    from .templates import Rendered

# Loaded on first access, so that ``import registry`` does not load git or Jinja2.
_LAZY = {
    "PromptVersion": "read.versions",
    "Registry": "read.registry",
    "Rendered": "templates",
}

__all__ = [
    "BranchDiverged",
    "BranchExists",
    "CannotCheck",
    "ConcurrentChange",
    "DirtyWorkTree",
    "GoldenTestsFailed",
    "IdentityMissing",
    "InputError",
    "InvalidBundle",
    "InvalidConfig",
    "InvalidName",
    "InvalidRegistry",
    "LifecycleError",
    "LockFileExists",
    "MissingExtra",
    "MissingVariables",
    "NoProductionVersion",
    "Problem",
    "PromptExists",
    "PromptNotFound",
    "PromptVersion",
    "PromptshipError",
    "ProviderError",
    "PushRejected",
    "Registry",
    "RemoteError",
    "RenderError",
    "Rendered",
    "RepositoryError",
    "RunNotFound",
    "Superseded",
    "TemplateSyntaxError",
    "UnknownVariables",
    "VariablesError",
    "VersionNotFound",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
