"""Who may use the page: the person who started it, in their own browser, and no web site.

- The server listens on 127.0.0.1 only (``server``).
- The address it prints carries a random token. The first request exchanges it for a session
  cookie (HttpOnly, SameSite=Strict, named after the port) and is sent to the same address
  without it, so the token leaves the address bar and is never sent on; the token works once.
- Every request needs that cookie and a ``Host`` naming this server (``127.0.0.1:PORT`` or
  ``localhost:PORT``): a site that points its own name at 127.0.0.1 (DNS rebinding) sends its own
  name as ``Host`` and is refused, cookie or not.
- A POST must come from this origin (``Origin`` and ``Sec-Fetch-Site``, where the browser sends
  them) and carry the forms' CSRF token (``read_form``).
- Every answer forbids inline script and style, framing, and sending its address to other sites
  (a referrer goes to this origin only: with none at all, browsers send `Origin: null`).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlencode

from starlette.datastructures import FormData, Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "COOKIE",
    "CSRF_FIELD",
    "Guard",
    "Secrets",
    "read_form",
]

COOKIE = "promptship_ui"
CSRF_FIELD = "csrf"
MAX_BODY_BYTES = 8 << 20
"""A form holds at most a version (1 MiB in the file) and its metadata; anything far larger is
not the page's own."""

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)
_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}
_SAFE_METHODS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True, kw_only=True, slots=True)
class Secrets:
    """What one run of the server knows and the browser proves: new at every start."""

    token: str
    """In the printed address; exchanged for the cookie."""
    session: str
    """The cookie's value."""
    csrf: str
    """In every form the page sends."""

    @classmethod
    def new(cls) -> Secrets:
        return cls(
            token=secrets.token_urlsafe(32),
            session=secrets.token_urlsafe(32),
            csrf=secrets.token_urlsafe(32),
        )


def _same(given: str | None, expected: str) -> bool:
    # Bytes: compare_digest refuses str with non-ASCII characters, which a browser may send.
    return given is not None and secrets.compare_digest(given.encode(), expected.encode())


class Guard:
    """ASGI middleware enforcing the rules above on every HTTP request, and timing each answer
    (``Server-Timing: app;dur=MS``) for the benchmarks."""

    def __init__(self, app: ASGIApp, *, keys: Secrets, port: int) -> None:
        self.app = app
        self.keys = keys
        self.hosts = frozenset({f"127.0.0.1:{port}", f"localhost:{port}"})
        self.origins = frozenset(f"http://{host}" for host in self.hosts)
        # Cookies are not kept apart by port: the name keeps two pages' sessions apart.
        self.cookie = f"{COOKIE}_{port}"
        self.key_used = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        request = Request(scope)
        respond = _Responder(send, began)
        headers = request.headers
        if headers.get("host") not in self.hosts:
            await respond.refuse(
                400,
                "This page answers only at the address promptship ui printed "
                "(http://127.0.0.1:PORT/).",
            )
            return
        token = request.query_params.get("token")
        if token is not None:
            await self._exchange(request, token, respond)
            return
        if not _same(request.cookies.get(self.cookie), self.keys.session):
            await respond.refuse(
                403,
                "Open the address that 'promptship ui' printed (it carries a one-time key), "
                "or start it again.",
            )
            return
        if request.method not in _SAFE_METHODS:
            refusal = self._cross_site(headers)
            if refusal:
                await respond.refuse(403, refusal)
                return
            receive = _bounded(receive)
        await self.app(scope, receive, respond.send)

    async def _exchange(self, request: Request, token: str, respond: _Responder) -> None:
        if not _same(token, self.keys.token):
            await respond.refuse(
                403, "This key is not the one promptship ui printed; open the address it printed."
            )
            return
        if self.key_used:
            # The address may have been read by someone else (a process list, a history file):
            # it opens the page once, for whoever comes first.
            await respond.refuse(
                403,
                "The key in this address was used already: it opens the page once. Go on in "
                "the browser that opened it, or start promptship ui again for a new address.",
            )
            return
        self.key_used = True
        kept = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
        # A path of this server only: '//host/' would send the browser to another site.
        target = "/" + request.url.path.lstrip("/") + (f"?{urlencode(kept)}" if kept else "")
        cookie = SimpleCookie()
        cookie[self.cookie] = self.keys.session
        cookie[self.cookie]["httponly"] = True
        cookie[self.cookie]["samesite"] = "Strict"
        cookie[self.cookie]["path"] = "/"
        await respond.send_plain(
            303,
            b"",
            extra=[
                (b"location", target.encode()),
                (b"set-cookie", cookie[self.cookie].OutputString().encode()),
            ],
        )

    def _cross_site(self, headers: Headers) -> str | None:
        origin = headers.get("origin")
        if origin is not None and origin not in self.origins:
            return "A form of another site cannot change this registry."
        site = headers.get("sec-fetch-site")
        if site is not None and site not in ("same-origin", "none"):
            return "A form of another site cannot change this registry."
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            return "The form is too large."
        return None


def _bounded(receive: Receive) -> Receive:
    """``receive`` refusing a body past ``MAX_BODY_BYTES`` however it is framed: a chunked body
    carries no Content-Length to check beforehand."""
    size = 0

    async def counted() -> Message:
        nonlocal size
        message = await receive()
        if message["type"] == "http.request":
            size += len(message.get("body", b""))
            if size > MAX_BODY_BYTES:
                raise HTTPException(413, "The form is too large.")
        return message

    return counted


class _Responder:
    """Sends the answer, with the security headers and the server time added."""

    def __init__(self, send: Send, began: float) -> None:
        self._send = send
        self._began = began

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            for key, value in _HEADERS.items():
                headers.setdefault(key, value)
            headers.setdefault("cache-control", "no-store")
            elapsed = (time.perf_counter() - self._began) * 1000
            headers.append("server-timing", f"app;dur={elapsed:.2f}")
        await self._send(message)

    async def refuse(self, status: int, text: str) -> None:
        await self.send_plain(status, f"{text}\n".encode())

    async def send_plain(
        self, status: int, body: bytes, extra: list[tuple[bytes, bytes]] | None = None
    ) -> None:
        headers = [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
            *(extra or []),
        ]
        await self.send({"type": "http.response.start", "status": status, "headers": headers})
        await self.send({"type": "http.response.body", "body": body})


async def read_form(request: Request, keys: Secrets) -> FormData:
    """The POSTed form, refused (403) unless it carries this run's CSRF token."""
    form = await request.form(max_files=0)
    given = form.get(CSRF_FIELD)
    if not isinstance(given, str) or not _same(given, keys.csrf):
        raise HTTPException(
            403, "This form is not one the page sent (its CSRF token is missing or wrong)."
        )
    return form
