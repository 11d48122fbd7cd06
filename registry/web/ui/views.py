"""What each screen shows, read from one snapshot through the registry's own readers."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ...catalog import load_info, load_pointer, version_numbers
from ...errors import PromptshipError
from ...goldens import TestReport, run_tests
from ...history import HistoryRecord
from ...model import Pointer, PromptInfo, Version
from ...templates import version_variables
from .workspace import VersionCache

__all__ = [
    "PAGE_SIZE",
    "Page",
    "PromotionView",
    "PromptView",
    "VersionRow",
    "meta_lines",
    "metadata_rows",
    "page_of",
    "promotion_view",
    "prompt_view",
    "shown_value",
]

PAGE_SIZE = 50


@dataclass(frozen=True, kw_only=True, slots=True)
class Page:
    """One page of a long list: its items, its number (from 1) and how many there are."""

    items: Sequence[Any]
    number: int
    pages: int
    total: int

    @property
    def previous(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.number < self.pages else None


def page_of(items: Sequence[Any], number: int, size: int = PAGE_SIZE) -> Page:
    pages = max(1, -(-len(items) // size))
    number = min(max(1, number), pages)
    start = (number - 1) * size
    return Page(items=items[start : start + size], number=number, pages=pages, total=len(items))


@dataclass(frozen=True, kw_only=True, slots=True)
class VersionRow:
    number: int
    status: str
    created_at: str
    created_by: str
    is_production: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class PromptView:
    """A prompt's page: what it is, its versions, and the one selected."""

    info: PromptInfo
    pointer: Pointer | None
    rows: tuple[VersionRow, ...]
    """The versions listed (archived ones only when asked for), newest first."""
    hidden: int
    """How many archived versions are not listed."""
    numbers: tuple[int, ...]
    """Every version number, for choosing two to compare."""
    selected: Version | None
    variables: tuple[str, ...]
    problem: PromptshipError | None = None
    """Why the selected version's template could not be read (its variables are then empty)."""

    @property
    def production(self) -> int | None:
        return self.pointer.version if self.pointer else None


def prompt_view(
    snapshot: Any,
    versions: VersionCache,
    name: str,
    *,
    selected: int | None,
    archived: bool,
) -> PromptView:
    """``selected`` (default: production, else the newest version); archived versions listed
    only with ``archived``, or when one is selected."""
    info = load_info(snapshot, name)
    pointer = load_pointer(snapshot, name)
    numbers = version_numbers(snapshot, name)
    loaded = [versions.get(snapshot, name, n) for n in reversed(numbers)]
    if selected is None and numbers:
        selected = pointer.version if pointer else numbers[-1]
    chosen = next((v for v in loaded if v.version == selected), None)
    if selected is not None and chosen is None:
        versions.get(snapshot, name, selected)  # raises VersionNotFound
    rows = tuple(
        VersionRow(
            number=v.version,
            status=v.status,
            created_at=v.created_at,
            created_by=v.created_by,
            is_production=pointer is not None and pointer.version == v.version,
        )
        for v in loaded
        if archived or v.status != "archived" or v.version == selected
    )
    variables: tuple[str, ...] = ()
    problem = None
    if chosen is not None:
        try:
            variables = version_variables(chosen)
        except PromptshipError as exc:
            problem = exc
    return PromptView(
        info=info,
        pointer=pointer,
        rows=rows,
        hidden=len(loaded) - len(rows),
        numbers=tuple(numbers),
        selected=chosen,
        variables=variables,
        problem=problem,
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class PromotionView:
    """What the Promote dialog shows before anyone confirms."""

    name: str
    version: int
    previous: int | None
    report: TestReport | None
    """The golden cases' results on this version; ``None`` when they could not be read."""
    problem: PromptshipError | None


def promotion_view(snapshot: Any, name: str, number: int, pointer: Pointer | None) -> PromotionView:
    try:
        report: TestReport | None = run_tests(snapshot, name, number)
        problem = None
    except PromptshipError as exc:  # a tests.yaml the check would refuse
        report, problem = None, exc
    return PromotionView(
        name=name,
        version=number,
        previous=pointer.version if pointer else None,
        report=report,
        problem=problem,
    )


def shown_value(value: Any) -> str:
    """A metadata value as a person reads and types it: text as it is, anything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def metadata_rows(metadata: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [(key, shown_value(value)) for key, value in metadata.items()]


def meta_lines(metadata: Mapping[str, Any]) -> str:
    """The metadata as ``KEY=VALUE`` lines, as ``--meta`` takes them, for the edit form."""
    return "".join(f"{key}={shown_value(value)}\n" for key, value in metadata.items())


def record_change(record: HistoryRecord) -> str:
    """``v1 -> v3``, or ``v1`` for a first promotion."""
    before = f"v{record.previous_version} \u2192 " if record.previous_version else ""
    return f"{before}v{record.version}"
