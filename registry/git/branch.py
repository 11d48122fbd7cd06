"""New branches for pull requests: where one starts (by default the remote's main branch) and
what it may be called. The commit on it is one of ``publish.py``'s ways of publishing a change."""

from __future__ import annotations

from dataclasses import dataclass

import pygit2

from ..errors import BranchExists, RepositoryError
from .remote import PushTarget, fetch_tip, require_remote
from .store import GitSnapshot, GitStore, config_value

__all__ = ["BranchStart", "new_branch_ref", "resolve_start"]

_DEFAULT_BRANCHES = ("main", "master")


@dataclass(frozen=True, kw_only=True, slots=True)
class BranchStart:
    """Where a new branch starts: the revision as named, its commit, the remote the branch is
    meant for, and the branch its pull request targets (``None`` when a bare commit was named)."""

    rev: str
    snapshot: GitSnapshot
    remote: str | None
    target: str | None


def resolve_start(
    store: GitStore, start: str | None, *, remote: str | None = None, fetch: bool = False
) -> BranchStart:
    """``start`` as given, else the remote's main branch (``<remote>/HEAD``, else ``main`` or
    ``master``), fetched first when ``fetch``. The remote is ``remote``, else the current
    branch's upstream, else ``origin``, else the only one."""
    repo = store.repo
    name = remote or _default_remote(repo)
    if remote is not None:
        require_remote(repo, remote)
    if start is None:
        if name is None:
            raise RepositoryError(
                "no remote to start the new branch from",
                hint="name where the branch starts (--from REF, e.g. main) or a remote (--remote NAME)",
            )
        start = _remote_main(repo, name)
        target = start.removeprefix(f"refs/remotes/{name}/")
        if fetch:
            fetch_tip(store, PushTarget(remote=name, ref=f"refs/heads/{target}", tracking=start))
        return BranchStart(
            rev=f"{name}/{target}", snapshot=store.snapshot_at(start), remote=name, target=target
        )
    snapshot = store.snapshot_at(start)
    return BranchStart(
        rev=start, snapshot=snapshot, remote=name, target=_branch_name(repo, start, name)
    )


def new_branch_ref(repo: pygit2.Repository, branch: str) -> str:
    ref = branch if branch.startswith("refs/heads/") else f"refs/heads/{branch}"
    if not pygit2.reference_is_valid_name(ref) or ref == "refs/heads/HEAD":
        raise RepositoryError(
            f"{branch!r} is not a valid branch name",
            hint="name it like promote/greeting-v3 (no spaces, '..', '~', '^', ':' or '?')",
        )
    # git keeps refs as paths: 'promote/x' cannot sit beside a branch 'promote', nor the other
    # way round, so such a name is taken too. Found now, before anything is built or pushed.
    taken = next(
        (
            name
            for name in repo.references
            if name == ref or name.startswith(f"{ref}/") or ref.startswith(f"{name}/")
        ),
        None,
    )
    if taken is None:
        return ref
    raise BranchExists(taken.removeprefix("refs/heads/"))


def _remotes(repo: pygit2.Repository) -> list[str]:
    return [str(name) for name in repo.remotes.names()]


def _default_remote(repo: pygit2.Repository) -> str | None:
    names = _remotes(repo)
    try:
        head = repo.lookup_reference("HEAD")
    except (KeyError, pygit2.GitError):
        head = None
    if head is not None and head.type == pygit2.enums.ReferenceType.SYMBOLIC:
        short = str(head.target).removeprefix("refs/heads/")
        upstream = config_value(repo, f"branch.{short}.remote")
        if upstream in names:
            return upstream
    if "origin" in names:
        return "origin"
    return names[0] if len(names) == 1 else None


def _remote_main(repo: pygit2.Repository, remote: str) -> str:
    """The remote-tracking branch of the remote's main branch."""
    try:
        head = repo.lookup_reference(f"refs/remotes/{remote}/HEAD")
        if head.type == pygit2.enums.ReferenceType.SYMBOLIC:
            return str(head.target)
    except KeyError:
        pass
    for name in _DEFAULT_BRANCHES:
        candidate = f"refs/remotes/{remote}/{name}"
        if candidate in repo.references:
            return candidate
    raise RepositoryError(
        f"no main branch of {remote!r} to start the new branch from "
        f"({remote}/HEAD, {remote}/main and {remote}/master are unknown here)",
        hint=f"fetch it first (git fetch {remote}), or name where the branch starts "
        "(--from REF, e.g. main)",
    )


def _branch_name(repo: pygit2.Repository, rev: str, remote: str | None) -> str | None:
    """The branch a revision names (``main`` for ``main``, ``origin/main`` or their full refs)."""
    try:
        ref = repo.lookup_reference_dwim(rev)
    except (KeyError, pygit2.GitError, pygit2.InvalidSpecError):
        return None
    name = str(ref.resolve().name)
    for prefix in ("refs/heads/", f"refs/remotes/{remote}/" if remote else "refs/remotes/"):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return None
