"""``check``: the registry's rules, for people, CI and pre-commit."""

from __future__ import annotations

import os

import click

from registry.check.limits import DEFAULT_LIMITS, Limits

from ..session import Session, pass_session


@click.command()
@click.option(
    "--base",
    metavar="REV",
    help="Also check the change from REV (the branch a pull request targets, e.g. origin/main) "
    "to HEAD, or to --ref: append-only history, frozen content, allowed status changes, and "
    "promotions that move production and history together in one commit.",
)
@click.option(
    "--ref",
    metavar="REV",
    help="Check the tree of this revision instead of the work tree (with --base: the head of "
    "the change instead of HEAD).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="text for people; json for programs; github for workflow annotations and a job summary "
    "(written to $GITHUB_STEP_SUMMARY when it is set).",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    metavar="N",
    help="Processes for checking a whole tree (not used with --base, which reads only the prompts a change touches). Default: one per CPU.",
)
@click.option(
    "--max-commits",
    type=click.IntRange(min=1),
    default=DEFAULT_LIMITS.commits,
    show_default=True,
    metavar="N",
    help="With --base: refuse to check a change of more commits than this.",
)
@click.option(
    "--max-files",
    type=click.IntRange(min=1),
    default=DEFAULT_LIMITS.files,
    show_default=True,
    metavar="N",
    help="With --base: refuse to check a change that touches more files under prompts/ than "
    "this, counted over its commits.",
)
@click.option(
    "--max-bytes",
    type=click.IntRange(min=1),
    default=DEFAULT_LIMITS.bytes,
    show_default=True,
    metavar="N",
    help="With --base: refuse to check a change whose files to read hold more bytes than this.",
)
@pass_session
def check(
    session: Session,
    base: str | None,
    ref: str | None,
    fmt: str,
    jobs: int | None,
    max_commits: int,
    max_files: int,
    max_bytes: int,
) -> int:
    """Check the registry against the rules of its format.

    Without --base: every file of the work tree (what is about to be committed), of HEAD in a
    bare repository, or of --ref. With --base: the prompts the change touches, and the change
    itself. Exit status 1 when a rule is broken, 2 when the check cannot run (a base that is not
    in this clone, say)."""
    from registry.check.pool import TreeSource, check_registry
    from registry.check.report import github_report, json_report, markdown_summary, text_report
    from registry.errors import InputError
    from registry.git.ranges import check_change, resolve_commit

    store = session.store()
    if base is not None:
        limits = Limits(commits=max_commits, files=max_files, bytes=max_bytes)
        outcome = check_change(store, base, ref, limits=limits)
    elif (work_tree := session.work_tree(ref)) is not None:
        outcome = check_registry(work_tree, jobs=jobs)
    else:
        commit = resolve_commit(store.repo, ref, "revision") if ref else store.snapshot().commit
        source = TreeSource(
            repository=store.repo.path, commit=str(commit.id) if commit is not None else None
        )
        outcome = check_registry(source, jobs=jobs)
    if fmt == "json":
        click.echo(json_report(outcome), nl=False)
    elif fmt == "github":
        click.echo(github_report(outcome), nl=False)
        summary = os.environ.get("GITHUB_STEP_SUMMARY")
        if summary:
            try:
                with open(summary, "a", encoding="utf-8") as handle:
                    handle.write(markdown_summary(outcome))
            except OSError as exc:
                raise InputError(
                    f"cannot write the job summary to {summary}: {exc.strerror}",
                    hint="GITHUB_STEP_SUMMARY names a file the job can append to; unset it "
                    "to skip the summary",
                ) from None
    else:
        click.echo(text_report(outcome), nl=False)
    return 0 if outcome.ok else 1


COMMANDS = [check]
