"""Building an attacker's change by hand and judging it as CI would.

An attack starts from a registry made with the CLI (``registry_repo.build_base``), then writes
commits with git plumbing that the CLI would refuse to make: any bytes at any path, any file
mode, any parents. ``check_base`` runs ``promptship check --base`` as a real process, as CI runs
it, and measures its wall time and peak memory so bounded attacks can show their bounds.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers.gitrepo import git
from helpers.registry_repo import Registry, build_base

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
                    ["git", "rm", "-q", "-r", "-f", "--cached", "--ignore-unmatch", "--", path],
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
        return _write_tree(repo, env)
    finally:
        index.unlink(missing_ok=True)


def _write_tree(repo: Path, env: Mapping[str, str]) -> str:
    done = subprocess.run(
        ["git", "write-tree"], cwd=repo, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def commit_tree(repo: Path, tree: str, parents: Sequence[str], message: str = "hand-made") -> str:
    """A commit of ``tree`` with exactly ``parents`` (none: a root commit)."""
    args = ["commit-tree", tree, "-m", message]
    for parent in parents:
        args += ["-p", parent]
    return git(repo, *args).strip()


def raw_tree(repo: Path, entries: Sequence[tuple[str, str, str]]) -> str:
    """A tree object of exactly ``entries`` (mode, object id, name), written with ``git
    hash-object --literally`` so that nothing checks that a mode matches its object's type or
    that the object exists."""
    data = b"".join(
        f"{mode} {name}".encode() + b"\0" + bytes.fromhex(oid)
        # git orders a folder as if its name ended with '/'
        for mode, oid, name in sorted(
            entries, key=lambda e: e[2] + ("/" if e[0] == "40000" else "")
        )
    )
    done = subprocess.run(
        ["git", "hash-object", "-t", "tree", "--literally", "-w", "--stdin"],
        cwd=repo,
        input=data,
        capture_output=True,
        check=True,
    )
    return done.stdout.decode().strip()


def tree_entries(repo: Path, tree: str) -> list[tuple[str, str, str]]:
    """The entries (mode, object id, name) of one tree, as ``raw_tree`` takes them."""
    rows = [row.split("\t", 1) for row in git(repo, "ls-tree", tree).splitlines()]
    return [(meta.split()[0], meta.split()[2], name) for meta, name in rows]


def replace_in_tree(repo: Path, tree: str, path: str, entry: tuple[str, str] | None) -> str:
    """``tree`` with the entry at ``path`` replaced by ``entry`` (mode, object id; ``None``
    removes it), each folder on the way rebuilt with ``raw_tree``."""
    head, _, rest = path.partition("/")
    entries = [e for e in tree_entries(repo, tree) if e[2] != head]
    if rest:
        inner = git(repo, "rev-parse", f"{tree}:{head}").strip()
        entries.append(("40000", replace_in_tree(repo, inner, rest, entry), head))
    elif entry is not None:
        entries.append((entry[0], entry[1], head))
    return raw_tree(repo, entries)


def commit_chain(
    repo: Path, branch: str, changes: Sequence[Writes], *, message: str = "step"
) -> str:
    """Commit each of ``changes`` in turn on top of ``branch`` (one commit each), all at once
    through ``git fast-import``: thousands of commits in a second."""
    parent = git(repo, "rev-parse", "--verify", branch).strip()
    lines = []
    for number, writes in enumerate(changes, start=1):
        text = f"{message} {number}".encode()
        lines.append(f"commit refs/heads/{branch}\n".encode())
        lines.append(b"committer Mallory <mallory@example.com> 1700000000 +0000\n")
        lines.append(b"data %d\n%s\n" % (len(text), text))
        if number == 1:
            lines.append(f"from {parent}\n".encode())
        for path, data in writes.items():
            if data is None:
                lines.append(f"D {path}\n".encode())
            else:
                raw = data.encode("utf-8") if isinstance(data, str) else data
                lines.append(f"M 100644 inline {path}\n".encode())
                lines.append(b"data %d\n%s\n" % (len(raw), raw))
    subprocess.run(
        ["git", "fast-import", "--quiet", "--force"],
        cwd=repo,
        input=b"".join(lines),
        capture_output=True,
        check=True,
    )
    return git(repo, "rev-parse", branch).strip()


def object_file(repo: Path, oid: str) -> Path:
    """Where git keeps the loose object ``oid`` (objects written by the helpers are loose)."""
    return repo / ".git" / "objects" / oid[:2] / oid[2:]


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


def check_base(
    repo: Path, base: str = "base", head: str | None = None, *, options: Sequence[str] = ()
) -> Verdict:
    """``promptship check --base BASE --format json`` as a real process in ``repo`` (on ``head``
    when given: checked out detached first, as CI checks a pull request), with more
    ``options`` (``--max-commits 50``) when given."""
    if head is not None:
        git(repo, "checkout", "-q", "--detach", head)
    command = [sys.executable, "-m", "cli", "check", "--base", base, "--format", "json", *options]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=repo, stdout=out, stderr=err)
        status, peak = _wait_measured(process)
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    done = subprocess.CompletedProcess(command, status, stdout, stderr)
    try:
        report = json.loads(done.stdout) if done.stdout.strip() else {}
    except ValueError:
        report = {"unparsed": done.stdout}
    return Verdict(done.returncode, report, done.stderr, seconds, peak)


def _wait_measured(process: subprocess.Popen[bytes]) -> tuple[int, float]:
    """The exit status and the peak memory (MiB) of that process alone: its own high-water mark
    (``VmHWM``) read while it runs, where the system shows one. Not the resource usage a reaped
    child reports: on Linux that starts from the parent's size at fork, and a test process that
    built a large attack would be counted in."""
    status = Path(f"/proc/{process.pid}/status")
    peak_kib = 0
    while process.poll() is None:
        try:
            text = status.read_text()
        except OSError:
            text = ""  # not on Linux, or already gone
        for line in text.splitlines():
            if line.startswith("VmHWM:"):
                peak_kib = max(peak_kib, int(line.split()[1]))
        time.sleep(0.005)
    return process.wait(), peak_kib / 1024


def registry_at_base(repo: Path, cache: Path) -> Registry:
    """``build_base``'s registry in ``repo`` (an empty repository), checked out on ``main`` with
    branch ``base``: built with the CLI once in ``cache`` and copied after, so each attack starts
    from the same commits without building them again."""
    built = cache / "registry-at-base"
    if not built.exists():
        scratch = cache / "registry-at-base.building"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        git(scratch, "init", "-q", "-b", "main")
        build_base(Registry(scratch))
        scratch.rename(built)
    shutil.rmtree(repo)
    shutil.copytree(built, repo, symlinks=True)
    return Registry(repo)


def blob_tree(repo: Path, base: str, writes: Mapping[str, bytes], *, mode: str = "100644") -> str:
    """``tree_with`` for many files at once: one ``update-index --index-info`` for all of them
    (a tree of ten thousand version files is built in a second, not in ten thousand processes).
    Equal contents share one blob."""
    index = repo / ".git" / f"attack-index-many-{os.getpid()}"
    env = {**os.environ, "GIT_INDEX_FILE": str(index)}
    try:
        subprocess.run(["git", "read-tree", base], cwd=repo, env=env, check=True)
        ids: dict[bytes, str] = {}
        lines = []
        for path, data in writes.items():
            if data not in ids:
                ids[data] = blob(repo, data)
            lines.append(f"{mode} {ids[data]}\t{path}\n")
        subprocess.run(
            ["git", "update-index", "--index-info"],
            cwd=repo,
            env=env,
            input="".join(lines).encode(),
            check=True,
        )
        return _write_tree(repo, env)
    finally:
        index.unlink(missing_ok=True)
