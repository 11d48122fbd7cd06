"""A registry in a real git repository, changed through promptship and by hand, and checked
against a base: the harness of the tests of the check's rules."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers.cli import Cli, run_main
from helpers.gitrepo import git


@dataclass
class Registry:
    path: Path

    @property
    def cli(self) -> Cli:
        return Cli(self.path)

    def ps(self, *args: str) -> None:
        """Run promptship; it must succeed."""
        self.cli.ok(*args)

    def git(self, *args: str) -> str:
        return git(self.path, *args)

    def head(self) -> str:
        return self.git("rev-parse", "HEAD").strip()

    def read(self, rel: str) -> str:
        return (self.path / rel).read_text(encoding="utf-8")

    def write(self, rel: str, data: str | bytes) -> None:
        file = self.path / rel
        file.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            data = data.encode("utf-8")
        file.write_bytes(data)

    def replace(self, rel: str, old: str, new: str) -> None:
        text = self.read(rel)
        assert old in text, (rel, old, text)
        self.write(rel, text.replace(old, new, 1))

    def remove(self, rel: str) -> None:
        self.git("rm", "-q", "-r", rel)

    def commit(self, message: str = "hand edit") -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "--no-verify", "-m", message)
        return self.head()

    def check(self, *args: str) -> tuple[int, dict[str, Any], str]:
        """``check ... --format json``: exit status, the report, standard error."""
        status, out, err = run_main(self.path, "check", *args, "--format", "json")
        return status, (json.loads(out) if out.strip() else {}), err

    def rules(self, base: str = "base") -> set[str]:
        """The rules ``check --base`` reports (it must fail when any is)."""
        status, report, err = self.check("--base", base)
        found = {v["rule"] for v in report["violations"]}
        assert status == (1 if found else 0), (status, report, err)
        return found


def build_base(registry: Registry) -> None:
    """greeting: v1 archived (was production), v2 published, v3 draft, v4 archived without ever
    being published; faq: v1 published; notes: v1 draft. Branch 'base' marks it."""
    r = registry
    r.ps("create", "greeting", "--content", "Hello {{ name }}!", "--meta", "model=gpt-4o")
    r.ps("promote", "greeting", "1", "--notes", "Initial release", "--yes")
    r.ps("new-version", "greeting", "--from", "1", "--content", "Hi {{ name }}, welcome!")
    r.ps("promote", "greeting", "2", "--notes", "Friendlier", "--yes")
    r.ps("new-version", "greeting", "--content", "Hey {{ name }}.")
    r.ps("new-version", "greeting", "--content", "Yo {{ name }}.")
    r.ps("archive", "greeting", "4")
    r.ps("create", "faq", "--content", "Answer {{ question }} briefly.")
    r.ps("promote", "faq", "1", "--notes", "First", "--yes")
    r.ps("create", "notes", "--content", "Summarise {{ thread }}.")
    r.git("branch", "base")
