"""Printing: JSON for programs, aligned text for people."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import click

__all__ = ["done", "echo_error", "echo_json", "echo_table", "echo_warning"]


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False))


def echo_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    cells = [
        [str(h) for h in headers],
        *[["" if c is None else str(c) for c in row] for row in rows],
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for row in cells:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def done(message: str, commit: str) -> None:
    """The one line a changing command prints: what it did and the commit that holds it."""
    click.echo(f"{message} (commit {commit[:10]})")


def echo_error(message: str, hint: str = "") -> None:
    """A refusal as the user sees it: ``error:`` and, when there is one, ``hint:``."""
    click.echo(f"error: {message}", err=True)
    if hint:
        click.echo(f"hint: {hint}", err=True)


def echo_warning(message: str) -> None:
    click.echo(f"warning: {message}", err=True)
