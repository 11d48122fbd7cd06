"""``check``: the registry's rules, for people, CI and pre-commit."""

from __future__ import annotations

import json

import click

from ..session import Session, pass_session


@click.command()
@click.option(
    "--ref", metavar="REV", help="Check the tree of this revision instead of the work tree."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="text for people, json for programs, github for workflow annotations.",
)
@pass_session
def check(session: Session, ref: str | None, fmt: str) -> int:
    """Check the registry's files against every rule of the format.

    Checks the work tree's files (what is about to be committed) in a clone, HEAD's tree in a
    bare repository, or the tree of --ref. Exit status 1 when a rule is broken."""
    from registry.check import check_tree
    from registry.folder import FolderSnapshot

    store = session.store()
    if ref is None and store.workdir is not None:
        problems = check_tree(FolderSnapshot(store.workdir))
    else:
        problems = check_tree(session.snapshot(ref))
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "violations": [
                        {"file": p.file, "line": p.line, "rule": p.rule, "message": p.message}
                        for p in problems
                    ]
                },
                indent=2,
            )
        )
    else:
        for problem in problems:
            if fmt == "github":
                line = f",line={problem.line}" if problem.line else ""
                click.echo(f"::error file={problem.file}{line}::{problem.message} [{problem.rule}]")
            else:
                click.echo(str(problem))
    if problems:
        click.echo(f"{len(problems)} problem(s) found", err=True)
        return 1
    click.echo("registry ok", err=fmt == "json")
    return 0


COMMANDS = [check]
