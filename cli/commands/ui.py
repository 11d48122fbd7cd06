"""``ui``: the registry as a web page on this computer."""

from __future__ import annotations

import os

import click

from ..session import Session, pass_session
from .running import providers_path


@click.command()
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    metavar="N",
    help="The port on 127.0.0.1 to serve on (0: any free one). Default: 8720, else any free one.",
)
@click.option("--no-browser", is_flag=True, help="Print the address; do not open a browser.")
@click.option(
    "--ref",
    metavar="REF",
    help="The branch to show and change (main, refs/heads/main; needed in a bare repository "
    "whose HEAD names no branch). A tag or commit is shown read-only. Default: the checked-out "
    "branch.",
)
@pass_session
def ui(session: Session, port: int | None, no_browser: bool, ref: str | None) -> None:
    """Open the registry as a web page: the prompt list, versions, diffs, the Promote dialog,
    Promotion History and the test panel.

    The page is served on 127.0.0.1 only, to the browser that opens the address printed here
    (it carries a one-time key). Every button makes the commit the matching command makes, with
    the same refusals. Stop it with Ctrl-C."""
    try:
        import starlette  # noqa: F401
    except ImportError:
        from registry.errors import MissingExtra

        raise MissingExtra("starlette", "ui", "the web page") from None
    from registry.web.ui.server import serve
    from registry.web.ui.workspace import Workspace

    workspace = Workspace(session.repo, ref)

    def announce(address: str) -> None:
        click.echo(f"promptship ui: {workspace.path} ({workspace.shown}), at")
        click.echo(f"  {address}")
        click.echo("Open it in your browser; stop with Ctrl-C.")

    serve(
        workspace,
        port=port,
        open_browser=not no_browser,
        providers_file=providers_path(),
        env=os.environ,
        announce=announce,
    )


COMMANDS = [ui]
