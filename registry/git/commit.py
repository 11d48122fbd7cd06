"""A change set as a commit object: its tree built in the object database from the parent's tree,
touching only the written paths (so its cost does not grow with the registry), and its author,
committer and time. No branch points to the commit yet; ``update_ref`` moves one to it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime, timezone

import pygit2
from pygit2.enums import FileMode

from ..identity import Identity
from ..snapshot import ChangeSet
from .gitcommit import write_commit
from .store import BlobCache

__all__ = ["build_tree", "create_commit", "durable"]


def durable() -> None:
    """Have libgit2 fsync the objects and refs it writes from now on (it does not by default),
    so a crash right after a command cannot leave a branch naming a commit that was lost."""
    pygit2.settings.enable_fsync_gitdir(True)


def create_commit(
    repo: pygit2.Repository,
    parent: pygit2.Commit | None,
    changes: ChangeSet,
    identity: Identity,
    now: str,
    blobs: BlobCache | None = None,
) -> pygit2.Oid:
    """The commit of ``changes`` on ``parent``, authored and committed by ``identity`` at
    ``now`` (UTC, ISO 8601 with Z, the time the change set records)."""
    tree = build_tree(repo, parent.tree if parent is not None else None, changes.writes, blobs)
    stamp = int(
        datetime.strptime(now, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
    )
    signature = pygit2.Signature(identity.name, identity.email, stamp, 0)
    parents = [parent.id] if parent is not None else []
    return write_commit(repo, signature, changes.message(), tree, parents)


def build_tree(
    repo: pygit2.Repository,
    base: pygit2.Tree | None,
    writes: Mapping[str, bytes | None],
    blobs: BlobCache | None = None,
) -> pygit2.Oid:
    """A tree that is ``base`` with ``writes`` applied, rebuilding only the touched folders."""
    return _build(repo, base, writes, blobs or BlobCache(budget=0)) or repo.TreeBuilder().write()


def _build(
    repo: pygit2.Repository,
    base: pygit2.Tree | None,
    writes: Mapping[str, bytes | None],
    blobs: BlobCache,
) -> pygit2.Oid | None:
    builder = repo.TreeBuilder(base) if base is not None else repo.TreeBuilder()
    below: dict[str, dict[str, bytes | None]] = defaultdict(dict)
    for path, data in writes.items():
        head, sep, rest = path.partition("/")
        if sep:
            below[head][rest] = data
        elif data is None:
            if builder.get(head) is not None:
                builder.remove(head)
        else:
            blob = repo.create_blob(data)
            blobs.keep(blob, data)
            builder.insert(head, blob, FileMode.BLOB)
    for head, sub in below.items():
        existing = base[head] if base is not None and head in base else None
        subtree = existing if isinstance(existing, pygit2.Tree) else None
        oid = _build(repo, subtree, sub, blobs)
        if oid is None:
            if builder.get(head) is not None:
                builder.remove(head)
        else:
            builder.insert(head, oid, FileMode.TREE)
    return builder.write() if len(builder) else None
