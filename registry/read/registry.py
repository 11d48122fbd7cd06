"""The read API for applications: a registry opened on a git ref, read one commit at a time.

``Registry.open(path, ref=...)`` reads from the object database of any repository, a clone or a
bare one, without a checkout. Every answer comes from the commit the ref named when the registry
was opened or last refreshed, so a reader never mixes two promotions; ``refresh()`` re-reads the
ref (a file read, no parsing) and a promotion shows the moment the ref has moved. There is no
time-to-live: what was read from a commit stays valid for that commit.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..snapshot import Entry
from .versions import PromptVersion, SnapshotReader

if TYPE_CHECKING:
    from ..git.store import GitSnapshot, GitStore
    from ..templates import Rendered
    from ..web.connect import ConnectedRegistry

__all__ = ["Registry"]


class _Serialised:
    """A commit's files read under one lock: a libgit2 repository must not be used by two
    threads at once. Only first lookups read files; remembered answers take no lock."""

    def __init__(self, snapshot: GitSnapshot, lock: threading.Lock) -> None:
        self._snapshot = snapshot
        self._lock = lock

    def read(self, path: str) -> bytes | None:
        with self._lock:
            return self._snapshot.read(path)

    def list_dir(self, path: str) -> tuple[Entry, ...] | None:
        with self._lock:
            return self._snapshot.list_dir(path)


class Registry:
    """A registry as of one commit of a ref. Safe to share between threads: ``refresh()`` swaps
    the commit in one step, and each call reads the commit current when it started."""

    def __init__(self, store: GitStore, ref: str | None) -> None:
        self._store = store
        self.ref = ref
        self._lock = threading.Lock()
        self._current = self._read(self._resolve())

    @classmethod
    def open(
        cls, path: str | os.PathLike[str] | None = None, *, ref: str | None = None
    ) -> Registry:
        """The registry in the repository around ``path`` (default: the current folder), as of
        ``ref``: a branch (``main``), a remote-tracking branch (``origin/main``), a tag, a commit
        id, any full ref name; default ``HEAD``. In a clone this reads commits, never the files
        of the work tree, so uncommitted edits are not seen."""
        from ..git.store import GitStore

        return cls(GitStore.open(path), ref)

    @staticmethod
    def connect(
        url: str,
        *,
        token: str | None = None,
        fallback: str | os.PathLike[str] | None = None,
        on_change: Callable[[str, Sequence[str]], None] | None = None,
        timeout: float = 10.0,
    ) -> ConnectedRegistry:
        """The registry a ``promptship serve`` at ``url`` serves, kept in memory and following
        its events: the same ``get`` and ``render``, with no git and no disk. ``fallback`` is an
        export bundle to start from when the server cannot be reached; ``on_change(commit,
        names)`` is called after each new commit is swapped in. Needs ``promptship[connect]``;
        see docs/serve.md."""
        from ..web.connect import ConnectedRegistry

        return ConnectedRegistry(
            url, token=token, fallback=fallback, on_change=on_change, timeout=timeout
        )

    def _resolve(self) -> GitSnapshot:
        with self._lock:
            if self.ref is None:
                return self._store.snapshot()
            return self._store.snapshot_at(self.ref)

    def _read(self, snapshot: GitSnapshot) -> tuple[GitSnapshot, SnapshotReader]:
        return snapshot, SnapshotReader(_Serialised(snapshot, self._lock))

    @property
    def commit(self) -> str | None:
        """The id of the commit every answer currently comes from (``None``: no commit yet)."""
        return self._current[0].commit_id

    def refresh(self) -> bool:
        """Re-read the ref; ``True`` if it moved (later answers come from the new commit)."""
        snapshot = self._resolve()
        if snapshot.commit_id == self.commit:
            return False
        self._current = self._read(snapshot)
        return True

    def get(
        self, name: str, *, label: str | None = None, version: int | str | None = None
    ) -> PromptVersion:
        """The production version of ``name``; ``label="latest"`` the highest version number
        whatever its status; ``version=N`` that version; ``name`` may be ``NAME@LABEL`` too.

        Raises ``PromptNotFound``, ``NoProductionVersion``, ``VersionNotFound``, ``InvalidName``,
        or ``InvalidRegistry`` when the commit's files are broken."""
        return self._current[1].get(name, label=label, version=version)

    def render(
        self,
        name: str,
        variables: Mapping[str, Any] | None = None,
        *,
        label: str | None = None,
        version: int | str | None = None,
    ) -> Rendered:
        """``get(name, ...)`` with its variables filled in (``MissingVariables``,
        ``UnknownVariables`` name the ones that do not match)."""
        return self._current[1].get(name, label=label, version=version).render(**(variables or {}))

    def names(self) -> list[str]:
        """Every prompt's name, sorted."""
        return self._current[1].names()

    def production_versions(self) -> list[PromptVersion]:
        """The production version of every prompt that has one, sorted by name."""
        return self._current[1].production_versions()

    def __repr__(self) -> str:
        return f"Registry(ref={self.ref or 'HEAD'!r}, commit={self.commit!r})"
