"""Differences, as people read them: the exact change a change set makes (``promote --dry-run``),
and what changed between two versions of a prompt (``diff``, the web page)."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .model import Version
from .snapshot import ChangeSet, Snapshot

__all__ = [
    "DiffLine",
    "FieldChange",
    "Hunk",
    "VersionDiff",
    "body_lines",
    "diff_versions",
    "unified_diff",
]

CONTEXT_LINES = 3


def unified_diff(snapshot: Snapshot, changes: ChangeSet) -> str:
    parts: list[str] = []
    for path in sorted(changes.writes):
        before = snapshot.read(path)
        after = changes.writes[path]
        old = _lines(before)
        new = _lines(after)
        parts.extend(
            difflib.unified_diff(
                old,
                new,
                fromfile=f"a/{path}" if before is not None else "/dev/null",
                tofile=f"b/{path}" if after is not None else "/dev/null",
            )
        )
    return "".join(parts)


def _lines(data: bytes | None) -> list[str]:
    if data is None:
        return []
    text = data.decode("utf-8", errors="replace")
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n\\ No newline at end of file\n"
    return lines


Op = Literal[" ", "-", "+"]


@dataclass(frozen=True, kw_only=True, slots=True)
class DiffLine:
    """A line of a body: in both versions (``" "``), only the old one (``-``) or the new (``+``)."""

    op: Op
    text: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Hunk:
    """A run of changed lines with their context; starts are 1-based, as in a unified diff."""

    old_start: int
    old_count: int
    new_start: int
    new_count: int
    lines: tuple[DiffLine, ...]

    def header(self) -> str:
        return f"@@ -{self.old_start},{self.old_count} +{self.new_start},{self.new_count} @@"


@dataclass(frozen=True, kw_only=True, slots=True)
class FieldChange:
    """A field other than the body that differs: ``type``, or ``metadata.KEY`` (``None`` on a
    side where the key is absent, ``present`` says which sides have it)."""

    field: str
    old: Any
    new: Any
    present: tuple[bool, bool] = (True, True)

    @property
    def kind(self) -> Literal["added", "removed", "changed"]:
        if not self.present[0]:
            return "added"
        if not self.present[1]:
            return "removed"
        return "changed"


@dataclass(frozen=True, kw_only=True, slots=True)
class VersionDiff:
    """What changed from version ``old`` to version ``new`` of one prompt."""

    old: Version
    new: Version
    fields: tuple[FieldChange, ...]
    hunks: tuple[Hunk, ...]

    @property
    def same(self) -> bool:
        """Whether both versions hold the same template and metadata (statuses and authors may
        still differ)."""
        return not self.fields and not self.hunks

    def to_json(self) -> dict[str, Any]:
        return {
            "prompt": self.new.prompt,
            "from": _side(self.old),
            "to": _side(self.new),
            "same": self.same,
            "fields": [
                {"field": f.field, "change": f.kind, "from": f.old, "to": f.new}
                for f in self.fields
            ],
            "hunks": [
                {
                    "old_start": h.old_start,
                    "old_lines": h.old_count,
                    "new_start": h.new_start,
                    "new_lines": h.new_count,
                    "lines": [line.op + line.text for line in h.lines],
                }
                for h in self.hunks
            ],
        }

    def text(self) -> str:
        """A unified diff of the body, under the changed fields, for a terminal."""
        name = self.new.prompt
        out = [
            f"--- {name} v{self.old.version} ({self.old.status})",
            f"+++ {name} v{self.new.version} ({self.new.status})",
        ]
        out.extend(
            f"{f.field}: {_shown(f.old) if f.present[0] else '(none)'} -> "
            f"{_shown(f.new) if f.present[1] else '(none)'}"
            for f in self.fields
        )
        for hunk in self.hunks:
            out.append(hunk.header())
            out.extend(line.op + line.text for line in hunk.lines)
        if self.same:
            out.append("(same template and metadata)")
        return "\n".join(out) + "\n"


def _side(version: Version) -> dict[str, Any]:
    return {"version": version.version, "status": version.status, "digest": version.digest}


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def body_lines(version: Version) -> list[str]:
    """The body as lines: a text prompt's content, or each chat message as a ``[role]`` line
    followed by its content, so adding, removing and reordering messages reads as lines."""
    if version.type == "text":
        return (version.content or "").splitlines()
    lines: list[str] = []
    for message in version.messages or ():
        lines.append(f"[{message.role}]")
        lines.extend(message.content.splitlines())
    return lines


def diff_versions(old: Version, new: Version, *, context: int = CONTEXT_LINES) -> VersionDiff:
    """The differences from ``old`` to ``new`` (two versions of one prompt).

    >>> from registry.model import Version
    >>> a = Version(prompt="p", version=1, status="archived", type="text",
    ...             content="Hi {{ name }}\\n", created_at="2026-01-01T00:00:00Z", created_by="A <a@x>")
    >>> b = Version(prompt="p", version=2, status="draft", type="text",
    ...             content="Hello {{ name }}\\n", metadata={"model": "m"},
    ...             created_at="2026-01-02T00:00:00Z", created_by="A <a@x>")
    >>> print(diff_versions(a, b).text(), end="")
    --- p v1 (archived)
    +++ p v2 (draft)
    metadata.model: (none) -> m
    @@ -1,1 +1,1 @@
    -Hi {{ name }}
    +Hello {{ name }}
    """
    fields: list[FieldChange] = []
    if old.type != new.type:
        fields.append(FieldChange(field="type", old=old.type, new=new.type))
    fields.extend(_metadata_changes(old.metadata, new.metadata))
    hunks = tuple(_hunks(body_lines(old), body_lines(new), context))
    return VersionDiff(old=old, new=new, fields=tuple(fields), hunks=hunks)


def _metadata_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[FieldChange]:
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key), new.get(key)
        present = (key in old, key in new)
        if present == (True, True) and _same_value(before, after):
            continue
        yield FieldChange(field=f"metadata.{key}", old=before, new=after, present=present)


def _same_value(a: Any, b: Any) -> bool:
    # YAML's 1 and 1.0 and true compare equal in Python; in the file they are not the same.
    return type(a) is type(b) and a == b


MAX_LINE_PAIRS = 250_000
"""Lines compared pairwise, past the lines both versions share at their start and end: beyond
it the differing middle is shown as one replacement, since the matcher's cost grows with the
product of the lengths (10,000 lines built to defeat it took it 50 s)."""


_Opcode = tuple[Literal["replace", "delete", "insert", "equal"], int, int, int, int]


class _Coarse(difflib.SequenceMatcher[str]):
    """The shared start and end kept, everything between them one replacement."""

    def __init__(self, old: list[str], new: list[str], start: int, end: int) -> None:
        super().__init__(a=old, b=new, autojunk=False)
        self.codes: list[_Opcode] = [("equal", 0, start, 0, start)] if start else []
        self.codes.append(("replace", start, len(old) - end, start, len(new) - end))
        if end:
            self.codes.append(("equal", len(old) - end, len(old), len(new) - end, len(new)))

    def get_opcodes(self) -> list[_Opcode]:
        return self.codes


def _matcher(old: list[str], new: list[str]) -> difflib.SequenceMatcher[str]:
    shortest = min(len(old), len(new))
    start = 0
    while start < shortest and old[start] == new[start]:
        start += 1
    end = 0
    while end < shortest - start and old[-1 - end] == new[-1 - end]:
        end += 1
    if (len(old) - start - end) * (len(new) - start - end) > MAX_LINE_PAIRS:
        return _Coarse(old, new, start, end)
    return difflib.SequenceMatcher(a=old, b=new)


def _hunks(old: list[str], new: list[str], context: int) -> Iterator[Hunk]:
    matcher = _matcher(old, new)
    for group in matcher.get_grouped_opcodes(context):
        lines: list[DiffLine] = []
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines.extend(DiffLine(op=" ", text=t) for t in old[i1:i2])
                continue
            lines.extend(DiffLine(op="-", text=t) for t in old[i1:i2])
            lines.extend(DiffLine(op="+", text=t) for t in new[j1:j2])
        first, last = group[0], group[-1]
        yield Hunk(
            old_start=_start(first[1], last[2]),
            old_count=last[2] - first[1],
            new_start=_start(first[3], last[4]),
            new_count=last[4] - first[3],
            lines=tuple(lines),
        )


def _start(begin: int, end: int) -> int:
    # As in a unified diff: an empty range names the line before it.
    return begin + 1 if end > begin else begin
