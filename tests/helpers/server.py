"""Real ``promptship serve`` processes for tests: started on 127.0.0.1 with a free port, their JSON
log read back, and always stopped (the ``servers`` fixture kills what a test leaves running).

Nothing here measures time: waiting is polling with generous deadlines, for machines that are
busy with other work."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

T = TypeVar("T")

PATIENCE = 90.0
"""Seconds a test waits for something that takes milliseconds on an idle machine."""


def eventually(probe: Callable[[], T | None], *, what: str, seconds: float = PATIENCE) -> T:
    """``probe()`` once it returns something other than ``None`` or ``False``."""
    deadline = time.monotonic() + seconds
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = probe()
        except (httpx.HTTPError, OSError) as exc:
            last = exc
        else:
            if last is not None and last is not False:
                return last
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


@dataclass
class Server:
    """One running ``promptship serve``."""

    process: subprocess.Popen[bytes]
    log_path: Path
    port: int = 0
    token: str | None = None
    _client: httpx.Client | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
            self._client = httpx.Client(base_url=self.url, headers=headers, timeout=30)
        return self._client

    def log(self) -> list[dict[str, Any]]:
        lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        found = []
        for line in lines:
            try:
                found.append(json.loads(line))
            except ValueError:
                found.append({"event": "text", "line": line})
        return found

    def events(self, name: str) -> list[dict[str, Any]]:
        return [e for e in self.log() if e.get("event") == name]

    def wait_listening(self) -> None:
        def listening() -> int | None:
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited {self.process.returncode}: {self.log()}")
            found = self.events("listening")
            return found[0]["port"] if found else None

        self.port = eventually(listening, what="the server to listen")

    def readiness(self) -> dict[str, Any]:
        return self.client.get("/readyz").json()  # type: ignore[no-any-return]

    def wait_ready(self) -> str:
        """The served commit, once there is one."""
        return eventually(lambda: self.readiness()["commit"], what="a served commit")

    def wait_commit(self, commit: str) -> None:
        eventually(lambda: self.readiness()["commit"] == commit, what=f"{commit[:10]} to be served")

    def close_client(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Send ``sig`` and wait for the exit status (killed if it does not come)."""
        self.close_client()
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=PATIENCE)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


@dataclass
class Servers:
    """Starts servers and stops every one of them at the end of the test."""

    root: Path
    running: list[Server] = field(default_factory=list)

    def start(
        self,
        *args: str,
        repo: Path | None = None,
        token: str | None = None,
        wait: bool = True,
        env: dict[str, str] | None = None,
    ) -> Server:
        log = self.root / f"serve-{len(self.running)}.log"
        command = [sys.executable, "-m", "cli"]
        if repo is not None:
            command += ["--repo", str(repo)]
        command += ["serve", "--port", "0", *args]
        with open(log, "wb") as stderr:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                env={**os.environ, "XDG_CACHE_HOME": str(self.root / "cache"), **(env or {})},
            )
        server = Server(process, log, token=token)
        self.running.append(server)
        server.wait_listening()
        if wait:
            server.wait_ready()
        return server

    def stop_all(self) -> None:
        for server in self.running:
            server.close_client()
            if server.process.poll() is None:
                server.process.kill()
                server.process.wait()


def sign(secret: bytes, body: bytes) -> str:
    """``X-Hub-Signature-256`` as GitHub computes it."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def push_event(ref: str = "refs/heads/main") -> bytes:
    return json.dumps({"ref": ref, "before": "0" * 40, "after": "1" * 40}).encode()


def sse_events(response: httpx.Response) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(event, data)`` of each event of an open stream, as an EventSource reads them."""
    from httpx_sse import EventSource

    for event in EventSource(response).iter_sse():
        yield event.event, json.loads(event.data)
