"""A snapshot of files on disk (a work tree), for checking what is about to be committed.

Symlinks are reported as such and never followed, so a link cannot make the check read a file
outside the repository.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .snapshot import Entry, EntryKind

__all__ = ["FolderSnapshot"]


class FolderSnapshot:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def _path(self, path: str) -> Path | None:
        parts = [p for p in path.split("/") if p]
        if any(p in (".", "..") for p in parts):
            return None
        return self.root.joinpath(*parts)

    def read(self, path: str) -> bytes | None:
        file = self._path(path)
        if file is None:
            return None
        try:
            fd = os.open(file, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            return None
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                return None
            return handle.read()

    def list_dir(self, path: str) -> tuple[Entry, ...] | None:
        folder = self._path(path)
        if folder is None or folder.is_symlink() or not folder.is_dir():
            return None
        entries = []
        with os.scandir(folder) as scan:
            for item in scan:
                kind: EntryKind
                if item.is_symlink():
                    kind = "symlink"
                elif item.is_dir(follow_symlinks=False):
                    kind = "dir"
                elif item.is_file(follow_symlinks=False):
                    kind = "file"
                else:
                    kind = "other"
                entries.append(Entry(item.name, kind))
        return tuple(sorted(entries, key=lambda e: e.name))
