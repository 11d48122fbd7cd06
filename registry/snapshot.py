"""Snapshots (the registry's files as of one tree) and change sets (what an operation writes).

The core reads a ``Snapshot`` and returns a ``ChangeSet``; it never touches git or the disk. Git
trees, a work tree and plain dictionaries (in tests) all serve as snapshots.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from .history import HistoryRecord

__all__ = [
    "ChangeSet",
    "DictSnapshot",
    "Entry",
    "EntryKind",
    "Snapshot",
    "Tree",
    "apply_changes",
]

EntryKind = Literal["file", "dir", "symlink", "executable", "other"]
"""What a folder entry is; ``executable`` is a file git checks out with its executable bit
(mode 100755), which the registry refuses."""


@dataclass(frozen=True, slots=True)
class Entry:
    name: str
    kind: EntryKind


class Snapshot(Protocol):
    """Read access to one consistent state of a repository's files."""

    def read(self, path: str) -> bytes | None:
        """The bytes of the regular file at ``path``, or ``None`` if there is none."""
        ...

    def list_dir(self, path: str) -> tuple[Entry, ...] | None:
        """The entries of the directory at ``path``, or ``None`` if it is not a directory."""
        ...


class Tree(Snapshot, Protocol):
    """A snapshot that names contents: equal ids mean equal contents (a git tree's object ids),
    so comparing two trees skips what did not change without reading it."""

    def object_id(self, path: str) -> str | None:
        """The id of the file or folder at ``path``, or ``None`` if there is none."""
        ...


@dataclass(frozen=True, kw_only=True)
class ChangeSet:
    """Files to write (``None`` removes a file or a whole folder) and the commit to write them in."""

    prompt: str | None
    writes: Mapping[str, bytes | None]
    subject: str
    body: str = ""
    trailers: tuple[tuple[str, str], ...] = ()
    version: int | None = None
    record: HistoryRecord | None = None

    def message(self) -> str:
        parts = [self.subject]
        if self.body.strip():
            parts.append(self.body.strip())
        if self.trailers:
            parts.append("\n".join(f"{k}: {v}" for k, v in self.trailers))
        return "\n\n".join(parts) + "\n"


@dataclass(frozen=True)
class DictSnapshot:
    """A snapshot held in memory: ``path -> bytes``; folders are implied by the paths."""

    files: Mapping[str, bytes] = field(default_factory=dict)
    symlinks: frozenset[str] = frozenset()

    def read(self, path: str) -> bytes | None:
        if path in self.symlinks:
            return None
        return self.files.get(path)

    def object_id(self, path: str) -> str | None:
        """A digest of the file, or of every file under the folder, at ``path``."""
        if path in self.files or path in self.symlinks:
            kind = "link" if path in self.symlinks else "file"
            return hashlib.sha1(kind.encode() + self.files.get(path, b"")).hexdigest()
        prefix = path.rstrip("/") + "/"
        inside = sorted(n for n in (*self.files, *self.symlinks) if n.startswith(prefix))
        if not inside:
            return None
        digest = hashlib.sha1()
        for name in inside:
            digest.update(f"{name}\0{self.object_id(name)}\0".encode())
        return digest.hexdigest()

    def list_dir(self, path: str) -> tuple[Entry, ...] | None:
        prefix = path.rstrip("/") + "/" if path else ""
        kinds: dict[str, EntryKind] = {}
        for name in (*self.files, *self.symlinks):
            if not name.startswith(prefix):
                continue
            head, sep, _ = name[len(prefix) :].partition("/")
            if sep:
                kinds[head] = "dir"
            else:
                kinds.setdefault(head, "symlink" if name in self.symlinks else "file")
        if not kinds:
            return None
        return tuple(Entry(n, kinds[n]) for n in sorted(kinds))


def apply_changes(snapshot: DictSnapshot, changes: ChangeSet) -> DictSnapshot:
    """The snapshot after ``changes``: for tests and chained operations in memory."""
    files = dict(snapshot.files)
    for path, data in changes.writes.items():
        if data is None:
            prefix = path.rstrip("/") + "/"
            for name in [n for n in files if n == path or n.startswith(prefix)]:
                del files[name]
        else:
            files[path] = data
    return DictSnapshot(files, snapshot.symlinks)
