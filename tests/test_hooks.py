"""The repository's pre-commit and commit-msg hooks: promptship's commits run none of them (as
'git commit-tree' does), unless 'promptship.hooks' is on; then they run as 'git commit' runs
them, see the commit's files as staged, may edit the message, and a refusal writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.cli import Cli, run_main
from helpers.gitrepo import git
from helpers.remotes import install_hook, seeded_remote


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    remote = seeded_remote(tmp_path)
    path = tmp_path / "alice"
    git(tmp_path, "clone", "-q", str(remote), str(path))
    return path


REFUSE = 'echo "prompts must be reviewed by legal" >&2\nexit 1'


def test_hooks_do_not_run_unless_turned_on(clone: Path) -> None:
    install_hook(clone / ".git", "pre-commit", REFUSE)
    install_hook(clone / ".git", "commit-msg", REFUSE)
    Cli(clone).ok("archive", "greeting", "3")
    assert git(clone, "log", "-1", "--format=%s") == "archive(greeting): v3\n"


def test_a_refusing_pre_commit_hook_stops_the_command_with_nothing_written(clone: Path) -> None:
    git(clone, "config", "promptship.hooks", "true")
    install_hook(clone / ".git", "pre-commit", REFUSE)
    before = git(clone, "for-each-ref")
    index = (clone / ".git/index").read_bytes()
    status, _, err = run_main(clone, "promote", "greeting", "3", "--yes")
    assert status == 1
    assert err.startswith("error: the pre-commit hook refused the commit:\n")
    assert "prompts must be reviewed by legal" in err and "\nhint: " in err
    assert git(clone, "for-each-ref") == before
    assert (clone / ".git/index").read_bytes() == index
    assert git(clone, "status", "--porcelain") == ""


def test_pre_commit_sees_the_change_staged_and_commit_msg_edits_the_message(
    clone: Path, tmp_path: Path
) -> None:
    seen = tmp_path / "seen"
    git(clone, "config", "promptship.hooks", "true")
    install_hook(clone / ".git", "pre-commit", f'git diff --cached --name-only > "{seen}"')
    install_hook(clone / ".git", "commit-msg", 'printf "\\nChange-Id: I0123abcd\\n" >> "$1"')
    Cli(clone).ok("promote", "greeting", "3", "--yes", "--notes", "Warmer")
    assert seen.read_text().split() == [
        "prompts/greeting/history.yaml",
        "prompts/greeting/production.yaml",
        "prompts/greeting/versions/1.yaml",
        "prompts/greeting/versions/3.yaml",
    ]
    message = git(clone, "log", "-1", "--format=%B")
    assert message.startswith("promote(greeting): v1 -> v3\n\nWarmer\n")
    assert message.rstrip().endswith("Change-Id: I0123abcd")
    assert git(clone, "status", "--porcelain") == ""


def test_core_hooks_path_and_a_bare_repository(tmp_path: Path) -> None:
    remote = seeded_remote(tmp_path)
    bare = tmp_path / "bot.git"
    git(tmp_path, "clone", "-q", "--bare", str(remote), str(bare))
    hooks = tmp_path / "team-hooks"
    (tmp_path / "team-hooks-root").mkdir()
    install_hook(tmp_path / "team-hooks-root", "commit-msg", REFUSE)
    (tmp_path / "team-hooks-root/hooks").rename(hooks)
    git(bare, "config", "core.hooksPath", str(hooks))
    git(bare, "config", "promptship.hooks", "true")
    before = git(bare, "rev-parse", "main")
    status, _, err = run_main(bare, "archive", "greeting", "3", "--ref", "refs/heads/main")
    assert status == 1 and "the commit-msg hook refused the commit" in err
    assert git(bare, "rev-parse", "main") == before
