"""Building an attacker's change by hand and judging it as CI would.

An attack starts from a registry made with the CLI (``registry_repo.build_base``), then writes
commits with git plumbing that the CLI would refuse to make: any bytes at any path, any file
mode, any parents. ``check_base`` runs ``promptship check --base`` as a real process, as CI runs
it, and measures its wall time and peak memory so bounded attacks can show their bounds.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers.gitrepo import git

Writes = Mapping[str, "bytes | str | None"]
"""Paths to new contents (``None`` removes the path)."""


def blob(repo: Path, data: bytes | str) -> str:
    """Store ``data`` as a blob with ``git hash-object -w`` and return its id."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    done = subprocess.run(
        ["git", "hash-object", "-w", "--stdin"],
        cwd=repo,
        input=raw,
        capture_output=True,
        check=True,
    )
    return done.stdout.decode().strip()


def tree_with(repo: Path, base: str | None, writes: Writes, *, mode: str = "100644") -> str:
    """The tree of commit ``base`` (or an empty one) with ``writes`` applied, built in a
    temporary index so the work tree and the real index stay as they are."""
    index = repo / ".git" / f"attack-index-{os.getpid()}"
    env = {**os.environ, "GIT_INDEX_FILE": str(index)}
    try:
        if base is not None:
            subprocess.run(["git", "read-tree", base], cwd=repo, env=env, check=True)
        else:
            subprocess.run(["git", "read-tree", "--empty"], cwd=repo, env=env, check=True)
        for path, data in writes.items():
            if data is None:
                subprocess.run(
                    ["git", "rm", "-q", "-r", "--cached", "--ignore-unmatch", "--", path],
                    cwd=repo,
                    env=env,
                    check=True,
                )
            else:
                oid = blob(repo, data)
                subprocess.run(
                    ["git", "update-index", "--add", "--cacheinfo", f"{mode},{oid},{path}"],
                    cwd=repo,
                    env=env,
                    check=True,
                )
        done = subprocess.run(
            ["git", "write-tree"], cwd=repo, env=env, capture_output=True, text=True, check=True
        )
        return done.stdout.strip()
    finally:
        index.unlink(missing_ok=True)


def commit_tree(repo: Path, tree: str, parents: Sequence[str], message: str = "hand-made") -> str:
    """A commit of ``tree`` with exactly ``parents`` (none: a root commit)."""
    args = ["commit-tree", tree, "-m", message]
    for parent in parents:
        args += ["-p", parent]
    return git(repo, *args).strip()


def commit_on(
    repo: Path, branch: str, writes: Writes, *, message: str = "hand-made", mode: str = "100644"
) -> str:
    """Commit ``writes`` on top of ``branch`` (created from HEAD when missing) without touching
    the work tree; the branch moves to the new commit."""
    parent = git(repo, "rev-parse", "--verify", "-q", branch, check=False).strip() or (
        git(repo, "rev-parse", "HEAD").strip()
    )
    new = commit_tree(repo, tree_with(repo, parent, writes, mode=mode), [parent], message)
    git(repo, "update-ref", f"refs/heads/{branch}", new)
    return new


def push_commit_on(
    clone: Path, writes: Writes, *, message: str = "hand-made", mode: str = "100644"
) -> str:
    """``commit_on`` the clone's main, pushed to its origin: a hand-made commit reaching a
    remote that a server follows."""
    commit = commit_on(clone, "main", writes, message=message, mode=mode)
    git(clone, "push", "-q", "origin", "main")
    return commit


@dataclass(frozen=True)
class Verdict:
    """What ``check`` said of a change, and what it cost."""

    status: int
    report: dict[str, Any]
    stderr: str
    seconds: float
    peak_mib: float

    @property
    def rules(self) -> set[str]:
        return {v["rule"] for v in self.report.get("violations", [])}


def check_base(repo: Path, base: str = "base", head: str | None = None) -> Verdict:
    """``promptship check --base BASE --format json`` as a real process in ``repo`` (on ``head``
    when given: checked out detached first, as CI checks a pull request)."""
    if head is not None:
        git(repo, "checkout", "-q", "--detach", head)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "cli", "check", "--base", base, "--format", "json"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    # ru_maxrss of children is the largest of any child so far: meaningful when it grew.
    peak = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before) / 1024
    try:
        report = json.loads(done.stdout) if done.stdout.strip() else {}
    except ValueError:
        report = {"unparsed": done.stdout}
    return Verdict(done.returncode, report, done.stderr, seconds, peak)
