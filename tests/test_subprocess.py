"""promptship as a user runs it: a real process, its output streams and exit statuses."""

from __future__ import annotations

import json
from pathlib import Path

from helpers.cli import promptship
from helpers.gitrepo import git, status_clean


def test_a_whole_flow_as_subprocesses(repo: Path) -> None:
    assert promptship(repo, "create", "greeting", "--content", "Hi {{ name }}").returncode == 0
    done = promptship(repo, "promote", "greeting", "1", "--yes", "--notes", "First")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("promoted greeting v1 to production (commit ")
    shown = json.loads(promptship(repo, "show", "greeting", "--json").stdout)
    assert (shown["version"], shown["status"], shown["is_production"]) == (1, "published", True)
    assert promptship(repo, "render", "greeting", "--var", "name=Ada").stdout == "Hi Ada\n"
    assert status_clean(repo)
    assert git(repo, "log", "--format=%s").split("\n")[:2] == [
        "promote(greeting): v1",
        "create(greeting): v1",
    ]


def test_refusal_is_one_error_and_a_hint_on_stderr(repo: Path) -> None:
    done = promptship(repo, "show", "nope")
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "error: no prompt named 'nope'",
        "hint: see which prompts there are (promptship list)",
    ]


def test_promote_from_a_script_needs_yes(repo: Path) -> None:
    promptship(repo, "create", "greeting", "--content", "Hi")
    done = promptship(repo, "promote", "greeting", "1", input="y\n")
    assert done.returncode == 1 and "pass --yes" in done.stderr
    assert not (repo / "prompts/greeting/production.yaml").exists()


def test_usage_error_is_exit_2(repo: Path) -> None:
    done = promptship(repo, "promote")
    assert done.returncode == 2
    assert "Usage:" in done.stderr and "Traceback" not in done.stderr


def test_help_and_version(repo: Path) -> None:
    assert "promote" in promptship(repo, "--help").stdout
    assert promptship(repo, "--version").stdout.startswith("promptship ")
