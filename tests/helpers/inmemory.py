"""Registries built in memory with the core's own operations, for tests that need no disk: the
one builder every test of the core, the check and the readers starts from.

Two ways to use it: ``run(snapshot, *steps)`` applies steps (``create``, ``new_draft``,
``promote``, ...) with a clock a second apart, so histories go forward in time; ``add_prompt``,
``add_version`` and ``promote_version`` do one step each, all at ``NOW``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from registry.lifecycle import Body, archive_version, create_prompt, new_version, unarchive_version
from registry.model import Message, Version
from registry.promotion import plan_promotion
from registry.snapshot import ChangeSet, DictSnapshot, Snapshot, apply_changes

ALICE = ACTOR = "Alice Example <alice@example.com>"
BOB = "Bob Example <bob@example.com>"
NOW = "2026-11-29T14:02:11Z"

Step = Callable[[Snapshot, str], ChangeSet]
"""One operation of the core, given the snapshot and the time to record."""

Content = str | list[tuple[str, str]]
"""A text prompt's content, or a chat prompt's (role, content) messages."""


class Clock:
    """Timestamps a second apart from 10:00 UTC, so histories go forward in time."""

    def __init__(self) -> None:
        self.seconds = 10 * 3600

    def __call__(self) -> str:
        self.seconds += 1
        hours, rest = divmod(self.seconds, 3600)
        return f"2026-11-29T{hours:02d}:{rest // 60:02d}:{rest % 60:02d}Z"


def run(
    snapshot: DictSnapshot, *steps: Step, clock: Callable[[], str] | None = None
) -> DictSnapshot:
    clock = clock or Clock()
    for step in steps:
        snapshot = apply_changes(snapshot, step(snapshot, clock()))
    return snapshot


def body(content: Content) -> Body:
    if isinstance(content, str):
        return Body(content=content)
    return Body(messages=tuple(Message(role=r, content=c) for r, c in content))


def create(name: str, content: Content = "Hello {{ name }}!", **kwargs: Any) -> Step:
    draft = body(content)
    return lambda snap, now: create_prompt(
        snap, name, body=draft, type=draft.type, actor=ALICE, now=now, **kwargs
    )


def create_chat(name: str) -> Step:
    return create(name, [("system", "You answer for {{ company }}."), ("user", "{{ question }}")])


def new_draft(name: str, content: Content) -> Step:
    return lambda snap, now: new_version(snap, name, body=body(content), actor=ALICE, now=now)


def promote(name: str, number: int, notes: str = "", by: str = ALICE) -> Step:
    return lambda snap, now: plan_promotion(snap, name, number, notes=notes, actor=by, now=now)


def archive(name: str, number: int) -> Step:
    return lambda snap, now: archive_version(snap, name, number, actor=ALICE, now=now)


def unarchive(name: str, number: int) -> Step:
    return lambda snap, now: unarchive_version(snap, name, number, actor=ALICE, now=now)


_promote = promote


def _at_now() -> str:
    return NOW


def add_prompt(
    snapshot: DictSnapshot,
    name: str,
    content: Content,
    *,
    promote: bool = True,
    metadata: Mapping[str, Any] | None = None,
) -> DictSnapshot:
    """``snapshot`` with a new prompt whose v1 holds ``content``, promoted unless told not."""
    snapshot = run(snapshot, create(name, content, metadata=metadata), clock=_at_now)
    return promote_version(snapshot, name, 1) if promote else snapshot


def add_version(snapshot: DictSnapshot, name: str, content: Content) -> DictSnapshot:
    return run(snapshot, new_draft(name, content), clock=_at_now)


def promote_version(snapshot: DictSnapshot, name: str, number: int) -> DictSnapshot:
    return run(snapshot, _promote(name, number), clock=_at_now)


def sound_registry() -> DictSnapshot:
    """greeting: v1 archived (was production), v2 published, v3 draft, v4 archived draft;
    support: a chat prompt with v1 draft only."""
    return run(
        DictSnapshot({}),
        create("greeting", description="Greets a new user", tags=("onboarding",)),
        promote("greeting", 1, "Initial release"),
        new_draft("greeting", "Hi {{ name }}, welcome to {{ app }}!"),
        promote("greeting", 2, "Friendlier", by=BOB),
        new_draft("greeting", "Hey {{ name }}."),
        new_draft("greeting", "Yo {{ name }}."),
        archive("greeting", 4),
        create_chat("support"),
    )


def edited(snapshot: DictSnapshot, path: str, change: Callable[[str], str]) -> DictSnapshot:
    files = dict(snapshot.files)
    files[path] = change(files[path].decode("utf-8")).encode("utf-8")
    return DictSnapshot(files, snapshot.symlinks)


def with_files(snapshot: DictSnapshot, **files: bytes | None) -> DictSnapshot:
    """``with_files(s, **{"prompts/x/y": b"..."})``; ``None`` removes a file."""
    merged = dict(snapshot.files)
    for path, data in files.items():
        if data is None:
            merged.pop(path, None)
        else:
            merged[path] = data
    return DictSnapshot(merged, snapshot.symlinks)


def with_file(snapshot: DictSnapshot, path: str, data: bytes) -> DictSnapshot:
    return with_files(snapshot, **{path: data})


def text_version(content: str) -> Version:
    """A draft text version 1 of prompt 'p' holding ``content``."""
    return Version(
        prompt="p",
        version=1,
        status="draft",
        type="text",
        content=content,
        created_at="2026-11-29T10:00:00Z",
        created_by="A <a@x.io>",
    )
