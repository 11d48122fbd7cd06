"""Races between real processes: different prompts all land; one prompt has one winner per
decision, the others are told they were superseded."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.cli import Cli
from helpers.gitrepo import git, status_clean
from registry.check.tree import check_tree
from registry.git.store import GitStore


def start(cwd: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "cli", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(processes: list[subprocess.Popen[str]]) -> list[tuple[int, str]]:
    return [(p.wait(timeout=120), p.communicate()[1]) for p in processes]


def where(repo: Path, tmp_path: Path, *, bare: bool) -> tuple[Path, list[str]]:
    """The clone itself (writers serialised by its lock), or a bare copy (writers race on the
    branch's compare-and-swap alone)."""
    if not bare:
        return repo, []
    target = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(target))
    return target, ["--ref", "refs/heads/main"]


@pytest.mark.parametrize("bare", [False, True], ids=["clone", "bare"])
def test_eight_processes_promote_different_prompts(
    cli: Cli, repo: Path, tmp_path: Path, bare: bool
) -> None:
    for n in range(8):
        cli.ok("create", f"p{n}", "--content", f"prompt {n}")
    target, extra = where(repo, tmp_path, bare=bare)
    results = finish([start(target, "promote", f"p{n}", "1", "--yes", *extra) for n in range(8)])
    assert all(status == 0 for status, _ in results), results
    subjects = git(target, "log", "--format=%s", "-8").split("\n")[:8]
    assert sorted(subjects) == sorted(f"promote(p{n}): v1" for n in range(8))
    assert git(target, "rev-list", "--count", "HEAD").strip() == "16"
    snap = GitStore.open(target, ref="refs/heads/main").snapshot()
    assert check_tree(snap) == []
    if not bare:
        assert status_clean(repo)


@pytest.mark.parametrize("bare", [False, True], ids=["clone", "bare"])
def test_five_processes_promote_drafts_of_one_prompt(
    cli: Cli, repo: Path, tmp_path: Path, bare: bool
) -> None:
    cli.ok("create", "p", "--content", "one")
    cli.ok("promote", "p", "1", "--yes")
    for n in range(2, 7):
        cli.ok("new-version", "p", "--content", f"version {n}")
    target, extra = where(repo, tmp_path, bare=bare)
    results = finish([start(target, "promote", "p", str(n), "--yes", *extra) for n in range(2, 7)])
    winners = [s for s, _ in results if s == 0]
    losers = [err for s, err in results if s != 0]
    assert winners, results
    for err in losers:
        assert err.startswith("error: promotion of 'p' superseded by v"), err
        assert "Traceback" not in err
    history = json.loads(
        Cli(target)(
            "history", "p", "--json", "--oldest-first", *(["--ref", "main"] if bare else [])
        ).stdout
    )
    assert len(history) == 1 + len(winners)
    for before, after in itertools.pairwise(history):
        assert after["previous_version"] == before["version"]
    snap = GitStore.open(target, ref="refs/heads/main").snapshot()
    assert check_tree(snap) == []
    pointer = snap.read("prompts/p/production.yaml") or b""
    assert f"version: {history[-1]['version']}\n".encode() in pointer
    if not bare:
        assert status_clean(repo)
