"""``promote``: the promotion commit, confirmed by a person or by --yes."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from registry.errors import PromptshipError
from registry.names import parse_version

from ..options import Publish, branch_options, changing_options
from ..output import done, proposed
from ..session import Session, pass_session

if TYPE_CHECKING:
    from registry.git.store import GitSnapshot
    from registry.identity import Identity
    from registry.snapshot import ChangeSet


@click.command()
@click.argument("name")
@click.argument("version")
@click.option(
    "--notes", default="", metavar="TEXT", help="Why: recorded in history and as the commit body."
)
@click.option(
    "--yes", "-y", is_flag=True, help="Do not ask for confirmation (required without a terminal)."
)
@click.option("--dry-run", is_flag=True, help="Show the exact commit it would make; write nothing.")
@click.option(
    "--skip-tests",
    is_flag=True,
    help="Promote without running the golden test cases (prompts/NAME/tests.yaml); the "
    "history record says they were skipped.",
)
@changing_options
@branch_options
@pass_session
def promote(
    session: Session,
    name: str,
    version: str,
    notes: str,
    yes: bool,
    dry_run: bool,
    skip_tests: bool,
    ref: str | None,
    by: str | None,
    publish: Publish,
) -> None:
    """Promote VERSION of NAME to production, in one commit.

    The commit moves prompts/NAME/production.yaml, makes VERSION published and the previous
    production version archived, and appends a record to prompts/NAME/history.yaml. VERSION's
    golden test cases run first, and any failure stops the promotion. To roll back, unarchive an
    earlier version and promote it.

    With --branch, the commit goes on a new branch for a pull request instead."""
    from registry.gate import plan_tested_promotion
    from registry.git.store import utc_now

    number = parse_version(version)
    if publish.branch is not None and ref is not None:
        raise click.UsageError("--branch makes a new branch; --ref does not go with it")
    store = session.store(ref)
    identity = store.identity(by)
    start = session.branch_start(publish)
    base = start.snapshot if start is not None else store.snapshot()
    where = f"new branch {publish.branch} from {start.rev}" if start else store.branch
    if dry_run or not yes:
        # What a person sees (or a dry run shows) is decided on now; with --yes the decision is
        # made once, inside the write, so golden cases and a long history are not read twice.
        plan = plan_tested_promotion(
            base,
            name,
            number,
            notes=notes,
            actor=str(identity),
            now=utc_now(),
            skip_tests=skip_tests,
        )
        if dry_run:
            _show_dry_run(base, plan, identity, where)
            return
        assert plan.record is not None
        _confirm(name, plan.record.previous_version, number, notes, str(identity), where)
    result = session.write(
        store,
        lambda snap, now: plan_tested_promotion(
            snap, name, number, notes=notes, actor=str(identity), now=now, skip_tests=skip_tests
        ),
        identity=identity,
        base=base,
        publish=publish,
        start=start,
    )
    record = result.changes.record
    assert record is not None
    was = f" (was v{record.previous_version})" if record.previous_version else ""
    if start is not None and publish.branch is not None:
        proposed(f"the promotion of {name} v{number}{was}", publish.branch, start, result)
    else:
        done(f"promoted {name} v{number} to production{was}", result)


def _show_dry_run(base: GitSnapshot, plan: ChangeSet, identity: Identity, where: str) -> None:
    from registry.diffs import unified_diff

    click.echo(
        f"would commit on {where}" + (f" (parent {base.commit_id[:10]})" if base.commit_id else "")
    )
    click.echo(f"Author: {identity}\n")
    click.echo("".join(f"    {line}\n" if line else "\n" for line in plan.message().splitlines()))
    click.echo(unified_diff(base, plan), nl=False)
    click.echo("\n(dry run: nothing was written)", err=True)


def _confirm(
    name: str, previous: int | None, number: int, notes: str, who: str, branch: str
) -> None:
    if not sys.stdin.isatty():
        raise PromptshipError(
            "promote changes what production serves; no terminal to confirm on",
            hint="pass --yes to promote without confirmation (in scripts and CI)",
        )
    click.echo(f"Promote {name} to production on {branch}:")
    if previous is not None:
        click.echo(f"  from:  v{previous} (published -> archived)")
    click.echo(f"  to:    v{number} (draft -> published)")
    click.echo(f"  notes: {notes or '(none)'}")
    click.echo(f"  by:    {who}")
    if not click.confirm("Proceed?", default=False):
        raise PromptshipError(
            "promotion cancelled; nothing was written",
            hint="run the command again and answer y to promote",
        )


COMMANDS = [promote]
