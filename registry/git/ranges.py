"""What a change holds, read from git: the commits between a base and a head, and the files
under ``prompts/`` they touch, for the check against a base (``review.py`` judges them).

Each commit is compared with its first parent (a root commit with an empty tree) by libgit2's
tree diff, which never descends into a folder whose id did not change, so the cost follows the
change and not the size of the registry. What a change may cost is bounded (``Limits``): an
attacker who pushes ten thousand commits, or a commit with a million files, gets a clear error in
seconds rather than a check that runs for hours.
"""

from __future__ import annotations

import pygit2
from pygit2.enums import FileMode, SortMode

from ..check.attributes import ATTRIBUTES_FILE, check_attributes
from ..check.limits import DEFAULT_LIMITS, Limits
from ..check.outcome import CheckOutcome
from ..check.review import CommitStep, Parsed, TreeChange, review_change
from ..check.tree import check_root
from ..errors import BrokenObject, CannotCheck, RevisionError, sort_problems
from ..goldens import promotion_problems
from ..names import PROMPTS_DIR
from ..snapshot import Entry
from . import refs
from .store import KINDS, TREE_TYPE, BlobCache, GitSnapshot, GitStore, common_dir

__all__ = ["check_change", "resolve_commit"]

_FETCH_HINT = (
    "fetch the full history: 'git fetch --unshallow origin' (in GitHub Actions, "
    "actions/checkout with 'fetch-depth: 0')"
)


def check_change(
    store: GitStore, base: str, head: str | None = None, *, limits: Limits | None = None
) -> CheckOutcome:
    """The tree rules on every prompt the change from ``base`` to ``head`` (default: HEAD)
    touches, and the rules against the base. The base compared with is the merge base of the
    two, so a head that is behind its base is judged on its own changes."""
    try:
        return _check_change(store.repo, base, head or "HEAD", limits or DEFAULT_LIMITS)
    except pygit2.GitError as exc:  # an object the walk or a diff needed is missing or corrupt
        raise BrokenObject("a commit or tree between the base and the head", str(exc)) from None


def _check_change(repo: pygit2.Repository, base: str, head: str, limits: Limits) -> CheckOutcome:
    head_commit = resolve_commit(repo, head, "head")
    base_commit = resolve_commit(repo, base, "base")
    try:
        fork = repo.merge_base(base_commit.id, head_commit.id)
    except pygit2.GitError as exc:  # a commit the walk needs is missing: history cut short
        if not (_shallow_commits(repo) or repo.is_shallow):
            raise BrokenObject("a commit between the base and the head", str(exc)) from None
        fork = None
    if fork is None:
        if _shallow_commits(repo) or repo.is_shallow:
            raise CannotCheck(
                f"this shallow clone does not hold the history between {base} and {head}",
                hint=_FETCH_HINT,
            )
        raise CannotCheck(
            f"{base} and {head} share no history",
            hint="compare with the branch the change is meant for (e.g. --base origin/main)",
        )
    fork_commit = repo[fork].peel(pygit2.Commit)
    budget = _Budget(limits)
    _count_commits(repo, head_commit, base_commit, limits)
    steps = commit_steps(repo, head_commit, base_commit, budget)
    change = changed_prompts(repo, fork_commit.tree, head_commit.tree, budget)
    head_snapshot = GitSnapshot(repo, head_commit, budget)
    base_snapshot = GitSnapshot(repo, fork_commit, budget)
    review = review_change(base_snapshot, head_snapshot, change, steps, Parsed())
    root = check_root(head_snapshot)
    tests = promotion_problems(head_snapshot, review.promotions)
    attributes = (
        check_attributes(head_snapshot)
        if head_snapshot.object_id(ATTRIBUTES_FILE) != base_snapshot.object_id(ATTRIBUTES_FILE)
        else []
    )
    return CheckOutcome(
        problems=sort_problems([*([root] if root else []), *attributes, *review.problems, *tests]),
        prompts=len(review.prompts),
        promotions=review.promotions,
        retired=review.retired,
        base=str(fork),
        head=str(head_commit.id),
        commits=len(steps),
        touched=tuple(sorted([*(e.name for e in change.changed), *change.removed])),
    )


def resolve_commit(repo: pygit2.Repository, rev: str, what: str) -> pygit2.Commit:
    """The commit a revision of the check names (``refs.py``'s rules), or ``CannotCheck``."""
    try:
        return refs.resolve_commit(repo, rev)
    except RevisionError as exc:
        if rev == "HEAD" and repo.head_is_unborn:
            raise CannotCheck(
                "this repository has no commits yet: there is no change to check",
                hint="commit first, or run 'promptship check' without --base for the work tree",
            ) from None
        hint = f"this is a shallow clone; {_FETCH_HINT}" if repo.is_shallow else exc.hint
        raise CannotCheck(f"the {what} {rev!r} cannot be read: {exc.reason}", hint=hint) from None


def _count_commits(
    repo: pygit2.Repository, head: pygit2.Commit, base: pygit2.Commit, limits: Limits
) -> None:
    """Refuse a change of more commits than the limit, counting no further than it: a
    topological walk would first read every commit there is."""
    walker = repo.walk(head.id, SortMode.NONE)
    walker.hide(base.id)
    for count, _ in enumerate(walker, start=1):
        if count > limits.commits:
            raise CannotCheck(
                f"the change holds more than {limits.commits:,} commits between the base and "
                "the head, the most one check reads",
                hint="squash the change into fewer commits, or raise the limit with "
                "--max-commits N",
            )


def commit_steps(
    repo: pygit2.Repository, head: pygit2.Commit, base: pygit2.Commit, budget: _Budget
) -> list[CommitStep]:
    """The commits reachable from ``head`` but not from ``base``, oldest first, each with the
    files under ``prompts/`` it changes against its first parent."""
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
        parent = repo[commit.parent_ids[0]].peel(pygit2.Commit) if commit.parent_ids else None
        tree = GitSnapshot(repo, commit, budget)
        before = GitSnapshot(repo, parent, budget)
        steps.append(
            CommitStep(
                commit=str(commit.id),
                message=commit.message,
                parent=before,
                tree=tree,
                paths=budget.changed_paths(before.tree, tree.tree),
            )
        )
    return steps


def changed_prompts(
    repo: pygit2.Repository, base: pygit2.Tree | None, head: pygit2.Tree, budget: _Budget
) -> TreeChange:
    """The entries of the head's ``prompts/`` that differ from the base's, and those gone."""
    names = sorted({path.split("/")[1] for path in budget.changed_paths(base, head)})
    entries = _prompts_tree(head)
    changed = []
    removed = []
    for name in names:
        if entries is not None and name in entries:
            changed.append(Entry(name, KINDS.get(entries[name].filemode, "other")))
        else:
            removed.append(name)
    return TreeChange(changed=tuple(changed), removed=tuple(removed))


def _changed_paths(
    base: pygit2.Tree | None, head: pygit2.Tree | None, listings: _Listings
) -> tuple[str, ...]:
    """The paths of files under ``prompts/`` that differ (content or mode), appear or go: the
    prompt folders that differ are found from ``prompts/``'s entries (read once per tree), and
    only those folders are diffed."""
    old, new = _prompts_tree(base), _prompts_tree(head)
    if old is not None and new is not None and old.id == new.id:
        return ()
    before, after = listings.of(old), listings.of(new)
    paths: list[str] = []
    for name in sorted(before.keys() | after.keys()):
        if before.get(name) == after.get(name):
            continue
        folders = [_folder(tree, entries, name) for tree, entries in ((old, before), (new, after))]
        if any(
            name in entries and entries[name][1] != FileMode.TREE for entries in (before, after)
        ):
            paths.append(f"{PROMPTS_DIR}/{name}")  # a file, link or submodule where a folder may be
        present = [folder for folder in folders if folder is not None]
        if len(present) == 2:
            diff = present[0].diff_to_tree(present[1])
        elif present:
            diff = present[0].diff_to_tree()
        else:
            continue
        paths.extend(
            f"{PROMPTS_DIR}/{name}/{delta.new_file.path or delta.old_file.path}"
            for delta in diff.deltas
        )
    return tuple(paths)


def _folder(
    tree: pygit2.Tree | None, entries: dict[str, tuple[pygit2.Oid, int]], name: str
) -> pygit2.Tree | None:
    """The prompt folder ``name`` of ``tree``, if its entry says folder (its object's type is
    checked when it is read)."""
    if tree is None or name not in entries or entries[name][1] != FileMode.TREE:
        return None
    found = tree[name]
    return found if isinstance(found, pygit2.Tree) else None


class _Listings:
    """The entries of ``prompts/`` by tree id, each read once per check: a registry's holds
    thousands of prompts, and consecutive commits share their trees."""

    _KEEP = 8

    def __init__(self) -> None:
        self._seen: dict[pygit2.Oid, dict[str, tuple[pygit2.Oid, int]]] = {}

    def of(self, tree: pygit2.Tree | None) -> dict[str, tuple[pygit2.Oid, int]]:
        if tree is None:
            return {}
        if tree.id not in self._seen:
            if len(self._seen) >= self._KEEP:
                del self._seen[next(iter(self._seen))]
            # A tree entry's mode is always the folder mode (libgit2 normalises it), so only
            # other entries pay for ``filemode``, which builds an enum member per call.
            self._seen[tree.id] = {
                e.name or "": (e.id, FileMode.TREE if e.type == TREE_TYPE else e.filemode)
                for e in tree
            }
        return self._seen[tree.id]


class _Budget(BlobCache):
    """The blob cache of one check, counting what the check reads against its limits: the
    files changed (by commit) and the bytes of distinct file contents inflated."""

    def __init__(self, limits: Limits) -> None:
        super().__init__()
        self._limits = limits
        self._files = 0
        self._bytes = 0
        self._diffs: dict[tuple[pygit2.Oid | None, pygit2.Oid | None], tuple[str, ...]] = {}
        self._listings = _Listings()

    def changed_paths(self, base: pygit2.Tree | None, head: pygit2.Tree | None) -> tuple[str, ...]:
        """``_changed_paths``, each pair of trees diffed (and counted) once: in a change of one
        commit, the commit's diff and the change's are the same."""
        key = (base.id if base is not None else None, head.id if head is not None else None)
        if key not in self._diffs:
            self._diffs[key] = self._count(_changed_paths(base, head, self._listings))
        return self._diffs[key]

    def _count(self, paths: tuple[str, ...]) -> tuple[str, ...]:
        self._files += len(paths)
        if self._files > self._limits.files:
            raise CannotCheck(
                f"the change touches more than {self._limits.files:,} files under "
                f"{PROMPTS_DIR}/ (counted over its commits), the most one check reads",
                hint="split the change into smaller pull requests, or raise the limit with "
                "--max-files N",
            )
        return paths

    def keep(self, oid: pygit2.Oid, data: bytes) -> None:
        self._bytes += len(data)
        if self._bytes > self._limits.bytes:
            raise CannotCheck(
                f"the change holds more than {self._limits.bytes:,} bytes of files to read, the "
                "most one check reads",
                hint="split the change into smaller pull requests, or raise the limit with "
                "--max-bytes N",
            )
        super().keep(oid, data)


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
