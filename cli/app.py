"""The ``promptship`` command group."""

from __future__ import annotations

import click

from .commands import (
    authoring,
    checking,
    export,
    history,
    promote,
    reading,
    running,
    setup,
    testing,
)
from .session import Session

__all__ = ["app"]


class _Group(click.Group):
    """Lists commands in the order of the workflow, not alphabetically."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)


@click.group(
    cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
@click.option(
    "--repo",
    metavar="PATH",
    type=click.Path(file_okay=False),
    help="The registry's git repository (a clone or a bare repository). Default: the one around "
    "the current folder.",
)
@click.version_option(package_name="promptship", message="%(prog)s %(version)s")
@click.pass_context
def app(ctx: click.Context, repo: str | None) -> None:
    """A Git-backed registry of prompt versions.

    Prompts live as YAML files under prompts/ in a git repository. A version is draft, published
    or archived; promoting one to production is a single commit that moves the prompt's pointer,
    archives the previous version and records who promoted what, when and why.

    Start with 'promptship demo' to see the whole flow on a scratch repository.
    """
    ctx.obj = Session(repo)


for module in (setup, authoring, reading, promote, history, checking, testing, export, running):
    for command in module.COMMANDS:
        app.add_command(command)
