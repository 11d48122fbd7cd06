"""Reading a registry from a snapshot: prompts, their versions, pointers and histories."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, TypeVar

from .errors import InvalidRegistry, NoProductionVersion, Problem, PromptNotFound, VersionNotFound
from .history import HistoryRecord, parse_history
from .model import Pointer, PromptInfo, Version, parse_pointer, parse_prompt_info, parse_version
from .names import (
    PROMPTS_DIR,
    VERSION_FILE,
    Selector,
    check_name,
    history_path,
    is_valid_name,
    pointer_path,
    prompt_file,
    version_path,
    versions_dir,
)
from .snapshot import Snapshot

__all__ = [
    "PromptSummary",
    "SortKey",
    "all_history",
    "broken_pointer",
    "check_served",
    "is_served",
    "list_prompts",
    "load_history",
    "load_info",
    "load_pointer",
    "load_served",
    "load_version",
    "next_version_number",
    "prompt_names",
    "resolve",
    "selected_number",
    "version_numbers",
]


SortKey = Literal["name", "created", "changed"]


def prompt_names(snapshot: Snapshot) -> list[str]:
    """Names of the prompt folders, sorted; folders with invalid names are left to the check."""
    entries = snapshot.list_dir(PROMPTS_DIR) or ()
    return sorted(e.name for e in entries if e.kind == "dir" and is_valid_name(e.name))


def load_info(snapshot: Snapshot, name: str) -> PromptInfo:
    check_name(name)
    path = prompt_file(name)
    data = snapshot.read(path)
    if data is None:
        raise PromptNotFound(name)
    return parse_prompt_info(data, path=path, prompt=name)


def version_numbers(snapshot: Snapshot, name: str) -> list[int]:
    entries = snapshot.list_dir(versions_dir(name)) or ()
    # An executable version file is refused by the check but read like any other.
    found = (VERSION_FILE.match(e.name) for e in entries if e.kind in ("file", "executable"))
    return sorted(int(m.group(1)) for m in found if m)


def load_version(snapshot: Snapshot, name: str, number: int) -> Version:
    path = version_path(name, number)
    data = snapshot.read(path)
    if data is None:
        load_info(snapshot, name)
        raise VersionNotFound(name, number)
    return parse_version(data, path=path, prompt=name, number=number)


def load_pointer(snapshot: Snapshot, name: str) -> Pointer | None:
    path = pointer_path(name)
    data = snapshot.read(path)
    return None if data is None else parse_pointer(data, path=path, prompt=name)


def load_history(snapshot: Snapshot, name: str) -> list[HistoryRecord]:
    path = history_path(name)
    data = snapshot.read(path)
    return [] if data is None else parse_history(data, path=path, prompt=name)


def all_history(snapshot: Snapshot, name: str | None = None) -> list[HistoryRecord]:
    """The records of one prompt (which must exist), or of every prompt."""
    if name is not None:
        load_info(snapshot, name)
    names = [name] if name is not None else prompt_names(snapshot)
    return [record for n in names for record in load_history(snapshot, n)]


def next_version_number(snapshot: Snapshot, name: str) -> int:
    """One past every number ever used: existing files and any version history names."""
    used = [*version_numbers(snapshot, name), *(r.version for r in load_history(snapshot, name))]
    return max(used, default=0) + 1


def selected_number(snapshot: Snapshot, selector: Selector, pointer: Pointer | None) -> int:
    """The number a selector names: its own, the highest (``latest``), or the one ``pointer``
    (the prompt's production pointer, read by the caller) names."""
    name = selector.prompt
    if selector.version is not None:
        return selector.version
    if selector.label == "latest":
        numbers = version_numbers(snapshot, name)
        if not numbers:
            load_info(snapshot, name)
            raise VersionNotFound(name, 1)
        return numbers[-1]
    if pointer is None:
        load_info(snapshot, name)
        raise NoProductionVersion(name)
    return pointer.version


class _Content(Protocol):
    """What serving needs to know of a version: a ``Version``, or a reader's view of one."""

    @property
    def prompt(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def digest(self) -> str: ...


def is_served(version: _Content, pointer: Pointer | None) -> bool:
    """Whether ``version`` is what production serves: the pointer names it, it is published and
    its content is what was promoted."""
    return (
        pointer is not None
        and pointer.version == version.version
        and version.status == "published"
        and version.digest == pointer.digest
    )


def check_served(version: _Content, pointer: Pointer) -> None:
    """Serve production only when the pointer and the version file agree, as promotion left
    them: a file edited by hand after promotion is refused, not served."""
    if version.status != "published":
        message = f"names v{version.version}, which is {version.status}, not published"
    elif version.digest != pointer.digest:
        message = (
            f"digest does not match v{version.version}'s content: the version was changed "
            "after it was promoted"
        )
    else:
        return
    raise broken_pointer(version.prompt, message)


def broken_pointer(name: str, message: str) -> InvalidRegistry:
    return InvalidRegistry(
        [Problem(file=pointer_path(name), rule="pointer", message=message)],
        hint="this commit's production files disagree; the check lists what is wrong "
        "(promptship check --ref REV), and reading an earlier commit still works",
    )


def resolve(snapshot: Snapshot, selector: Selector) -> Version:
    """The version a selector names: a number, ``latest`` or (by default) ``production``, which
    must be the version that was promoted."""
    production = selector.version is None and selector.label == "production"
    pointer = load_pointer(snapshot, selector.prompt) if production else None
    number = selected_number(snapshot, selector, pointer)
    if pointer is None:
        return load_version(snapshot, selector.prompt, number)
    return load_served(pointer, lambda n: load_version(snapshot, selector.prompt, n))


_Loaded = TypeVar("_Loaded", bound=_Content)


def load_served(pointer: Pointer, load: Callable[[int], _Loaded]) -> _Loaded:
    """The version ``pointer`` names, from ``load(number)``: it must exist, be published and hold
    what was promoted (``check_served``)."""
    try:
        version = load(pointer.version)
    except VersionNotFound:
        raise broken_pointer(
            pointer.prompt, f"names v{pointer.version}, which does not exist"
        ) from None
    check_served(version, pointer)
    return version


@dataclass(frozen=True, kw_only=True, slots=True)
class PromptSummary:
    """A row of ``list``: a prompt, its latest and production versions and when it changed."""

    name: str
    description: str
    tags: tuple[str, ...]
    latest: int | None
    production: int | None
    created_at: str | None
    changed_at: str | None


def list_prompts(
    snapshot: Snapshot,
    *,
    tags: Sequence[str] = (),
    search: str | None = None,
    production: bool | None = None,
    sort: SortKey = "name",
) -> list[PromptSummary]:
    """Prompts having every tag in ``tags``, matching ``search`` in name or description, and
    with (``True``) or without (``False``) a production version."""
    needle = search.casefold() if search else None
    rows = []
    for name in prompt_names(snapshot):
        info = load_info(snapshot, name)
        if not set(tags) <= set(info.tags):
            continue
        if needle and needle not in name.casefold() and needle not in info.description.casefold():
            continue
        pointer = load_pointer(snapshot, name)
        if production is not None and (pointer is not None) != production:
            continue
        numbers = version_numbers(snapshot, name)
        created = changed = None
        if sort != "name" and numbers:
            created = load_version(snapshot, name, numbers[0]).created_at
            changed = max(
                load_version(snapshot, name, numbers[-1]).created_at,
                pointer.promoted_at if pointer else "",
            )
        rows.append(
            PromptSummary(
                name=name,
                description=info.description,
                tags=info.tags,
                latest=numbers[-1] if numbers else None,
                production=pointer.version if pointer else None,
                created_at=created,
                changed_at=changed,
            )
        )
    if sort == "created":
        rows.sort(key=lambda r: (r.created_at or "", r.name))
    elif sort == "changed":
        rows.sort(key=lambda r: (r.changed_at or "", r.name), reverse=True)
    return rows
