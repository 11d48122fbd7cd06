"""The history of every prompt in time order, read from git: records with equal timestamps in
different prompts are ordered by the commits that appended them."""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Mapping, Sequence
from functools import partial
from itertools import accumulate

import pygit2

from ..catalog import all_history
from ..history import HistoryRecord, TimeBound, select_records, sort_records, tied_across_prompts
from ..names import history_path
from .program import first_parent_line
from .store import GitSnapshot

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
    ranks = commit_ranks(snapshot, wanted) if wanted else None
    return sort_records(records, newest_first=newest_first, commit_rank=ranks)


def commit_ranks(
    snapshot: GitSnapshot, wanted: Mapping[str, set[int]]
) -> dict[tuple[str, int], int]:
    """For history records ``prompt -> {position}`` of ``snapshot``'s files, a rank: the place on
    the first-parent line (0 = the root) of the commit that appended each, so records with equal
    timestamps sort in commit order.

    A history only grows, so a record is in a commit's file exactly when that file is at least as
    long as the tip's file up to the end of the record's line. That makes "is it there yet?"
    monotonic along the line: a binary search over the commits finds each record's commit from
    blob sizes read in object headers, in a number of steps that grows with the logarithm of the
    history's length, where a walk would compare a large registry's trees at every commit."""
    found: dict[tuple[str, int], int] = {}
    if snapshot.commit is None or not any(wanted.values()):
        return found
    line = first_parent_line(snapshot.repo.path, str(snapshot.commit.id))
    at = _HistoriesAlong(snapshot.repo, line)
    for prompt, positions in wanted.items():
        path = history_path(prompt)
        if at.blob_id(0, path) == snapshot.object_id(path):
            # Unchanged since the first commit (an imported registry): it added every record.
            found.update({(prompt, i): 0 for i in positions})
            continue
        lines = (snapshot.read(path) or b"").split(b"\n")[:-1]
        ends = list(accumulate(len(row) + 1 for row in lines))
        size_at = partial(at.size, path=path)
        for i in positions:
            found[(prompt, i)] = bisect_left(range(len(line)), ends[i], key=size_at)
    return found


class _HistoriesAlong:
    """Files at the commits of a first-parent line: their blob ids and sizes, each looked up
    once (a binary search probes the same commits again and again)."""

    def __init__(self, repo: pygit2.Repository, line: Sequence[str]) -> None:
        self.repo = repo
        self.line = line
        self._ids: dict[tuple[int, str], str | None] = {}
        self._sizes: dict[str, int] = {}

    def blob_id(self, index: int, path: str) -> str | None:
        if (index, path) not in self._ids:
            tree = self.repo[self.line[index]].peel(pygit2.Tree)
            try:
                entry = tree[path]
            except KeyError:
                entry = None
            self._ids[index, path] = str(entry.id) if isinstance(entry, pygit2.Blob) else None
        return self._ids[index, path]

    def size(self, index: int, path: str) -> int:
        oid = self.blob_id(index, path)
        if oid is None:
            return 0
        if oid not in self._sizes:
            self._sizes[oid] = _object_size(self.repo.odb, pygit2.Oid(hex=oid))
        return self._sizes[oid]


def _object_size(odb: pygit2.Odb, oid: pygit2.Oid) -> int:
    read_header = getattr(odb, "read_header", None)  # pygit2 1.19 and later
    if read_header is not None:
        return int(read_header(oid)[1])
    return len(odb.read(oid)[1])  # older pygit2 (the newest for Python 3.10): inflates the blob
