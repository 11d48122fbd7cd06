"""Running the page: a socket on 127.0.0.1, the address with its key, the browser, uvicorn."""

from __future__ import annotations

import errno
import socket
import webbrowser
from collections.abc import Callable, Mapping
from pathlib import Path

from ...errors import InputError, MissingExtra
from .workspace import Workspace

__all__ = ["DEFAULT_PORT", "LOOPBACK", "serve"]

LOOPBACK = "127.0.0.1"
DEFAULT_PORT = 8720


def listen(port: int | None) -> socket.socket:
    """A listening socket on the loopback address: ``port``, or the default one when it is
    free, else any free one (0 asks for any)."""
    wanted = DEFAULT_PORT if port is None else port
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # A restarted page may take its port back while old connections linger in TIME_WAIT.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((LOOPBACK, wanted))
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            sock.close()
            raise
        if port is not None:
            sock.close()
            raise InputError(
                f"port {port} on {LOOPBACK} is in use",
                hint="choose another with --port N, or --port 0 for any free one",
            ) from None
        sock.bind((LOOPBACK, 0))
    sock.listen(128)
    return sock


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
