"""Deciding a write: an operation of the core and the state it was decided on, rebuilt on
whichever tip the commit must land on.

A rebuild is refused when the tip moved a production pointer the operation writes
(``Superseded``) or changed a file it writes (``ConcurrentChange``): the decision was taken on a
state that no longer holds. Anything else another writer did is built upon.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..errors import ConcurrentChange, Superseded
from ..model import parse_pointer
from ..snapshot import ChangeSet, Snapshot
from .store import GitSnapshot

__all__ = ["Decision", "Operation"]

Operation = Callable[[Snapshot, str], ChangeSet]
"""Builds a change set from a snapshot and the time to record (UTC, ISO 8601 with Z)."""


class Decision:
    """An operation and the state it was decided on (``base``; by default the first state it is
    built on). ``touched`` gathers the paths written on every attempt so far."""

    def __init__(
        self, operation: Operation, base: GitSnapshot | None, clock: Callable[[], str]
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
