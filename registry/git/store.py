"""The storage layer: registry snapshots read from git, change sets written as one commit.

A commit is built in the object database from the branch tip's tree, touching only the written
paths, and the branch moves by compare-and-swap on the tip that was read. A lost race is rebuilt on
the new tip, unless the other writer changed the same production pointer (``Superseded``) or the
same files (``ConcurrentChange``): then the decision was taken on a state that no longer holds.
"""

from __future__ import annotations

import os
import random
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pygit2
from pygit2.enums import FileMode, ObjectType

from ..errors import (
    ConcurrentChange,
    LockFileExists,
    RepositoryError,
    Superseded,
    SyncIncomplete,
)
from ..identity import Identity, resolve_identity
from ..model import parse_pointer
from ..snapshot import ChangeSet, Entry, EntryKind, Snapshot
from ..yamlsafe import MAX_FILE_BYTES
from .gitcommit import write_commit
from .worktree import begin_sync, end_sync, locked, refuse_dirty, resume_sync, sync_paths

__all__ = [
    "KINDS",
    "BlobCache",
    "CommitResult",
    "Decision",
    "GitSnapshot",
    "GitStore",
    "Operation",
    "build_tree",
    "common_dir",
    "config_value",
    "durable",
    "jitter",
    "lock_file",
    "utc_now",
]

Operation = Callable[[Snapshot, str], ChangeSet]
"""Builds a change set from a snapshot and the time to record (UTC, ISO 8601 with Z)."""

MAX_ATTEMPTS = 32
_TREE_CACHE_LIMIT = 64 << 20

KINDS: dict[int, EntryKind] = {
    FileMode.BLOB: "file",
    FileMode.BLOB_EXECUTABLE: "file",
    FileMode.TREE: "dir",
    FileMode.LINK: "symlink",
}


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
    """The files of one commit's tree (or of an empty registry, for an unborn branch)."""

    def __init__(
        self,
        repo: pygit2.Repository,
        commit: pygit2.Commit | None,
        blobs: BlobCache | None = None,
    ) -> None:
        self.repo = repo
        self.commit = commit
        self.tree: pygit2.Tree | None = commit.tree if commit is not None else None
        self.blobs = blobs if blobs is not None else BlobCache(budget=0)

    @property
    def commit_id(self) -> str | None:
        return str(self.commit.id) if self.commit is not None else None

    def _lookup(self, path: str) -> pygit2.Object | None:
        if self.tree is None or not path:
            return self.tree
        try:
            return self.tree[path]
        except KeyError:
            return None

    def read(self, path: str) -> bytes | None:
        obj = self._lookup(path)
        if isinstance(obj, pygit2.Blob) and obj.filemode != FileMode.LINK:
            return self.blobs.read(obj)
        return None

    def list_dir(self, path: str) -> tuple[Entry, ...] | None:
        obj = self._lookup(path)
        if not isinstance(obj, pygit2.Tree):
            return None
        return tuple(Entry(e.name or "", KINDS.get(e.filemode, "other")) for e in obj)

    def object_id(self, path: str) -> str | None:
        """The id of the blob or tree at ``path``: equal ids mean equal contents."""
        obj = self._lookup(path)
        return str(obj.id) if obj is not None else None


@dataclass(frozen=True, kw_only=True, slots=True)
class CommitResult:
    commit: str
    parent: str | None
    changes: ChangeSet
    attempts: int
    pushed_to: str | None = None
    """The remote branch the commit was pushed to (``origin/main``), if it was."""
    branch_updated: bool = True
    """False when the push succeeded but the local branch had moved meanwhile and was left."""


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
                hint="run it inside your registry's clone, pass --repo PATH, or 'git init' one",
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
        """The files of any revision: a commit id, branch, tag, ``origin/main``, ``HEAD~2``..."""
        try:
            commit = self.repo.revparse_single(rev).peel(pygit2.Commit)
        except (KeyError, ValueError, pygit2.GitError, pygit2.InvalidSpecError):
            raise RepositoryError(
                f"no commit {rev!r} in this repository",
                hint="name a branch, tag or commit; in a shallow clone, fetch it first "
                "(git fetch --unshallow, or git fetch origin <ref>)",
            ) from None
        return GitSnapshot(self.repo, commit, self.blobs)

    @contextmanager
    def writing(self) -> Iterator[None]:
        """What every write runs under: objects and refs fsynced, and in a clone whose work tree
        follows the branch, the clone's lock, a sync a killed command left unfinished finished,
        and no merge or rebase in progress."""
        durable()
        if not self.checked_out:
            elsewhere = checked_out_elsewhere(self.repo, self.branch)
            if elsewhere is not None:
                raise RepositoryError(
                    f"{self.branch} is checked out in {elsewhere}; its files would fall behind "
                    "the commit",
                    hint="run the command in that work tree, or propose the change on a new "
                    "branch (promote --branch)",
                )
            yield
            return
        with locked(self.repo):
            held = lock_file(Path(self.repo.path) / "index.lock", "the index")
            if held is not None:
                raise held
            resume_sync(self.repo)
            if self.repo.state() != pygit2.enums.RepositoryState.NONE:
                raise RepositoryError(
                    "a merge, rebase or similar is in progress in this clone",
                    hint="finish it or abort it first",
                )
            yield

    def write(
        self,
        operation: Operation,
        *,
        identity: Identity,
        base: GitSnapshot | None = None,
        clock: Callable[[], str] = utc_now,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> CommitResult:
        """Run ``operation`` on the tip and commit its change set, retrying lost races.

        ``base`` is the snapshot a person decided on (say, before confirming a promotion); by
        default, the tip read on the first attempt."""
        with self.writing():
            decision = Decision(operation, base, clock)
            for attempt in range(1, max_attempts + 1):
                ref, commit = self.tip()
                changes, now = decision.rebuild(GitSnapshot(self.repo, commit, self.blobs))
                if self.checked_out:
                    refuse_dirty(self.repo, commit.tree if commit else None, changes.writes)
                new = self._commit(commit, changes, identity, now)
                if self.advance(ref, commit, new, changes.writes, changes.subject):
                    return CommitResult(
                        commit=str(new),
                        parent=str(commit.id) if commit is not None else None,
                        changes=changes,
                        attempts=attempt,
                    )
                time.sleep(jitter(attempt, 0.002))
        raise self.gave_up(self.branch, max_attempts)

    def build(
        self, decision: Decision, parent: pygit2.Commit | None, identity: Identity
    ) -> tuple[ChangeSet, pygit2.Oid]:
        """The decided operation rebuilt on ``parent``, as a commit no branch points to yet."""
        changes, now = decision.rebuild(GitSnapshot(self.repo, parent, self.blobs))
        return changes, self._commit(parent, changes, identity, now)

    def advance(
        self,
        ref: pygit2.Reference | None,
        old: pygit2.Commit | None,
        new: pygit2.Oid,
        paths: Iterable[str],
        subject: str,
    ) -> bool:
        """Move the branch from ``old`` (the tip ``ref`` was read at) to ``new`` by
        compare-and-swap and, in a clone, bring ``paths`` of the index and work tree along.
        ``False`` when the branch moved meanwhile: nothing was changed."""
        if not self.checked_out:
            return self._move(ref, new, subject)
        paths = sorted(paths)
        begin_sync(self.repo, self.branch, old.id if old is not None else None, new, paths)
        try:
            moved = self._move(ref, new, subject)
        except BaseException:
            end_sync(self.repo)
            raise
        if moved:
            _, tip = self.tip()
            assert tip is not None
            try:
                sync_paths(self.repo, tip.tree, paths, read=self.blobs.read)
            except (RepositoryError, OSError) as exc:
                # The journal stays, so the next changing command finishes the sync.
                reason = exc.message if isinstance(exc, RepositoryError) else str(exc)
                raise SyncIncomplete(str(new), paths, reason) from None
        end_sync(self.repo)
        return moved

    def gave_up(self, branch: str, attempts: int) -> RepositoryError:
        """The error after ``attempts`` lost races on ``branch``: a lock file still in place is
        named, since a killed git process leaves one that only a person may remove."""
        held = lock_file(common_dir(self.repo) / f"{branch}.lock", branch)
        return held or RepositoryError(
            f"{branch} kept moving: gave up after {attempts} attempts",
            hint="many writers are busy on this branch; run the command again",
        )

    def _commit(
        self, parent: pygit2.Commit | None, changes: ChangeSet, identity: Identity, now: str
    ) -> pygit2.Oid:
        tree = build_tree(
            self.repo, parent.tree if parent is not None else None, changes.writes, self.blobs
        )
        stamp = int(
            datetime.strptime(now, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
        )
        signature = pygit2.Signature(identity.name, identity.email, stamp, 0)
        parents = [parent.id] if parent is not None else []
        return write_commit(self.repo, signature, changes.message(), tree, parents)

    def _move(self, ref: pygit2.Reference | None, new: pygit2.Oid, subject: str) -> bool:
        """Compare-and-swap the branch from the tip that was read to ``new``. A moved tip
        (``GitError``) and a lock held by another writer both mean: try again; any other failure
        to write the ref is refused as it is."""
        try:
            if ref is None:
                self.repo.create_reference_direct(
                    self.branch, new, False, message=f"promptship: {subject}"
                )
            else:
                ref.set_target(new, f"promptship: {subject}")
        except (pygit2.AlreadyExistsError, pygit2.GitError):
            return False
        except OSError as exc:
            lock = common_dir(self.repo) / f"{self.branch}.lock"
            if "lock" in str(exc).lower() or lock.exists():
                return False
            raise RepositoryError(
                f"cannot move {self.branch}: {exc}",
                hint="check the branch name and the repository's permissions "
                "('git update-ref' gives the same answer)",
            ) from None
        return True


class Decision:
    """An operation and the state it was decided on, rebuilt on whichever tip it must land on.

    A rebuild is refused when the tip moved a production pointer the operation writes
    (``Superseded``) or changed a file it writes (``ConcurrentChange``); ``touched`` gathers the
    paths written on every attempt so far."""

    def __init__(
        self, operation: Operation, base: GitSnapshot | None, clock: Callable[[], str] = utc_now
    ) -> None:
        self.operation = operation
        self.clock = clock
        self.base = base
        self.touched: set[str] = set()
        self._base_known = base is None

    def rebuild(self, current: GitSnapshot) -> tuple[ChangeSet, str]:
        """The change set on ``current``, and the time it records."""
        now = self.clock()
        if self.base is None:
            self.base = current
        elif not self._base_known and current.commit_id != self.base.commit_id:
            # What was decided on the base writes: only needed when the tip moved since.
            self.touched |= set(self.operation(self.base, now).writes)
        self._base_known = True
        _refuse_superseded(self.base, current, self.touched)
        changes = self.operation(current, now)
        self.touched |= set(changes.writes)
        _refuse_overlap(self.base, current, self.touched, changes.writes)
        return changes, now


def config_value(repo: pygit2.Repository, key: str) -> str | None:
    """A git configuration value as git reads it (repository, then global, then system)."""
    try:
        return str(repo.config[key])
    except (KeyError, pygit2.GitError):
        return None


def checked_out_elsewhere(repo: pygit2.Repository, branch: str) -> str | None:
    """The work tree, other than ``repo``'s own, that has ``branch`` checked out (as git refuses
    to move a branch another work tree stands on, so does promptship)."""
    common = common_dir(repo)
    gitdirs = [common / "worktrees" / name for name in repo.list_worktrees()]
    main = pygit2.Repository(str(common)) if Path(repo.path).resolve() != common.resolve() else repo
    if not main.is_bare:
        gitdirs.append(common)
    own = Path(repo.path).resolve()
    for gitdir in gitdirs:
        if gitdir.resolve() == own:
            continue
        try:
            head = (gitdir / "HEAD").read_text(encoding="utf-8").strip()
        except OSError:
            continue
        if head == f"ref: {branch}":
            workdir = main.workdir if gitdir == common else repo.lookup_worktree(gitdir.name).path
            return str(workdir).rstrip("/")
    return None


def lock_file(path: Path, what: str) -> LockFileExists | None:
    """The error to raise if the git lock file ``path`` (guarding ``what``) exists."""
    try:
        age = time.time() - path.stat().st_mtime
    except OSError:
        return None
    return LockFileExists(what, str(path), max(age, 0.0))


def durable() -> None:
    """Have libgit2 fsync the objects and refs it writes from now on (it does not by default),
    so a crash right after a command cannot leave a branch naming a commit that was lost."""
    pygit2.settings.enable_fsync_gitdir(True)


def jitter(attempt: int, base: float, cap: int = 6) -> float:
    """A random pause before retry ``attempt``: up to ``base`` doubled per attempt, so racing
    writers spread out instead of colliding again."""
    return random.uniform(0, base * 2 ** min(attempt, cap))


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
            hint="run 'git status' to see what git says, or pass --ref refs/heads/<branch>",
        ) from None
    if head.type != pygit2.enums.ReferenceType.SYMBOLIC:
        raise RepositoryError(
            "HEAD is detached; promptship commits to a branch",
            hint="check out a branch (git switch main), or pass --ref refs/heads/<branch>",
        )
    return str(head.target)


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


def _refuse_superseded(decided: GitSnapshot, current: GitSnapshot, touched: Iterable[str]) -> None:
    """A lost race over a production pointer this operation writes is not retried."""
    for path in sorted(touched):
        if not path.endswith("/production.yaml"):
            continue
        if decided.object_id(path) == current.object_id(path):
            continue
        prompt = path.split("/")[-2]
        data = current.read(path)
        if data is None:
            raise Superseded(prompt, None, "", "")
        pointer = parse_pointer(data, path=path, prompt=prompt)
        raise Superseded(prompt, pointer.version, pointer.promoted_by, pointer.promoted_at)


def _refuse_overlap(
    decided: GitSnapshot, current: GitSnapshot, touched: Iterable[str], writes: Iterable[str]
) -> None:
    """Files the operation writes that changed since the decision. A path an earlier attempt
    created and this one no longer writes (the next version number was taken meanwhile) is no
    conflict: nothing of anyone's is overwritten."""
    writing = set(writes)
    changed = sorted(
        p
        for p in touched
        if decided.object_id(p) != current.object_id(p)
        and (p in writing or decided.object_id(p) is not None)
    )
    if changed:
        raise ConcurrentChange(changed)
