"""Files on disk: a snapshot of a work tree, for checking what is about to be committed, and
the one way promptship replaces a file.

Symlinks are reported as such and never followed, so a link cannot make the check read a file
outside the repository. Paths stay strings and files are read with a few system calls: the
check reads 100,000 of them.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

from ..snapshot import Entry, EntryKind

__all__ = ["TEMP_PREFIX", "FolderSnapshot", "default_mode", "fsync_folder", "write_atomic"]

TEMP_PREFIX = ".promptship-"

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class FolderSnapshot:
    """The files under ``root``, without the paths in ``ignored`` (relative, ``/``-separated):
    a work tree less what git ignores and does not track, as a commit would have it."""

    def __init__(self, root: str | os.PathLike[str], ignored: Iterable[str] = ()) -> None:
        self._root = os.fspath(root)
        self.ignored = frozenset(p.rstrip("/") for p in ignored)
        self._plain: set[str] = set()  # folders known to be real folders, not symlinks
        self._folders: dict[str, str] = {}  # "a/b" -> "<root>/a/b/", once checked

    def _path(self, path: str) -> str | None:
        """The file system path of ``path``, or ``None`` when it would leave the root: ``..``,
        or a folder on the way that is a symlink (``O_NOFOLLOW`` guards only the last part)."""
        head, _, name = path.rpartition("/")
        folder = self._folders.get(head)
        if folder is not None and name not in ("", ".", ".."):
            return folder + name  # a folder checked before: the check reads 100,000 files
        parts = [p for p in path.split("/") if p]
        if "." in parts or ".." in parts:
            return None
        folder = self._root
        for part in parts[:-1]:
            folder = os.path.join(folder, part)
            if folder not in self._plain:
                try:
                    if not stat.S_ISDIR(os.lstat(folder).st_mode):
                        return None
                except OSError:
                    return None
                self._plain.add(folder)
        if name:  # not a path to a folder ("a/b/"), whose head is that folder itself
            self._folders[head] = os.path.join(folder, "")
        return os.path.join(self._root, *parts)

    def _hidden(self, path: str) -> bool:
        """Whether ``path`` is ignored, or lies in an ignored folder."""
        parts = path.strip("/").split("/")
        return any("/".join(parts[:n]) in self.ignored for n in range(1, len(parts) + 1))

    def read(self, path: str) -> bytes | None:
        file = self._path(path)
        if file is None or (self.ignored and self._hidden(path)):
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
        if folder is None or (self.ignored and self._hidden(path)):
            return None
        try:
            if not stat.S_ISDIR(os.lstat(folder).st_mode):
                return None
            with os.scandir(folder) as scan:
                entries = [Entry(item.name, _kind(item)) for item in scan]
        except OSError:
            return None
        if self.ignored:
            prefix = path.strip("/") + "/" if path.strip("/") else ""
            entries = [e for e in entries if prefix + e.name not in self.ignored]
        return tuple(sorted(entries, key=lambda e: e.name))


def _kind(item: os.DirEntry[str]) -> EntryKind:
    if item.is_symlink():
        return "symlink"
    if item.is_dir(follow_symlinks=False):
        return "dir"
    if item.is_file(follow_symlinks=False):
        return "file"
    return "other"


def default_mode() -> int:
    """The mode a new file gets here: 0666 less the process's umask, as git and editors do."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def write_atomic(file: Path, data: bytes, mode: int | None = None) -> None:
    """Replace ``file`` with ``data``: a reader sees the old file or the new one, never half of
    one, and after a crash the new bytes are on disk (fsynced before the rename, and the rename
    itself where the system lets a folder be fsynced)."""
    fd, temp = tempfile.mkstemp(dir=file.parent, prefix=TEMP_PREFIX)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, default_mode() if mode is None else mode)
        _replace(temp, file)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    fsync_folder(file.parent)


def fsync_folder(folder: Path) -> None:
    """Make the names in ``folder`` durable (a rename into it, say). Windows has no such call:
    NTFS journals the rename itself."""
    if os.name == "nt":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_REPLACE_TRIES = 20


def _replace(source: str, target: Path) -> None:
    """``os.replace``; on Windows a file another program holds open (an editor, a virus scanner)
    cannot be replaced for a moment, so it is tried again for up to about a second, as git for
    Windows does."""
    for attempt in range(_REPLACE_TRIES):
        try:
            os.replace(source, target)
            return
        except PermissionError:
            if os.name != "nt" or attempt == _REPLACE_TRIES - 1:
                raise
            time.sleep(0.05)
