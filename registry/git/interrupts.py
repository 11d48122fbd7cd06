"""Ctrl-C while a change is being written: held back until the change is whole, as git does.

Between the branch move and the end of the sync, an interrupt would leave the clone's index
staging a revert of the commit just made, and a report saying nothing happened. So the few
milliseconds from the move (or the push) to the end of the sync run with SIGINT deferred: a
signal that arrives then is remembered, and acted upon once the clone is whole.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = ["Deferred", "deferred_interrupts"]

_TEST_HOOK = "PROMPTSHIP_TEST_SIGINT_IN_CRITICAL_SECTION"
"""Tests only: when set, the process sends itself SIGINT as the critical section begins, so a
test can interrupt that exact moment of a real process."""


class Deferred:
    """Whether an interrupt arrived while it was deferred."""

    def __init__(self) -> None:
        self.pending = False

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        self.pending = True


@contextmanager
def deferred_interrupts() -> Iterator[Deferred]:
    """Run the block with SIGINT remembered instead of raised. Outside the main thread (a web
    server's worker, say) signals never reach the code, so nothing needs deferring there."""
    deferred = Deferred()
    try:
        previous = signal.signal(signal.SIGINT, deferred._handler)
    except ValueError:  # not the main thread
        yield deferred
        return
    try:
        if os.environ.get(_TEST_HOOK):
            signal.raise_signal(signal.SIGINT)
        yield deferred
    finally:
        # None: a handler set outside Python, which cannot be put back; the default stands in.
        signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)
