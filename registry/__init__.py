"""promptship's library: the registry format, its rules, and its storage in git.

What an application meets is exported here: ``Registry`` to read prompts (docs/consumers.md),
``Editor`` to change them (docs/library.md), the values they return, and the errors a reader or a
writer catches. Everything else is reached through its module: the core (``registry.lifecycle``,
``registry.promotion``, ``registry.history``, ...) reads snapshots and returns change sets;
``registry.git`` reads snapshots from git and writes change sets as commits;
``registry.check`` holds the check, ``registry.read`` the read API, ``registry.panel`` the test
panel; every error lives in ``registry.errors``. Importing ``registry`` itself is cheap: git and
templates load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import (
    BranchDiverged,
    BranchExists,
    ConcurrentChange,
    DirtyWorkTree,
    GoldenTestsFailed,
    HookFailed,
    IdentityMissing,
    InputError,
    InvalidName,
    InvalidRegistry,
    LifecycleError,
    LockFileExists,
    MissingVariables,
    NoProductionVersion,
    PromptExists,
    PromptNotFound,
    PromptshipError,
    PushRejected,
    RemoteError,
    RenderError,
    RepositoryError,
    SigningFailed,
    Superseded,
    SyncIncomplete,
    TemplateSyntaxError,
    UnknownVariables,
    VariablesError,
    VersionNotFound,
    WriteInterrupted,
)

if TYPE_CHECKING:
    from .editor import Editor, PromotionPlan, WriteResult
    from .read.registry import Registry
    from .read.versions import PromptVersion
    from .templates import Rendered

# Loaded on first access, so that ``import registry`` does not load git or Jinja2.
_LAZY = {
    "Editor": "editor",
    "PromotionPlan": "editor",
    "PromptVersion": "read.versions",
    "Registry": "read.registry",
    "Rendered": "templates",
    "WriteResult": "editor",
}

__all__ = [
    "BranchDiverged",
    "BranchExists",
    "ConcurrentChange",
    "DirtyWorkTree",
    "Editor",
    "GoldenTestsFailed",
    "HookFailed",
    "IdentityMissing",
    "InputError",
    "InvalidName",
    "InvalidRegistry",
    "LifecycleError",
    "LockFileExists",
    "MissingVariables",
    "NoProductionVersion",
    "PromotionPlan",
    "PromptExists",
    "PromptNotFound",
    "PromptVersion",
    "PromptshipError",
    "PushRejected",
    "Registry",
    "RemoteError",
    "RenderError",
    "Rendered",
    "RepositoryError",
    "SigningFailed",
    "Superseded",
    "SyncIncomplete",
    "TemplateSyntaxError",
    "UnknownVariables",
    "VariablesError",
    "VersionNotFound",
    "WriteInterrupted",
    "WriteResult",
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
