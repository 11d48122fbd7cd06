"""What every command shares: where the repository is, opened once and only when needed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import click

from .options import LOCAL_ONLY, Publish

if TYPE_CHECKING:
    from registry.check.pool import TreeSource
    from registry.git.branch import BranchStart
    from registry.git.store import CommitResult, GitSnapshot, GitStore, Operation
    from registry.identity import Identity
    from registry.snapshot import ChangeSet, Snapshot

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

    def commit(
        self,
        build: Callable[[Snapshot, str, str], ChangeSet],
        *,
        ref: str | None,
        by: str | None,
        publish: Publish = LOCAL_ONLY,
    ) -> CommitResult:
        """Commit what ``build(snapshot, actor, now)`` returns on the branch (and push it)."""
        store = self.store(ref)
        identity = store.identity(by)
        actor = str(identity)
        return self.write(
            store,
            lambda snap, now: build(snap, actor, now),
            identity=identity,
            base=None,
            publish=publish,
        )

    def branch_start(self, publish: Publish) -> BranchStart | None:
        """Where ``--branch`` starts (``--from``, else the remote's main branch, fetched first
        when the branch is to be pushed); ``None`` without ``--branch``."""
        if publish.branch is None:
            return None
        from registry.git.branch import resolve_start

        return resolve_start(self.store(), publish.start, remote=publish.remote, fetch=publish.push)

    def write(
        self,
        store: GitStore,
        operation: Operation,
        *,
        identity: Identity,
        base: GitSnapshot | None,
        publish: Publish,
        start: BranchStart | None = None,
    ) -> CommitResult:
        """The one commit of a changing command: on the branch, pushed with ``--push``, or on a
        new branch from ``start`` with ``--branch``."""
        if publish.branch is not None and start is not None:
            from registry.git.branch import commit_on_new_branch

            return commit_on_new_branch(
                store,
                operation,
                identity=identity,
                branch=publish.branch,
                start=start,
                push=publish.push,
            )
        if publish.push:
            from registry.git.remote import write_and_push

            return write_and_push(
                store, operation, identity=identity, base=base, remote=publish.remote
            )
        return store.write(operation, identity=identity, base=base)


pass_session = click.make_pass_decorator(Session)
