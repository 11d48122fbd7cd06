"""Prompt names and version numbers read from a commit's tree alone, without opening a file:
what shell completion offers on every press of Tab. One ``git ls-tree`` each, which starts
sooner than loading libgit2 and reads only the folders asked for."""

from __future__ import annotations

import re

from ..names import PROMPTS_DIR
from .program import run_git

__all__ = ["Listing"]

_VERSION_FILE = re.compile(r"versions/([1-9][0-9]{0,8})\.yaml\Z")


class Listing:
    """The ``prompts/`` folder of ``rev`` (default: HEAD) in the repository at or around
    ``repo`` (default: the current folder). Where git cannot read it (no repository, no commit,
    a damaged object) every answer is empty."""

    def __init__(self, repo: str | None, rev: str | None = None) -> None:
        self._where = ["-C", repo] if repo else []
        self._rev = rev or "HEAD"

    def _entries(self, *args: str) -> list[tuple[str, str]]:
        """(type, path) of each entry ``git ls-tree`` lists."""
        done = run_git(*self._where, "ls-tree", "-z", *args)
        if done.returncode != 0:
            return []
        rows = done.stdout.decode("utf-8", errors="replace").split("\0")
        found = []
        for row in filter(None, rows):
            info, _, path = row.partition("\t")
            found.append((info.split(" ")[1] if info.count(" ") >= 2 else "", path))
        return found

    def prompt_names(self) -> list[str]:
        entries = self._entries(f"{self._rev}:{PROMPTS_DIR}")
        return sorted(path for kind, path in entries if kind == "tree")

    def _files(self, name: str) -> list[str]:
        if not name or "/" in name or name.startswith("."):
            return []
        return [p for _, p in self._entries("-r", f"{self._rev}:{PROMPTS_DIR}/{name}")]

    def version_numbers(self, name: str) -> list[int]:
        found = (_VERSION_FILE.match(path) for path in self._files(name))
        return sorted(int(m.group(1)) for m in found if m)

    def versions_and_production(self, name: str) -> tuple[list[int], bool]:
        """The version numbers of ``name`` and whether it has a production pointer, in one
        look."""
        files = self._files(name)
        found = (_VERSION_FILE.match(path) for path in files)
        return sorted(int(m.group(1)) for m in found if m), "production.yaml" in files
