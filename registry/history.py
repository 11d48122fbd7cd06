"""Promotion records: the ``history.yaml`` line format, appending, and querying across prompts.

Each record is one line, ``- {json object}``, so the file is a YAML list that any YAML reader reads,
appending a record adds exactly one line, and promptship reads it with a JSON parser per line
(a YAML parse of a long history takes seconds).
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timezone
from operator import attrgetter
from types import MappingProxyType
from typing import Any, NamedTuple

import orjson

from .errors import InputError, InvalidRegistry, Problem
from .jsonsafe import loads_strict
from .model import TIMESTAMP, Pointer, parse_identity
from .names import MAX_VERSION
from .yamlsafe import MAX_HISTORY_BYTES, MAX_SAFE_INTEGER

__all__ = [
    "HistoryRecord",
    "TimeBound",
    "append_record",
    "last_record",
    "parse_history",
    "parse_history_lines",
    "parse_time_bound",
    "record_line",
    "same_promotion",
    "select_records",
    "sort_records",
    "tied_across_prompts",
]

_KNOWN = ("version", "previous_version", "promoted_by", "promoted_at", "notes")
_NO_EXTRA: Mapping[str, Any] = MappingProxyType({})


class HistoryRecord(NamedTuple):
    """One promotion. ``position`` is its place in its prompt's file (0 = oldest).

    A named tuple, not a frozen dataclass: ``history`` builds one per line of every history file
    (130,000 in a large registry), and a named tuple is built in a fifth of the time."""

    prompt: str
    version: int
    previous_version: int | None
    promoted_by: str
    promoted_at: str
    notes: str = ""
    extra: Mapping[str, Any] = _NO_EXTRA
    position: int = 0

    def to_json(self) -> dict[str, Any]:
        out = {
            "prompt": self.prompt,
            "version": self.version,
            "previous_version": self.previous_version,
            "promoted_by": self.promoted_by,
            "promoted_at": self.promoted_at,
            "notes": self.notes,
        }
        if self.extra:
            out.update((k, v) for k, v in self.extra.items() if k not in _KNOWN and k != "prompt")
        return out


def record_line(record: HistoryRecord) -> bytes:
    """The record as its one line of ``history.yaml``, newline included.

    Characters YAML readers would read differently from JSON (C1 controls, the Unicode line
    separators, byte order marks) are written as ``\\u`` escapes, which both read alike."""
    body = {k: v for k, v in record.to_json().items() if k != "prompt"}
    text = json.dumps(body, ensure_ascii=False).translate(_ESCAPED)
    try:
        return b"- " + text.encode("utf-8") + b"\n"
    except UnicodeEncodeError:
        raise InputError(
            "the record holds text that is not valid Unicode (a lone surrogate)",
            hint="give the notes as UTF-8 text",
        ) from None


_ESCAPED = {c: f"\\u{c:04x}" for c in [*range(0x7F, 0xA0), 0x2028, 0x2029, 0xFEFF, 0xFFFE, 0xFFFF]}


def same_promotion(record: HistoryRecord, pointer: Pointer | None) -> bool:
    """Whether ``record`` is the promotion ``pointer`` shows: same version, time and promoter."""
    return pointer is not None and (record.version, record.promoted_at, record.promoted_by) == (
        pointer.version,
        pointer.promoted_at,
        pointer.promoted_by,
    )


def append_record(existing: bytes | None, record: HistoryRecord) -> bytes:
    """Append as text: the file is never re-dumped, so earlier lines stay byte for byte."""
    if not existing:
        return record_line(record)
    if not existing.endswith(b"\n"):
        existing += b"\n"
    return existing + record_line(record)


def parse_history(data: bytes, *, path: str, prompt: str) -> list[HistoryRecord]:
    """Every record of one file, oldest first; ``InvalidRegistry`` lists every bad line."""
    _refuse_oversized(data, path)
    return parse_history_lines(data, path=path, prompt=prompt)


def _refuse_oversized(data: bytes, path: str) -> None:
    if len(data) > MAX_HISTORY_BYTES:
        raise InvalidRegistry(
            [
                Problem(
                    file=path, rule="size", message=f"over the limit of {MAX_HISTORY_BYTES:,} bytes"
                )
            ]
        )


def last_record(data: bytes, *, path: str, prompt: str) -> HistoryRecord | None:
    """The newest record of a history file, reading only its last line (a promotion appends
    after it, so its cost does not grow with the history); ``None`` for an empty file. The
    other lines are the check's to validate."""
    _refuse_oversized(data, path)
    if not data:
        return None
    if not data.endswith(b"\n"):
        raise InvalidRegistry(
            [Problem(file=path, rule="history-format", message="must end with a newline")]
        )
    count = data.count(b"\n")
    start = data.rfind(b"\n", 0, len(data) - 1) + 1
    try:
        return _parse_line(data[start:-1], prompt=prompt, position=count - 1)
    except ValueError as exc:
        raise InvalidRegistry(
            [Problem(file=path, line=count, rule="history-format", message=str(exc))]
        ) from None


def parse_history_lines(
    data: bytes, *, path: str, prompt: str, first_line: int = 1
) -> list[HistoryRecord]:
    """The records of whole lines of a history file, the first being line ``first_line`` (lines
    appended to a base's file, say): positions and reported lines count from there."""
    well_formed = _parse_well_formed(data, prompt=prompt, first=first_line - 1)
    if well_formed is not None:
        return well_formed
    records: list[HistoryRecord] = []
    problems: list[Problem] = []
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    else:
        problems.append(
            Problem(file=path, rule="history-format", message="must end with a newline")
        )
    for number, raw in enumerate(lines, start=first_line):
        try:
            record = _parse_line(raw, prompt=prompt, position=number - 1)
        except ValueError as exc:
            problems.append(
                Problem(file=path, line=number, rule="history-format", message=str(exc))
            )
            continue
        records.append(record)
    if problems:
        raise InvalidRegistry(problems)
    return records


def _parse_well_formed(data: bytes, *, prompt: str, first: int) -> list[HistoryRecord] | None:
    """The records of a file whose every line has the record's shape, checked once for the whole
    file: it runs per line of every history, so a line costs one JSON parse and the checks of
    its fields. ``None`` when any line is off, for the line-by-line parse to name each problem
    or accept the line; both accept exactly the same files with the same records."""
    lines = data.count(b"\n")
    if (
        not data.startswith(b"- {")
        or not data.endswith(b"\n")
        # Every line starts a record, and JSON text holds no raw newline: one record a line.
        or data.count(b"\n- {") != lines - 1
        # No escapes: every '"' opens or closes a string, which makes duplicate keys countable.
        or b"\\" in data
        or not _plain_characters(data)
    ):
        return None
    try:
        records = [
            _record(orjson.loads(body), prompt, position)
            for position, body in enumerate(data[2:-1].split(b"\n- "), start=first)
        ]
    except ValueError:  # orjson.JSONDecodeError is one
        return None
    # A key written twice leaves the parsed record with fewer strings than the line has.
    expected = _QUOTES * len(records) + sum(_quotes(r.extra) for r in records if r.extra)
    if data.count(b'"') != expected:
        return None
    return records


_QUOTES = 16  # five keys and three text values (promoted_by, promoted_at, notes), two each
_PRINTABLE_ASCII = bytes(range(0x20, 0x7F)) + b"\n"
# Characters JSON keeps but YAML readers refuse or read as line breaks, and lone surrogates.
_UNPLAIN = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")


# JSON spells a character beyond U+FFFF as two surrogate escapes; YAML wants \U0001F600 and
# libyaml refuses the pair.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _plain_characters(data: bytes) -> bool:
    """Whether ``data`` holds only characters JSON and YAML readers read alike: printable ones
    and LF (not tabs, which some YAML readers refuse between tokens, nor carriage returns)."""
    if data.isascii():
        return not data.translate(None, _PRINTABLE_ASCII)
    try:
        return _UNPLAIN.search(data.decode("utf-8")) is None
    except UnicodeDecodeError:
        return False


def _quotes(value: Any) -> int:
    """The '"' a value is written with when nothing is escaped (two a string, key or text)."""
    if type(value) is str:
        return 2
    if type(value) is dict:
        return sum(2 + _quotes(v) for v in value.values())
    if type(value) is list:
        return sum(map(_quotes, value))
    return 0


def _parse_line(raw: bytes, *, prompt: str, position: int) -> HistoryRecord:
    """One line, parsed strictly: it must mean the same record to every JSON and YAML reader."""
    if raw.endswith(b"\r"):
        raise ValueError("ends with a carriage return; lines end with LF only")
    if not raw.startswith(b"- {"):
        raise ValueError('each line must be one record: - {"version": ..., ...}')
    try:
        text = raw[2:].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (byte {exc.start + 2})") from None
    if _SURROGATE_ESCAPE.search(text):
        raise ValueError(
            "writes a character as a surrogate escape (\\ud83d\\ude00), which YAML readers "
            "refuse; write the character itself"
        )
    odd = _UNPLAIN.search(text)
    if odd is not None:
        raise ValueError(
            f"has the character U+{ord(odd.group()):04X} written as it is, which YAML readers "
            f"refuse or read otherwise; write it as \\u{ord(odd.group()):04x}"
        )
    try:
        body = loads_strict(text, fractions=False)
    except ValueError as exc:
        raise ValueError(f"not a JSON object promptship reads: {exc}") from None
    return _record(body, prompt, position)


def _record(body: Any, prompt: str, position: int) -> HistoryRecord:
    # Runs once per line of every history file: the checks are ordered and spelled for speed.
    if type(body) is not dict:
        raise ValueError("not a JSON object")
    try:
        version = body["version"]
        previous = body["previous_version"]
        by = body["promoted_by"]
        at = body["promoted_at"]
        notes = body["notes"]
    except KeyError:
        raise ValueError("missing " + ", ".join(k for k in _KNOWN if k not in body)) from None
    if type(version) is not int or not 1 <= version <= MAX_VERSION:
        raise ValueError(
            f"'version' must be a whole number from 1 to {MAX_VERSION}, not {version!r}"
        )
    if previous is not None and (type(previous) is not int or not 1 <= previous <= MAX_VERSION):
        raise ValueError(f"'previous_version' must be a version number or null, not {previous!r}")
    if type(by) is not str or not _is_identity(by):
        raise ValueError("'promoted_by' must read \"Name <email>\"")
    if type(at) is not str or not _is_timestamp(at):
        raise ValueError("'promoted_at' must be a UTC time like \"2026-11-29T14:02:11Z\"")
    if type(notes) is not str:
        raise ValueError("'notes' must be text")
    if len(body) == 5:
        extra = _NO_EXTRA
    else:
        extra = {k: v for k, v in body.items() if k not in _KNOWN_KEYS}
        _check_extra(extra)
    return _new_record(HistoryRecord, (prompt, version, previous, by, at, notes, extra, position))


def _check_extra(extra: Mapping[str, Any]) -> None:
    """Keys a later promptship may add: plain JSON, whole numbers every reader keeps exactly."""
    stack: list[Any] = list(extra.values())
    while stack:
        item = stack.pop()
        if type(item) is float:
            raise ValueError("numbers in a record are whole (YAML 1.1 reads 1e5 as text)")
        if type(item) is int and abs(item) > MAX_SAFE_INTEGER:
            raise ValueError(f"the number {item} is beyond what JSON readers keep exactly")
        if type(item) is dict:
            stack.extend(item.values())
        elif type(item) is list:
            stack.extend(item)


_KNOWN_KEYS = frozenset(_KNOWN)
_is_timestamp = TIMESTAMP.match
_new_record = tuple.__new__  # HistoryRecord's own __new__ is a Python function, this one is not


# The same few promoters sign thousands of records.
@functools.lru_cache(maxsize=1024)
def _is_identity(text: str) -> bool:
    return parse_identity(text) is not None


@dataclass(frozen=True, kw_only=True, slots=True)
class TimeBound:
    """An instant to compare records' ``promoted_at`` with (UTC)."""

    at: datetime

    def text(self) -> str:
        return self.at.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time_bound(text: str, *, end_of_day: bool) -> TimeBound:
    """A date (covering its whole day) or an ISO datetime; one without a zone is taken as UTC."""
    value = text.strip()
    try:
        if len(value) == 10:
            day = datetime.strptime(value, "%Y-%m-%d").date()
            moment = datetime.combine(day, time.max if end_of_day else time.min)
            return TimeBound(at=moment.replace(microsecond=0, tzinfo=timezone.utc))
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(
            f"{text!r} is not a date or a time",
            hint="write 2026-11-29 (the whole day) or 2026-11-29T15:00:00Z",
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return TimeBound(at=moment.astimezone(timezone.utc))


def select_records(
    records: Iterable[HistoryRecord],
    *,
    user: str | None = None,
    since: TimeBound | None = None,
    until: TimeBound | None = None,
) -> list[HistoryRecord]:
    """Records by a user (case-insensitive substring of ``promoted_by``) within inclusive bounds."""
    if user is None and since is None and until is None:
        return list(records)
    needle = user.casefold() if user else None
    low = since.text() if since else None
    high = until.text() if until else None
    # promoted_at has one fixed layout, so text order is time order.
    return [
        r
        for r in records
        if (needle is None or needle in r.promoted_by.casefold())
        and (low is None or r.promoted_at >= low)
        and (high is None or r.promoted_at <= high)
    ]


def tied_across_prompts(records: Sequence[HistoryRecord]) -> list[HistoryRecord]:
    """Records sharing their timestamp with a record of another prompt: file order cannot order
    them, so the caller ranks them by commit order."""
    counts = Counter(map(_PROMOTED_AT, records))
    shared = {at for at, n in counts.items() if n > 1}
    if not shared:
        return []
    candidates = [r for r in records if r.promoted_at in shared]
    prompts: dict[str, set[str]] = defaultdict(set)
    for r in candidates:
        prompts[r.promoted_at].add(r.prompt)
    return [r for r in candidates if len(prompts[r.promoted_at]) > 1]


def sort_records(
    records: Sequence[HistoryRecord],
    *,
    newest_first: bool = True,
    commit_rank: Mapping[tuple[str, int], int] | None = None,
) -> list[HistoryRecord]:
    """Order by time; equal times by file order within a prompt and, across prompts, by
    ``commit_rank`` (``(prompt, position) -> rank``, lower is older), then by name."""
    if not commit_rank:
        return sorted(records, key=_TIME_ORDER, reverse=newest_first)
    ranks = commit_rank

    def key(r: HistoryRecord) -> tuple[str, int, str, int]:
        return (r.promoted_at, ranks.get((r.prompt, r.position), -1), r.prompt, r.position)

    return sorted(records, key=key, reverse=newest_first)


_TIME_ORDER = attrgetter("promoted_at", "prompt", "position")
_PROMOTED_AT = attrgetter("promoted_at")
