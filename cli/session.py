"""What every command shares: where the repository is, opened once and only when needed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from registry.check.pool import TreeSource
    from registry.editor import Editor
    from registry.git.store import GitSnapshot, GitStore

__all__ = ["Session", "pass_session"]


@dataclass
class Session:
    repo: str | None
    _stores: dict[str | None, GitStore] = field(default_factory=dict)

    def store(self, ref: str | None = None) -> GitStore:
        """The repository, writing to ``ref`` (a branch) or to the checked-out branch."""
        if ref not in self._stores:
            from registry.git.store import GitStore

            self._stores[ref] = GitStore.open(self.repo, ref=ref)
        return self._stores[ref]

    def snapshot(self, rev: str | None = None) -> GitSnapshot:
        """What reading commands read: the checked-out tip, or any revision."""
        store = self.store()
        return store.snapshot() if rev is None else store.snapshot_at(rev)

    def work_tree(self, rev: str | None, within: str | None = None) -> TreeSource | None:
        """The work tree's files as a commit would take them (what git ignores and does not
        track left out, under ``within`` or all of ``prompts/``), for commands that try what is
        about to be committed; ``None`` when ``rev`` is given or the repository is bare."""
        store = self.store()
        if rev is not None or store.workdir is None:
            return None
        from registry.check.pool import TreeSource
        from registry.git.worktree import ignored_paths
        from registry.names import PROMPTS_DIR

        ignored = ignored_paths(store.repo, within or PROMPTS_DIR)
        return TreeSource(folder=str(store.workdir), ignored=tuple(ignored))

    def editor(self, ref: str | None = None, by: str | None = None) -> Editor:
        """The write API on the repository, writing to ``ref`` (a branch) or the checked-out
        branch, as ``by`` (else the configured author)."""
        from registry.editor import Editor

        from .interrupts import current

        handler = current()
        return Editor(self.store(ref), by, on_landed=handler.hold if handler else None)


pass_session = click.make_pass_decorator(Session)
