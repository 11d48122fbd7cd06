"""Printing: JSON for programs, aligned text for people."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from itertools import islice
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from registry.editor import WriteResult

__all__ = [
    "done",
    "echo_error",
    "echo_json",
    "echo_json_list",
    "echo_table",
    "echo_warning",
    "proposed",
]


def echo_json(data: Any) -> None:
    # UTF-8 bytes straight to stdout: no decoding and encoding again of a large document.
    click.echo(_json_dumper()(data))


def echo_json_list(items: Iterable[Any]) -> None:
    """``echo_json`` of a list, written a thousand items at a time: the JSON of 130,000 history
    records is 28 MB, and neither it nor a dictionary per record need be held all at once."""
    dump = _json_dumper()
    rest = iter(items)
    lead = b"[\n  "
    # An item of a list is indented one level deeper; JSON text has no raw newline in it.
    while batch := [dump(item).replace(b"\n", b"\n  ") for item in islice(rest, 1000)]:
        click.echo(lead + b",\n  ".join(batch), nl=False)
        lead = b",\n  "
    click.echo(b"[]" if lead == b"[\n  " else b"\n]")


def _json_dumper() -> Callable[[Any], bytes]:
    """JSON in the standard library's layout (two-space indent, no ASCII escapes), by orjson;
    imported here, not at start-up, since most commands print none."""
    import orjson

    def dump(data: Any) -> bytes:
        try:
            return orjson.dumps(data, option=orjson.OPT_INDENT_2)
        except TypeError:  # what orjson cannot hold, such as integers over 64 bits
            return json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8")

    return dump


def echo_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    cells = [
        [str(h) for h in headers],
        *[["" if c is None else str(c) for c in row] for row in rows],
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for row in cells:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def done(message: str, result: WriteResult) -> None:
    """The line a changing command prints: what it did and the commit that holds it; then where
    the commit was pushed, if it was."""
    click.echo(f"{message} (commit {result.commit[:10]})")
    if result.pushed_to is None:
        return
    again = (
        f", rebuilt on newer commits there (attempt {result.attempts})"
        if result.attempts > 1
        else ""
    )
    click.echo(f"pushed to {result.pushed_to}{again}")
    if not result.branch_updated:
        click.echo(
            "note: the local branch moved while pushing and was left as it is; "
            "'git pull' brings it up to date",
            err=True,
        )


def proposed(what: str, result: WriteResult) -> None:
    """A commit on a new branch, and the exact steps that make it a pull request."""
    start = result.new_branch
    assert start is not None
    branch = start.name
    base = f" ({result.parent[:10]})" if result.parent else ""
    click.echo(f"committed {what} on new branch {branch} (commit {result.commit[:10]})")
    click.echo(f"  from {start.start}{base}; your checkout is untouched")
    into = f" into {start.target}" if start.target else ""
    if result.pushed_to is None:
        click.echo("Next, push the branch:")
        click.echo(f"  git push -u {start.remote or 'origin'} {branch}")
        click.echo(f"then open a pull request{into}, e.g. with the GitHub CLI:")
    else:
        click.echo(f"pushed to {result.pushed_to}")
        click.echo(f"Next, open a pull request{into}, e.g. with the GitHub CLI:")
    target = f" --base {start.target}" if start.target else ""
    click.echo(f"  gh pr create --head {branch}{target} --fill")


def echo_error(message: str, hint: str = "") -> None:
    """A refusal as the user sees it: ``error:`` and, when there is one, ``hint:``."""
    click.echo(f"error: {message}", err=True)
    if hint:
        click.echo(f"hint: {hint}", err=True)


def echo_warning(message: str) -> None:
    click.echo(f"warning: {message}", err=True)
