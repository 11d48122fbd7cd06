"""The ``promptship`` command group."""

from __future__ import annotations

import importlib

import click

from .session import Session

__all__ = ["COMMAND_MODULES", "app"]

COMMAND_MODULES = {
    "init": "setup",
    "demo": "setup",
    "create": "authoring",
    "new-version": "authoring",
    "edit": "authoring",
    "archive": "authoring",
    "unarchive": "authoring",
    "update": "authoring",
    "delete": "authoring",
    "list": "reading",
    "versions": "reading",
    "show": "reading",
    "render": "reading",
    "promote": "promote",
    "history": "history",
    "check": "checking",
    "test": "testing",
    "export": "export",
    "verify": "export",
    "run": "running",
    "runs": "running",
    "serve": "serve",
}
"""Each command and the module of ``cli.commands`` that defines it (in its ``COMMANDS`` list)."""


class _LazyGroup(click.Group):
    """Imports a command's module only when that command runs (or help lists them all), so a
    command does not pay for loading every other one. Help lists them in workflow order."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMAND_MODULES)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMAND_MODULES.get(cmd_name)
        if module is None:
            return None
        commands: list[click.Command] = importlib.import_module(
            f"{__package__}.commands.{module}"
        ).COMMANDS
        return next(c for c in commands if c.name == cmd_name)


@click.group(
    cls=_LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
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
