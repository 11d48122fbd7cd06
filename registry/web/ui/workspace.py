"""The repository the page shows, read one commit at a time, and what is kept between requests.

Nothing here writes: the buttons write through ``registry.Editor`` (``forms``). What is kept is keyed by git object ids, which
name contents for good, so it never goes stale: the rows of the prompt list by the id of each
prompt's folder (a promotion changes one folder, and only that row is read again), and parsed
version files by their blob's id.
"""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass

from ...catalog import (
    PromptQuery,
    PromptSummary,
    load_info,
    load_version,
    summarize_prompt,
)
from ...errors import PromptshipError
from ...git.store import GitSnapshot, GitStore
from ...model import Version
from ...names import PROMPTS_DIR, is_valid_name, version_path

__all__ = ["ListedPrompt", "PromptIndex", "VersionCache", "Workspace"]


@dataclass(frozen=True, kw_only=True, slots=True)
class ListedPrompt:
    """A row of the prompt list: the prompt's summary, or why its files could not be read."""

    name: str
    summary: PromptSummary | None
    problem: PromptshipError | None = None


class PromptIndex:
    """The prompt list's rows, each read once per content of its prompt's folder.

    A request on the commit of the last one reuses the whole list; on a new commit, only the
    folders whose ids changed are read again, so a promotion costs one prompt's files, not
    10,000."""

    def __init__(self) -> None:
        self._rows: dict[str, ListedPrompt] = {}
        self._timed: dict[str, ListedPrompt] = {}
        self._listing: tuple[str | None, dict[str, str]] | None = None
        # Rows are read by requests and, once at start, by a thread warming the cache.
        self._lock = threading.Lock()

    def _folders(self, snapshot: GitSnapshot) -> dict[str, str]:
        commit = snapshot.commit_id
        if self._listing is None or self._listing[0] != commit:
            folders = snapshot.folder_ids(PROMPTS_DIR)
            # As ``prompt_names``: folders with invalid names are the check's to report.
            valid = {n: i for n, i in sorted(folders.items()) if is_valid_name(n)}
            self._listing = (commit, valid)
            self._forget(set(valid.values()))
        return self._listing[1]

    def _forget(self, live: set[str]) -> None:
        for kept in (self._rows, self._timed):
            for gone in [i for i in kept if i not in live]:
                del kept[gone]

    def rows(self, snapshot: GitSnapshot, *, times: bool) -> list[ListedPrompt]:
        """Every prompt's row in name order; with ``times``, with when each was created and
        last changed."""
        with self._lock:
            kept = self._timed if times else self._rows
            out = []
            for name, folder in self._folders(snapshot).items():
                row = kept.get(folder)
                if row is None:
                    row = kept[folder] = _row(snapshot, name, times=times)
                out.append(row)
            return out

    def select(
        self, snapshot: GitSnapshot, query: PromptQuery
    ) -> tuple[list[ListedPrompt], list[PromptSummary]]:
        """The prompts whose files cannot be read (listed whatever the filters, so a problem is
        never hidden by one), and the summaries ``query`` selects, in its order."""
        rows = self.rows(snapshot, times=query.needs_times)
        broken = [r for r in rows if r.summary is None]
        chosen = query.ordered(r.summary for r in rows if r.summary and query.selects(r.summary))
        return broken, chosen


def _row(snapshot: GitSnapshot, name: str, *, times: bool) -> ListedPrompt:
    try:
        info = load_info(snapshot, name)
        return ListedPrompt(name=name, summary=summarize_prompt(snapshot, info, times=times))
    except PromptshipError as exc:
        return ListedPrompt(name=name, summary=None, problem=exc)


class VersionCache:
    """Parsed version files by blob id: a prompt page reads each version once per content."""

    def __init__(self, limit: int = 20_000) -> None:
        self._parsed: dict[tuple[str, int, str], Version] = {}
        self._limit = limit

    def get(self, snapshot: GitSnapshot, name: str, number: int) -> Version:
        blob = snapshot.object_id(version_path(name, number))
        if blob is None:
            return load_version(snapshot, name, number)  # raises what a missing version raises
        key = (name, number, blob)
        found = self._parsed.get(key)
        if found is None:
            if len(self._parsed) >= self._limit:
                self._parsed.clear()
            found = self._parsed[key] = load_version(snapshot, name, number)
        return found


class Workspace:
    """The repository and the revision the page shows, and the branch its buttons write to.

    ``ref`` names a branch (``main`` or ``refs/heads/main``): read and written. Any other
    revision (a tag, ``origin/main``, a commit) is shown read-only. Without ``ref``: the
    checked-out branch (HEAD)."""

    def __init__(self, path: str | os.PathLike[str] | None, ref: str | None = None) -> None:
        self.path = os.fspath(path) if path is not None else os.getcwd()
        self.store = GitStore.open(self.path)
        self.rev: str | None = None
        self._branch: str | None = None
        if ref is not None:
            self._branch = _branch_named(self.store, ref)
            if self._branch is None:
                self.store.snapshot_at(ref)  # refuses a revision that is not there
                self.rev = ref
            else:
                self.store = GitStore(self.store.repo, self._branch)
        self.index = PromptIndex()
        self.versions = VersionCache()

    @property
    def branch(self) -> str | None:
        """The branch shown and written to: the one named, else the one checked out now
        (``None``: a revision that is no branch, or a detached HEAD, shown read-only)."""
        if self._branch is not None or self.rev is not None:
            return self._branch
        try:
            return self.store.branch
        except PromptshipError:
            return None

    @property
    def writable(self) -> bool:
        return self.branch is not None

    @property
    def shown(self) -> str:
        """What the page shows, for its header: a branch's short name, or the revision."""
        branch = self.branch
        if branch is not None:
            return branch.removeprefix("refs/heads/")
        return self.rev or "HEAD (detached)"

    def snapshot(self) -> GitSnapshot:
        """The files as of the revision shown, read now."""
        if self.rev is not None:
            return self.store.snapshot_at(self.rev)
        return self.store.snapshot()

    def own_snapshot(self) -> GitSnapshot:
        """The revision shown, read through a repository handle of its own: for work done in
        another thread (a libgit2 repository must not be used by two at once)."""
        store = GitStore.open(self.path, ref=self.branch)
        return store.snapshot_at(self.rev) if self.rev is not None else store.snapshot()

    def warm(self) -> threading.Thread:
        """Read the prompt list's rows in the background, so the first list the browser asks
        for (10,000 prompts take seconds to read once) is ready or on its way."""

        def read() -> None:
            # A broken repository is reported by the first request that reads it.
            with contextlib.suppress(PromptshipError):
                self.index.rows(self.own_snapshot(), times=False)

        thread = threading.Thread(target=read, name="promptship-ui-warm", daemon=True)
        thread.start()
        return thread

    def author(self) -> str | PromptshipError:
        """Who the page's commits are by, or why there is no one."""
        try:
            return str(self.store.identity())
        except PromptshipError as exc:
            return exc


def _branch_named(store: GitStore, ref: str) -> str | None:
    full = ref if ref.startswith("refs/heads/") else f"refs/heads/{ref}"
    if ref.startswith("refs/") and not ref.startswith("refs/heads/"):
        return None
    try:
        candidate = GitStore(store.repo, full)
    except PromptshipError:
        return None
    return full if candidate.tip()[1] is not None else None
