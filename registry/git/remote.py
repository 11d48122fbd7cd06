"""Publishing a change through a remote: a push is a compare-and-swap on the remote's branch.

The commit is built on the local tip and pushed with the git program; the local branch, index and
files move only once the remote has accepted it. A push refused because the remote moved on is a
race lost: fetch, rebuild the operation from scratch on the remote's tip under ``GitStore``'s rules
(the same prompt's production pointer moved: ``Superseded``; a file this operation writes changed:
``ConcurrentChange``; anything else is built upon) and push again, a bounded number of times with
jittered backoff. Never a forced push.

After success the local branch is the pushed commit (a fast-forward, over other people's commits
when it was rebuilt), and the index and files of every path that changed follow it. After any
failure the local branch, index and files are as they were; only the remote-tracking branch may
have advanced, as a ``git fetch`` advances it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import pygit2

from ..errors import BranchDiverged, PushRejected, RepositoryError
from ..identity import Identity
from . import program as gitcli
from .store import (
    CommitResult,
    Decision,
    GitSnapshot,
    GitStore,
    Operation,
    config_value,
    jitter,
    utc_now,
)
from .worktree import locked, refuse_dirty

__all__ = [
    "MAX_PUSH_ATTEMPTS",
    "PushTarget",
    "changed_paths",
    "fetch_tip",
    "push_target",
    "require_remote",
    "write_and_push",
]

MAX_PUSH_ATTEMPTS = 25
_RETRY_PAUSE = 0.01


@dataclass(frozen=True, kw_only=True, slots=True)
class PushTarget:
    """Where a branch is pushed: a remote, the branch there, and the local remote-tracking branch
    that mirrors it (``None`` when the remote's fetch refspecs map none)."""

    remote: str
    ref: str
    tracking: str | None

    def __str__(self) -> str:
        return f"{self.remote}/{self.ref.removeprefix('refs/heads/')}"


def push_target(store: GitStore, remote: str | None = None) -> PushTarget:
    """The branch's upstream (``branch.<name>.remote`` and ``.merge``, as ``git push`` reads
    them), or the branch of the same name on ``remote``."""
    repo = store.repo
    short = store.branch.removeprefix("refs/heads/")
    upstream = config_value(repo, f"branch.{short}.remote")
    merge = config_value(repo, f"branch.{short}.merge")
    if remote is None:
        if upstream is None or upstream == ".":
            raise RepositoryError(
                f"branch {short!r} has no upstream on a remote to push to",
                hint=f"pass --remote NAME ('git remote -v' lists them), or set one: "
                f"git branch --set-upstream-to origin/{short} {short}",
            )
        remote = upstream
    require_remote(repo, remote)
    ref = (
        merge if upstream == remote and merge and merge.startswith("refs/heads/") else store.branch
    )
    tracking = _tracking_ref(repo.remotes[remote], ref)
    return PushTarget(
        remote=remote, ref=ref, tracking=tracking if tracking != store.branch else None
    )


def write_and_push(
    store: GitStore,
    operation: Operation,
    *,
    identity: Identity,
    base: GitSnapshot | None = None,
    remote: str | None = None,
    clock: Callable[[], str] = utc_now,
    max_attempts: int = MAX_PUSH_ATTEMPTS,
) -> CommitResult:
    """Commit ``operation`` and push it to the branch's upstream (or to ``remote``), rebuilding it
    on the remote's tip after each refusal; see the module's description for the outcome."""
    target = push_target(store, remote)
    with store.writing():
        ref, local = store.tip()
        decision = Decision(
            operation,
            base if base is not None else GitSnapshot(store.repo, local, store.blobs),
            clock,
        )
        parent = local
        for attempt in range(1, max_attempts + 1):
            changes, new = store.build(decision, parent, identity)
            paths = set(changes.writes) | changed_paths(store.repo, local, new)
            if store.checked_out:
                refuse_dirty(store.repo, local.tree if local is not None else None, paths)
            update = gitcli.push(store.repo.path, target.remote, str(new), target.ref)
            if update.accepted:
                moved = store.advance(ref, local, new, paths, changes.subject) or _catch_up(
                    store, new, changes.subject
                )
                return CommitResult(
                    commit=str(new),
                    parent=str(parent.id) if parent is not None else None,
                    changes=changes,
                    attempts=attempt,
                    pushed_to=str(target),
                    branch_updated=moved,
                )
            # Pause before fetching, not after: the time between fetch and push is the window
            # in which the next writer can win again.
            time.sleep(jitter(attempt, _RETRY_PAUSE, cap=4))
            tip = fetch_tip(store, target, holding_lock=store.checked_out)
            if tip is None or _contains(store.repo, parent, tip):
                if update.behind:
                    continue
                raise PushRejected(target.remote, target.ref, update.reason, update.messages)
            if not _contains(store.repo, tip, local):
                raise BranchDiverged(store.branch.removeprefix("refs/heads/"), str(target))
            parent = tip
    raise RepositoryError(
        f"{target} kept moving: gave up after {max_attempts} attempts",
        hint="many people are pushing to this branch; nothing was changed here, "
        "run the command again",
    )


def fetch_tip(
    store: GitStore, target: PushTarget, *, holding_lock: bool = False
) -> pygit2.Commit | None:
    """Fetch the target branch and return its tip (``None`` if the remote has no such branch).

    Runs under the repository's promptship lock (unless the caller holds it), so fetches by
    several processes never fight over the same ref or over ``FETCH_HEAD``."""
    gitdir = store.repo.path
    guard: AbstractContextManager[None] = nullcontext() if holding_lock else locked(store.repo)
    with guard:
        try:
            gitcli.fetch(gitdir, target.remote, target.ref, target.tracking)
        except RepositoryError:
            if not gitcli.remote_has_ref(gitdir, target.remote, target.ref):
                return None
            raise
        found = gitcli.rev_parse(gitdir, target.tracking or "FETCH_HEAD")
    if found is None:
        raise RepositoryError(
            f"fetched {target} but cannot read what came back",
            hint=f"try 'git fetch {target.remote}' to see what git says",
        )
    commit = store.repo.get(found)
    if not isinstance(commit, pygit2.Commit):
        raise RepositoryError(
            f"{target} does not point to a commit",
            hint="check the branch on the remote (git ls-remote)",
        )
    return commit


def changed_paths(repo: pygit2.Repository, old: pygit2.Commit | None, new: pygit2.Oid) -> set[str]:
    """The files that differ between ``old`` and the commit ``new``."""
    tree = repo[new].peel(pygit2.Tree)
    diff = old.tree.diff_to_tree(tree) if old is not None else tree.diff_to_tree()
    return {p for d in diff.deltas for p in (d.old_file.path, d.new_file.path) if p}


def _catch_up(store: GitStore, new: pygit2.Oid, subject: str) -> bool:
    """After a push, move a branch no work tree follows to ``new`` if it moved meanwhile only
    to commits ``new`` already holds (another process in this repository pushed before us)."""
    if store.checked_out:
        return False
    pushed = store.repo[new].peel(pygit2.Commit)
    for _ in range(MAX_PUSH_ATTEMPTS):
        ref, tip = store.tip()
        if not _contains(store.repo, pushed, tip):
            return False
        if store.advance(ref, tip, new, (), subject):
            return True
    return False


def _contains(
    repo: pygit2.Repository, tip: pygit2.Commit | None, commit: pygit2.Commit | None
) -> bool:
    """Whether ``commit`` is ``tip`` or in its history (an unborn branch is in every history)."""
    if commit is None:
        return True
    if tip is None:
        return False
    return tip.id == commit.id or bool(repo.descendant_of(tip.id, commit.id))


def _tracking_ref(remote: pygit2.Remote, ref: str) -> str | None:
    fetching = set(remote.fetch_refspecs)
    for index in range(remote.refspec_count):
        spec = remote.get_refspec(index)
        if spec.string in fetching and spec.src_matches(ref):
            return str(spec.transform(ref))
    return None


def require_remote(repo: pygit2.Repository, name: str) -> None:
    """Refuse a remote the repository does not have, naming those it has."""
    names = [str(n) for n in repo.remotes.names()]
    if name not in names:
        raise RepositoryError(
            f"no remote named {name!r} in this repository",
            hint=("its remotes: " + ", ".join(names))
            if names
            else "add one with 'git remote add origin URL'",
        )
