"""The history of every prompt in time order, read from git: records with equal timestamps in
different prompts are ordered by the commits that appended them."""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Mapping, Sequence
from functools import partial
from itertools import accumulate

import pygit2

from .catalog import all_history
from .gitcli import first_parent_line
from .gitstore import GitSnapshot
from .history import HistoryRecord, TimeBound, select_records, sort_records, tied_across_prompts
from .names import PROMPTS_DIR

__all__ = ["commit_ranks", "query_history"]


def query_history(
    snapshot: GitSnapshot,
    name: str | None = None,
    *,
    user: str | None = None,
    since: TimeBound | None = None,
    until: TimeBound | None = None,
    newest_first: bool = True,
) -> list[HistoryRecord]:
    """Promotion records of one prompt or all, filtered and in time order; equal times keep file
    order within a prompt and commit order across prompts."""
    records = select_records(all_history(snapshot, name), user=user, since=since, until=until)
    wanted: dict[str, set[int]] = defaultdict(set)
    for record in tied_across_prompts(records) if name is None else ():
        wanted[record.prompt].add(record.position)
    ranks = commit_ranks(snapshot.repo, snapshot.commit, wanted) if wanted else None
    ordered = sort_records(records, newest_first=False, commit_rank=ranks)
    return ordered[::-1] if newest_first else ordered


def commit_ranks(
    repo: pygit2.Repository, tip: pygit2.Commit | None, wanted: Mapping[str, set[int]]
) -> dict[tuple[str, int], int]:
    """For history records ``prompt -> {position}`` of ``tip``'s files, a rank: the place on the
    first-parent line (0 = the root) of the commit that appended each, so records with equal
    timestamps sort in commit order.

    A history only grows, so a record is in a commit's file exactly when that file is at least as
    long as the tip's file up to the end of the record's line. That makes "is it there yet?"
    monotonic along the line: a binary search over the commits finds each record's commit from
    blob sizes read in object headers, in a number of steps that grows with the logarithm of the
    history's length, where a walk would compare a large registry's trees at every commit."""
    found: dict[tuple[str, int], int] = {}
    if tip is None or not any(wanted.values()):
        return found
    line = first_parent_line(repo.path, str(tip.id))
    at = _HistoriesAlong(repo, line)
    for prompt, positions in wanted.items():
        newest = _history_blob(tip, prompt)
        if not positions or newest is None:
            continue
        if at.blob_id(0, prompt) == newest.id:
            # Unchanged since the first commit (an imported registry): it added every record.
            found.update({(prompt, i): 0 for i in positions})
            continue
        lines = bytes(memoryview(newest)).split(b"\n")[:-1]
        ends = list(accumulate(len(row) + 1 for row in lines))
        size_at = partial(at.size, prompt=prompt)
        for i in positions:
            found[(prompt, i)] = bisect_left(range(len(line)), ends[i], key=size_at)
    return found


def _history_blob(commit: pygit2.Commit, prompt: str) -> pygit2.Blob | None:
    try:
        entry = commit.tree[f"{PROMPTS_DIR}/{prompt}/history.yaml"]
    except KeyError:
        return None
    return entry if isinstance(entry, pygit2.Blob) else None


class _HistoriesAlong:
    """Prompts' history blobs at the commits of a first-parent line, looked up once each."""

    def __init__(self, repo: pygit2.Repository, line: Sequence[str]) -> None:
        self.repo = repo
        self.line = line
        self._commits: dict[int, pygit2.Commit] = {}
        self._sizes: dict[pygit2.Oid, int] = {}

    def blob_id(self, index: int, prompt: str) -> pygit2.Oid | None:
        if index not in self._commits:
            self._commits[index] = self.repo[self.line[index]].peel(pygit2.Commit)
        blob = _history_blob(self._commits[index], prompt)
        return blob.id if blob is not None else None

    def size(self, index: int, prompt: str) -> int:
        oid = self.blob_id(index, prompt)
        if oid is None:
            return 0
        if oid not in self._sizes:
            self._sizes[oid] = _object_size(self.repo.odb, oid)
        return self._sizes[oid]


def _object_size(odb: pygit2.Odb, oid: pygit2.Oid) -> int:
    read_header = getattr(odb, "read_header", None)  # pygit2 1.19 and later
    if read_header is not None:
        return int(read_header(oid)[1])
    return len(odb.read(oid)[1])  # older pygit2 (the newest for Python 3.10): inflates the blob
