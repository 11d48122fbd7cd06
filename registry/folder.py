"""A snapshot of files on disk (a work tree), for checking what is about to be committed.

Symlinks are reported as such and never followed, so a link cannot make the check read a file
outside the repository. Paths stay strings and files are read with a few system calls: the
check reads 100,000 of them.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .snapshot import Entry, EntryKind

__all__ = ["FolderSnapshot"]

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class FolderSnapshot:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self._root = os.fspath(root)

    def _path(self, path: str) -> str | None:
        parts = [p for p in path.split("/") if p]
        if "." in parts or ".." in parts:
            return None
        return os.path.join(self._root, *parts)

    def read(self, path: str) -> bytes | None:
        file = self._path(path)
        if file is None:
            return None
        try:
            fd = os.open(file, os.O_RDONLY | _NOFOLLOW)
        except OSError:
            return None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                return None
            data = os.read(fd, info.st_size + 1)
            if len(data) == info.st_size:
                return data
            chunks = [data]  # a short read, or a file that grew while being read
            while chunk := os.read(fd, 1 << 20):
                chunks.append(chunk)
            return b"".join(chunks)
        except OSError:
            return None
        finally:
            os.close(fd)

    def list_dir(self, path: str) -> tuple[Entry, ...] | None:
        folder = self._path(path)
        if folder is None:
            return None
        try:
            if not stat.S_ISDIR(os.lstat(folder).st_mode):
                return None
            with os.scandir(folder) as scan:
                entries = [Entry(item.name, _kind(item)) for item in scan]
        except OSError:
            return None
        return tuple(sorted(entries, key=lambda e: e.name))


def _kind(item: os.DirEntry[str]) -> EntryKind:
    if item.is_symlink():
        return "symlink"
    if item.is_dir(follow_symlinks=False):
        return "dir"
    if item.is_file(follow_symlinks=False):
        return "file"
    return "other"
