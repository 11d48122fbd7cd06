"""Reading a registry from git: the repository, the branch promptship writes to, and snapshots
of commits.

A snapshot reads the files of one commit's tree, so a reader never mixes two commits. Writing is
``publish.py``'s: a change set becomes one commit there.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from datetime import datetime, timezone
from pathlib import Path

import pygit2
from pygit2.enums import FileMode, ObjectType

from ..errors import BrokenObject, RepositoryError
from ..identity import Identity, resolve_identity
from ..snapshot import Entry, EntryKind
from ..yamlsafe import MAX_FILE_BYTES
from .refs import resolve_commit

__all__ = [
    "KINDS",
    "TREE_TYPE",
    "BlobCache",
    "GitSnapshot",
    "GitStore",
    "common_dir",
    "config_value",
    "utc_now",
]

_TREE_CACHE_LIMIT = 64 << 20
TREE_TYPE = int(ObjectType.TREE)
"""A tree entry's ``type``, compared as a plain int: cheaper than its ``filemode`` enum."""

KINDS: dict[int, EntryKind] = {
    FileMode.BLOB: "file",
    FileMode.BLOB_EXECUTABLE: "executable",
    FileMode.TREE: "dir",
    FileMode.LINK: "symlink",
}


_CANONICAL_MODES = frozenset([b"40000", b"100644", b"100755", b"120000", b"160000"])


def odd_modes(raw: bytes, oid_size: int) -> frozenset[bytes]:
    """The names in a raw tree object whose mode is not one of the five git writes. libgit2
    and git read such modes differently (git takes 140000 for a submodule, libgit2 for a
    file), so a tree holding one would mean two things: the check calls them special files.
    libgit2 gives no entry's mode as written, so the few bytes of the format are read here."""
    odd: set[bytes] = set()
    at, end = 0, len(raw)
    while at < end:
        space = raw.index(b" ", at)
        nul = raw.index(b"\0", space)
        if raw[at:space] not in _CANONICAL_MODES:
            odd.add(raw[space + 1 : nul])
        at = nul + 1 + oid_size
    return frozenset(odd)


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class BlobCache:
    """Blob contents by id, the least recently used dropped past ``budget`` bytes; only blobs of
    at least ``smallest`` bytes are kept.

    libgit2 keeps no blob in its object cache, so a command that reads a 10 MB history to plan a
    promotion, decide on it, rebuild it on the tip and sync it to disk would inflate it each time,
    and a check walking commits would inflate each file once per commit. A blob's id names its
    bytes for good, so what is kept here never goes stale."""

    def __init__(self, budget: int = 256 << 20, smallest: int = 0) -> None:
        self._budget = budget
        self._smallest = smallest
        self._kept: OrderedDict[pygit2.Oid, bytes] = OrderedDict()
        self._total = 0

    def read(self, blob: pygit2.Blob) -> bytes:
        data = self._kept.get(blob.id)
        if data is None:
            # The buffer of the loaded object: 'data' asks every object store again (a stat
            # of a loose object's path per blob, even when it is in a pack).
            data = bytes(memoryview(blob))
            self.keep(blob.id, data)
        else:
            self._kept.move_to_end(blob.id)
        return data

    def keep(self, oid: pygit2.Oid, data: bytes) -> None:
        if len(data) < self._smallest or len(data) > self._budget or oid in self._kept:
            return
        self._kept[oid] = data
        self._total += len(data)
        while self._total > self._budget:
            _, dropped = self._kept.popitem(last=False)
            self._total -= len(dropped)


class GitSnapshot:
    """The files of one commit's tree (or of an empty registry, for an unborn branch).

    Objects are checked as they are read: a missing or corrupt object, or one whose type is not
    the one its tree entry's mode says (a file entry naming a tree, a folder entry naming a
    blob), raises ``BrokenObject`` instead of being read as something it is not."""

    def __init__(
        self,
        repo: pygit2.Repository,
        commit: pygit2.Commit | None,
        blobs: BlobCache | None = None,
    ) -> None:
        self.repo = repo
        self.commit = commit
        self.tree: pygit2.Tree | None = None
        if commit is not None:
            try:
                self.tree = commit.tree
            except pygit2.GitError as exc:
                raise BrokenObject(f"the tree of commit {str(commit.id)[:10]}", str(exc)) from None
        self.blobs = blobs if blobs is not None else BlobCache(budget=0)

    @property
    def commit_id(self) -> str | None:
        return str(self.commit.id) if self.commit is not None else None

    def _broken(self, path: str, reason: str) -> BrokenObject:
        where = f" in commit {str(self.commit.id)[:10]}" if self.commit is not None else ""
        return BrokenObject(f"{path or 'the root folder'}{where}", reason)

    def _lookup(self, path: str) -> pygit2.Object | None:
        if self.tree is None or not path:
            return self.tree
        try:
            return self.tree[path]
        except pygit2.GitError as exc:  # a folder on the way is missing or not a folder
            raise self._broken(path, str(exc)) from None
        except KeyError:
            return None

    def read(self, path: str) -> bytes | None:
        obj = self._lookup(path)
        if isinstance(obj, pygit2.Blob) and obj.filemode != FileMode.LINK:
            try:
                data = self.blobs.read(obj)
            except pygit2.GitError as exc:
                raise self._broken(path, str(exc)) from None
            if obj.type != ObjectType.BLOB:
                raise self._broken(path, f"its entry says file, but its object is a {obj.type_str}")
            return data
        return None

    def list_dir(self, path: str) -> tuple[Entry, ...] | None:
        obj = self._lookup(path)
        if not isinstance(obj, pygit2.Tree):
            return None
        try:
            listed = [(e.name or "", e.raw_name, KINDS.get(e.filemode, "other")) for e in obj]
            # Only a mode libgit2 reads as a file's can mean something else to git (folders,
            # links and submodules read alike): a listing of folders alone, like prompts/,
            # is not read again.
            files = any(kind in ("file", "executable") for _, _, kind in listed)
            odd = odd_modes(obj.read_raw(), len(obj.id.raw)) if files else frozenset()
        except (pygit2.GitError, ValueError) as exc:
            raise self._broken(path, str(exc) or "not a well-formed tree") from None
        if obj.type != ObjectType.TREE:
            raise self._broken(path, f"its entry says folder, but its object is a {obj.type_str}")
        return tuple(Entry(name, "other" if raw in odd else kind) for name, raw, kind in listed)

    def object_id(self, path: str) -> str | None:
        """The id of the blob or tree at ``path``: equal ids mean equal contents."""
        obj = self._lookup(path)
        return str(obj.id) if obj is not None else None

    def folder_ids(self, path: str) -> dict[str, str]:
        """The id of each folder in the folder at ``path``, by name, read in one pass: 10,000
        prompt folders in under 10 ms, a third of ``object_id`` per name (the entries' file
        modes, which ``list_dir`` reads, would cost as much again)."""
        obj = self._lookup(path)
        if not isinstance(obj, pygit2.Tree):
            return {}
        return {e.name or "": str(e.id) for e in obj if e.type == TREE_TYPE}


class GitStore:
    """A repository and the branch promptship reads and writes."""

    def __init__(self, repo: pygit2.Repository, ref: str | None = None) -> None:
        self.repo = repo
        self.ref = _check_branch_ref(ref) if ref is not None else None
        # Long histories only: small files are cheap to inflate again.
        self.blobs = BlobCache(smallest=MAX_FILE_BYTES + 1)

    @property
    def branch(self) -> str:
        """The branch written to: ``ref``, else the one checked out."""
        return self.ref if self.ref is not None else _head_branch(self.repo)

    @classmethod
    def open(
        cls, path: str | os.PathLike[str] | None = None, *, ref: str | None = None
    ) -> GitStore:
        """The repository around ``path`` (default: the current folder) and its checked-out
        branch, or ``ref`` (``refs/heads/<branch>``)."""
        start = os.fspath(path) if path is not None else os.getcwd()
        found = pygit2.discover_repository(start)
        if found is None:
            raise RepositoryError(
                f"not inside a git repository: {start}",
                hint="open your registry's clone (run it inside, or --repo PATH), or 'git init' one",
            )
        try:
            repo = pygit2.Repository(found)
        except pygit2.GitError as exc:
            raise RepositoryError(
                f"cannot open the git repository at {found}: {exc}",
                hint="run 'git status' there to see what git says of it",
            ) from None
        pygit2.settings.cache_object_limit(ObjectType.TREE, _TREE_CACHE_LIMIT)
        # libgit2 hashes every object it reads again to compare with its name; git does not
        # (zlib's checksum guards each object against corruption, and fsck checks the names).
        # Over a registry's histories that was an eighth of the time of 'history'.
        pygit2.settings.enable_strict_hash_verification(False)
        return cls(repo, ref)

    @property
    def checked_out(self) -> bool:
        """Whether the branch is the one in this clone's work tree (so its files must follow)."""
        if self.repo.is_bare:
            return False
        try:
            head = self.repo.lookup_reference("HEAD")
        except (KeyError, pygit2.GitError):
            return False
        if head.type != pygit2.enums.ReferenceType.SYMBOLIC:
            return False
        return self.ref is None or head.target == self.ref

    @property
    def workdir(self) -> Path | None:
        return None if self.repo.is_bare else Path(self.repo.workdir)

    def identity(self, by: str | None = None) -> Identity:
        return resolve_identity(by, os.environ, lambda key: config_value(self.repo, key))

    def tip(self) -> tuple[pygit2.Reference | None, pygit2.Commit | None]:
        """The branch's reference and commit (both ``None`` while the branch is unborn)."""
        try:
            ref = self.repo.lookup_reference(self.branch)
        except KeyError:
            return None, None
        commit = self.repo.get(ref.target)
        if not isinstance(commit, pygit2.Commit):
            raise RepositoryError(
                f"{self.branch} does not point to a commit",
                hint=f"point it at one (git log {self.branch.removeprefix('refs/heads/')})",
            )
        return ref, commit

    def snapshot_of(self, commit: pygit2.Commit | None) -> GitSnapshot:
        """The files of ``commit`` (``None``: an empty registry, as on an unborn branch)."""
        return GitSnapshot(self.repo, commit, self.blobs)

    def snapshot(self) -> GitSnapshot:
        """The files of ``ref``'s tip, else of HEAD (a detached HEAD too; none while unborn)."""
        if self.ref is not None:
            return GitSnapshot(self.repo, self.tip()[1], self.blobs)
        try:
            head = self.repo.head.peel(pygit2.Commit)
        except (pygit2.GitError, KeyError):
            return GitSnapshot(self.repo, None)
        return GitSnapshot(self.repo, head, self.blobs)

    def snapshot_at(self, rev: str) -> GitSnapshot:
        """The files of a revision: HEAD, a branch, a remote-tracking branch, a full ref name or
        a commit id (``refs.py`` says which names are read and why)."""
        return GitSnapshot(self.repo, resolve_commit(self.repo, rev), self.blobs)


def config_value(repo: pygit2.Repository, key: str) -> str | None:
    """A git configuration value as git reads it (repository, then global, then system)."""
    try:
        return str(repo.config[key])
    except (KeyError, pygit2.GitError):
        return None


def common_dir(repo: pygit2.Repository) -> Path:
    """Where a repository's branches live (a linked work tree keeps only HEAD and its index)."""
    gitdir = Path(repo.path)
    pointer = gitdir / "commondir"
    if pointer.is_file():
        return (gitdir / pointer.read_text(encoding="utf-8").strip()).resolve()
    return gitdir


def _check_branch_ref(ref: str) -> str:
    if not ref.startswith("refs/heads/") or not pygit2.reference_is_valid_name(ref):
        raise RepositoryError(
            f"{ref!r} is not a branch reference", hint="write it as refs/heads/<branch>"
        )
    return ref


def _head_branch(repo: pygit2.Repository) -> str:
    try:
        head = repo.lookup_reference("HEAD")
    except KeyError:
        raise RepositoryError(
            "the repository has no HEAD",
            hint="run 'git status' to see what git says, or name the branch to write "
            "(--ref refs/heads/<branch>)",
        ) from None
    if head.type != pygit2.enums.ReferenceType.SYMBOLIC:
        raise RepositoryError(
            "HEAD is detached; promptship commits to a branch",
            hint="check out a branch (git switch main), or name the branch to write "
            "(--ref refs/heads/<branch>)",
        )
    return str(head.target)
