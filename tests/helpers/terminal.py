"""promptship on a terminal: a real pseudo-terminal as standard input (and, unless told
otherwise, as standard output and error), for the questions it asks only a person."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO


def answer_on_terminal(
    cwd: Path,
    *args: str,
    answer: str,
    meanwhile: Callable[[], None] | None = None,
    stdout: IO[bytes] | None = None,
) -> tuple[int, bytes]:
    """Run ``promptship ARGS`` on a terminal, wait for its ``Proceed?``, run ``meanwhile`` (what
    happens while the person reads), type ``answer``; the exit status and all the terminal
    showed."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "cli", *args],
        cwd=cwd,
        stdin=follower,
        stdout=stdout if stdout is not None else follower,
        stderr=follower,
    )
    os.close(follower)
    seen = b""
    while b"Proceed?" not in seen:
        chunk = os.read(leader, 1024)
        assert chunk, seen
        seen += chunk
    if meanwhile is not None:
        meanwhile()
    os.write(leader, answer.encode())
    status = process.wait(timeout=30)
    try:
        while chunk := os.read(leader, 1024):
            seen += chunk
    except OSError:
        pass  # the terminal closes with the process
    os.close(leader)
    return status, seen
