"""The fixtures every test module may use: an isolated git configuration (autouse), an empty
repository, the CLI on it, and a small registry."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pygit2
import pytest

from helpers.cli import Cli
from helpers.dists import Dists, build_dists
from helpers.gitrepo import git
from helpers.server import Servers


@pytest.fixture(autouse=True)
def isolated_git(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the real home's git config; the author is Alice unless a test
    says otherwise."""
    isolate(monkeypatch, tmp_path_factory.mktemp("home"))


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Servers]:
    """Real ``promptship serve`` processes, every one stopped when the test ends."""
    started = Servers(tmp_path)
    try:
        yield started
    finally:
        started.stop_all()


def isolate(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """The isolated git environment of ``isolated_git``, for fixtures of a wider scope."""
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
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


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """An empty clone-like repository on branch main, with a work tree."""
    path = tmp_path / "registry"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    return path


@pytest.fixture
def cli(repo: Path) -> Cli:
    return Cli(repo)


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


@pytest.fixture(scope="session")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Dists:
    """The sdist and the wheel of this checkout, built once for every test that installs them."""
    return build_dists(tmp_path_factory.mktemp("dist"))
