"""The team-scale scenarios: many writers on one repository, clones racing through one remote,
promotions killed at random moments. Each returns its figures and the problems it found; the
tests run them small, ``run.py`` runs them at full size.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pygit2

from registry.check.tree import check_tree
from registry.git.folder import FolderSnapshot
from registry.git.publish import write_change
from registry.git.store import GitStore
from registry.history import parse_history
from registry.identity import Identity
from registry.lifecycle import Body, create_prompt, new_version
from registry.names import history_path
from registry.promotion import plan_promotion
from registry.snapshot import Snapshot

__all__ = ["git_daemon", "kill_runs", "local_race", "remote_race", "seed_registry"]

WORKER = Path(__file__).with_name("worker.py")
SEEDER = Identity(name="Seed Example", email="seed@example.com")


def seed_registry(store: GitStore, prompts: list[str]) -> None:
    """Each prompt created with v1 promoted, one commit per step."""
    for name in prompts:
        write_change(
            store,
            lambda snap, now, name=name: create_prompt(
                snap, name, body=Body(content="Hello {{ name }}"), actor=str(SEEDER), now=now
            ),
            identity=SEEDER,
        )
        write_change(
            store,
            lambda snap, now, name=name: plan_promotion(
                snap, name, 1, notes="seed", actor=str(SEEDER), now=now
            ),
            identity=SEEDER,
        )


def local_race(
    root: Path, *, processes: int = 8, promotions: int = 25, bare: bool = False
) -> dict[str, Any]:
    """``processes`` writers, two per prompt, each making ``promotions`` promotions on one
    repository: a clone's checked-out branch, or a bare repository's ``refs/heads/main``."""
    prompts = [f"p{i}" for i in range(max(1, processes // 2))]
    path = root / ("bare.git" if bare else "clone")
    pygit2.init_repository(str(path), bare=bare, initial_head="main")
    ref = "refs/heads/main" if bare else None
    seed_registry(GitStore.open(path, ref=ref), prompts)
    started = time.perf_counter()
    logs = _run_workers(
        [
            ["local", str(path), ref or "-", prompts[i % len(prompts)], str(promotions), str(i)]
            for i in range(processes)
        ]
    )
    elapsed = time.perf_counter() - started
    entries = [e for log in logs for e in log]
    store = GitStore.open(path, ref=ref)
    snapshot = store.snapshot()
    problems = [str(p) for p in check_tree(snapshot)]
    if not bare:
        problems += [f"work tree: {p}" for p in check_tree(FolderSnapshot(path))]
        if _git(path, "status", "--porcelain"):
            problems.append("work tree not clean: " + _git(path, "status", "--porcelain"))
    problems += _verify_history(
        store.repo, snapshot, prompts, entries, seed_commits=2 * len(prompts)
    )
    problems += _unexpected_failures(entries, allowed=("superseded",))
    promoted = [e for e in entries if e["op"] == "promote" and e["status"] == 0]
    return {
        "scenario": f"{processes} processes x {promotions} promotions, one "
        + ("bare repository (--ref)" if bare else "clone (checked-out branch)"),
        "promotions": len(promoted),
        "commands": len(entries),
        "superseded (decided again)": sum("superseded" in e["stderr"] for e in entries),
        "lost updates": _lost(snapshot, prompts, promoted),
        "seconds": round(elapsed, 2),
        "promotions per second": round(len(promoted) / elapsed, 1),
        "problems": problems,
    }


def remote_race(
    root: Path, *, clones: int = 4, rounds: int = 5, daemon: bool = False
) -> dict[str, Any]:
    """``clones`` clones of one bare remote, each promoting its own prompt and a shared one with
    ``--push`` for ``rounds`` rounds, all at once; over ``file://`` or a local ``git daemon``."""
    remote = root / "remote.git"
    pygit2.init_repository(str(remote), bare=True, initial_head="main")
    own = [f"own{i}" for i in range(clones)]
    seeder = root / "seeder"
    _git(root, "clone", "--quiet", remote.as_uri(), str(seeder))
    seed_registry(GitStore.open(seeder), [*own, "shared"])
    _git(seeder, "push", "--quiet", "origin", "main")
    seed_commits = 2 * (clones + 1)
    with git_daemon(root) if daemon else _nothing(remote.as_uri()) as url:
        if daemon:
            url = f"{url}remote.git"
        paths = [root / f"clone{i}" for i in range(clones)]
        for path in paths:
            _git(root, "clone", "--quiet", url, str(path))
        started = time.perf_counter()
        logs = _run_workers(
            [["remote", str(p), own[i], "shared", str(rounds), str(i)] for i, p in enumerate(paths)]
        )
        elapsed = time.perf_counter() - started
        for path in paths:
            _git(path, "pull", "--ff-only", "--quiet")
    entries = [e for log in logs for e in log]
    store = GitStore.open(remote, ref="refs/heads/main")
    snapshot = store.snapshot()
    problems = [str(p) for p in check_tree(snapshot)]
    problems += _verify_history(
        store.repo, snapshot, [*own, "shared"], entries, seed_commits=seed_commits
    )
    problems += _unexpected_failures(
        entries, allowed=("superseded", "changed by someone else", "kept moving")
    )
    for entry in entries:
        if entry["status"] != 0 and not entry.get("clean"):
            problems.append(f"refusal left the clone changed: {entry['argv']}")
        if entry["status"] == 0 and not _is_ancestor(remote, entry["commit"]):
            problems.append(f"success not on the remote: {entry['argv']} -> {entry['commit']}")
    for path in paths:
        if _git(path, "status", "--porcelain") or check_tree(FolderSnapshot(path)):
            problems.append(f"{path.name} is not clean after pulling")
    promoted = [e for e in entries if e["op"] == "promote" and e["status"] == 0]
    failures = [e for e in entries if e["status"] != 0]
    return {
        "scenario": f"{clones} clones x {rounds} rounds through one bare remote over "
        + ("git daemon" if daemon else "file://"),
        "commands": len(entries),
        "succeeded": len(entries) - len(failures),
        "promotions": len(promoted),
        "rebuilt on the remote's tip": sum(bool(e["rebuilt"]) for e in entries),
        "refused": dict(Counter(_reason(e["stderr"]) for e in failures)),
        "refusals leaving the clone unchanged": sum(bool(e.get("clean")) for e in failures),
        "merge commits on the remote": len(_git(remote, "rev-list", "--merges", "main").split()),
        "lost updates": _lost(snapshot, [*own, "shared"], promoted),
        "seconds": round(elapsed, 2),
        "problems": problems,
    }


def kill_runs(root: Path, *, runs: int = 100, seed: int = 0) -> dict[str, Any]:
    """``runs`` promotions as real subprocesses, each sent SIGKILL at a random moment of its run;
    after each, the branch must be the old tip or the complete promotion, the tree sound, and the
    next command must finish any sync the killed one left halfway."""
    path = root / "clone"
    pygit2.init_repository(str(path), initial_head="main")
    seed_registry(GitStore.open(path), ["greeting"])
    rng = random.Random(seed)
    outcomes: Counter[str] = Counter()
    problems: list[str] = []
    start, end = _write_window(path)
    for run in range(runs):
        version = _new_draft(path)
        old = _git(path, "rev-parse", "HEAD")
        child = subprocess.Popen(
            _promote_command(path, version),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(start, end))
        child.send_signal(signal.SIGKILL)
        child.wait()
        tip = _git(path, "rev-parse", "HEAD")
        repo = pygit2.Repository(str(path))
        commit = repo.get(tip)
        if tip == old:
            outcomes["branch at the old tip"] += 1
        elif (
            [str(p) for p in commit.parent_ids] == [old]
            and commit.message.startswith("promote(greeting): ")
            and f"Version: {version}\n" in commit.message
        ):
            outcomes["branch at the complete promotion"] += 1
        else:
            problems.append(f"run {run}: branch at {tip}, neither {old} nor its promotion")
        problems += [f"run {run}: {p}" for p in check_tree(GitStore.open(path).snapshot())]
        if (path / ".git" / "promptship-sync.json").exists():
            outcomes[
                "killed before the move: journal dropped by the next command"
                if tip == old
                else "killed between move and sync: finished by the next command"
            ] += 1
        for lock in (path / ".git" / "refs" / "heads" / "main.lock", path / ".git" / "index.lock"):
            if lock.exists():
                outcomes[f"{lock.name} left behind, reported, removed by hand"] += 1
                lock.unlink()
        _new_draft(path)
        if _git(path, "status", "--porcelain"):
            problems.append(f"run {run}: work tree not clean after the next command")
        problems += [f"run {run}: work tree: {p}" for p in check_tree(FolderSnapshot(path))]
    return {
        "scenario": f"{runs} promotions killed with SIGKILL at a random moment "
        f"({start * 1000:.0f}-{end * 1000:.0f} ms into the run, around its write)",
        **dict(outcomes),
        "problems": problems,
    }


@contextmanager
def git_daemon(base: Path) -> Iterator[str]:
    """A ``git daemon`` serving (and accepting pushes to) the repositories under ``base`` on a
    free port of 127.0.0.1; stopped on exit. Yields the URL prefix ``git://127.0.0.1:PORT/``."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    daemon = subprocess.Popen(
        [
            "git",
            "daemon",
            "--reuseaddr",
            "--export-all",
            "--enable=receive-pack",
            "--informative-errors",
            f"--base-path={base}",
            "--listen=127.0.0.1",
            f"--port={port}",
            str(base),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            if daemon.poll() is not None:
                raise RuntimeError(f"git daemon exited with status {daemon.returncode}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield f"git://127.0.0.1:{port}/"
    finally:
        daemon.terminate()
        try:
            daemon.wait(5)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()


@contextmanager
def _nothing(value: str) -> Iterator[str]:
    yield value


def _run_workers(commands: list[list[str]]) -> list[list[dict[str, Any]]]:
    children = [
        subprocess.Popen(
            [sys.executable, str(WORKER), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for args in commands
    ]
    logs = []
    for child in children:
        out, err = child.communicate()
        if child.returncode != 0:
            raise RuntimeError(f"a worker crashed: {err}")
        logs.append(json.loads(out))
    return logs


def _verify_history(
    repo: pygit2.Repository,
    snapshot: Snapshot,
    prompts: list[str],
    entries: list[dict[str, Any]],
    *,
    seed_commits: int,
) -> list[str]:
    """Every successful command is exactly one commit of a linear branch, and each prompt's
    promotion commits, in branch order, are its history records."""
    problems = []
    tip = repo.revparse_single("refs/heads/main")
    commits = list(
        repo.walk(tip.id, pygit2.enums.SortMode.TOPOLOGICAL | pygit2.enums.SortMode.REVERSE)
    )
    if any(len(c.parent_ids) > 1 for c in commits):
        problems.append("the branch has merge commits")
    succeeded = sum(e["status"] == 0 for e in entries)
    if len(commits) != seed_commits + succeeded:
        problems.append(
            f"{len(commits)} commits for {seed_commits} seed commits and {succeeded} successes"
        )
    for prompt in prompts:
        records = parse_history(snapshot.read(history_path(prompt)) or b"", path="", prompt=prompt)
        versions = [
            int(line.split(":")[1])
            for c in commits
            if c.message.startswith(f"promote({prompt}):")
            for line in c.message.splitlines()
            if line.startswith("Version:")
        ]
        if versions != [r.version for r in records]:
            problems.append(
                f"{prompt}: promotion commits {versions} but history {[r.version for r in records]}"
            )
    return problems


def _lost(snapshot: Snapshot, prompts: list[str], promoted: list[dict[str, Any]]) -> int:
    """Successful promotions whose history record is missing from the final tree."""
    recorded: Counter[str] = Counter()
    for prompt in prompts:
        data = snapshot.read(history_path(prompt)) or b""
        recorded.update(r.notes for r in parse_history(data, path="", prompt=prompt))
    wanted = Counter(e["notes"] for e in promoted)
    return sum((wanted - recorded).values())


def _unexpected_failures(entries: list[dict[str, Any]], *, allowed: tuple[str, ...]) -> list[str]:
    problems = []
    for entry in entries:
        if entry["status"] == 0:
            continue
        err = entry["stderr"]
        if (
            entry["status"] != 1
            or not err.startswith("error: ")
            or "\nhint: " not in err
            or "Traceback" in err
        ):
            problems.append(f"unclean failure {entry['status']}: {entry['argv']}: {err!r}")
        elif not any(word in err for word in allowed):
            problems.append(f"unexpected refusal: {entry['argv']}: {err!r}")
    return problems


def _reason(stderr: str) -> str:
    first = stderr.splitlines()[0] if stderr else ""
    for word in (
        "superseded",
        "changed by someone else",
        "kept moving",
        "refused the push",
        "diverged",
    ):
        if word in first:
            return word
    return first[:80]


def _write_window(path: Path) -> tuple[float, float]:
    """When, after its start, a promotion here writes: from the moment a refused one (same
    start-up, imports and reading) has exited, to the moment a successful one has. Kills are
    spread over this window, where the commit, the branch move and the file sync happen."""

    def timed(version: int) -> float:
        started = time.perf_counter()
        subprocess.run(_promote_command(path, version), capture_output=True, check=False)
        return time.perf_counter() - started

    refused = min(timed(999) for _ in range(3))
    done = timed(_new_draft(path))
    return max(refused - 0.02, 0.0), done + 0.01


def _new_draft(path: Path) -> int:
    """A new draft of 'greeting' (the command also finishes a sync a killed one left)."""
    result = write_change(
        GitStore.open(path),
        lambda snap, now: new_version(snap, "greeting", actor=str(SEEDER), now=now),
        identity=SEEDER,
    )
    assert result.changes.version is not None
    return result.changes.version


def _promote_command(path: Path, version: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "cli",
        "--repo",
        str(path),
        "promote",
        "greeting",
        str(version),
        "--yes",
    ]


def _is_ancestor(repo: Path, commit: str | None) -> bool:
    if not commit:
        return False
    return (
        subprocess.run(
            ["git", "--git-dir", str(repo), "merge-base", "--is-ancestor", commit, "main"],
            capture_output=True,
            check=False,
        ).returncode
        == 0
    )


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0 and args[0] not in ("status", "rev-list"):
        raise RuntimeError(f"git {' '.join(args)} failed: {done.stderr}")
    return done.stdout.strip()


def isolated_environment(home: Path) -> None:
    """Point git and libgit2 away from the real home and pin the author, for ``run.py``."""
    os.environ.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        GIT_CONFIG_GLOBAL=str(home / ".gitconfig"),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Alice Example",
        GIT_AUTHOR_EMAIL="alice@example.com",
        GIT_COMMITTER_NAME="Alice Example",
        GIT_COMMITTER_EMAIL="alice@example.com",
    )
    pygit2.settings.search_path[pygit2.enums.ConfigLevel.GLOBAL] = str(home)
    pygit2.settings.search_path[pygit2.enums.ConfigLevel.XDG] = str(home / ".config")
    pygit2.settings.search_path[pygit2.enums.ConfigLevel.SYSTEM] = str(home / "system")
