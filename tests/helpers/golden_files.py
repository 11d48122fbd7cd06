"""Writing and committing a prompt's tests.yaml in a real repository."""

from __future__ import annotations

from pathlib import Path

from helpers.gitrepo import git


def commit_tests(repo: Path, text: str, prompt: str = "greeting") -> None:
    (repo / f"prompts/{prompt}/tests.yaml").write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"Golden tests for {prompt}")
