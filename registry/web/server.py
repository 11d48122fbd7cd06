"""Running the read API: one uvicorn server on a socket bound here, logging JSON lines, and
ending cleanly on SIGTERM (streams closed, exit status 0) as process managers expect."""

from __future__ import annotations

import hashlib
import logging
import signal
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..errors import InputError
from ..git.tracking import Tracking
from .access import JsonLines
from .api import ApiOptions, build_app
from .events import EventHub
from .follow import Follower
from .verified import VerifiedFolders

__all__ = ["ServeOptions", "bind", "run"]

GRACE_SECONDS = 5


@dataclass(frozen=True, kw_only=True, slots=True)
class ServeOptions:
    tracking: Tracking
    host: str
    port: int
    api: ApiOptions
    fetch_every: float | None
    cache: Path | None = None
    """Where to remember verified folders across restarts (``None``: nowhere)."""


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: any free one), or ``InputError``."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise InputError(f"cannot listen on {host}: {exc.strerror}", hint="check --host") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise InputError(
            f"cannot listen on {host}:{port}: {exc.strerror}",
            hint="choose another --port, or stop what listens there",
        ) from None
    sock.set_inheritable(True)
    return sock


class _JsonHandler(logging.Handler):
    """uvicorn's own messages (errors, warnings) as lines of the same JSON log."""

    def __init__(self, log: JsonLines) -> None:
        super().__init__(logging.INFO)
        self.log = log

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + self.format(record)
        self.log.write("server", level=record.levelname.lower(), message=text)


def _verified_path(options: ServeOptions) -> Path | None:
    if options.cache is None:
        return None
    followed = f"{Path(options.tracking.repository).resolve()}\0{options.tracking.ref}"
    return options.cache / "verified" / f"{hashlib.sha256(followed.encode()).hexdigest()[:20]}.json"


def run(options: ServeOptions, sock: socket.socket, stream: BinaryIO | None = None) -> None:
    """Serve on ``sock`` until SIGTERM or SIGINT; the log goes to ``stream`` (standard error)."""
    import uvicorn

    log = JsonLines(stream if stream is not None else sys.stderr.buffer)
    follower = Follower(
        options.tracking,
        hub=EventHub(),
        log=log,
        fetch_every=options.fetch_every,
        verified=VerifiedFolders(_verified_path(options)),
    )
    app = build_app(follower, options=options.api, log=log)
    handler = _JsonHandler(log)
    for name in ("uvicorn", "uvicorn.error", "sse_starlette"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.propagate = False
        logger.setLevel(logging.WARNING)
    host, port = sock.getsockname()[:2]
    log.write("listening", host=host, port=port, ref=options.tracking.describe())
    config = uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        lifespan="on",
        server_header=False,
        timeout_graceful_shutdown=GRACE_SECONDS,
        timeout_keep_alive=5,
    )
    # uvicorn raises the signal again once it has shut down; SIGTERM is a request to stop, and
    # stopping cleanly is success.
    signal.signal(signal.SIGTERM, lambda number, frame: None)
    uvicorn.Server(config).run(sockets=[sock])
