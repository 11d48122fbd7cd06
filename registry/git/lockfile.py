"""A lock file that orders promptship processes on one machine, on every desktop: ``filelock``
takes an operating-system lock on the file (``flock`` on Linux and macOS, ``LockFileEx`` on
Windows), which the system drops when its process ends, so a killed command never leaves a
stale lock behind."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import filelock

from ..errors import PromptshipError

__all__ = ["held"]

_POLL_SECONDS = 0.005


@contextmanager
def held(path: Path, *, wait: float, busy: Callable[[], PromptshipError]) -> Iterator[None]:
    """Hold the lock on ``path`` (created if missing) while the block runs; after ``wait``
    seconds of another process holding it, raise ``busy()``."""
    lock = filelock.FileLock(path, timeout=wait)
    try:
        lock.acquire(poll_interval=_POLL_SECONDS)
    except filelock.Timeout:
        raise busy() from None
    try:
        yield
    finally:
        lock.release()
