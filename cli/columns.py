"""Side-by-side columns of wrapped text, for comparing answers on a terminal."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Sequence

__all__ = ["MIN_COLUMN", "side_by_side", "terminal_width", "wrap_cell"]

MIN_COLUMN = 24
_GAP = " | "


def terminal_width() -> int:
    """The terminal's width (``COLUMNS`` wins), 100 when there is no terminal."""
    return shutil.get_terminal_size((100, 24)).columns


def wrap_cell(text: str, width: int) -> list[str]:
    """``text`` wrapped to ``width``, its own line breaks and blank lines kept."""
    lines: list[str] = []
    for line in text.splitlines() or [""]:
        lines.extend(
            textwrap.wrap(line, width, break_long_words=True, drop_whitespace=True) or [""]
        )
    return lines


def side_by_side(
    headers: Sequence[str],
    rows: Sequence[tuple[str, Sequence[str]]],
    *,
    width: int,
    min_column: int = MIN_COLUMN,
) -> list[str] | None:
    """A table with one column per header and a label before each row, every cell wrapped to fit
    ``width``; ``None`` when the columns would be narrower than ``min_column``."""
    count = len(headers)
    label_width = max((len(label) for label, _ in rows), default=0)
    room = width - label_width - 2 - len(_GAP) * (count - 1)
    natural = [
        max([len(headers[i]), *(len(line) for _, cells in rows for line in cells[i].splitlines())])
        for i in range(count)
    ]
    if sum(natural) <= room:
        widths = natural
    elif room // count >= min_column:
        widths = [room // count] * count
    else:
        return None
    lines = _row("", headers, label_width, widths)
    lines.append(_line("", ["-" * w for w in widths], label_width, widths))
    for label, cells in rows:
        lines.extend(_row(label, cells, label_width, widths))
    return lines


def _row(label: str, cells: Sequence[str], label_width: int, widths: Sequence[int]) -> list[str]:
    wrapped = [wrap_cell(cell, w) for cell, w in zip(cells, widths, strict=True)]
    return [
        _line(
            label if i == 0 else "",
            [c[i] if i < len(c) else "" for c in wrapped],
            label_width,
            widths,
        )
        for i in range(max(len(c) for c in wrapped))
    ]


def _line(label: str, parts: Sequence[str], label_width: int, widths: Sequence[int]) -> str:
    cells = _GAP.join(p.ljust(w) for p, w in zip(parts, widths, strict=True))
    return f"{label.ljust(label_width)}  {cells}".rstrip()
