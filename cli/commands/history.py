"""``history``: who promoted what, when and why."""

from __future__ import annotations

import gc

import click

from ..completion import complete_prompt
from ..options import json_option, read_ref_option
from ..output import echo_json_list, echo_table
from ..session import Session, pass_session


@click.command()
@click.argument("name", required=False, shell_complete=complete_prompt)
@click.option(
    "--user", metavar="TEXT", help="Only promotions whose promoter contains TEXT (any case)."
)
@click.option(
    "--since", metavar="DATE", help="From this date (its whole day) or time (2026-11-29T15:00:00Z)."
)
@click.option("--until", metavar="DATE", help="Up to this date (its whole day) or time, inclusive.")
@click.option("--oldest-first", is_flag=True, help="Oldest first (default: newest first).")
@read_ref_option
@json_option
@pass_session
def history(
    session: Session,
    name: str | None,
    user: str | None,
    since: str | None,
    until: str | None,
    oldest_first: bool,
    ref: str | None,
    as_json: bool,
) -> None:
    """Promotion records of NAME, or of every prompt, newest first."""
    from registry.git.history_order import query_history
    from registry.history import parse_time_bound

    # A large registry has 130,000 records, none of them in a reference cycle: the cycle
    # collector's passes over them and their JSON would be a tenth of this command's time.
    collecting = gc.isenabled()
    gc.disable()
    try:
        records = query_history(
            session.snapshot(ref),
            name,
            user=user,
            since=parse_time_bound(since, end_of_day=False) if since else None,
            until=parse_time_bound(until, end_of_day=True) if until else None,
            newest_first=not oldest_first,
        )
        if as_json:
            echo_json_list(r.to_json() for r in records)
            return
    finally:
        if collecting:
            gc.enable()
    if not records:
        click.echo("no promotions" + (" match" if user or since or until else " yet"), err=True)
        return
    echo_table(
        ["PROMOTED", "PROMPT", "CHANGE", "BY", "NOTES"],
        [
            (
                r.promoted_at,
                r.prompt,
                (f"v{r.previous_version} -> " if r.previous_version else "") + f"v{r.version}",
                r.promoted_by,
                r.notes.splitlines()[0] if r.notes else "",
            )
            for r in records
        ],
    )


COMMANDS = [history]
