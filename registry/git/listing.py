"""Prompt names and version numbers read from a commit's tree alone, without opening a file:
what shell completion offers, fast enough to run on every press of Tab."""

from __future__ import annotations

import os
import re

import pygit2

from ..names import PROMPTS_DIR

__all__ = ["Listing", "open_listing"]

_VERSION_FILE = re.compile(r"([1-9][0-9]{0,8})\.yaml\Z")


class Listing:
    """The ``prompts/`` folder of one commit."""

    def __init__(self, tree: pygit2.Tree | None) -> None:
        self._tree = tree

    def _folder(self, *parts: str) -> pygit2.Tree | None:
        node: pygit2.Object | None = self._tree
        for part in parts:
            if not isinstance(node, pygit2.Tree) or part not in node:
                return None
            node = node[part]
        return node if isinstance(node, pygit2.Tree) else None

    def prompt_names(self) -> list[str]:
        folder = self._folder()
        if folder is None:
            return []
        return sorted(e.name for e in folder if isinstance(e, pygit2.Tree) and e.name)

    def version_numbers(self, name: str) -> list[int]:
        folder = self._folder(name, "versions")
        if folder is None:
            return []
        found = (_VERSION_FILE.match(e.name or "") for e in folder if isinstance(e, pygit2.Blob))
        return sorted(int(m.group(1)) for m in found if m)

    def has_production(self, name: str) -> bool:
        folder = self._folder(name)
        return folder is not None and "production.yaml" in folder


def open_listing(repo: str | None, rev: str | None = None) -> Listing:
    """The listing of ``rev`` (default: HEAD) in the repository at or around ``repo`` (default:
    the current folder); empty where there is no repository, commit or ``prompts/``."""
    found = pygit2.discover_repository(repo or os.getcwd())
    if found is None:
        return Listing(None)
    repository = pygit2.Repository(found)
    if rev is None and repository.head_is_unborn:
        return Listing(None)
    commit = repository.revparse_single(rev or "HEAD").peel(pygit2.Commit)
    prompts = commit.tree[PROMPTS_DIR] if PROMPTS_DIR in commit.tree else None  # noqa: SIM401  # a pygit2 Tree has no get()
    return Listing(prompts if isinstance(prompts, pygit2.Tree) else None)
