"""The web page in tests: a real ``promptship ui`` process on 127.0.0.1, started and stopped by
the test, and headless Chromium driven by Playwright (Debian's ``chromium`` on the PATH, else an
installed Google Chrome; Playwright's own browser download is not used)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

__all__ = [
    "CHROMIUM_ARGS",
    "UiServer",
    "browser",
    "chromium_path",
    "free_port",
    "page",
]

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these, chromium keeps dialling out, and the closed network refuses it.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
_ADDRESS = re.compile(r"http://127\.0\.0\.1:(\d+)/\?token=([A-Za-z0-9_-]+)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# Where Google Chrome's installers put it: the browser of a machine without a chromium package
# (GitHub's macOS and Windows runners have it there).
_CHROME = (
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    r"C:\Program Files\Google\Chrome\Application\chrome.exe",
    "/opt/google/chrome/chrome",
)


def chromium_path() -> str:
    """The chromium program, else Google Chrome. Their absence fails the test with the command
    that installs chromium (``.ci/run`` runs it on a fresh machine): a browser test that skips
    would pass a suite that never opened the page."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    for chrome in _CHROME:
        if os.path.isfile(chrome):
            return chrome
    pytest.fail(
        "chromium is not installed: install it with 'apt-get install -y chromium' (or run "
        ".ci/run, which does), then run the tests again"
    )


@dataclass
class UiServer:
    """``promptship ui --no-browser --port N`` on ``repo``, as a real process; its output is
    collected so a failing test can show it."""

    repo: Path
    args: tuple[str, ...] = ()
    env: dict[str, str | None] = field(default_factory=dict)
    """Set over the test's environment; ``None`` removes a variable."""
    port: int = 0
    token: str = ""
    output: list[str] = field(default_factory=list)
    _process: subprocess.Popen[str] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The address the command printed, key included."""
        return f"{self.base}/?token={self.token}"

    def __enter__(self) -> UiServer:
        self.port = self.port or free_port()
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cli",
                "--repo",
                str(self.repo),
                "ui",
                "--no-browser",
                "--port",
                str(self.port),
                *self.args,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={k: v for k, v in {**os.environ, **self.env}.items() if v is not None},
        )
        found = self._wait_for_address()
        self.token = found.group(2)
        assert int(found.group(1)) == self.port
        threading.Thread(target=self._drain, daemon=True).start()
        return self

    def _wait_for_address(self, timeout: float = 30) -> re.Match[str]:
        assert self._process is not None and self._process.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self._process.stdout.readline()
            if not line:
                break
            self.output.append(line)
            found = _ADDRESS.search(line)
            if found:
                return found
        self.stop()
        raise AssertionError("promptship ui printed no address:\n" + "".join(self.output))

    def _drain(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        for line in self._process.stdout:
            self.output.append(line)

    def stop(self) -> int | None:
        process = self._process
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
        return process.returncode

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@dataclass
class Watched:
    """What the page did that a test must know of: JavaScript dialogs (``alert``) opened, and
    errors thrown by scripts."""

    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookie yet) and page; any JavaScript dialog is recorded on
    ``page.watched`` and dismissed, so a test asserts none fired."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    watched = Watched()
    opened.on("dialog", lambda d: (watched.dialogs.append(d.message), d.dismiss()))
    opened.on("pageerror", lambda e: watched.errors.append(str(e)))
    opened.set_default_timeout(15_000)
    opened.watched = watched  # type: ignore[attr-defined]
    yield opened
    context.close()


def watched(page: Page) -> Watched:
    found: Any = page.watched  # type: ignore[attr-defined]
    assert isinstance(found, Watched)
    return found
