"""Durability: fsync for changing commands, lock files reported and never removed for the user,
a sync cut short by a killed command finished by the next one, and promotions killed at random
moments leaving either the old tip or the whole promotion."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pygit2
import pytest

from helpers.cli import Cli, run_main
from helpers.gitrepo import files_under, git, head, status_clean
from registry.git.commit import create_commit
from registry.git.decision import Decision
from registry.git.store import GitStore, utc_now
from registry.git.worktree import begin_sync
from registry.promotion import plan_promotion
from stress.scenarios import kill_runs


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_a_stale_branch_lock_is_reported_and_left_in_place(sample: Cli, repo: Path) -> None:
    lock = repo / ".git" / "refs" / "heads" / "main.lock"
    lock.write_text("")
    _age(lock, 600)
    tip, files = head(repo), files_under(repo)
    status, _, err = run_main(repo, "promote", "greeting", "2", "--yes")
    assert status == 1
    assert f"refs/heads/main is locked by {lock}, created 10 min ago" in err
    assert "another git process is updating it, or one was killed while doing so" in err
    assert f"rm {lock}" in err
    assert lock.exists()
    assert (head(repo), files_under(repo)) == (tip, files)
    assert status_clean(repo)
    lock.unlink()
    sample.ok("promote", "greeting", "2", "--yes")
    assert head(repo) != tip


def test_a_stale_branch_lock_in_a_bare_repository(tmp_path: Path, sample: Cli, repo: Path) -> None:
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(bare))
    lock = bare / "refs" / "heads" / "main.lock"
    lock.write_text("")
    tip = git(bare, "rev-parse", "main")
    status, _, err = run_main(bare, "new-version", "greeting", "--ref", "refs/heads/main")
    assert status == 1
    assert f"refs/heads/main is locked by {lock}" in err
    assert lock.exists()
    assert git(bare, "rev-parse", "main") == tip


def test_a_stale_index_lock_is_reported_before_anything_moves(sample: Cli, repo: Path) -> None:
    lock = repo / ".git" / "index.lock"
    lock.write_text("")
    tip, files = head(repo), files_under(repo)
    status, _, err = run_main(repo, "promote", "greeting", "2", "--yes")
    assert status == 1
    assert f"the index is locked by {lock}" in err
    assert lock.exists()
    assert (head(repo), files_under(repo)) == (tip, files)


def _journal_a_promotion(repo: Path) -> tuple[pygit2.Reference, pygit2.Commit, pygit2.Oid]:
    """A promotion's commit, built but not on the branch, and its sync journaled: what a
    promotion leaves just before it moves the branch."""
    store = GitStore.open(repo)
    identity = store.identity()
    ref, old = store.tip()
    assert ref is not None and old is not None
    changes, now = Decision(
        lambda s, now: plan_promotion(s, "greeting", 2, actor=str(identity), now=now),
        None,
        utc_now,
    ).rebuild(store.snapshot_of(old))
    new = create_commit(store.repo, old, changes, identity, now)
    begin_sync(store.repo, store.branch, old.id, new, changes.writes)
    return ref, old, new


def _killed_after_moving(repo: Path) -> tuple[str, str]:
    """Leave the clone as a promotion killed between moving the branch and syncing the files
    would: the journal written, the branch moved, index and files one commit behind."""
    ref, old, new = _journal_a_promotion(repo)
    ref.set_target(new, "simulated")
    return str(old.id), str(new)


def test_the_next_command_finishes_a_sync_a_killed_one_left(sample: Cli, repo: Path) -> None:
    _, new = _killed_after_moving(repo)
    assert not status_clean(repo)
    sample.ok("create", "farewell")
    assert status_clean(repo)
    assert git(repo, "rev-parse", "HEAD~1").strip() == new
    assert not (repo / ".git" / "promptship-sync.json").exists()
    assert Cli(repo)("check").exit_code == 0


def test_finishing_a_sync_never_overwrites_an_edit(sample: Cli, repo: Path) -> None:
    _killed_after_moving(repo)
    edited = repo / "prompts/greeting/versions/2.yaml"
    edited.write_text(edited.read_text() + "# my edit\n")
    sample.ok("create", "farewell")
    assert edited.read_text().endswith("# my edit\n")
    assert git(repo, "status", "--porcelain") == " M prompts/greeting/versions/2.yaml\n"
    pointer = repo / "prompts/greeting/production.yaml"
    assert "version: 2" in pointer.read_text()


def test_a_journal_of_a_move_that_never_happened_is_dropped(sample: Cli, repo: Path) -> None:
    _journal_a_promotion(repo)  # a real promotion commit the branch was never moved to
    files = files_under(repo)
    sample.ok("create", "farewell")
    assert not (repo / ".git" / "promptship-sync.json").exists()
    assert {k: v for k, v in files_under(repo).items() if "farewell" not in k} == files


def test_a_journal_is_not_applied_to_another_branch_checked_out_since(
    sample: Cli, repo: Path
) -> None:
    git(repo, "branch", "feature", "HEAD")
    _killed_after_moving(repo)
    git(repo, "switch", "-q", "-f", "feature")
    assert status_clean(repo)
    sample.ok("create", "farewell")
    assert status_clean(repo)
    assert (
        git(repo, "show", "HEAD:prompts/greeting/production.yaml")
        == (repo / "prompts/greeting/production.yaml").read_text()
    )
    assert not (repo / ".git" / "promptship-sync.json").exists()


def test_half_written_files_of_a_killed_sync_are_removed(sample: Cli, repo: Path) -> None:
    _killed_after_moving(repo)
    strays = [repo / "prompts/greeting/.promptship-k1ll3d", repo / ".git" / ".promptship-j0urn4l"]
    for stray in strays:
        stray.write_text("half")
    sample.ok("create", "farewell")
    assert not any(stray.exists() for stray in strays)
    assert status_clean(repo)
    assert Cli(repo)("check").exit_code == 0


@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace")
def test_changing_commands_fsync_and_reading_commands_do_not(sample: Cli, repo: Path) -> None:
    def fsyncs(*args: str) -> int:
        done = subprocess.run(
            [
                "strace",
                "-f",
                "-c",
                "-e",
                "trace=fsync,fdatasync",
                sys.executable,
                "-m",
                "cli",
                *args,
            ],
            cwd=repo,
            capture_output=True,
            text=True,
            check=False,
        )
        if "PTRACE" in done.stderr or "Operation not permitted" in done.stderr:
            pytest.skip("ptrace is not permitted here")
        assert done.returncode == 0, done.stderr
        lines = [line.split() for line in done.stderr.splitlines()]
        return sum(
            int(parts[3]) for parts in lines if parts and parts[-1] in ("fsync", "fdatasync")
        )

    assert fsyncs("list") == 0
    assert fsyncs("--repo", str(repo), "new-version", "greeting") >= 3


def test_promotions_killed_at_random_moments(tmp_path: Path) -> None:
    figures = kill_runs(tmp_path, runs=6, seed=7)
    assert figures["problems"] == []
    assert (
        figures.get("branch at the old tip", 0) + figures.get("branch at the complete promotion", 0)
        == 6
    )
