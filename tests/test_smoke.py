from __future__ import annotations

from pathlib import Path

from helpers.cli import Cli, promptship
from helpers.gitrepo import changed_files, status_clean


def test_promote_changes_exactly_four_files(sample: Cli, repo: Path) -> None:
    sample.ok("promote", "greeting", "2", "--notes", "Friendlier", "--yes")
    assert changed_files(repo) == [
        "prompts/greeting/history.yaml",
        "prompts/greeting/production.yaml",
        "prompts/greeting/versions/1.yaml",
        "prompts/greeting/versions/2.yaml",
    ]
    assert status_clean(repo)


def test_subprocess_help(repo: Path) -> None:
    done = promptship(repo, "--help")
    assert done.returncode == 0
    assert "promote" in done.stdout
