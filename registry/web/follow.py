"""Following one ref: reading it on a short interval, fetching its remote on a timer or at once on
a webhook, verifying each new tip in a worker process, and swapping the served answers in one
step when it passes.

The first commit gets the full tree check; each later tip is checked against the commit served
before it, as ``check --base`` checks a pull request, and must descend from it. A tip that fails
is not served: the last good commit stays, the replica stays ready, and ``degraded`` says which
tip was refused and why until a newer tip passes. A refused tip is not checked again.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import orjson
import pygit2

from ..check.pool import available_cpus
from ..errors import PromptshipError
from ..git import tracking as tracked
from ..git.history_order import query_history
from ..git.store import GitStore
from ..history import parse_time_bound
from ..read.versions import SnapshotReader
from .access import JsonLines
from .errors import UnknownCommit
from .events import EventHub, commit_frame
from .served import Answer, Lazy, PreparedPrompt, Served, version_answer
from .verified import VerifiedFolders
from .verify import (
    Verdict,
    changed_pointers,
    relation,
    verify_change,
    verify_layout,
    verify_prompts,
)
from .workers import TaskTimeout, WorkerFailed, Workers

__all__ = ["Degraded", "Follower", "Health"]

POLL_SECONDS = 0.02
"""How often the ref is read: a ref read costs microseconds, and this bounds how late a push
into the followed repository is seen."""
CHECK_SECONDS = 600.0
REMEMBER_SECONDS = 60.0
"""How often the verified folders are written down (and at shutdown)."""
COLLECT_SECONDS = 60.0
"""At most how often a new commit is followed by a full garbage collection."""
CHUNKS_PER_PROCESS = 4
_RETRY_SECONDS = (1.0, 2.0, 5.0, 10.0, 30.0)


@dataclass(frozen=True, kw_only=True, slots=True)
class Degraded:
    """A newer tip that was refused, and why."""

    tip: str
    reason: str


@dataclass(kw_only=True)
class Health:
    """What ``/readyz`` and ``/metrics`` report. Changed only by the follower."""

    degraded: Degraded | None = None
    fetch_error: str | None = None
    commits_served: int = 0
    commits_refused: int = 0
    fetches: int = 0
    fetch_failures: int = 0
    last_fetch: float | None = None
    last_verify_seconds: float | None = None
    started: float = field(default_factory=time.time)
    statuses: Counter[int] = field(default_factory=Counter)


class Follower:
    """Keeps ``served`` the newest verified commit of ``tracking``'s ref."""

    def __init__(
        self,
        tracking: tracked.Tracking,
        *,
        hub: EventHub,
        log: JsonLines,
        fetch_every: float | None,
        verified: VerifiedFolders | None = None,
        poll_every: float = POLL_SECONDS,
        check_seconds: float = CHECK_SECONDS,
    ) -> None:
        self.tracking = tracking
        self.verified = verified if verified is not None else VerifiedFolders(None)
        self._remembered = 0.0
        self._collected = 0.0
        self.hub = hub
        self.log = log
        self.fetch_every = fetch_every
        self.poll_every = poll_every
        self.check_seconds = check_seconds
        self.health = Health()
        self.served: Served | None = None
        self.workers = Workers(available_cpus(), name="check")
        self._refs = pygit2.Repository(tracking.repository)
        # Answers read on demand come from their own repository object, one reader at a time
        # (a libgit2 repository must not be used by two threads at once).
        self._reads = GitStore.open(tracking.repository)
        self._reads_lock = threading.Lock()
        self._wake = asyncio.Event()
        self._fetch_asked = False
        self._refused: str | None = None
        self._catch_ups: OrderedDict[tuple[str, str], bytes | None] = OrderedDict()

    def fetch_now(self) -> None:
        """Fetch at once (a verified push webhook), or read the ref at once when nothing is
        fetched."""
        self._fetch_asked = True
        self._wake.set()

    async def run(self) -> None:
        """Follow until cancelled. A failure of the follower itself (not of a commit: those are
        refused) is logged and retried after a pause, so serving never stops on it."""
        while True:
            try:
                await self._follow()
            except Exception as exc:
                self.log.write("error", where="follow", error=f"{type(exc).__name__}: {exc}")
                await asyncio.sleep(_RETRY_SECONDS[0])

    async def _follow(self) -> None:
        next_fetch = 0.0
        failures = 0
        while True:
            if self.tracking.fetches and (self._fetch_asked or time.monotonic() >= next_fetch):
                self._fetch_asked = False
                began = time.monotonic()
                ok = await self._fetch()
                failures = 0 if ok else failures + 1
                if ok:
                    # Counted from the fetch's start: a push waits at most the interval.
                    next_fetch = began + (self.fetch_every or 0.0)
                else:
                    every = self.fetch_every or 30.0
                    retry = _RETRY_SECONDS[min(failures, len(_RETRY_SECONDS)) - 1]
                    next_fetch = time.monotonic() + min(every, retry)
            tip = self._tip()
            if (
                tip is not None
                and tip != self._refused
                and (self.served is None or tip != self.served.commit)
            ):
                await self._consider(tip)
                continue
            wait = self.poll_every
            if self.tracking.fetches:
                wait = min(wait, max(next_fetch - time.monotonic(), 0.0))
            self._wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    def close(self) -> None:
        self.workers.close()
        if self.served is not None:
            self.verified.save(self.served.prompts)

    def _tip(self) -> str | None:
        try:
            return str(self._refs.lookup_reference(self.tracking.ref).resolve().target)
        except (KeyError, pygit2.GitError, ValueError):
            return None

    async def _fetch(self) -> bool:
        self.health.fetches += 1
        try:
            await asyncio.to_thread(tracked.fetch, self.tracking)
        except PromptshipError as exc:
            self.health.fetch_failures += 1
            self.health.fetch_error = exc.message
            self.log.write("fetch-failed", remote=self.tracking.remote, error=exc.message)
            return False
        self.health.fetch_error = None
        self.health.last_fetch = time.time()
        return True

    async def _consider(self, tip: str) -> None:
        began = time.monotonic()
        served = self.served
        try:
            if served is None:
                verdict = await self._verify_whole(tip)
            else:
                repository = self.tracking.repository
                verdict = await self.workers.run(
                    self.check_seconds, verify_change, repository, served.commit, tip
                )
        except (TaskTimeout, WorkerFailed) as exc:
            verdict = Verdict(commit=tip, problems=(exc.message,))
        self.health.last_verify_seconds = time.monotonic() - began
        if not verdict.ok:
            self._refuse(verdict)
            return
        if served is None:
            new = await asyncio.to_thread(self._build, tip, verdict.prompts)
        else:
            new = await asyncio.to_thread(
                lambda: served.advance(tip, verdict.prompts, self._lazy(tip))
            )
        self.served = new
        self._refused = None
        self.health.degraded = None
        self.health.commits_served += 1
        if served is not None:
            changes = served.production_changes(new, verdict.prompts)
            self.hub.publish(commit_frame(tip, served.commit, changes))
            await asyncio.to_thread(new.warm)
        self._settle()
        if time.monotonic() - self._remembered > REMEMBER_SECONDS:
            self._remembered = time.monotonic()
            await asyncio.to_thread(self.verified.save, new.prompts)
        self.log.write(
            "served",
            commit=tip,
            previous=served.commit if served else None,
            prompts=len(new.prompts),
            changed=len(verdict.prompts),
            seconds=round(time.monotonic() - began, 3),
        )

    def _refuse(self, verdict: Verdict) -> None:
        self._refused = verdict.commit
        self.health.degraded = Degraded(tip=verdict.commit, reason=verdict.reason())
        self.health.commits_refused += 1
        self.log.write(
            "refused",
            commit=verdict.commit,
            served=self.served.commit if self.served else None,
            reason=verdict.reason(),
        )

    async def _verify_whole(self, tip: str) -> Verdict:
        """The full tree check of a first commit, spread over the workers by prompt folders;
        folders verified before (by their tree id) are not checked again."""
        repository = self.tracking.repository
        layout = await self.workers.run(self.check_seconds, verify_layout, repository, tip)
        if not layout.ok:
            return layout
        prompts: dict[str, PreparedPrompt | None] = {}
        unknown = []
        for name in layout.names:
            known = self.verified.get(layout.folders.get(name, ""))
            if known is not None and known.name == name:
                prompts[name] = known
            else:
                unknown.append(name)
        chunks = _split(unknown, self.workers.processes * CHUNKS_PER_PROCESS)
        parts = await self.workers.map(
            self.check_seconds, verify_prompts, [(repository, tip, c) for c in chunks]
        )
        problems = tuple(p for part in parts for p in part.problems)
        for part in parts:
            prompts.update(part.prompts)
        self.log.write(
            "checked", commit=tip, folders=len(unknown), remembered=len(layout.names) - len(unknown)
        )
        return Verdict(commit=tip, problems=problems, prompts=prompts)

    def _build(self, commit: str, prompts: dict[str, PreparedPrompt | None]) -> Served:
        present = {n: p for n, p in prompts.items() if p is not None}
        served = Served(commit, present, self._lazy(commit))
        served.warm()
        return served

    def _settle(self) -> None:
        """Keep the served answers out of the garbage collector's way. They are tens of
        thousands of long-lived objects, and a full collection walks them all (about 25 ms at
        10,000 prompts) at a moment no request chooses: frozen, the collector skips them. A
        full collection runs here instead, right after a new commit, at most once a minute."""
        if time.monotonic() - self._collected > COLLECT_SECONDS:
            gc.unfreeze()
            gc.collect()
            self._collected = time.monotonic()
        else:
            gc.collect(1)  # young garbage is not frozen with the answers (cheap: young only)
        gc.freeze()

    def _lazy(self, commit: str) -> Lazy:
        """The answers of ``commit`` read on first request: a version by number or label, a
        refusal for a prompt without production, a history."""
        with self._reads_lock:
            snapshot = self._reads.snapshot_at(commit)
        reader = SnapshotReader(snapshot)

        def compute(key: tuple[str, ...]) -> Answer:
            kind, name, *rest = key
            with self._reads_lock:
                try:
                    if kind == "history":
                        user, since, until = rest
                        records = query_history(
                            snapshot,
                            name,
                            user=user or None,
                            since=parse_time_bound(since, end_of_day=False) if since else None,
                            until=parse_time_bound(until, end_of_day=True) if until else None,
                        )
                        return Answer.of(_json_list(r.to_json() for r in records))
                    label, version = rest
                    found = reader.get(name, label=label or None, version=version or None)
                    return version_answer(found)
                except PromptshipError as exc:
                    return Answer.refusal(exc)

        return Lazy(compute)

    def catch_up(self, last: str) -> bytes | None:
        """The event that brings a client holding commit ``last`` to the served commit (``None``
        when it needs none); ``UnknownCommit`` when ``last`` is not of this history. Runs git:
        call it off the event loop."""
        served = self.served
        assert served is not None
        key = (served.commit, last)
        with self._reads_lock:
            if key in self._catch_ups:
                return self._catch_ups[key]
            how = relation(self._reads.repo, served.commit, last)
            names = (
                changed_pointers(self._reads.repo, last, served.commit) if how == "ancestor" else []
            )
        if how in ("unknown", "unrelated"):
            raise UnknownCommit(
                f"Last-Event-ID {last[:40]!r} is not a commit of the history this server follows"
                + (" (it may not have fetched it yet)" if how == "unknown" else ""),
                hint="reconnect without Last-Event-ID and read the prompts again (GET "
                "/v1/export); a replica that is behind knows the commit after its next fetch",
            )
        frame = None
        if how == "ancestor":
            changes: list[PreparedPrompt | str] = []
            for name in names:
                prepared = served.prompts.get(name)
                changes.append(prepared if prepared and prepared.production else name)
            frame = commit_frame(served.commit, last, changes)
        with self._reads_lock:
            self._catch_ups[key] = frame
            while len(self._catch_ups) > 256:
                self._catch_ups.popitem(last=False)
        return frame


def _split(names: Sequence[str], parts: int) -> list[list[str]]:
    if not names:
        return []
    size = -(-len(names) // max(parts, 1))
    return [list(names[i : i + size]) for i in range(0, len(names), size)]


def _json_list(items: Iterable[object]) -> bytes:
    return orjson.dumps(list(items), option=orjson.OPT_APPEND_NEWLINE)
