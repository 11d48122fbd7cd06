"""Getting started: ``init`` a registry repository, or watch the whole flow in ``demo``."""

from __future__ import annotations

import shlex
import tempfile
from pathlib import Path

import click

from registry.errors import PromptshipError

from ..options import Writing, changing_options
from ..output import done


@click.command()
@click.option(
    "--force", is_flag=True, help="Replace files promptship would add that already exist."
)
@click.option(
    "--owner",
    "owners",
    multiple=True,
    metavar="OWNER",
    help="Who must approve every promotion: a user (@alice), a team (@acme/prompt-owners) or an "
    "email, written into .github/CODEOWNERS for prompts/*/production.yaml. Repeatable.",
)
@click.option(
    "--install",
    "spec",
    metavar="SPEC",
    help="The promptship the workflow installs, pinned: a version (1.2.0), a git URL with a tag "
    "or commit (git+https://github.com/acme/promptship@v1.2.0), or a wheel or folder in the "
    "repository (./ci/promptship-1.2.0-py3-none-any.whl). Default: this version.",
)
@click.option(
    "--index-url",
    metavar="URL",
    help="The package index the workflow installs from (your internal index), instead of PyPI.",
)
@changing_options
def init(
    writing: Writing,
    force: bool,
    owners: tuple[str, ...],
    spec: str | None,
    index_url: str | None,
) -> None:
    """Add the registry check workflow, .gitattributes, a CODEOWNERS file, the JSON Schemas of
    the registry's files and a .yamllint, in one commit.

    prompts/ appears with the first 'promptship create'."""
    from registry.scaffold import YAMLLINT_CONFIGS, YAMLLINT_IGNORED

    result = writing.editor.init(
        force=force, owners=owners, install=spec, index_url=index_url, **writing.publish
    )
    done("added " + ", ".join(result.files), result)
    if YAMLLINT_CONFIGS[0] not in result.files:
        click.echo(
            "Your yamllint settings are kept; to have yamllint leave the files promptship "
            "writes alone, add to their 'ignore:' " + ", ".join(YAMLLINT_IGNORED)
        )
    step = (
        "turn on 'Require review from Code Owners' for main"
        if owners
        else "name your owners in .github/CODEOWNERS"
    )
    click.echo(f"Next: {step}, push, and create a prompt with 'promptship create NAME'.")


_WELCOME_V1 = (
    "Hi {{ first_name }}, welcome to {{ product }}! Reply to this email if you need a hand."
)
_WELCOME_V2 = (
    "Hi {{ first_name }},\n\nWelcome to {{ product }}. Your workspace is ready; the quick-start "
    "guide takes five minutes.\n\nReply to this email if you need a hand."
)
_GRACE = "Grace Example <grace@example.com>"


def _steps() -> list[tuple[str, list[str]]]:
    ada = "Ada Example <ada@example.com>"
    return [
        ("The example registry: prompts with their latest and production versions", ["list"]),
        (
            "Create a prompt; version 1 is a draft",
            [
                "create",
                "welcome-email",
                "--content",
                _WELCOME_V1,
                "--description",
                "First email after sign-up",
                "--tag",
                "onboarding",
                "--meta",
                "model=gpt-4o-mini",
                "--by",
                ada,
            ],
        ),
        (
            "Render it with real values (variables are found in the template)",
            ["render", "welcome-email@1", "--var", "first_name=Lin", "--var", "product=Acme Notes"],
        ),
        (
            "Promote v1 to production: one commit moves the pointer and appends to history",
            ["promote", "welcome-email", "1", "--notes", "First version", "--yes", "--by", ada],
        ),
        (
            "Write v2 as a changed copy of v1",
            [
                "new-version",
                "welcome-email",
                "--from",
                "1",
                "--content",
                _WELCOME_V2,
                "--by",
                _GRACE,
            ],
        ),
        (
            "Promote v2; v1 becomes archived in the same commit",
            [
                "promote",
                "welcome-email",
                "2",
                "--notes",
                "Longer, friendlier welcome",
                "--yes",
                "--by",
                _GRACE,
            ],
        ),
        ("Roll back: unarchive v1...", ["unarchive", "welcome-email", "1", "--by", ada]),
        (
            "...and promote it again; history stays one linear chain",
            [
                "promote",
                "welcome-email",
                "1",
                "--notes",
                "Roll back: v2 lowered replies",
                "--yes",
                "--by",
                ada,
            ],
        ),
        ("Who promoted what, when and why", ["history", "welcome-email"]),
        ("Every version and its status", ["versions", "welcome-email", "--include-archived"]),
        ("The production version, as applications read it", ["show", "welcome-email"]),
        ("The rules of the format, checked as CI checks them", ["check"]),
    ]


@click.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
def demo(directory: Path | None) -> None:
    """Build a repository from the example registry in DIRECTORY (default: a new temporary
    folder) and walk the whole flow on it: create, render, promote, roll back, history, check."""
    from registry.git.demo import create_demo_repository

    from ..main import run_command

    target = (
        directory if directory is not None else Path(tempfile.mkdtemp(prefix="promptship-demo-"))
    )
    try:
        create_demo_repository(target)
    except KeyboardInterrupt:
        raise KeyboardInterrupt from None  # the folder is left as it was found
    click.secho(f"A new registry repository, seeded with the example prompts: {target}", bold=True)
    for number, (title, args) in enumerate(_steps(), start=1):
        click.echo("")
        click.secho(f"{number}. {title}", bold=True)
        click.echo("$ promptship " + " ".join(shlex.quote(a) for a in args))
        try:
            status = run_command(["--repo", str(target), *args])
        except (KeyboardInterrupt, click.exceptions.Abort):
            # Each step is one whole commit or none: the repository is as some step left it.
            click.echo(
                f"\nthe demo was interrupted at step {number}; its repository is left as that "
                f"step left it: {target}",
                err=True,
            )
            raise KeyboardInterrupt from None
        if status != 0:
            raise PromptshipError(
                f"the demo stopped: step {number} failed (its error is above)",
                hint=f"the repository is left as it was at that step: {target}",
            )
    click.echo("")
    click.secho("Done. Look around:", bold=True)
    click.echo(f"  cd {shlex.quote(str(target))}")
    click.echo(
        "  git log --stat      # every change is one commit; promotions carry Prompt:/Version: trailers"
    )
    click.echo("  promptship --help")


COMMANDS = [init, demo]
