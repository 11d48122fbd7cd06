"""Real git repositories in tests: the git program as the reference, and what a test reads
back from a repository (files, commits, status)."""

from __future__ import annotations

import subprocess
from pathlib import Path

ALICE = "Alice Example <alice@example.com>"
BOB = "Bob Example <bob@example.com>"


def git(cwd: Path, *args: str, check: bool = True) -> str:
    """Run the git CLI (the reference implementation) and return its stdout."""
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {done.stderr}")
    return done.stdout


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


def tree_files(path: Path, rev: str = "HEAD") -> list[str]:
    return sorted(git(path, "ls-tree", "-r", "--name-only", rev).split())
