"""What applications read: prompt versions resolved from one snapshot, each file parsed once.

``SnapshotReader`` answers ``get`` from a single snapshot and remembers every answer, so a warm
lookup is a dictionary hit; ``PromptVersion`` is the immutable value it hands out. Both are pure:
``registry.read.registry`` puts them on a git commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ..catalog import (
    is_served,
    load_pointer,
    load_served,
    load_version,
    prompt_names,
    selected_number,
)
from ..errors import InputError
from ..model import Message, Pointer, PromptType, Status, Version
from ..names import Selector, parse_selector, parse_version_number
from ..snapshot import Snapshot
from ..templates import PreparedVersion, Rendered

__all__ = [
    "PromptVersion",
    "SnapshotReader",
    "prompt_version",
    "selector",
]


class _Templates:
    """A version's templates, parsed on first use (variables, render) and kept."""

    __slots__ = ("_prepared", "version")

    def __init__(self, version: Version) -> None:
        self.version = version
        self._prepared: PreparedVersion | None = None

    def get(self) -> PreparedVersion:
        if self._prepared is None:
            self._prepared = PreparedVersion(self.version)
        return self._prepared


@dataclass(frozen=True, kw_only=True, slots=True)
class PromptVersion:
    """One version of a prompt as an application sees it. Immutable: ``metadata`` is a read-only
    mapping (nested lists are tuples); ``to_json()`` gives plain, JSON-ready values."""

    prompt: str
    version: int
    status: Status
    type: PromptType
    content: str | None
    messages: tuple[Message, ...] | None
    metadata: Mapping[str, Any]
    digest: str
    is_production: bool
    created_at: str
    created_by: str
    promoted_at: str | None = None
    promoted_by: str | None = None
    _templates: _Templates = field(repr=False, compare=False)

    @property
    def variables(self) -> tuple[str, ...]:
        """The variables the templates use, sorted."""
        return self._templates.get().variables

    def render(self, /, **values: Any) -> Rendered:
        """Fill in the variables; every one must be given, and no other
        (``MissingVariables``, ``UnknownVariables``)."""
        return self._templates.get().render(values)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "prompt": self.prompt,
            "version": self.version,
            "status": self.status,
            "type": self.type,
        }
        if self.type == "text":
            data["content"] = self.content
        else:
            data["messages"] = [{"role": m.role, "content": m.content} for m in self.messages or ()]
        data.update(
            variables=list(self.variables),
            metadata=thaw(self.metadata),
            digest=self.digest,
            is_production=self.is_production,
            created_at=self.created_at,
            created_by=self.created_by,
            promoted_at=self.promoted_at,
            promoted_by=self.promoted_by,
        )
        return data


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """Plain dicts and lists again, from a frozen ``metadata`` value."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    return value


def selector(name: str, label: str | None, version: int | str | None) -> Selector:
    """What ``get(name, label=..., version=...)`` asks for (``name`` may be ``NAME@LABEL``)."""
    if "@" in name:
        if label is not None or version is not None:
            raise InputError(
                f"{name!r} already names a version; do not pass label or version too",
                hint="write get('greeting@3') or get('greeting', version=3)",
            )
        return parse_selector(name)
    if version is not None:
        if label is not None:
            raise InputError(
                "give a label or a version, not both",
                hint="label='latest' or version=3",
            )
        return parse_selector(f"{name}@{parse_version_number(version)}")
    if label not in (None, "production", "latest"):
        raise InputError(
            f"unknown label {label!r}", hint="labels are 'production' (the default) and 'latest'"
        )
    return parse_selector(f"{name}@{label or 'production'}")


class SnapshotReader:
    """Prompt versions from one snapshot. Each file is parsed at most once and each answer is
    kept, so repeated lookups cost a dictionary hit; the snapshot must not change under it."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self._answers: dict[tuple[str, str | None, int | str | None], PromptVersion] = {}
        self._pointers: dict[str, Pointer | None] = {}
        self._versions: dict[tuple[str, int], PromptVersion] = {}

    def get(
        self, name: str, *, label: str | None = None, version: int | str | None = None
    ) -> PromptVersion:
        """The production version of ``name``; ``label="latest"`` the highest version number
        whatever its status; ``version=N`` that version. ``name`` may also be ``NAME@LABEL``."""
        key = (name, label, version)
        found = self._answers.get(key)
        if found is None:
            found = self._answers[key] = self._resolve(selector(name, label, version))
        return found

    def names(self) -> list[str]:
        """Every prompt's name, sorted."""
        return prompt_names(self.snapshot)

    def production_versions(self) -> list[PromptVersion]:
        """The production version of every prompt that has one, by name."""
        return [self.get(n) for n in self.names() if self._pointer(n) is not None]

    def _pointer(self, name: str) -> Pointer | None:
        if name not in self._pointers:
            self._pointers[name] = load_pointer(self.snapshot, name)
        return self._pointers[name]

    def _resolve(self, selector: Selector) -> PromptVersion:
        name = selector.prompt
        pointer = self._pointer(name)
        number = selected_number(self.snapshot, selector, pointer)
        if selector.version is not None or selector.label == "latest":
            return self._version(name, number, pointer)
        assert pointer is not None
        return load_served(pointer, lambda n: self._version(name, n, pointer))

    def _version(self, name: str, number: int, pointer: Pointer | None) -> PromptVersion:
        key = (name, number)
        if key not in self._versions:
            self._versions[key] = prompt_version(load_version(self.snapshot, name, number), pointer)
        return self._versions[key]


def prompt_version(version: Version, pointer: Pointer | None) -> PromptVersion:
    """What an application sees of ``version``, given its prompt's production ``pointer``."""
    served = is_served(version, pointer)
    return PromptVersion(
        prompt=version.prompt,
        version=version.version,
        status=version.status,
        type=version.type,
        content=version.content,
        messages=version.messages,
        metadata=_freeze(dict(version.metadata)),
        digest=version.digest,
        is_production=served,
        created_at=version.created_at,
        created_by=version.created_by,
        promoted_at=pointer.promoted_at if served and pointer else None,
        promoted_by=pointer.promoted_by if served and pointer else None,
        _templates=_Templates(version),
    )
