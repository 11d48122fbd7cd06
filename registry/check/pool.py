"""The tree check of a large registry, spread over processes.

Parsing 100,000 version files is CPU-bound Python, so each worker process checks a share of the
prompt folders from its own snapshot of the same tree (one git commit, or one folder on disk).
The problems come back in the order one process would find them.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import astuple, dataclass

from ..errors import Problem, sort_problems
from ..git.folder import FolderSnapshot
from ..snapshot import Snapshot
from .outcome import CheckOutcome
from .tree import check_layout, check_prompts

__all__ = ["PROMPTS_PER_JOB", "TreeSource", "check_registry"]

PROMPTS_PER_JOB = 500
"""Below this many prompt folders per extra process, starting one costs more than it saves."""


@dataclass(frozen=True, kw_only=True, slots=True)
class TreeSource:
    """Where a process finds the tree to check: a folder, or a commit of a git repository (none
    for an unborn branch). Plain values, so it travels to worker processes."""

    folder: str | None = None
    ignored: tuple[str, ...] = ()
    repository: str | None = None
    commit: str | None = None

    def open(self) -> Snapshot:
        if self.folder is not None:
            return FolderSnapshot(self.folder, self.ignored)
        from ..git.store import GitSnapshot, GitStore

        assert self.repository is not None
        store = GitStore.open(self.repository)
        return store.snapshot_at(self.commit) if self.commit else GitSnapshot(store.repo, None)


def available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on every platform
        return os.cpu_count() or 1


def check_registry(source: TreeSource, *, jobs: int | None = None) -> CheckOutcome:
    """The tree rules on the whole registry of ``source``, in up to ``jobs`` processes
    (default: one per CPU)."""
    snapshot = source.open()
    problems, names = check_layout(snapshot)
    jobs = min(jobs or available_cpus(), max(1, len(names) // PROMPTS_PER_JOB))
    if jobs <= 1:
        problems.extend(check_prompts(snapshot, names))
    else:
        chunks = _split(names, jobs * 4)
        with ProcessPoolExecutor(max_workers=jobs, mp_context=_context()) as pool:
            for rows in pool.map(_check_chunk, [source] * len(chunks), chunks):
                problems.extend(
                    Problem(file=f, rule=r, message=m, line=n, hint=h) for f, r, m, n, h in rows
                )
    return CheckOutcome(problems=sort_problems(problems), prompts=len(names), head=source.commit)


def _check_chunk(
    source: TreeSource, names: Sequence[str]
) -> list[tuple[str, str, str, int | None, str]]:
    return [astuple(problem) for problem in check_prompts(source.open(), names)]


def _split(names: Sequence[str], parts: int) -> list[list[str]]:
    size = -(-len(names) // parts)
    return [list(names[i : i + size]) for i in range(0, len(names), size)]


def _context() -> multiprocessing.context.BaseContext:
    # Forking starts a worker in a millisecond with every module already imported; it is safe
    # only while this process runs a single thread.
    if sys.platform == "linux" and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")
