"""``promote``: the promotion commit, confirmed by a person or by --yes."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Literal

import click

from registry.errors import PromptshipError

from ..completion import complete_prompt, complete_version
from ..options import Writing, branch_options, changing_options
from ..output import done, proposed

if TYPE_CHECKING:
    from registry.editor import PromotionPlan, Unchecked


@click.command()
@click.argument("name", shell_complete=complete_prompt)
@click.argument("version", shell_complete=complete_version)
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
def promote(
    writing: Writing,
    name: str,
    version: str,
    notes: str,
    yes: bool,
    dry_run: bool,
    skip_tests: bool,
) -> None:
    """Promote VERSION of NAME to production, in one commit.

    The commit moves prompts/NAME/production.yaml, makes VERSION published and the previous
    production version archived, and appends a record to prompts/NAME/history.yaml. VERSION's
    golden test cases run first, and any failure stops the promotion. To roll back, unarchive an
    earlier version and promote it.

    With --branch, the commit goes on a new branch for a pull request instead. On a terminal it
    asks first; if someone promotes another version of NAME while you read, nothing is written."""
    from registry.editor import UNCHECKED

    editor = writing.editor
    branch, start = writing.branch, writing.start
    expected: int | Literal[Unchecked.UNCHECKED] | None = UNCHECKED
    if dry_run or not yes:
        # What a person sees is decided now; the write then refuses if production moved meanwhile.
        plan = editor.promote(
            name,
            version,
            notes=notes,
            skip_tests=skip_tests,
            dry_run=True,
            branch=branch,
            start=start,
            **writing.publish,
        )
        if dry_run:
            _show_dry_run(plan)
            return
        _confirm(plan)
        expected = plan.record.previous_version
    result = editor.promote(
        name,
        version,
        notes=notes,
        skip_tests=skip_tests,
        expect_production=expected,
        branch=branch,
        start=start,
        **writing.publish,
    )
    record = result.record
    assert record is not None
    was = f" (was v{record.previous_version})" if record.previous_version else ""
    if result.new_branch is not None:
        proposed(f"the promotion of {name} v{record.version}{was}", result)
    else:
        done(f"promoted {name} v{record.version} to production{was}", result)


def _where(plan: PromotionPlan) -> str:
    start = plan.new_branch
    return f"new branch {start.name} from {start.start}" if start else plan.branch


def _show_dry_run(plan: PromotionPlan) -> None:
    click.echo(
        f"would commit on {_where(plan)}" + (f" (parent {plan.parent[:10]})" if plan.parent else "")
    )
    click.echo(f"Author: {plan.author}\n")
    click.echo("".join(f"    {line}\n" if line else "\n" for line in plan.message.splitlines()))
    click.echo(plan.diff, nl=False)
    click.echo("\n(dry run: nothing was written)", err=True)


def _confirm(plan: PromotionPlan) -> None:
    """Ask on the terminal, on standard error: with standard output sent to a file, the
    question is still seen."""
    if not sys.stdin.isatty():
        raise PromptshipError(
            "promote changes what production serves; no terminal to confirm on",
            hint="pass --yes to promote without confirmation (in scripts and CI)",
        )
    record = plan.record
    click.echo(f"Promote {plan.prompt} to production on {_where(plan)}:", err=True)
    if record.previous_version is not None:
        click.echo(f"  from:  v{record.previous_version} (published -> archived)", err=True)
    click.echo(f"  to:    v{plan.version} (draft -> published)", err=True)
    click.echo(f"  notes: {record.notes or '(none)'}", err=True)
    click.echo(f"  by:    {plan.author}", err=True)
    if not click.confirm("Proceed?", default=False, err=True):
        raise PromptshipError(
            "promotion cancelled; nothing was written",
            hint="run the command again and answer y to promote",
        )


COMMANDS = [promote]
