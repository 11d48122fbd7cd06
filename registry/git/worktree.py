"""The clone: its index and files kept in line with the branch promptship moves.

A commit written straight to the object database leaves the checkout behind; unless the index and
the touched files follow, the user's next ``git commit`` would silently revert the change. Every
write to a branch runs under ``writing``: in a clone whose work tree follows the branch, one lock
file in the git directory, so two promptship processes in one clone never interleave their dirty
checks, moves and syncs. A journal written before the branch moves lets the next command finish
a sync that a killed one left halfway.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pygit2

from ..errors import DirtyWorkTree, RepositoryError, SyncIncomplete
from ..names import PROMPTS_DIR
from .folder import TEMP_PREFIX, default_mode, write_atomic
from .index import (
    Clone,
    IndexEntry,
    ignored_untracked,
    index_entries,
    index_status,
    set_entries,
    stage_from_disk,
)
from .lockfile import held as hold_lock
from .store import GitStore, common_dir
from .update_ref import lock_file, move_branch

__all__ = [
    "begin_sync",
    "checked_out_elsewhere",
    "dirty_paths",
    "end_sync",
    "ignored_paths",
    "locked",
    "move_and_sync",
    "refuse_dirty",
    "resume_sync",
    "sync_paths",
    "writing",
]

_LOCK_NAME = "promptship.lock"
_JOURNAL_NAME = "promptship-sync.json"
_LOCK_WAIT_SECONDS = 60.0


def locked(repo: pygit2.Repository) -> AbstractContextManager[None]:
    """Hold the clone's promptship lock: an operating-system lock that dies with its process,
    so a killed command never leaves it stale."""
    path = Path(repo.path) / _LOCK_NAME
    return hold_lock(
        path,
        wait=_LOCK_WAIT_SECONDS,
        busy=lambda: RepositoryError(
            f"another promptship command has held {path} for over {_LOCK_WAIT_SECONDS:.0f} s",
            hint="wait for it to finish; the lock goes away with its process",
        ),
    )


@contextlib.contextmanager
def writing(store: GitStore) -> Iterator[None]:
    """What every write to ``store``'s branch runs under. In a clone whose work tree follows the
    branch: the clone's lock, a sync a killed command left unfinished finished, and no merge or
    rebase in progress. Elsewhere: the branch checked out in no other work tree."""
    repo = store.repo
    if not store.checked_out:
        elsewhere = checked_out_elsewhere(repo, store.branch)
        if elsewhere is not None:
            raise RepositoryError(
                f"{store.branch} is checked out in {elsewhere}; its files would fall behind "
                "the commit",
                hint="write in that work tree, or propose the change on a new branch "
                "(promote --branch, or branch= in Editor.promote)",
            )
        yield
        return
    with locked(repo):
        held = lock_file(Path(repo.path) / "index.lock", "the index")
        if held is not None:
            raise held
        resume_sync(repo)
        if repo.state() != pygit2.enums.RepositoryState.NONE:
            raise RepositoryError(
                "a merge, rebase or similar is in progress in this clone",
                hint="finish it or abort it first",
            )
        yield


def move_and_sync(
    store: GitStore,
    ref: pygit2.Reference | None,
    old: pygit2.Commit | None,
    new: pygit2.Oid,
    paths: Iterable[str],
    subject: str,
) -> bool:
    """Move the branch from ``old`` (the tip ``ref`` was read at) to ``new`` by compare-and-swap
    and, in a clone whose work tree follows it, bring ``paths`` of the index and files along.
    ``False`` when the branch moved meanwhile: nothing was changed. Once the branch has moved, a
    sync that fails leaves its journal for the next command and raises ``SyncIncomplete``."""
    repo = store.repo
    if not store.checked_out:
        return move_branch(repo, store.branch, ref, new, subject)
    paths = sorted(paths)
    begin_sync(repo, store.branch, old.id if old is not None else None, new, paths)
    try:
        moved = move_branch(repo, store.branch, ref, new, subject)
    except BaseException:
        end_sync(repo)
        raise
    if moved:
        tree = repo[new].peel(pygit2.Tree)
        try:
            sync_paths(repo, tree, paths, read=store.blobs.read)
        except (RepositoryError, OSError) as exc:
            # The journal stays, so the next changing command finishes the sync.
            reason = exc.message if isinstance(exc, RepositoryError) else str(exc)
            raise SyncIncomplete(str(new), paths, reason) from None
    end_sync(repo)
    return moved


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


def ignored_paths(repo: pygit2.Repository, folder: str = PROMPTS_DIR) -> list[str]:
    """What git ignores and does not track under ``folder``: the work tree's check skips it,
    as a commit would."""
    return ignored_untracked(_clone(repo), folder)


def _clone(repo: pygit2.Repository) -> Clone:
    return Clone(gitdir=repo.path, workdir=repo.workdir)


def _object(tree: pygit2.Tree | None, path: str) -> pygit2.Object | None:
    if tree is None:
        return None
    try:
        return tree[path]
    except KeyError:
        return None


def _is_folder(tree: pygit2.Tree | None, workdir: Path, path: str) -> bool:
    folder = workdir / path
    return isinstance(_object(tree, path), pygit2.Tree) or (
        folder.is_dir() and not folder.is_symlink()
    )


def _expand(tree: pygit2.Tree | None, workdir: Path, staged: Iterable[str], path: str) -> set[str]:
    """A written path as the files it covers: itself, or everything under it for a folder (in
    ``tree``, among the ``staged`` paths, or on disk)."""
    if not _is_folder(tree, workdir, path):
        return {path}
    obj = _object(tree, path)
    prefix = path + "/"
    found = {prefix + p for p in _files_of(obj)} if isinstance(obj, pygit2.Tree) else set()
    found |= {p for p in staged if p.startswith(prefix)}
    folder = workdir / path
    if folder.is_dir() and not folder.is_symlink():
        found |= {
            str(Path(root, name).relative_to(workdir))
            for root, _, names in os.walk(folder)
            for name in names
        }
    return found


def _files_of(tree: pygit2.Tree, prefix: str = "") -> Iterator[str]:
    for entry in tree:
        if isinstance(entry, pygit2.Tree):
            yield from _files_of(entry, f"{prefix}{entry.name}/")
        else:
            yield f"{prefix}{entry.name}"


def _blob(tree: pygit2.Tree | None, path: str) -> pygit2.Blob | None:
    obj = _object(tree, path)
    return obj if isinstance(obj, pygit2.Blob) else None


def _disk_id(file: Path) -> str | bool | None:
    """The blob id of a regular file, ``None`` if absent, ``False`` if something else is there."""
    if file.is_symlink() or (file.exists() and not file.is_file()):
        return False
    if not file.exists():
        return None
    return str(pygit2.hash(file.read_bytes()))


def dirty_paths(
    repo: pygit2.Repository, tree: pygit2.Tree | None, paths: Iterable[str]
) -> list[str]:
    """Which of ``paths`` (files or folders) differ, staged or not, from ``tree``."""
    workdir = Path(repo.workdir)
    written = list(paths)
    found, modified = index_status(_clone(repo), written)
    entries = _by_path(found)
    dirty = []
    for path in (p for w in written for p in sorted(_expand(tree, workdir, entries, w))):
        want = _blob_id(tree, path)
        rows = entries.get(path, [])
        staged = next((e.oid for e in rows if e.stage == 0), None)
        conflicted = any(e.stage for e in rows)
        # A tracked file as git judges it; where nothing is tracked, anything on disk is in the way.
        differs = path in modified if want is not None else os.path.lexists(workdir / path)
        if conflicted or staged != want or differs:
            dirty.append(path)
    return dirty


def _by_path(entries: Iterable[IndexEntry]) -> dict[str, list[IndexEntry]]:
    found: dict[str, list[IndexEntry]] = {}
    for entry in entries:
        found.setdefault(entry.path, []).append(entry)
    return found


def refuse_dirty(repo: pygit2.Repository, tree: pygit2.Tree | None, paths: Iterable[str]) -> None:
    dirty = dirty_paths(repo, tree, paths)
    if dirty:
        raise DirtyWorkTree(dirty)


def sync_paths(
    repo: pygit2.Repository,
    tree: pygit2.Tree,
    paths: Iterable[str],
    *,
    read: Callable[[pygit2.Blob], bytes] = lambda blob: blob.read_raw(),
) -> None:
    """Make ``paths`` in the index and on disk what ``tree`` (the branch tip) holds; ``read``
    gives a blob's bytes."""
    workdir = Path(repo.workdir)
    written = list(paths)
    folders = [w for w in written if _is_folder(tree, workdir, w)]
    staged = {e.path for e in index_entries(_clone(repo), folders)}
    mode = default_mode()
    synced = []
    for path in (p for w in written for p in sorted(_expand(tree, workdir, staged, w))):
        file = workdir / path
        blob = _blob(tree, path)
        if blob is None:
            if file.is_file() or file.is_symlink():
                file.unlink()
            _prune_empty(file.parent, workdir)
        else:
            file.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(file, read(blob), mode)
        synced.append(path)
    stage_from_disk(_clone(repo), synced)


def _prune_empty(folder: Path, workdir: Path) -> None:
    while folder != workdir and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def begin_sync(
    repo: pygit2.Repository,
    branch: str,
    old: pygit2.Oid | None,
    new: pygit2.Oid,
    paths: Iterable[str],
) -> None:
    """Record, before the branch moves from ``old`` to ``new``, which paths must follow it."""
    journal = {
        "branch": branch,
        "old": str(old) if old is not None else None,
        "new": str(new),
        "paths": sorted(paths),
    }
    write_atomic(Path(repo.path) / _JOURNAL_NAME, json.dumps(journal).encode(), 0o644)


def end_sync(repo: pygit2.Repository) -> None:
    with contextlib.suppress(FileNotFoundError):
        (Path(repo.path) / _JOURNAL_NAME).unlink()


def resume_sync(repo: pygit2.Repository) -> None:
    """Finish the sync of a command killed after it moved the branch. Index entries and files
    that still hold the old or the new commit's content are brought forward; a file someone
    edited meanwhile keeps the edit (its index entry still follows the branch, so the edit shows
    as an unstaged change, never as a staged revert)."""
    file = Path(repo.path) / _JOURNAL_NAME
    _remove_temporary_files(Path(repo.path), [_JOURNAL_NAME])
    try:
        journal = json.loads(file.read_bytes())
    except FileNotFoundError:
        return
    except ValueError:
        journal = {}
    try:
        tip = repo.lookup_reference(journal["branch"]).target
        # A checkout of another branch since then rebuilt the index from that branch: the
        # journal no longer describes this work tree.
        head = repo.lookup_reference("HEAD").target
        pending = str(tip) == journal["new"] and head == journal["branch"]
    except (KeyError, TypeError, pygit2.GitError):
        pending = False
    paths = journal.get("paths", []) if isinstance(journal, dict) else []
    _remove_temporary_files(Path(repo.workdir), paths)
    if pending:
        new_tree = repo[tip].peel(pygit2.Tree)
        old_tree = repo[journal["old"]].peel(pygit2.Tree) if journal["old"] else None
        _finish_sync(repo, old_tree, new_tree, paths)
    end_sync(repo)


def _remove_temporary_files(workdir: Path, paths: Iterable[str]) -> None:
    """Drop the half-written files a killed sync left beside the files it was replacing."""
    for folder in {(workdir / path).parent for path in paths}:
        if folder.is_dir() and not folder.is_symlink():
            for leftover in folder.glob(f"{TEMP_PREFIX}*"):
                with contextlib.suppress(FileNotFoundError):
                    leftover.unlink()


def _finish_sync(
    repo: pygit2.Repository,
    old_tree: pygit2.Tree | None,
    new_tree: pygit2.Tree,
    paths: Iterable[str],
) -> None:
    workdir = Path(repo.workdir)
    written = list(paths)
    entries = _by_path(index_entries(_clone(repo), written))
    files = []
    forward: dict[str, tuple[int, str] | None] = {}
    for path in (p for w in written for p in sorted(_expand(new_tree, workdir, entries, w))):
        known = {_blob_id(old_tree, path), _blob_id(new_tree, path)}
        staged = next((e.oid for e in entries.get(path, []) if e.stage == 0), None)
        if staged not in known:
            continue
        if _disk_id(workdir / path) in known:
            files.append(path)
            continue
        blob = _blob(new_tree, path)
        forward[path] = (blob.filemode, str(blob.id)) if blob is not None else None
    set_entries(_clone(repo), forward)
    sync_paths(repo, new_tree, files)


def _blob_id(tree: pygit2.Tree | None, path: str) -> str | None:
    blob = _blob(tree, path)
    return str(blob.id) if blob is not None else None
