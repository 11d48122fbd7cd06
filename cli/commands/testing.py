"""``test``: run a prompt's golden test cases on one of its versions."""

from __future__ import annotations

import click

from ..completion import complete_selector
from ..options import json_option, read_ref_option
from ..output import echo_json
from ..session import Session, pass_session


@click.command("test")
@click.argument(
    "selector", shell_complete=complete_selector, metavar="NAME[@VERSION|@production|@latest]"
)
@read_ref_option
@json_option
@pass_session
def test(session: Session, selector: str, ref: str | None, as_json: bool) -> None:
    """Run the golden test cases of prompt NAME (prompts/NAME/tests.yaml) on a version.

    Reads the work tree's files in a clone, so cases and drafts can be tried before they are
    committed; HEAD in a bare repository, or the commit of --ref. Exit status 1 when a case
    fails. 'promote' runs the same cases on the committed files before promoting."""
    from registry.catalog import resolve
    from registry.errors import GoldenTestsFailed
    from registry.goldens import load_cases, run_cases
    from registry.names import parse_selector, prompt_dir, tests_path
    from registry.snapshot import Snapshot

    chosen = parse_selector(selector)
    work_tree = session.work_tree(ref, within=prompt_dir(chosen.prompt))
    snapshot: Snapshot = work_tree.open() if work_tree is not None else session.snapshot(ref)
    version = resolve(snapshot, chosen)
    number = version.version
    report = run_cases(version, load_cases(snapshot, chosen.prompt))
    if as_json:
        echo_json(report.to_json())
    elif not report.results:
        click.echo(
            f"{chosen.prompt} v{number}: no golden test cases "
            f"(write them in {tests_path(chosen.prompt)})",
            err=True,
        )
    else:
        click.echo(f"{chosen.prompt} v{number}: {len(report.results)} case(s)")
        for result in report.results:
            mark = {"passed": "passed ", "failed": "FAILED ", "skipped": "skipped"}[result.status]
            extra = f" (not for v{number})" if result.status == "skipped" else ""
            click.echo(f"  {mark}  {result.name}{extra}")
            for failure in result.failures:
                click.echo(f"             {failure}")
    if not report.ok:
        raise GoldenTestsFailed(
            chosen.prompt,
            number,
            [r.name for r in report.failed],
            len(report.ran),
            hint=f"change the draft, or the case in {tests_path(chosen.prompt)}; a version "
            f"that was ever published is changed with a new version "
            f"('promptship new-version {chosen.prompt} --from {number}')",
        )
    if report.results and not as_json:
        click.echo(
            f"{chosen.prompt} v{number}: "
            + (f"all {len(report.ran)} case(s) passed" if report.ran else "no case applies to it")
        )


COMMANDS = [test]
