"""The exact change a change set makes, as a unified diff (for ``promote --dry-run``)."""

from __future__ import annotations

import difflib

from .snapshot import ChangeSet, Snapshot

__all__ = ["unified_diff"]


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
