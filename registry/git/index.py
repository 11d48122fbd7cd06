"""A clone's index, read and updated through the git program.

git reads and writes the index of a large clone several times faster than libgit2 (in a clone of
130,000 files, 20 ms against 110 ms to load it and 60 ms more to write it), and it understands
every index git may leave behind, a split index (``core.splitIndex``) included, which libgit2
refuses to open. Each call names only the paths it is about, taken literally (no glob patterns),
and runs no hooks: promptship's commits run none either. git runs in a session of its own, so a
Ctrl-C at the terminal never kills it halfway through bringing the index along.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..errors import RepositoryError
from .program import last_lines, run_git

__all__ = [
    "Clone",
    "IndexEntry",
    "ignored_untracked",
    "index_entries",
    "index_status",
    "set_entries",
    "stage_from_disk",
]

_NO_OBJECT = "0" * 40
_LOCK_TRIES = 8


@dataclass(frozen=True, kw_only=True, slots=True)
class Clone:
    """Where git finds a clone: its git directory and the root of its work tree."""

    gitdir: str
    workdir: str


@dataclass(frozen=True, kw_only=True, slots=True)
class IndexEntry:
    """One row of the index; ``stage`` is 0 but for the sides of a merge conflict (1 to 3)."""

    path: str
    mode: int
    oid: str
    stage: int


def index_entries(clone: Clone, paths: Iterable[str]) -> list[IndexEntry]:
    """The index entries at ``paths`` and under those that are folders."""
    return _ls_files(clone, paths)[0]


def index_status(clone: Clone, paths: Iterable[str]) -> tuple[list[IndexEntry], set[str]]:
    """``index_entries``, and which of their files differ from the index on disk (changed or
    gone), judged as ``git status`` judges: by stat data, and by content where that is unsure."""
    return _ls_files(clone, paths, "-t", "--modified")


def _ls_files(clone: Clone, paths: Iterable[str], *flags: str) -> tuple[list[IndexEntry], set[str]]:
    wanted = list(paths)
    if not wanted:
        return [], set()
    out = _git(clone, "ls-files", "--stage", "-z", *flags, "--", *wanted)
    entries = []
    modified = set()
    for row in out.split(b"\0"):
        if not row:
            continue
        info, _, raw_path = row.partition(b"\t")
        path = os.fsdecode(raw_path)
        fields = info.split(b" ")
        # With -t each row starts with a tag: H for the entry, C for a file that differs from it.
        tag = fields.pop(0) if flags else b"H"
        if tag == b"C":
            modified.add(path)
            continue
        mode, oid, stage = fields
        entries.append(IndexEntry(path=path, mode=int(mode, 8), oid=oid.decode(), stage=int(stage)))
    return entries, modified


def ignored_untracked(clone: Clone, folder: str) -> list[str]:
    """Files and folders under ``folder`` that git ignores and does not track (a whole ignored
    folder is one entry): what ``git add`` would leave out."""
    out = _git(
        clone,
        "ls-files",
        "--others",
        "--ignored",
        "--exclude-standard",
        "--directory",
        "-z",
        "--",
        folder,
    )
    return [os.fsdecode(p).rstrip("/") for p in out.split(b"\0") if p]


def stage_from_disk(clone: Clone, paths: Iterable[str]) -> None:
    """Make the index entries of ``paths`` what the work tree holds: a file's content and
    stat data, or no entry where the file is gone."""
    data = b"".join(os.fsencode(p) + b"\0" for p in paths)
    if data:
        _git(clone, "update-index", "--add", "--remove", "-z", "--stdin", stdin=data)


def set_entries(clone: Clone, entries: Mapping[str, tuple[int, str] | None]) -> None:
    """Set index entries to ``(mode, blob id)`` without reading the work tree; ``None`` removes
    one."""
    rows = []
    for path, entry in entries.items():
        mode, oid = entry if entry is not None else (0, _NO_OBJECT)
        rows.append(f"{mode:o} {oid}\t".encode() + os.fsencode(path) + b"\0")
    if rows:
        _git(clone, "update-index", "-z", "--index-info", stdin=b"".join(rows))


def _git(clone: Clone, *args: str, stdin: bytes | None = None) -> bytes:
    command = (
        "-c",
        f"core.hooksPath={os.devnull}",
        "--git-dir",
        clone.gitdir,
        "--work-tree",
        clone.workdir,
        "--literal-pathspecs",
        *args,
    )
    for attempt in range(_LOCK_TRIES):
        done = run_git(*command, stdin=stdin, cwd=clone.workdir, own_session=True)
        # An editor's background 'git status' holds index.lock for a moment: wait it out.
        if done.returncode == 0 or b"index.lock" not in done.stderr or attempt == _LOCK_TRIES - 1:
            break
        time.sleep(0.05 * (attempt + 1))
    if done.returncode != 0:
        raise RepositoryError(
            f"git {args[0]} failed in {clone.workdir}: "
            f"{last_lines(done.stderr, 3) or done.returncode}",
            hint="run 'git status' to see what git says about this clone",
        )
    return done.stdout
