"""Who may read, how much a request may send, and what was asked: bearer tokens, limits on
request bodies, and one JSON line per request in the access log.

Tokens are compared in constant time, each against every configured token, so timing tells
nothing about any of them. Probes (``/healthz``, ``/readyz``) and the webhook, which carries its
own signature, need no token.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from ..errors import InputError
from .errors import PayloadTooLarge, RequestTimeout, Unauthorized, error_body

__all__ = [
    "BODY_SECONDS",
    "MAX_BODY_BYTES",
    "MAX_WEBHOOK_BYTES",
    "OPEN_PATHS",
    "Access",
    "ClientGone",
    "JsonLines",
    "load_tokens",
    "read_body",
]

MAX_BODY_BYTES = 1 << 20
MAX_WEBHOOK_BYTES = 5 << 20
BODY_SECONDS = 10.0
MIN_TOKEN_LENGTH = 16
OPEN_PATHS = frozenset({"/healthz", "/readyz", "/v1/webhook"})

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class ClientGone(Exception):
    """The client disconnected while sending its request."""


class JsonLines:
    """A log of one JSON object a line (``None``: nothing is written), each with its UTC time
    and what happened under ``event``. A log that cannot be written never fails the server.

    Lines about the server are written at once; request lines are gathered and written by
    ``flush`` (the server calls it a few times a second and when it stops), so a busy server
    makes one write for many requests instead of one each."""

    def __init__(self, stream: BinaryIO | None) -> None:
        self.stream = stream
        self._pending: list[bytes] = []
        self._second = -1
        self._stamp = ""

    def now(self) -> str:
        """The current UTC time, to the millisecond (its second formatted once)."""
        now = time.time()
        second = int(now)
        if second != self._second:
            self._second = second
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._stamp}.{int((now - second) * 1000):03d}Z"

    def write(self, event: str, **fields: Any) -> None:
        if self.stream is None:
            return
        self._pending.append(orjson.dumps({"time": self.now(), "event": event, **fields}))
        self.flush()

    def request(self, line: dict[str, Any]) -> None:
        if self.stream is None:
            return
        self._pending.append(orjson.dumps(line))
        if len(self._pending) >= 512:
            self.flush()

    def flush(self) -> None:
        if not self._pending or self.stream is None:
            return
        lines, self._pending = self._pending, []
        try:
            self.stream.write(b"\n".join(lines) + b"\n")
            self.stream.flush()
        except (OSError, ValueError):
            pass


def load_tokens(path: str) -> tuple[bytes, ...]:
    """The tokens of a token file: one a line; blank lines and ``#`` comments are skipped."""
    hint = "write one token a line, each at least 16 characters (e.g. 'openssl rand -hex 32')"
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise InputError(f"cannot read the token file {path}: {reason}", hint=hint) from None
    tokens = [line.strip() for line in text.splitlines()]
    tokens = [t for t in tokens if t and not t.startswith("#")]
    if not tokens:
        raise InputError(f"the token file {path} holds no token", hint=hint)
    short = [i for i, t in enumerate(tokens, 1) if len(t) < MIN_TOKEN_LENGTH or " " in t]
    if short:
        raise InputError(
            f"the token file {path} has tokens shorter than {MIN_TOKEN_LENGTH} characters or "
            f"with spaces (token {', '.join(map(str, short))})",
            hint=hint,
        )
    return tuple(t.encode() for t in tokens)


def _token_accepted(tokens: tuple[bytes, ...], header: bytes | None) -> bool:
    if header is None or header[:7].lower() != b"bearer ":
        return False
    given = header[7:].strip()
    accepted = False
    for token in tokens:
        accepted |= hmac.compare_digest(token, given)
    return accepted


async def read_body(
    receive: Receive,
    headers: list[tuple[bytes, bytes]],
    *,
    limit: int = MAX_BODY_BYTES,
    seconds: float = BODY_SECONDS,
) -> bytes:
    """The request's body, refused past ``limit`` bytes (``PayloadTooLarge``) or when it takes
    longer than ``seconds`` to arrive (``RequestTimeout``: a client sending a byte now and then
    holds a connection, not the server)."""
    declared = next((v for k, v in headers if k == b"content-length"), None)
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    deadline = time.monotonic() + seconds
    while True:
        remaining = deadline - time.monotonic()
        try:
            message = await asyncio.wait_for(receive(), max(remaining, 0.001))
        except asyncio.TimeoutError:
            raise RequestTimeout(
                f"the request body took longer than {seconds:g} s to arrive",
                hint="send the whole body at once",
            ) from None
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the request body is larger than {limit:,} bytes",
        hint="send less: a render needs only the variables its template uses",
    )


class Access:
    """ASGI middleware: refuses requests without an accepted token (when tokens are set), names
    the served commit (``served()``) on every answer that does not already, counts answers by
    status, and writes one JSON line per request to ``log``."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        tokens: tuple[bytes, ...],
        log: JsonLines,
        statuses: Counter[int],
        served: Callable[[], str | None],
    ) -> None:
        self.app = app
        self.tokens = tokens
        self.log = log
        self.statuses = statuses
        self.served = served

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        status = 0
        sent = 0
        commit = b""

        async def sending(message: Message) -> None:
            nonlocal status, sent, commit
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = message.get("headers", ())
                for key, value in headers:
                    if key == b"x-promptship-commit":
                        commit = value
                served = self.served() if not commit and status != 401 else None
                if served is not None:
                    commit = served.encode()
                    headers = [*headers, (b"x-promptship-commit", commit)]
                    message = {**message, "headers": headers}
            else:
                sent += len(message.get("body", b""))
            await send(message)

        try:
            if self.tokens and scope["path"] not in OPEN_PATHS:
                header = next((v for k, v in scope["headers"] if k == b"authorization"), None)
                if not _token_accepted(self.tokens, header):
                    await _refuse(sending)
                    return
            await self.app(scope, receive, sending)
        finally:
            self.statuses[status] += 1
            client = scope.get("client")
            self.log.request(
                {
                    "time": self.log.now(),
                    "event": "request",
                    "method": scope["method"],
                    "path": scope["path"],
                    "query": scope["query_string"].decode("latin-1"),
                    "status": status,
                    "bytes": sent,
                    "ms": (time.monotonic() - started) * 1000,
                    "client": client[0] if client else None,
                    "commit": commit.decode() or None,
                }
            )


async def _refuse(send: Send) -> None:
    error = Unauthorized(
        "this server requires a bearer token",
        hint="send 'Authorization: Bearer <token>' with a token from the server's --token-file",
    )
    body = error_body(error)
    await send(
        {
            "type": "http.response.start",
            "status": error.status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"www-authenticate", b'Bearer realm="promptship"'),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
