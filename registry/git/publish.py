"""The one way a change becomes a commit, whatever the change and wherever it goes:

    decide (decision.py) -> build the tree and the commit (commit.py) -> publish it ->
    move the ref (update_ref.py) -> sync the clone (worktree.py)

Only the publishing step varies:

- ``OnBranch``: the branch moves by compare-and-swap; a race lost is rebuilt on the new tip.
- ``Pushed``: the commit is pushed (a compare-and-swap on the remote's branch) and the local
  branch, index and files move only once the remote has accepted it. A push refused because the
  remote moved on is a race lost: fetch, rebuild on the remote's tip, push again. After any
  failure the local branch, index and files are as they were; only the remote-tracking branch
  may have advanced, as a ``git fetch`` advances it. Never a forced push.
- ``OnNewBranch``: the commit, decided and built on a start commit, becomes the only commit of a
  new branch for a pull request (pushed first when asked, so a refused push leaves nothing); the
  checkout, its index and its files are never touched.

A rebuild is refused when the decision no longer holds (``Superseded``, ``ConcurrentChange``).
From the moment the commit is published to the end of the sync, Ctrl-C is deferred: the change
lands whole, and the result says it was interrupted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import pygit2

from ..errors import BranchDiverged, BranchExists, PushRejected, RepositoryError
from ..identity import Identity
from ..snapshot import ChangeSet
from .commit import create_commit, durable
from .decision import Decision, Operation
from .interrupts import deferred_interrupts
from .store import GitSnapshot, GitStore, utc_now
from .update_ref import create_branch, gave_up, jitter
from .worktree import move_and_sync, refuse_dirty, writing

if TYPE_CHECKING:
    # Loaded by the publishing steps that use them: a commit on the branch needs neither.
    from .branch import BranchStart

__all__ = [
    "CommitResult",
    "Landed",
    "OnBranch",
    "OnNewBranch",
    "Publishing",
    "Pushed",
    "write_change",
]

MAX_ATTEMPTS = 32
MAX_PUSH_ATTEMPTS = 25
_RETRY_PAUSE = 0.002
_PUSH_RETRY_PAUSE = 0.01


@dataclass(frozen=True, kw_only=True, slots=True)
class CommitResult:
    commit: str
    parent: str | None
    branch: str
    """The branch the commit is on (``refs/heads/...``)."""
    changes: ChangeSet
    attempts: int
    pushed_to: str | None = None
    """The remote branch the commit was pushed to (``origin/main``), if it was."""
    branch_updated: bool = True
    """False when the push succeeded but the local branch had moved meanwhile and was left."""
    interrupted: bool = False
    """Ctrl-C arrived while the commit was being published: it landed whole all the same."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Landed:
    """How a published commit landed."""

    pushed_to: str | None = None
    branch_updated: bool = True


class Publishing(Protocol):
    """The step that varies: where the commit goes, and what a race lost there means."""

    branch: str
    max_attempts: int

    def guard(self) -> AbstractContextManager[None]:
        """What the whole write runs under (the clone's lock, say)."""
        ...

    def first_parent(self) -> pygit2.Commit | None:
        """The commit the change is first decided and built on."""
        ...

    def land(
        self, parent: pygit2.Commit | None, new: pygit2.Oid, changes: ChangeSet
    ) -> Landed | None:
        """Publish ``new`` (built on ``parent``); ``None`` for a race lost (nothing changed)."""
        ...

    def next_parent(self, attempt: int, parent: pygit2.Commit | None) -> pygit2.Commit | None:
        """After race ``attempt`` was lost on ``parent``: the commit to rebuild on."""
        ...

    def gave_up(self, attempts: int) -> RepositoryError:
        """The error once ``attempts`` races were lost."""
        ...


def write_change(
    store: GitStore,
    operation: Operation,
    *,
    identity: Identity,
    publishing: Publishing | None = None,
    base: GitSnapshot | None = None,
    clock: Callable[[], str] = utc_now,
    on_landed: Callable[[str, str], None] | None = None,
) -> CommitResult:
    """Commit what ``operation`` returns and publish it (default: on ``store``'s branch),
    rebuilding after each race lost. ``base`` is the snapshot a person decided on; by default,
    the state the change is first built on. ``on_landed(commit, subject)`` runs the moment the
    change is published, while interrupts are still held back: a caller that reports the
    change afterwards (the command line) learns there that an interrupt can no longer undo it."""
    publishing = publishing or OnBranch(store)
    durable()
    with publishing.guard():
        decision = Decision(operation, base, clock)
        parent = publishing.first_parent()
        for attempt in range(1, publishing.max_attempts + 1):
            changes, now = decision.rebuild(store.snapshot_of(parent))
            new = create_commit(store.repo, parent, changes, identity, now, store.blobs)
            with deferred_interrupts() as interrupt:
                landed = publishing.land(parent, new, changes)
                if landed is not None and on_landed is not None:
                    on_landed(str(new), changes.subject)
            if landed is not None:
                return CommitResult(
                    commit=str(new),
                    parent=str(parent.id) if parent is not None else None,
                    branch=publishing.branch,
                    changes=changes,
                    attempts=attempt,
                    pushed_to=landed.pushed_to,
                    branch_updated=landed.branch_updated,
                    interrupted=interrupt.pending,
                )
            if interrupt.pending:
                raise KeyboardInterrupt
            parent = publishing.next_parent(attempt, parent)
    raise publishing.gave_up(publishing.max_attempts)


class OnBranch:
    """The commit on ``store``'s branch (in a clone, the index and files follow)."""

    max_attempts = MAX_ATTEMPTS

    def __init__(self, store: GitStore) -> None:
        self.store = store
        self.branch = store.branch
        self._ref: pygit2.Reference | None = None

    def guard(self) -> AbstractContextManager[None]:
        return writing(self.store)

    def first_parent(self) -> pygit2.Commit | None:
        self._ref, tip = self.store.tip()
        return tip

    def land(
        self, parent: pygit2.Commit | None, new: pygit2.Oid, changes: ChangeSet
    ) -> Landed | None:
        if self.store.checked_out:
            refuse_dirty(self.store.repo, parent.tree if parent else None, changes.writes)
        if move_and_sync(self.store, self._ref, parent, new, changes.writes, changes.subject):
            return Landed()
        return None

    def next_parent(self, attempt: int, parent: pygit2.Commit | None) -> pygit2.Commit | None:
        time.sleep(jitter(attempt, _RETRY_PAUSE))
        return self.first_parent()

    def gave_up(self, attempts: int) -> RepositoryError:
        return gave_up(self.store.repo, self.branch, attempts)


class Pushed:
    """The commit pushed to the branch's upstream (or the same branch on ``remote``), then on
    the local branch: a fast-forward, over other people's commits when it was rebuilt, with the
    index and files of every path that changed following it."""

    max_attempts = MAX_PUSH_ATTEMPTS

    def __init__(self, store: GitStore, remote: str | None = None) -> None:
        from .remote import push_target

        self.store = store
        self.branch = store.branch
        self.target = push_target(store, remote)
        self._ref: pygit2.Reference | None = None
        self._local: pygit2.Commit | None = None
        self._behind = False
        self._refusal: PushRejected | None = None

    def guard(self) -> AbstractContextManager[None]:
        return writing(self.store)

    def first_parent(self) -> pygit2.Commit | None:
        self._ref, self._local = self.store.tip()
        return self._local

    def land(
        self, parent: pygit2.Commit | None, new: pygit2.Oid, changes: ChangeSet
    ) -> Landed | None:
        from .program import push
        from .remote import changed_paths

        store, target = self.store, self.target
        paths = set(changes.writes) | changed_paths(store.repo, self._local, new)
        if store.checked_out:
            refuse_dirty(store.repo, self._local.tree if self._local is not None else None, paths)
        update = push(store.repo.path, target.remote, str(new), target.ref)
        if not update.accepted:
            self._behind = update.behind
            self._refusal = PushRejected(target.remote, target.ref, update.reason, update.messages)
            return None
        moved = move_and_sync(
            store, self._ref, self._local, new, paths, changes.subject
        ) or self._catch_up(new, changes.subject)
        return Landed(pushed_to=str(target), branch_updated=moved)

    def next_parent(self, attempt: int, parent: pygit2.Commit | None) -> pygit2.Commit | None:
        # Pause before fetching, not after: the time between fetch and push is the window in
        # which the next writer can win again.
        from .remote import contains, fetch_tip

        time.sleep(jitter(attempt, _PUSH_RETRY_PAUSE, cap=4))
        repo = self.store.repo
        tip = fetch_tip(self.store, self.target, holding_lock=self.store.checked_out)
        if tip is None or contains(repo, parent, tip):
            if self._behind:
                return parent
            assert self._refusal is not None
            raise self._refusal
        if not contains(repo, tip, self._local):
            raise BranchDiverged(self.branch.removeprefix("refs/heads/"), str(self.target))
        return tip

    def gave_up(self, attempts: int) -> RepositoryError:
        return RepositoryError(
            f"{self.target} kept moving: gave up after {attempts} attempts",
            hint="many people are pushing to this branch; nothing was changed here, "
            "run the command again",
        )

    def _catch_up(self, new: pygit2.Oid, subject: str) -> bool:
        """After a push, move a branch no work tree follows to ``new`` if it moved meanwhile
        only to commits ``new`` already holds (another process in this repository pushed
        before us)."""
        from .remote import contains

        if self.store.checked_out:
            return False
        pushed = self.store.repo[new].peel(pygit2.Commit)
        for _ in range(MAX_PUSH_ATTEMPTS):
            ref, tip = self.store.tip()
            if not contains(self.store.repo, pushed, tip):
                return False
            if move_and_sync(self.store, ref, tip, new, (), subject):
                return True
        return False


class OnNewBranch:
    """The commit, built on ``start``, as the only commit of the new branch ``name``; with
    ``push``, pushed to ``start.remote`` first and set as the branch's upstream."""

    max_attempts = 1

    def __init__(self, store: GitStore, name: str, start: BranchStart, *, push: bool) -> None:
        from .branch import new_branch_ref

        self.store = store
        self.branch = new_branch_ref(store.repo, name)
        self.start = start
        self.push = push
        if push and start.remote is None:
            raise RepositoryError(
                "no remote to push the branch to", hint="add one with 'git remote add origin URL'"
            )

    def guard(self) -> AbstractContextManager[None]:
        return nullcontext()

    def first_parent(self) -> pygit2.Commit | None:
        return self.start.snapshot.commit

    def land(self, parent: pygit2.Commit | None, new: pygit2.Oid, changes: ChangeSet) -> Landed:
        from .program import push, remote_has_ref

        repo, ref = self.store.repo, self.branch
        short = ref.removeprefix("refs/heads/")
        remote = self.start.remote
        pushed_to = None
        if self.push and remote is not None:
            if remote_has_ref(repo.path, remote, ref):
                raise BranchExists(short, f"remote {remote!r}")
            update = push(repo.path, remote, str(new), ref)
            if update.behind:
                raise BranchExists(short, f"remote {remote!r}")
            if not update.accepted:
                raise PushRejected(remote, ref, update.reason, update.messages)
            pushed_to = f"{remote}/{short}"
        create_branch(repo, ref, new, changes.subject)
        if pushed_to is not None and remote is not None:
            repo.config[f"branch.{short}.remote"] = remote
            repo.config[f"branch.{short}.merge"] = ref
        return Landed(pushed_to=pushed_to)

    def next_parent(self, attempt: int, parent: pygit2.Commit | None) -> pygit2.Commit | None:
        raise AssertionError("a new branch is created once, never rebuilt")

    def gave_up(self, attempts: int) -> RepositoryError:
        raise AssertionError("a new branch is created once, never rebuilt")
