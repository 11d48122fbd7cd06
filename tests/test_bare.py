"""Every changing command on a bare repository with ``--ref refs/heads/<branch>``, as a bot or a
server without a work tree runs them."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.cli import Cli, promptship, run_main
from helpers.gitrepo import git
from helpers.remotes import CHANGING_COMMANDS, install_hook, remote_tip, seeded_remote, subjects


@pytest.fixture
def bare(tmp_path: Path) -> Path:
    """A bare clone of the seeded registry, with 'origin' to push to."""
    remote = seeded_remote(tmp_path)
    path = tmp_path / "bot.git"
    git(tmp_path, "clone", "-q", "--bare", str(remote), str(path))
    return path


BOT_PUSH = ("--ref", "refs/heads/main", "--push", "--remote", "origin")
"""How a bot in a bare clone (no upstream configured) writes main and pushes it."""


def _refs(path: Path) -> str:
    return git(path, "for-each-ref", "--format=%(refname) %(objectname)")


@pytest.mark.parametrize("ref", ["refs/heads/main", "refs/heads/release"])
@pytest.mark.parametrize(("args", "subject"), CHANGING_COMMANDS)
def test_every_changing_command_on_a_bare_repository(
    bare: Path, ref: str, args: list[str], subject: str
) -> None:
    if ref != "refs/heads/main":
        git(bare, "branch", ref.removeprefix("refs/heads/"), "main")
    before = git(bare, "rev-parse", ref).strip()
    main = git(bare, "rev-parse", "main").strip()
    Cli(bare).ok(*args, "--ref", ref)
    assert subjects(bare, ref, 1) == [subject]
    assert git(bare, "rev-parse", f"{ref}~1").strip() == before
    if ref != "refs/heads/main":
        assert git(bare, "rev-parse", "main").strip() == main
    assert Cli(bare)("check", "--ref", ref).exit_code == 0


def test_unarchive_on_a_bare_repository(bare: Path) -> None:
    Cli(bare).ok("archive", "greeting", "3", "--ref", "refs/heads/main")
    Cli(bare).ok("unarchive", "greeting", "3", "--ref", "refs/heads/main")
    assert subjects(bare, "main", 2) == ["unarchive(greeting): v3", "archive(greeting): v3"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["promote", "greeting", "1", "--yes"], "already in production"),
        (["edit", "greeting", "1", "--content", "x"], "has been in production"),
        (["create", "greeting"], "already exists"),
        (["delete", "greeting"], "has a production version"),
        (["archive", "greeting", "9"], "has no version 9"),
    ],
)
def test_a_refusal_on_a_bare_repository_writes_nothing(
    bare: Path, args: list[str], message: str
) -> None:
    before = _refs(bare)
    objects = sorted(p.name for p in (bare / "objects").rglob("*"))
    status, _, err = run_main(bare, *args, "--ref", "refs/heads/main")
    assert status == 1
    assert message in err
    assert _refs(bare) == before
    assert sorted(p.name for p in (bare / "objects").rglob("*")) == objects


def test_ref_must_name_a_branch(bare: Path) -> None:
    before = _refs(bare)
    status, _, err = run_main(bare, "create", "summary", "--ref", "main")
    assert status == 1
    assert "'main' is not a branch reference" in err
    assert "refs/heads/<branch>" in err
    assert _refs(bare) == before


def test_a_new_branch_is_born_on_first_write(bare: Path) -> None:
    Cli(bare).ok("create", "summary", "--ref", "refs/heads/fresh")
    assert git(bare, "ls-tree", "-r", "--name-only", "fresh").split() == [
        "prompts/summary/prompt.yaml",
        "prompts/summary/versions/1.yaml",
    ]


def test_a_bot_pushes_from_a_bare_repository(bare: Path, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    Cli(bare).ok("promote", "greeting", "2", "--yes", *BOT_PUSH)
    assert remote_tip(remote) == git(bare, "rev-parse", "main").strip()


def test_a_bot_rebuilds_on_the_remote_tip(bare: Path, tmp_path: Path) -> None:
    """A bare clone has no remote-tracking branches: the remote's tip comes through FETCH_HEAD."""
    remote = tmp_path / "remote.git"
    Cli(tmp_path / "seeder").ok("create", "summary", "--push")
    result = Cli(bare).ok("promote", "greeting", "2", "--yes", *BOT_PUSH)
    assert "rebuilt on newer commits there" in result.output
    assert subjects(remote, "main", 2) == ["promote(greeting): v1 -> v2", "create(summary): v1"]
    assert git(bare, "rev-parse", "main").strip() == remote_tip(remote)


def test_bare_repository_as_a_real_subprocess(bare: Path) -> None:
    done = promptship(
        bare.parent,
        "--repo",
        str(bare),
        "promote",
        "greeting",
        "2",
        "--yes",
        "--ref",
        "refs/heads/main",
    )
    assert done.returncode == 0, done.stderr
    assert subjects(bare, "main", 1) == ["promote(greeting): v1 -> v2"]


def _pre_push_moves_main_to(bare: Path, rev: str) -> None:
    """A hook standing in for another process that moves the bot's branch during the push."""
    target = git(bare, "rev-parse", rev).strip()
    install_hook(bare, "pre-push", f"git update-ref refs/heads/main {target}")


def test_a_branch_moved_meanwhile_within_the_pushed_history_catches_up(
    bare: Path, tmp_path: Path
) -> None:
    _pre_push_moves_main_to(bare, "main~1")
    result = Cli(bare).ok("new-version", "farewell", *BOT_PUSH)
    assert "note:" not in result.output
    assert git(bare, "rev-parse", "main").strip() == remote_tip(tmp_path / "remote.git")


def test_a_branch_moved_meanwhile_elsewhere_is_left_with_a_note(bare: Path, tmp_path: Path) -> None:
    other = git(bare, "commit-tree", "main~2^{tree}", "-p", "main~2", "-m", "other work").strip()
    git(bare, "branch", "elsewhere", other)
    _pre_push_moves_main_to(bare, "elsewhere")
    status, out, err = run_main(bare, "new-version", "farewell", *BOT_PUSH)
    assert status == 0, (out, err)
    assert "pushed to origin/main" in out
    assert "the local branch moved while pushing and was left as it is" in err
    assert git(bare, "rev-parse", "main").strip() == git(bare, "rev-parse", "elsewhere").strip()
    assert subjects(tmp_path / "remote.git", "main", 1) == ["new-version(farewell): v2"]
