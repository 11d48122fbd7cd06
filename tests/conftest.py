"""Shared fixtures: real git repositories in temporary folders, with the author pinned and the
real home folder out of reach."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pygit2
import pytest
from click.testing import CliRunner

BOB = "Bob Example <bob@example.com>"


@pytest.fixture(autouse=True)
def isolated_git(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the real home's git config; the author is Alice unless a test
    says otherwise."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var, value in {
        "GIT_AUTHOR_NAME": "Alice Example",
        "GIT_AUTHOR_EMAIL": "alice@example.com",
        "GIT_COMMITTER_NAME": "Alice Example",
        "GIT_COMMITTER_EMAIL": "alice@example.com",
    }.items():
        monkeypatch.setenv(var, value)
    monkeypatch.delenv("EMAIL", raising=False)
    # libgit2 reads the global config once per process; point it at the isolated home too.
    pygit2.settings.search_path[pygit2.enums.ConfigLevel.GLOBAL] = str(home)
    pygit2.settings.search_path[pygit2.enums.ConfigLevel.XDG] = str(home / ".config")
    pygit2.settings.search_path[pygit2.enums.ConfigLevel.SYSTEM] = str(home / "system")


def git(cwd: Path, *args: str, check: bool = True) -> str:
    """Run the git CLI (the reference implementation) and return its stdout."""
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {done.stderr}")
    return done.stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """An empty clone-like repository on branch main, with a work tree."""
    path = tmp_path / "registry"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    return path


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    stdout_bytes: bytes
    stderr_bytes: bytes

    @property
    def stdout(self) -> str:
        return self.stdout_bytes.decode()

    @property
    def stderr(self) -> str:
        return self.stderr_bytes.decode()

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@dataclass
class Cli:
    """Runs promptship in process through its real exit point (click's CliRunner isolation)."""

    path: Path

    def __call__(self, *args: str, input: str | None = None) -> Outcome:
        from cli.main import main

        runner = CliRunner()
        with runner.isolation(input=input) as (out, err, _):
            status = main(["--repo", str(self.path), *args])
        return Outcome(status, out.getvalue(), err.getvalue())

    def ok(self, *args: str, input: str | None = None) -> Outcome:
        result = self(*args, input=input)
        assert result.exit_code == 0, result.output
        return result


@pytest.fixture
def cli(repo: Path) -> Cli:
    return Cli(repo)


def run_main(path: Path, *args: str) -> tuple[int, str, str]:
    """Runs the real exit point in process: (status, stdout, stderr)."""
    outcome = Cli(path)(*args)
    return outcome.exit_code, outcome.stdout, outcome.stderr


def promptship(
    cwd: Path, *args: str, input: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Runs promptship as a real subprocess, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        input=input,
        env={**os.environ, **(env or {})},
        check=False,
    )


def status_clean(path: Path) -> bool:
    return git(path, "status", "--porcelain") == ""


def files_under(path: Path, folder: str = "prompts") -> dict[str, bytes]:
    root = path / folder
    return {
        str(p.relative_to(path)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def head(path: Path) -> str:
    return git(path, "rev-parse", "HEAD").strip()


def changed_files(path: Path, rev: str = "HEAD") -> list[str]:
    return sorted(git(path, "show", "--name-only", "--format=", rev).split())


@pytest.fixture
def sample(cli: Cli) -> Cli:
    """A registry with prompt 'greeting': v1 promoted, v2 draft."""
    cli.ok(
        "create",
        "greeting",
        "--content",
        "Hello, {{ name }}! Welcome to {{ app_name }}.",
        "--description",
        "Greets a new user",
        "--tag",
        "onboarding",
    )
    cli.ok("promote", "greeting", "1", "--notes", "Initial release", "--yes")
    cli.ok(
        "new-version",
        "greeting",
        "--from",
        "1",
        "--content",
        "Hi {{ name }}, welcome to {{ app_name }}!",
    )
    return cli


def tree_files(path: Path, rev: str = "HEAD") -> list[str]:
    return sorted(git(path, "ls-tree", "-r", "--name-only", rev).split())


__all__: Sequence[str] = [
    "BOB",
    "Cli",
    "changed_files",
    "files_under",
    "git",
    "head",
    "promptship",
    "run_main",
    "status_clean",
    "tree_files",
]
