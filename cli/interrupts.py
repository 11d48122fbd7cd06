"""Ctrl-C on the command line: an interrupt stops a command until its change is published, and
from then on is only remembered, since the repository already holds the change.

The write pipeline holds interrupts back while it publishes and calls ``hold`` before it lets
them through again, so a Ctrl-C that arrives while the command reports what it did can no
longer turn a written change into ``Aborted.`` and exit 130.
"""

from __future__ import annotations

import signal
from types import FrameType

__all__ = ["Interrupts", "LateInterrupt", "current"]


class LateInterrupt(KeyboardInterrupt):
    """An interrupt that arrived after the command's change was published."""

    def __init__(self, commit: str, subject: str) -> None:
        super().__init__(commit, subject)
        self.commit = commit
        self.subject = subject


class Interrupts:
    """The SIGINT handler of a command: ``KeyboardInterrupt`` as Python raises it by default,
    remembered (a Ctrl-C inside an import can surface as an ``ImportError``, which is no bug),
    and only remembered once ``hold`` was called."""

    def __init__(self) -> None:
        self.seen = False
        self._landed: tuple[str, str] | None = None
        self._late = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.seen = True
        if self._landed is not None:
            self._late = True
            return
        raise KeyboardInterrupt

    def hold(self, commit: str, subject: str) -> None:
        """The change ``commit`` (``subject``) is published: interrupts no longer stop anything."""
        self._landed = (commit, subject)

    def release(self) -> None:
        """End of a command: interrupts stop commands again; ``LateInterrupt`` if one arrived
        after the change was published."""
        landed, late = self._landed, self._late
        self._landed, self._late = None, False
        if landed is not None and late:
            raise LateInterrupt(*landed)


def current() -> Interrupts | None:
    """The command line's handler, when it is the one in place (not in a library caller)."""
    try:
        handler = signal.getsignal(signal.SIGINT)
    except ValueError:
        return None
    return handler if isinstance(handler, Interrupts) else None
