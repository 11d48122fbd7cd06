"""Verifying a commit before it is served, and preparing its answers: the work of the server's
worker processes.

A first commit gets the full tree check, spread over processes by prompt folders; each later one
is checked against the commit served before it as ``check --base`` checks a pull request, and a
tip that does not descend from it is refused. The prompts a commit changes are prepared in the
same process that checked them, so the main process never parses a file of the registry. Every
function returns plain values and never raises: an exception crossing a process boundary loses
its fields, and a check that fails to run is a reason to refuse, not to crash.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pygit2

from ..check.tree import check_layout, folder_problems, read_prompt
from ..errors import Problem, PromptshipError, sort_problems
from ..git.ranges import check_change
from ..git.store import GitSnapshot, GitStore
from ..names import PROMPTS_DIR, pointer_path, prompt_dir
from ..read.versions import SnapshotReader
from .served import PreparedPrompt, prepare_checked, prepare_prompt

__all__ = [
    "Verdict",
    "changed_folders",
    "changed_pointers",
    "relation",
    "verify_change",
    "verify_layout",
    "verify_prompts",
]

MAX_REASONS = 5
"""Problems named in a refusal's reason; the rest are counted."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Verdict:
    """What verifying ``commit`` found: the problems that refuse it (none: it may be served),
    and the prepared answers of the prompts it changed (``None``: gone from the registry)."""

    commit: str
    problems: tuple[str, ...] = ()
    prompts: dict[str, PreparedPrompt | None] = field(default_factory=dict)
    names: tuple[str, ...] = ()
    folders: dict[str, str] = field(default_factory=dict)
    """The tree id of each prompt folder (from ``verify_layout``)."""

    @property
    def ok(self) -> bool:
        return not self.problems

    def reason(self) -> str:
        shown = list(self.problems[:MAX_REASONS])
        more = len(self.problems) - len(shown)
        if more:
            shown.append(f"and {more} more")
        return "; ".join(shown)


def verify_layout(repository: str, commit: str) -> Verdict:
    """``prompts/`` itself and each entry in it (the full check's first step): the problems, and
    in ``names`` the prompt folders left to check, with their tree ids in ``folders``."""
    try:
        store = GitStore.open(repository)
        problems, names = check_layout(store.snapshot_at(commit))
        folders = _folders(store.repo, commit)
    except Exception as exc:
        return Verdict(commit=commit, problems=(_failure(exc),))
    return Verdict(commit=commit, problems=_lines(problems), names=tuple(names), folders=folders)


def verify_prompts(repository: str, commit: str, names: Sequence[str]) -> Verdict:
    """The tree rules on ``names`` at ``commit``, and their answers when they pass."""
    try:
        snapshot = GitStore.open(repository).snapshot_at(commit)
        problems: list[Problem] = []
        prompts: dict[str, PreparedPrompt | None] = {}
        for name in names:
            files = read_prompt(snapshot, name)
            problems.extend(folder_problems(files))
            if not problems:
                # Answers from the objects the check parsed: no file is parsed twice.
                prompts[name] = prepare_checked(snapshot, files)
        if problems:
            return Verdict(commit=commit, problems=_lines(problems))
        return Verdict(commit=commit, prompts=prompts)
    except Exception as exc:
        return Verdict(commit=commit, problems=(_failure(exc),))


def verify_change(repository: str, served: str, tip: str) -> Verdict:
    """``tip`` judged as a pull request onto ``served`` would be, and the answers of the prompts
    it changes. A tip that does not descend from ``served`` is refused outright: serving it would
    take back what was served (a force-push that rewinds or rewrites the branch)."""
    try:
        store = GitStore.open(repository)
        if relation(store.repo, served, tip) != "descendant":
            return Verdict(
                commit=tip,
                problems=(
                    f"{tip[:10]} does not descend from the served commit {served[:10]}: the "
                    "branch was moved back or its history rewritten (a force-push), and "
                    "serving it would take back what was served",
                ),
            )
        outcome = check_change(store, served, tip)
        if not outcome.ok:
            return Verdict(commit=tip, problems=_lines(outcome.problems))
        # The tip descends from the served commit, so the check compared the two and names
        # the prompt folders that differ; the tip passed it, so each one it still has is a
        # prompt folder.
        snapshot = store.snapshot_at(tip)
        changed = [n for n in outcome.touched if snapshot.object_id(prompt_dir(n)) is not None]
        prompts: dict[str, PreparedPrompt | None] = dict.fromkeys(outcome.touched)
        prompts.update(_prepare(snapshot, changed))
        return Verdict(commit=tip, prompts=prompts)
    except Exception as exc:
        return Verdict(commit=tip, problems=(_failure(exc),))


def relation(repo: pygit2.Repository, known: str, other: str) -> str:
    """How commit ``other`` stands to ``known``: ``same``, ``descendant`` (built on it),
    ``ancestor`` (in its history), ``unrelated``, or ``unknown`` (not in this repository)."""
    if other == known:
        return "same"
    try:
        a, b = pygit2.Oid(hex=known), pygit2.Oid(hex=other)
        if not isinstance(repo.get(b), pygit2.Commit):
            return "unknown"
        if repo.descendant_of(b, a):
            return "descendant"
        if repo.descendant_of(a, b):
            return "ancestor"
    except (ValueError, KeyError, pygit2.GitError):
        return "unknown"
    return "unrelated"


def changed_folders(repo: pygit2.Repository, old: str, new: str) -> tuple[list[str], list[str]]:
    """The prompt folders that differ between two commits (by tree id: a folder whose id did
    not change is not opened), and those only ``old`` has."""
    before, after = _folders(repo, old), _folders(repo, new)
    changed = sorted(n for n, oid in after.items() if before.get(n) != oid)
    return changed, sorted(before.keys() - after.keys())


def changed_pointers(repo: pygit2.Repository, old: str, new: str) -> list[str]:
    """The prompts whose ``production.yaml`` differs between two commits."""
    changed, removed = changed_folders(repo, old, new)
    before = GitSnapshot(repo, repo.revparse_single(old).peel(pygit2.Commit))
    after = GitSnapshot(repo, repo.revparse_single(new).peel(pygit2.Commit))
    return sorted(
        n
        for n in [*changed, *removed]
        if before.object_id(pointer_path(n)) != after.object_id(pointer_path(n))
    )


def _folders(repo: pygit2.Repository, commit: str) -> dict[str, str]:
    """The prompt folders of a commit and their tree ids. (libgit2's tree diff would do, but it
    takes ten times longer over a ``prompts/`` of 10,000 folders.)"""
    return GitSnapshot(repo, repo.revparse_single(commit).peel(pygit2.Commit)).folder_ids(
        PROMPTS_DIR
    )


def _prepare(snapshot: GitSnapshot, names: Iterable[str]) -> dict[str, PreparedPrompt | None]:
    reader = SnapshotReader(snapshot)
    return {name: prepare_prompt(snapshot, reader, name) for name in names}


def _lines(problems: Iterable[Problem]) -> tuple[str, ...]:
    return tuple(str(p) for p in sort_problems(problems))


def _failure(exc: BaseException) -> str:
    if isinstance(exc, PromptshipError):
        return f"the check could not run: {exc.message}"
    where = traceback.extract_tb(exc.__traceback__)[-1:]
    at = f" at {where[0].filename.rsplit('/', 1)[-1]}:{where[0].lineno}" if where else ""
    return f"the check failed: {type(exc).__name__}: {exc}{at}"
