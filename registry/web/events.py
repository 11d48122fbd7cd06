"""The event stream: one ``commit`` event per served commit, fanned out to every client.

A frame is encoded once per commit and the same bytes go to every client. Each client reads the
frames published since it last looked from a short ring; one that falls further behind (a stalled
connection) is let go, and reconnects with ``Last-Event-ID`` to catch up in one event.

Event ``commit``, id the commit, data ``{"commit", "base", "changed"}``: ``base`` is the commit
the client must hold for ``changed`` to bring it up to date (``null`` for the first event of a
connection that named none); ``changed`` lists each prompt whose production answer changed,
with ``name``, ``version``, ``digest`` (``null`` when it has no production version any more) and
``prompt``, its new answer, unless the change is too large to carry (``"complete": false``).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Iterable

import orjson

from .served import PreparedPrompt, event_items

__all__ = ["MAX_CARRIED", "EventHub", "commit_frame"]

RING = 64
MAX_CARRIED = 1 << 20
"""Above this many bytes of answers, an event names the changed prompts without carrying them."""


def commit_frame(commit: str, base: str | None, changes: Iterable[PreparedPrompt | str]) -> bytes:
    """The bytes of one ``commit`` event."""
    changes = list(changes)
    carried = sum(
        len(c.production.body) for c in changes if not isinstance(c, str) and c.production
    )
    complete = carried <= MAX_CARRIED
    data = (
        b'{"base":'
        + orjson.dumps(base)
        + b',"changed":'
        + event_items(changes, with_answers=complete)
        + b',"commit":'
        + orjson.dumps(commit)
        + b',"complete":'
        + (b"true" if complete else b"false")
        + b"}"
    )
    return b"id: " + commit.encode() + b"\nevent: commit\ndata: " + data + b"\n\n"


class EventHub:
    """The frames published so far (the last ``RING``) and the clients waiting for the next."""

    def __init__(self) -> None:
        self._frames: deque[tuple[int, bytes]] = deque(maxlen=RING)
        self._sequence = 0
        self._published = asyncio.Event()
        self._closed = False
        self.clients = 0

    def publish(self, frame: bytes) -> None:
        self._sequence += 1
        self._frames.append((self._sequence, frame))
        waking, self._published = self._published, asyncio.Event()
        waking.set()

    def close(self) -> None:
        """End every stream (the server is shutting down)."""
        self._closed = True
        self._published.set()

    def position(self) -> int:
        """Where the stream stands now: a client that read the served commit at this position
        gets every frame published after it."""
        return self._sequence

    async def stream(
        self, first: Iterable[bytes] = (), *, after: int | None = None
    ) -> AsyncIterator[bytes]:
        """``first``, then every frame published after position ``after`` (default: now),
        until the hub closes or the client falls more than ``RING`` frames behind."""
        seen = self._sequence if after is None else after
        self.clients += 1
        try:
            for frame in first:
                yield frame
            while not self._closed:
                if seen == self._sequence:
                    await self._published.wait()
                    continue
                missed = [(n, f) for n, f in self._frames if n > seen]
                if not missed or missed[0][0] != seen + 1:
                    return  # fell behind the ring: reconnecting catches up in one event
                for number, frame in missed:
                    seen = number
                    yield frame
        finally:
            self.clients -= 1
