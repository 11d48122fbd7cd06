"""The read API: Starlette routes over the answers of the served commit.

Every answer names its commit (``X-Promptship-Commit``); a prompt's answer has a strong ETag
that changes only with it, and ``If-None-Match`` gets ``304``. Production answers are bytes
prepared when the commit was served; others are read on first request and kept for the commit.
Errors are ``{"error": {"type", "message", "hint", ...}}`` named after the Python errors.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import orjson
from sse_starlette import EventSourceResponse
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..errors import InputError, PromptshipError
from ..read.export import entry_version
from .access import (
    MAX_WEBHOOK_BYTES,
    Access,
    ASGIApp,
    ClientGone,
    JsonLines,
    Receive,
    Scope,
    Send,
    read_body,
)
from .errors import HttpError, NotReady, error_body, status_of
from .events import EventHub, commit_frame
from .follow import Follower
from .metrics import exposition
from .rendering import Renderer, variables_of
from .served import JSON_TYPE, Answer, Served
from .webhook import check_signature, pushed_ref
from .workers import warm_up

__all__ = ["ApiOptions", "build_app"]

MAX_STREAMS = 10_000
PING_SECONDS = 15.0
FLUSH_SECONDS = 0.2
_COMMIT_ID = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?\Z")
_MAX_QUERY_VALUE = 200
_JSON = JSON_TYPE
_NO_CACHE = (b"cache-control", b"no-cache")


@dataclass(frozen=True, kw_only=True, slots=True)
class ApiOptions:
    tokens: tuple[bytes, ...] = ()
    webhook_secret: bytes | None = None
    render_seconds: float = 2.0


class _Prepared(Response):
    """A response whose bytes and headers are ready: nothing is encoded per request."""

    def __init__(self, body: bytes, status: int, headers: list[tuple[bytes, bytes]]) -> None:
        self.body = body
        self.status_code = status
        self.background = None
        self.raw_headers = headers


class Api:
    def __init__(
        self, follower: Follower, hub: EventHub, renderer: Renderer, options: ApiOptions
    ) -> None:
        self.follower = follower
        self.hub = hub
        self.renderer = renderer
        self.options = options

    # -- answers ---------------------------------------------------------------------------

    def _served(self) -> Served:
        served = self.follower.served
        if served is None:
            degraded = self.follower.health.degraded
            raise NotReady(
                "no verified commit is served yet"
                + (f": {degraded.tip[:10]} was refused ({degraded.reason})" if degraded else ""),
                hint="wait until /readyz answers 200",
            )
        return served

    def _answer(self, request: Request, served: Served, answer: Answer) -> Response:
        status, body, headers = _reply(request.scope, served, answer)
        return _Prepared(body, status, headers)

    async def _lazy(self, served: Served, key: tuple[str, ...]) -> Answer:
        found = served.lazy.cached(key)
        if found is None:
            found = await asyncio.to_thread(served.lazy.get, key)
        return found

    async def _version(self, request: Request, served: Served) -> Answer:
        name = request.path_params["name"]
        if not request.scope["query_string"]:
            found = served.production.get(name)
            if found is not None:
                return found
            return await self._lazy(served, ("version", name, "", ""))
        params = _query(request, ("label", "version"))
        label, version = params.get("label", ""), params.get("version", "")
        if label in ("", "production") and not version:
            found = served.production.get(name)
            if found is not None:
                return found
        return await self._lazy(served, ("version", name, label, version))

    async def prompt(self, request: Request) -> Response:
        served = self._served()
        return self._answer(request, served, await self._version(request, served))

    async def prompts(self, request: Request) -> Response:
        served = await self._warm_served()
        return self._answer(request, served, served.listing)

    async def export(self, request: Request) -> Response:
        served = await self._warm_served()
        return self._answer(request, served, served.export)

    async def _warm_served(self) -> Served:
        """The served commit with its answers about every prompt built: right after a new
        commit they may still be being joined, which is waited for off the event loop."""
        served = self._served()
        if not served.warmed:
            await asyncio.to_thread(served.warm)
        return served

    async def history(self, request: Request) -> Response:
        served = self._served()
        params = _query(request, ("user", "since", "until"))
        key = (
            "history",
            request.path_params["name"],
            params.get("user", ""),
            params.get("since", ""),
            params.get("until", ""),
        )
        return self._answer(request, served, await self._lazy(served, key))

    async def render(self, request: Request) -> Response:
        served = self._served()
        body = await read_body(request.receive, request.scope["headers"])
        variables = variables_of(body)
        answer = await self._version(request, served)
        if answer.status != 200:
            return self._answer(request, served, answer)
        data = orjson.loads(answer.body)
        version = entry_version(data, status=data["status"])
        status, out = await self.renderer.render(version, variables)
        return _Prepared(
            out,
            status,
            [
                (b"x-promptship-commit", served.commit.encode()),
                _JSON,
                (b"content-length", str(len(out)).encode()),
            ],
        )

    # -- events, webhook -------------------------------------------------------------------

    async def events(self, request: Request) -> Response:
        served = self._served()
        if self.hub.clients >= MAX_STREAMS:
            raise HttpError(
                f"this server already streams to {MAX_STREAMS:,} clients",
                hint="connect to another replica, or try again later",
                status=503,
            )
        last = request.headers.get("last-event-id", "").strip()
        after = self.hub.position()
        first: list[bytes] = []
        if not last:
            first.append(commit_frame(served.commit, None, []))
        else:
            if not _COMMIT_ID.match(last):
                raise InputError(
                    f"Last-Event-ID {last[:80]!r} is not a commit id",
                    hint="send the id of the last event received, or none",
                )
            frame = await asyncio.to_thread(self.follower.catch_up, last)
            if frame is not None:
                first.append(frame)
        return EventSourceResponse(
            self.hub.stream(first, after=after),
            ping=PING_SECONDS,
            sep="\n",
            headers={"X-Promptship-Commit": served.commit},
        )

    async def webhook(self, request: Request) -> Response:
        secret = self.options.webhook_secret
        if secret is None:
            raise HttpError(
                "this server has no webhook",
                hint="start it with --webhook-secret-file FILE (or PROMPTSHIP_WEBHOOK_SECRET)",
                status=404,
            )
        body = await read_body(request.receive, request.scope["headers"], limit=MAX_WEBHOOK_BYTES)
        check_signature(secret, body, request.headers.get("x-hub-signature-256"))
        event = request.headers.get("x-github-event", "push")
        if event == "ping":
            return _json({"ok": True, "fetch": False})
        ref = pushed_ref(body) if event == "push" else None
        wanted = self.follower.tracking.source or self.follower.tracking.ref
        if event != "push" or (ref is not None and ref != wanted):
            return _json({"ok": True, "fetch": False, "reason": f"not a push to {wanted}"}, 202)
        self.follower.fetch_now()
        return _json({"ok": True, "fetch": True}, 202)

    # -- probes ----------------------------------------------------------------------------

    async def healthz(self, request: Request) -> Response:
        return _json({"status": "ok"})

    async def readyz(self, request: Request) -> Response:
        served = self.follower.served
        health = self.follower.health
        degraded = health.degraded
        body = {
            "commit": served.commit if served else None,
            "degraded": {"tip": degraded.tip, "reason": degraded.reason} if degraded else None,
            "fetch_error": health.fetch_error,
        }
        headers = [(b"x-promptship-commit", served.commit.encode())] if served else []
        return _json(body, 200 if served else 503, headers)

    async def metrics(self, request: Request) -> Response:
        text = exposition(self.follower, self.hub.clients, self.renderer.workers.killed)
        return Response(text, media_type="text/plain; version=0.0.4; charset=utf-8")


def _reply(
    scope: Scope, served: Served, answer: Answer
) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    """The status, body and headers that send ``answer`` of ``served``: ``304`` and no body when
    the request's ``If-None-Match`` names its ETag."""
    if answer.status == 200 and _matches(scope, answer.etag):
        return 304, b"", [answer.headers[0], served.commit_header, _NO_CACHE]
    return answer.status, answer.body, [*answer.headers, served.commit_header, _NO_CACHE]


class _Production:
    """``GET /v1/prompts/NAME`` for a prompt in production, with no query: the commonest request
    by far, answered from its prepared bytes before routing. Everything else, misses included,
    goes on to the routes, which give the same answer the same way (``_reply``)."""

    _PREFIX = "/v1/prompts/"

    def __init__(self, app: ASGIApp, follower: Follower) -> None:
        self.app = app
        self.follower = follower

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        served = self.follower.served
        if (
            served is not None
            and scope["type"] == "http"
            and scope["method"] == "GET"
            and not scope["query_string"]
            and scope["path"].startswith(self._PREFIX)
        ):
            answer = served.production.get(scope["path"][len(self._PREFIX) :])
            if answer is not None:
                status, body, headers = _reply(scope, served, answer)
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def _matches(scope: Scope, etag: str) -> bool:
    """Whether ``If-None-Match`` names ``etag`` (weak comparison, as RFC 9110 asks)."""
    header = next((v for k, v in scope["headers"] if k == b"if-none-match"), None)
    if header is None:
        return False
    text = header.decode("latin-1")
    if text == etag:
        return True
    tags = [t.strip().removeprefix("W/") for t in text.split(",")]
    return "*" in tags or etag in tags


def _query(request: Request, allowed: tuple[str, ...]) -> dict[str, str]:
    params = request.query_params
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise InputError(
            f"unknown query parameter {unknown[0]!r}",
            hint="this endpoint takes " + ", ".join(allowed),
        )
    found = {}
    for key in allowed:
        value = params.get(key)
        if value is None:
            continue
        if len(value) > _MAX_QUERY_VALUE:
            raise InputError(f"{key} is longer than {_MAX_QUERY_VALUE} characters", hint="")
        found[key] = value
    if found.get("label", "") not in ("", "production", "latest"):
        raise InputError(
            f"unknown label {found['label']!r}",
            hint="labels are production (the default) and latest",
        )
    return found


def _json(
    data: object, status: int = 200, headers: list[tuple[bytes, bytes]] | None = None
) -> Response:
    body = orjson.dumps(data, option=orjson.OPT_APPEND_NEWLINE)
    return _Prepared(
        body, status, [*(headers or []), _JSON, (b"content-length", str(len(body)).encode())]
    )


def _error(error: PromptshipError, commit: str | None) -> Response:
    headers = [(b"x-promptship-commit", commit.encode())] if commit else []
    if isinstance(error, NotReady):
        headers.append((b"retry-after", b"1"))
    return _json_bytes(error_body(error), status_of(error), headers)


def _json_bytes(body: bytes, status: int, headers: list[tuple[bytes, bytes]]) -> Response:
    return _Prepared(body, status, [*headers, _JSON, (b"content-length", str(len(body)).encode())])


def build_app(
    follower: Follower,
    *,
    options: ApiOptions,
    log: JsonLines,
    renderer: Renderer | None = None,
) -> Access:
    """The ASGI application: the routes, behind token checks and the access log."""
    hub = follower.hub
    renderer = renderer or Renderer(options.render_seconds)
    api = Api(follower, hub, renderer, options)

    def commit() -> str | None:
        return follower.served.commit if follower.served else None

    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PromptshipError)
        return _error(exc, commit())

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        kind = {404: "NotFound", 405: "MethodNotAllowed"}.get(exc.status_code, "HTTPError")
        hint = "the endpoints are listed in docs/serve.md"
        body = error_body(type=kind, message=str(exc.detail), hint=hint)
        return _json_bytes(body, exc.status_code, [])

    async def gone(request: Request, exc: Exception) -> Response:
        return Response(b"", 400)

    async def failed(request: Request, exc: Exception) -> Response:
        log.write("error", path=request.url.path, error=f"{type(exc).__name__}: {exc}")
        body = error_body(
            type="InternalError",
            message="the server failed to answer",
            hint="this is a bug in promptship; the server's log has the details",
        )
        return _json_bytes(body, 500, [])

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await asyncio.to_thread(warm_up)
        tasks = [asyncio.create_task(follower.run()), asyncio.create_task(_flushing(log))]
        log.write("started", ref=follower.tracking.describe())
        try:
            yield
        finally:
            hub.close()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await asyncio.to_thread(_close, follower, renderer)
            log.write("stopped")

    route: Callable[..., Route] = Route
    app = Starlette(
        routes=[
            route("/v1/prompts/{name}", api.prompt, methods=["GET"]),
            route("/v1/prompts", api.prompts, methods=["GET"]),
            route("/v1/prompts/{name}/render", api.render, methods=["POST"]),
            route("/v1/prompts/{name}/history", api.history, methods=["GET"]),
            route("/v1/export", api.export, methods=["GET"]),
            route("/v1/events", api.events, methods=["GET"]),
            route("/v1/webhook", api.webhook, methods=["POST"]),
            route("/healthz", api.healthz, methods=["GET"]),
            route("/readyz", api.readyz, methods=["GET"]),
            route("/metrics", api.metrics, methods=["GET"]),
        ],
        exception_handlers={
            PromptshipError: refused,
            HTTPException: http_error,
            ClientGone: gone,
            Exception: failed,
        },
        lifespan=lifespan,
    )
    return Access(
        _Production(app, follower),
        tokens=options.tokens,
        log=log,
        statuses=follower.health.statuses,
        served=commit,
    )


async def _flushing(log: JsonLines) -> None:
    """Write the gathered request lines a few times a second (and once more at the end)."""
    try:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            log.flush()
    finally:
        log.flush()


def _close(follower: Follower, renderer: Renderer) -> None:
    follower.close()
    renderer.close()
