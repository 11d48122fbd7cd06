"""What every command shares: where the repository is, opened once and only when needed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from registry.gitstore import CommitResult, GitSnapshot, GitStore
    from registry.snapshot import ChangeSet, Snapshot

__all__ = ["Session", "pass_session"]


@dataclass
class Session:
    repo: str | None
    _stores: dict[str | None, GitStore] = field(default_factory=dict)

    def store(self, ref: str | None = None) -> GitStore:
        """The repository, writing to ``ref`` (a branch) or to the checked-out branch."""
        if ref not in self._stores:
            from registry.gitstore import GitStore

            self._stores[ref] = GitStore.open(self.repo, ref=ref)
        return self._stores[ref]

    def snapshot(self, rev: str | None = None) -> GitSnapshot:
        """What reading commands read: the checked-out tip, or any revision."""
        store = self.store()
        return store.snapshot() if rev is None else store.snapshot_at(rev)

    def commit(
        self,
        build: Callable[[Snapshot, str, str], ChangeSet],
        *,
        ref: str | None,
        by: str | None,
        base: GitSnapshot | None = None,
    ) -> CommitResult:
        """Commit what ``build(snapshot, actor, now)`` returns on the branch."""
        store = self.store(ref)
        identity = store.identity(by)
        actor = str(identity)
        return store.write(lambda snap, now: build(snap, actor, now), identity=identity, base=base)


pass_session = click.make_pass_decorator(Session)
