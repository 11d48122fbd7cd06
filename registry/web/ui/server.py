"""Running the page: a socket on 127.0.0.1, the address with its key, the browser, uvicorn."""

from __future__ import annotations

import socket
import webbrowser
from collections.abc import Callable, Mapping
from pathlib import Path

from ...errors import InputError, MissingExtra
from ..hosts import bind
from .workspace import Workspace

__all__ = ["DEFAULT_PORT", "LOOPBACK", "serve"]

LOOPBACK = "127.0.0.1"
DEFAULT_PORT = 8720


def listen(port: int | None) -> socket.socket:
    """A listening socket on the loopback address: ``port`` (0: any free one), else the default
    port when it is free, else any free one."""
    if port is not None:
        return bind(LOOPBACK, port)
    try:
        return bind(LOOPBACK, DEFAULT_PORT)
    except InputError:
        return bind(LOOPBACK, 0)


def serve(
    workspace: Workspace,
    *,
    port: int | None,
    open_browser: bool,
    providers_file: Path,
    env: Mapping[str, str],
    announce: Callable[[str], None],
) -> None:
    """Serve the page until interrupted. ``announce`` is given the address to open, key
    included, before the first request can arrive."""
    try:
        import uvicorn
    except ImportError:
        raise MissingExtra("uvicorn", "ui", "the web page") from None
    from .app import create_app
    from .security import Secrets

    sock = listen(port)
    bound = sock.getsockname()[1]
    keys = Secrets.new()
    app = create_app(workspace, keys=keys, port=bound, providers_file=providers_file, env=env)
    address = f"http://{LOOPBACK}:{bound}/?token={keys.token}"
    workspace.warm()
    announce(address)
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="off", server_header=False
    )
    if open_browser:
        webbrowser.open(address)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
