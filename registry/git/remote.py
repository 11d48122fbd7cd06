"""Remotes: where a branch is pushed (its upstream, as ``git push`` reads it), fetching a remote
branch's tip, and how two commits relate. Pushing a change is one of ``publish.py``'s ways of
publishing a commit."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import pygit2

from ..errors import RepositoryError
from .program import fetch, remote_has_ref, rev_parse
from .store import GitStore, config_value
from .worktree import locked

__all__ = [
    "PushTarget",
    "changed_paths",
    "contains",
    "fetch_tip",
    "push_target",
    "require_remote",
]


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
                hint=f"name a remote to push to (--remote NAME; 'git remote -v' lists them), or set "
                f"the branch's upstream: "
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
            fetch(gitdir, target.remote, target.ref, target.tracking)
        except RepositoryError:
            if not remote_has_ref(gitdir, target.remote, target.ref):
                return None
            raise
        found = rev_parse(gitdir, target.tracking or "FETCH_HEAD")
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


def contains(
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
