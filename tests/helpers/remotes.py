"""Helpers for tests that need a shared remote: a bare repository seeded with a small registry,
clones of it, and a fingerprint of a clone's whole local state."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from helpers.cli import Cli
from helpers.gitrepo import files_under, git

CHANGING_COMMANDS = [
    (["create", "summary", "--content", "Sum up {{ text }}"], "create(summary): v1"),
    (["new-version", "farewell", "--from", "1"], "new-version(farewell): v2 from v1"),
    (["edit", "greeting", "3", "--content", "Yo {{ name }}"], "edit(greeting): v3"),
    (["archive", "greeting", "3"], "archive(greeting): v3"),
    (["update", "farewell", "--tag", "email"], "update(farewell): tags"),
    (["delete", "farewell"], "delete(farewell)"),
    (["init"], "init: prompt registry check, .gitattributes, CODEOWNERS, file schemas"),
    (["promote", "greeting", "3", "--yes"], "promote(greeting): v1 -> v3"),
]
"""Every changing command but unarchive (which needs an archived version first), run on the
seeded registry, and the subject of the commit it makes."""


def install_hook(gitdir: Path, name: str, script: str) -> None:
    """A git hook: ``script`` is the body of a /bin/sh script."""
    hook = gitdir / "hooks" / name
    hook.parent.mkdir(exist_ok=True)
    hook.write_text("#!/bin/sh\n" + script + "\n")
    hook.chmod(0o755)


def seeded_remote(root: Path) -> Path:
    """A bare ``remote.git`` whose main holds 'greeting' (v1 in production, v2 and v3 drafts)
    and 'farewell' (v1 draft)."""
    remote = root / "remote.git"
    git(root, "init", "-q", "--bare", "-b", "main", str(remote))
    seeder = clone(remote, root / "seeder")
    cli = Cli(seeder)
    cli.ok("create", "greeting", "--content", "Hello {{ name }}")
    cli.ok("promote", "greeting", "1", "--yes", "--notes", "First")
    cli.ok("new-version", "greeting", "--content", "Hi {{ name }}")
    cli.ok("new-version", "greeting", "--content", "Hey {{ name }}")
    cli.ok("create", "farewell", "--content", "Bye {{ name }}")
    git(seeder, "push", "-q", "origin", "main")
    return remote


def clone(remote: Path | str, path: Path) -> Path:
    git(path.parent, "clone", "-q", str(remote), str(path))
    return path


def remote_tip(remote: Path, branch: str = "main") -> str:
    return git(remote, "rev-parse", f"refs/heads/{branch}").strip()


@dataclass(frozen=True)
class LocalState:
    """Everything a failed command must leave as it was: refs, index, files, status."""

    refs: str
    index: bytes
    files: dict[str, bytes]
    status: str


def local_state(path: Path) -> LocalState:
    index = path / ".git" / "index"
    return LocalState(
        refs=git(path, "for-each-ref", "--format=%(refname) %(objectname)", "refs/heads"),
        index=index.read_bytes() if index.exists() else b"",
        files=files_under(path) if (path / "prompts").exists() else {},
        status=git(path, "status", "--porcelain"),
    )


def subjects(path: Path, rev: str = "HEAD", count: int = 5) -> list[str]:
    return git(path, "log", "--format=%s", f"-{count}", rev).splitlines()
