"""Promotion: one change set that moves the production pointer, flips two statuses and appends
one history record, so there is never a commit with two versions (or none) in production."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .catalog import load_info, load_pointer, load_version, version_numbers
from .errors import InvalidRegistry, LifecycleError, Problem, Superseded
from .history import HistoryRecord, append_record, last_record
from .identity import check_actor
from .model import Pointer, pointer_bytes, with_status
from .names import history_path, pointer_path, version_path
from .snapshot import ChangeSet, Snapshot

__all__ = ["plan_promotion", "require_production"]


def plan_promotion(
    snapshot: Snapshot,
    name: str,
    number: int,
    *,
    notes: str = "",
    actor: str,
    now: str,
    extra: Mapping[str, Any] | None = None,
) -> ChangeSet:
    """The promotion commit of ``name`` v``number``; ``extra`` adds keys to the history record."""
    check_actor(actor)
    load_info(snapshot, name)
    target = load_version(snapshot, name, number)
    pointer = load_pointer(snapshot, name)
    _check_single_production(snapshot, name, pointer)
    if target.status == "published":
        raise LifecycleError(
            name, number, f"{name} v{number} is already in production", hint="nothing to do"
        )
    if target.status == "archived":
        raise LifecycleError(
            name,
            number,
            f"{name} v{number} is archived, and archived versions cannot be promoted",
            hint=f"unarchive it first (promptship unarchive {name} {number}), then promote it",
        )
    existing = snapshot.read(history_path(name))
    last = last_record(existing or b"", path=history_path(name), prompt=name)
    if last is not None and pointer is not None and last.version != pointer.version:
        raise _inconsistent(
            history_path(name),
            f"the last history record names v{last.version} but production is v{pointer.version}",
        )
    record = HistoryRecord(
        prompt=name,
        version=number,
        previous_version=pointer.version if pointer else None,
        promoted_by=actor,
        promoted_at=now,
        notes=notes,
        extra=dict(extra or {}),
        position=last.position + 1 if last is not None else 0,
    )
    writes: dict[str, bytes | None] = {
        version_path(name, number): with_status(
            snapshot.read(version_path(name, number)) or b"", target, "published"
        ),
    }
    if pointer is not None:
        previous = load_version(snapshot, name, pointer.version)
        path = version_path(name, pointer.version)
        writes[path] = with_status(snapshot.read(path) or b"", previous, "archived")
    writes[pointer_path(name)] = pointer_bytes(
        Pointer(
            prompt=name, version=number, digest=target.digest, promoted_at=now, promoted_by=actor
        )
    )
    writes[history_path(name)] = append_record(existing, record)
    moved = f"v{pointer.version} -> v{number}" if pointer else f"v{number}"
    return ChangeSet(
        prompt=name,
        version=number,
        writes=writes,
        subject=f"promote({name}): {moved}",
        body=notes,
        trailers=(
            ("Prompt", name),
            ("Version", str(number)),
            ("Previous-Version", str(pointer.version) if pointer else "none"),
            ("Promoted-By", actor),
        ),
        record=record,
    )


def require_production(snapshot: Snapshot, name: str, expected: int | None) -> None:
    """Refuse with ``Superseded`` unless ``name``'s production version is still ``expected``
    (``None``: none), the one a person or a program saw when it decided to promote."""
    pointer = load_pointer(snapshot, name)
    now = pointer.version if pointer is not None else None
    if now == expected:
        return
    if pointer is None:
        raise Superseded(name, None, "", "")
    raise Superseded(name, pointer.version, pointer.promoted_by, pointer.promoted_at)


def _check_single_production(snapshot: Snapshot, name: str, pointer: Pointer | None) -> None:
    """Refuse to build on a registry whose files already disagree about production."""
    published = [
        n
        for n in version_numbers(snapshot, name)
        if load_version(snapshot, name, n).status == "published"
    ]
    expected = [pointer.version] if pointer else []
    if published == expected:
        return
    if pointer is None:
        raise _inconsistent(
            version_path(name, published[0]), "is published but there is no production.yaml"
        )
    if pointer.version not in published:
        raise _inconsistent(pointer_path(name), f"names v{pointer.version}, which is not published")
    other = next(n for n in published if n != pointer.version)
    raise _inconsistent(
        version_path(name, other), f"is published but production is v{pointer.version}"
    )


def _inconsistent(path: str, message: str) -> InvalidRegistry:
    return InvalidRegistry(
        [Problem(file=path, rule="pointer", message=message)],
        hint="the files were changed by hand; the check lists what is wrong (promptship check)",
    )
