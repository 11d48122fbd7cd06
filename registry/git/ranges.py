"""What a change holds, read from git: the commits between a base and a head, and the prompt
folders they touch, for the check against a base (``review.py`` judges them).

Trees are compared by object id through libgit2's tree diff, which never descends into a folder
whose id did not change, so the cost follows the change and not the size of the registry.
"""

from __future__ import annotations

import pygit2
from pygit2.enums import SortMode

from ..check.outcome import CheckOutcome
from ..check.review import CommitStep, TreeChange, review_change
from ..check.tree import check_root
from ..errors import CannotCheck, sort_problems
from ..goldens import promotion_problems
from ..names import PROMPTS_DIR
from ..snapshot import Entry
from .store import KINDS, BlobCache, GitSnapshot, GitStore, common_dir

__all__ = ["check_change", "resolve_commit"]

_FETCH_HINT = (
    "fetch the full history: 'git fetch --unshallow origin' (in GitHub Actions, "
    "actions/checkout with 'fetch-depth: 0')"
)


def check_change(store: GitStore, base: str, head: str | None = None) -> CheckOutcome:
    """The tree rules on every prompt the change from ``base`` to ``head`` (default: HEAD)
    touches, and the rules against the base. The base compared with is the merge base of the
    two, so a head that is behind its base is judged on its own changes."""
    repo = store.repo
    head_commit = resolve_commit(repo, head or "HEAD", "head")
    base_commit = resolve_commit(repo, base, "base")
    try:
        fork = repo.merge_base(base_commit.id, head_commit.id)
    except pygit2.GitError:  # a commit the walk needs is missing: history cut short
        fork = None
    if fork is None:
        if _shallow_commits(repo) or repo.is_shallow:
            raise CannotCheck(
                f"this shallow clone does not hold the history between {base} and {head or 'HEAD'}",
                hint=_FETCH_HINT,
            )
        raise CannotCheck(
            f"{base} and {head or 'HEAD'} share no history",
            hint="compare with the branch the change is meant for (e.g. --base origin/main)",
        )
    fork_commit = repo[fork].peel(pygit2.Commit)
    listings = _Listings()
    steps = commit_steps(repo, head_commit, fork_commit, listings)
    change = changed_prompts(fork_commit.tree, head_commit.tree, listings)
    head_snapshot = GitSnapshot(repo, head_commit, listings.blobs)
    base_snapshot = GitSnapshot(repo, fork_commit, listings.blobs)
    review = review_change(base_snapshot, head_snapshot, change, steps)
    root = check_root(head_snapshot)
    tests = promotion_problems(head_snapshot, review.promotions)
    return CheckOutcome(
        problems=sort_problems([*([root] if root else []), *review.problems, *tests]),
        prompts=len(review.prompts),
        promotions=review.promotions,
        retired=review.retired,
        base=str(fork),
        head=str(head_commit.id),
        commits=len(steps),
    )


def resolve_commit(repo: pygit2.Repository, rev: str, what: str) -> pygit2.Commit:
    try:
        return repo.revparse_single(rev).peel(pygit2.Commit)
    except (KeyError, ValueError, pygit2.GitError, pygit2.InvalidSpecError):
        if rev == "HEAD" and repo.head_is_unborn:
            raise CannotCheck(
                "this repository has no commits yet: there is no change to check",
                hint="commit first, or run 'promptship check' without --base for the work tree",
            ) from None
        hint = (
            f"this is a shallow clone; {_FETCH_HINT}"
            if repo.is_shallow
            else f"fetch it first (git fetch origin {rev}), or name a branch, tag or commit "
            "that is in this repository"
        )
        raise CannotCheck(
            f"the {what} {rev!r} is not a commit in this repository", hint=hint
        ) from None


def commit_steps(
    repo: pygit2.Repository,
    head: pygit2.Commit,
    base: pygit2.Commit,
    listings: _Listings,
) -> list[CommitStep]:
    """The commits reachable from ``head`` but not from ``base``, oldest first, each with the
    prompt folders it changes."""
    shallow = _shallow_commits(repo)
    walker = repo.walk(head.id, SortMode.TOPOLOGICAL | SortMode.REVERSE)
    walker.hide(base.id)
    steps = []
    for commit in walker:
        if str(commit.id) in shallow:
            raise CannotCheck(
                f"this shallow clone stops at commit {str(commit.id)[:10]}, before the base",
                hint=_FETCH_HINT,
            )
        parents = commit.parents
        changed: set[str] | None = None
        trees: list[pygit2.Tree | None] = [p.tree for p in parents] or [None]
        for tree in trees:
            names = listings.changed(tree, commit.tree)
            changed = names if changed is None else changed & names
        steps.append(
            CommitStep(
                commit=str(commit.id),
                message=commit.message,
                parents=tuple(GitSnapshot(repo, p, listings.blobs) for p in parents)
                or (GitSnapshot(repo, None),),
                tree=GitSnapshot(repo, commit, listings.blobs),
                prompts=tuple(sorted(changed or ())),
            )
        )
    return steps


def changed_prompts(base: pygit2.Tree | None, head: pygit2.Tree, listings: _Listings) -> TreeChange:
    """The entries of the head's ``prompts/`` that differ from the base's, and those gone."""
    entries = listings.of(head)[1]
    changed = []
    removed = []
    for name in sorted(listings.changed(base, head)):
        if name in entries:
            changed.append(Entry(name, KINDS.get(entries[name][1], "other")))
        else:
            removed.append(name)
    return TreeChange(changed=tuple(changed), removed=tuple(removed))


class _Listings:
    """The entries of ``prompts/`` folders by tree id, each read once per check: a registry's
    holds thousands of prompts, and consecutive commits share their trees."""

    _KEEP = 8

    def __init__(self) -> None:
        self._seen: dict[pygit2.Oid, dict[str, tuple[pygit2.Oid, int]]] = {}
        self.blobs = BlobCache()

    def of(
        self, tree: pygit2.Tree | None
    ) -> tuple[pygit2.Oid | None, dict[str, tuple[pygit2.Oid, int]]]:
        prompts = _prompts_tree(tree)
        if prompts is None:
            return None, {}
        if prompts.id not in self._seen:
            if len(self._seen) >= self._KEEP:
                del self._seen[next(iter(self._seen))]
            self._seen[prompts.id] = {
                entry.name or "": (entry.id, entry.filemode) for entry in prompts
            }
        return prompts.id, self._seen[prompts.id]

    def changed(self, base: pygit2.Tree | None, head: pygit2.Tree) -> set[str]:
        """Names in ``prompts/`` whose entry differs (id or mode), appears or disappears."""
        base_id, old = self.of(base)
        head_id, new = self.of(head)
        if base_id == head_id:
            return set()
        return {name for name in old.keys() | new.keys() if old.get(name) != new.get(name)}


def _prompts_tree(tree: pygit2.Tree | None) -> pygit2.Tree | None:
    if tree is None or PROMPTS_DIR not in tree:
        return None
    found = tree[PROMPTS_DIR]
    return found if isinstance(found, pygit2.Tree) else None


def _shallow_commits(repo: pygit2.Repository) -> set[str]:
    # A linked work tree of a shallow clone has its ``shallow`` file in the common folder.
    try:
        return set((common_dir(repo) / "shallow").read_text().split())
    except OSError:
        return set()
