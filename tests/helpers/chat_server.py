"""A real chat-completions server on 127.0.0.1 for the test panel's tests.

It answers deterministically: the reply is ``<model> says: <last message>`` and the token counts
are word counts. Models with special names fail on demand, each the way real servers do.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

__all__ = ["ChatServer", "closed_port", "expected_reply"]

RETRY_AFTER = "7"


def expected_reply(model: str, messages: list[dict[str, str]]) -> dict[str, Any]:
    """What the server answers ``model`` for ``messages``: the text and the usage."""
    text = f"{model} says: {messages[-1]['content']}"
    prompt = sum(len(m["content"].split()) for m in messages)
    completion = len(text.split())
    return {
        "text": text,
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        },
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    chat: ChatServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (a timeout under test) is expected; stay quiet."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        chat = self.server.chat
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length))
        with chat.lock:
            chat.requests.append(
                {"path": self.path, "headers": dict(self.headers.items()), "body": body}
            )
        # The client may hang up (it timed out): that is what the test wanted.
        with contextlib.suppress(OSError):
            self._answer(chat, body)

    def _answer(self, chat: ChatServer, body: dict[str, Any]) -> None:
        model = body.get("model", "")
        if self.path != "/v1/chat/completions":
            return self._json(404, {"error": {"message": f"no route {self.path}"}})
        if chat.api_key and self.headers.get("Authorization") != f"Bearer {chat.api_key}":
            return self._json(401, {"error": {"message": "Incorrect API key provided"}})
        if model == "fail-401":
            return self._json(401, {"error": {"message": "Incorrect API key provided"}})
        if model == "fail-429":
            return self._json(
                429, {"error": {"message": "Rate limit reached"}}, {"Retry-After": RETRY_AFTER}
            )
        if model == "fail-500":
            return self._json(500, {"error": {"message": "The server had an error"}})
        if model == "fail-502":
            return self._send(502, b"<html><body>Bad Gateway</body></html>", "text/html")
        if model == "unknown-model":
            return self._json(404, {"error": {"message": f"The model {model} does not exist"}})
        if model == "slow":
            chat.release.wait(10)
        if model == "trickle":
            return self._trickle(chat)
        if model == "not-json":
            return self._send(200, b"<html>surprise</html>", "text/html")
        if model == "no-choices":
            return self._json(200, {"id": "x", "object": "chat.completion"})
        if model.startswith("together-"):
            # Answers only once every "together-" model has asked: proves they run at once.
            try:
                chat.barrier.wait(timeout=5)
            except threading.BrokenBarrierError:
                return self._json(500, {"error": {"message": "requests did not overlap"}})
        reply = expected_reply(model, body["messages"])
        answer: dict[str, Any] = {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply["text"]},
                    "finish_reason": "stop",
                }
            ],
        }
        if model == "bad-usage":
            answer["usage"] = {"prompt_tokens": "many"}
        elif model != "no-usage":
            answer["usage"] = reply["usage"]
        return self._json(200, answer)

    def _trickle(self, chat: ChatServer) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "1000")
        self.end_headers()
        for _ in range(1000):
            if chat.release.wait(0.02):
                return
            self.wfile.write(b" ")
            self.wfile.flush()

    def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(data).encode(), "application/json", headers)

    def _send(
        self,
        status: int,
        payload: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


class ChatServer:
    """Serves until the ``with`` block ends; ``requests`` holds what it was sent."""

    def __init__(self, *, api_key: str | None = None, together: int = 2) -> None:
        self.api_key = api_key
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.barrier = threading.Barrier(together)
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.chat = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def bodies(self) -> list[dict[str, Any]]:
        with self.lock:
            return [r["body"] for r in self.requests]

    def __enter__(self) -> ChatServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (it was just closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
