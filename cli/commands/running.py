"""The test panel: ``run`` a version on models, and ``runs``, the clone's log of past runs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..completion import complete_prompt, complete_selector
from ..inputs import parse_variables
from ..options import json_option, read_ref_option, variables_options
from ..output import echo_json, echo_warning
from ..runview import report_failures, run_json, show_rerun, show_run, show_runs
from ..session import Session, pass_session

if TYPE_CHECKING:
    from registry.panel.plan import RunSpec
    from registry.panel.runlog import RunRecord

PROVIDERS_FILE = "providers.yaml"


def providers_path() -> Path:
    """In the user's configuration folder, never in the registry: it may hold keys."""
    return Path(click.get_app_dir("promptship")) / PROVIDERS_FILE


def _log_path(session: Session) -> Path:
    from registry.panel.runner import run_log_path

    return run_log_path(session.store().repo)


def _logged_runs(session: Session) -> list[RunRecord]:
    from registry.panel.runner import read_runs

    records, unreadable = read_runs(_log_path(session))
    if unreadable:
        echo_warning(f"{unreadable} line(s) of the run log could not be read and were skipped")
    return records


@click.command()
@click.argument(
    "selector", required=False, shell_complete=complete_selector, metavar="NAME[@VERSION]"
)
@click.option(
    "--model",
    "models",
    multiple=True,
    metavar="[PROVIDER:]MODEL",
    help="A model to run on; repeat to compare up to 10 side by side. 'echo' answers with the "
    "resolved prompt, offline. Default: the model in the version's metadata.",
)
@variables_options
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="A model parameter over the version's metadata (temperature=0.2, max_tokens=300); "
    "KEY= leaves one out. Repeatable.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="How long to wait for each model. Default: the provider's timeout, else 60.",
)
@click.option(
    "--rerun",
    metavar="ID",
    help="Repeat a past run (see 'promptship runs') with the same variables, models and "
    "--param values, and show its answers beside the new ones.",
)
@click.option(
    "--version",
    "rerun_version",
    metavar="N",
    help="With --rerun: the version to run now. Default: the one run before.",
)
@read_ref_option
@json_option
@pass_session
def run(
    session: Session,
    selector: str | None,
    models: tuple[str, ...],
    pairs: tuple[str, ...],
    vars_file: str | None,
    params: tuple[str, ...],
    timeout: float | None,
    rerun: str | None,
    rerun_version: str | None,
    ref: str | None,
    as_json: bool,
) -> None:
    """Run a prompt version on one or more models and compare their answers.

    The version (production by default) is rendered with the variables; a text prompt goes as
    one user message, a chat prompt's messages as they are. Models are reached through an
    OpenAI-compatible API: OPENAI_BASE_URL and OPENAI_API_KEY, or named providers, chosen as
    PROVIDER:MODEL, in providers.yaml in your configuration folder (~/.config/promptship on
    Linux). Every run is kept in this clone's
    run log. Exit status 1 if any model failed; the others' answers are still shown.
    """
    from registry.names import parse_version_number
    from registry.panel.runlog import find_run, rerun_spec
    from registry.panel.runner import run_logged

    old = None
    if rerun is None:
        spec = _spec(selector, models, pairs, vars_file, params, timeout, rerun_version)
    elif selector or models or pairs or vars_file or params:
        raise click.UsageError(
            "--rerun repeats a past run as it was: give only --version N (and --timeout, --ref)"
        )
    else:
        old = find_run(_logged_runs(session), rerun)
        number = parse_version_number(rerun_version) if rerun_version else None
        spec = rerun_spec(old, number, timeout=timeout)
    record, warnings = run_logged(
        spec, session.snapshot(ref), providers_file=providers_path(), env=os.environ
    )
    for warning in warnings:
        echo_warning(warning)
    if as_json:
        echo_json(
            run_json(record) if old is None else {"old": run_json(old), "new": run_json(record)}
        )
    elif old is None:
        show_run(record)
    else:
        show_rerun(old, record)
    report_failures(record)
    if record.failed:
        raise click.exceptions.Exit(1)


def _spec(
    selector: str | None,
    models: tuple[str, ...],
    pairs: tuple[str, ...],
    vars_file: str | None,
    params: tuple[str, ...],
    timeout: float | None,
    rerun_version: str | None,
) -> RunSpec:
    from registry.lifecycle import parse_parameters
    from registry.names import parse_selector
    from registry.panel.plan import RunSpec

    if selector is None:
        raise click.UsageError("give the prompt to run, NAME[@VERSION], or --rerun ID")
    if rerun_version is not None:
        raise click.UsageError("--version goes with --rerun; to run a version, write NAME@N")
    return RunSpec(
        selector=parse_selector(selector),
        variables=parse_variables(pairs, vars_file),
        models=models,
        overrides=parse_parameters(params),
        timeout=timeout,
    )


@click.command()
@click.argument("name", required=False, shell_complete=complete_prompt)
@click.option("--show", "show_id", metavar="ID", help="Show one run in full, as 'run' showed it.")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    metavar="N",
    default=20,
    show_default=True,
    help="Show at most this many runs, newest first.",
)
@click.option("--all", "show_all", is_flag=True, help="Show every run (overrides --limit).")
@json_option
@pass_session
def runs(
    session: Session,
    name: str | None,
    show_id: str | None,
    limit: int,
    show_all: bool,
    as_json: bool,
) -> None:
    """List the runs made in this clone (of prompt NAME, or of all), newest first.

    The log lives in the repository's git folder: it is never committed or pushed, and each
    clone has its own."""
    from registry.names import check_name
    from registry.panel.runlog import find_run

    records = _logged_runs(session)
    if show_id is not None:
        record = find_run(records, show_id)
        if as_json:
            echo_json(run_json(record))
        else:
            show_run(record)
        return
    if name is not None:
        check_name(name)
        records = [r for r in records if r.prompt == name]
    records = records[::-1] if show_all else records[: -limit - 1 : -1]
    if as_json:
        echo_json([r.to_json() for r in records])
        return
    if not records:
        click.echo("no runs" + (f" of {name}" if name else "") + " yet", err=True)
        return
    show_runs(records)


COMMANDS = [run, runs]
