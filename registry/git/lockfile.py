"""A lock file that orders promptship processes on one machine, on every desktop: an
operating-system lock on the file, which the system drops when its process ends, so a killed
command never leaves a stale lock behind.

On Linux and macOS it is ``flock`` from the standard library; on Windows it is ``filelock``
(``LockFileEx``), imported only there: importing filelock costs a command tens of milliseconds,
most of a short command's start-up budget.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import PromptshipError

__all__ = ["held"]

_POLL_SECONDS = 0.005


@contextmanager
def held(path: Path, *, wait: float, busy: Callable[[], PromptshipError]) -> Iterator[None]:
    """Hold the lock on ``path`` (created if missing) while the block runs; after ``wait``
    seconds of another process holding it, raise ``busy()``."""
    if sys.platform == "win32":
        with _held_by_filelock(path, wait=wait, busy=busy):
            yield
        return
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise busy() from None
                time.sleep(_POLL_SECONDS)
        yield
    finally:
        os.close(fd)  # closing the descriptor drops the lock


@contextmanager
def _held_by_filelock(
    path: Path, *, wait: float, busy: Callable[[], PromptshipError]
) -> Iterator[None]:
    import filelock

    lock = filelock.FileLock(path, timeout=wait)
    try:
        lock.acquire(poll_interval=_POLL_SECONDS)
    except filelock.Timeout:
        raise busy() from None
    try:
        yield
    finally:
        lock.release()
