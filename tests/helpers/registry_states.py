"""Registries in memory, built by promptship's own operations, for tests of the check's rules."""

from __future__ import annotations

from collections.abc import Callable

from registry.lifecycle import Body, archive_version, create_prompt, new_version, unarchive_version
from registry.model import Message
from registry.promotion import plan_promotion
from registry.snapshot import ChangeSet, DictSnapshot, Snapshot, apply_changes

ALICE = "Alice Example <alice@example.com>"
BOB = "Bob Example <bob@example.com>"

Step = Callable[[Snapshot, str], ChangeSet]


class Clock:
    """Timestamps a second apart from 10:00 UTC, so histories go forward in time."""

    def __init__(self) -> None:
        self.seconds = 10 * 3600

    def __call__(self) -> str:
        self.seconds += 1
        hours, rest = divmod(self.seconds, 3600)
        return f"2026-11-29T{hours:02d}:{rest // 60:02d}:{rest % 60:02d}Z"


def run(snapshot: DictSnapshot, *steps: Step, clock: Clock | None = None) -> DictSnapshot:
    clock = clock or Clock()
    for step in steps:
        snapshot = apply_changes(snapshot, step(snapshot, clock()))
    return snapshot


def create(name: str, content: str = "Hello {{ name }}!", **kwargs: object) -> Step:
    return lambda snap, now: create_prompt(
        snap,
        name,
        body=Body(content=content),
        actor=ALICE,
        now=now,
        **kwargs,  # type: ignore[arg-type]
    )


def create_chat(name: str) -> Step:
    body = Body(
        messages=(
            Message(role="system", content="You answer for {{ company }}."),
            Message(role="user", content="{{ question }}"),
        )
    )
    return lambda snap, now: create_prompt(snap, name, body=body, type="chat", actor=ALICE, now=now)


def add_version(name: str, content: str) -> Step:
    return lambda snap, now: new_version(
        snap, name, body=Body(content=content), actor=ALICE, now=now
    )


def promote(name: str, number: int, notes: str = "", by: str = ALICE) -> Step:
    return lambda snap, now: plan_promotion(snap, name, number, notes=notes, actor=by, now=now)


def archive(name: str, number: int) -> Step:
    return lambda snap, now: archive_version(snap, name, number, actor=ALICE, now=now)


def unarchive(name: str, number: int) -> Step:
    return lambda snap, now: unarchive_version(snap, name, number, actor=ALICE, now=now)


def sound_registry() -> DictSnapshot:
    """greeting: v1 archived (was production), v2 published, v3 draft, v4 archived draft;
    support: a chat prompt with v1 draft only."""
    return run(
        DictSnapshot({}),
        create("greeting", description="Greets a new user", tags=("onboarding",)),
        promote("greeting", 1, "Initial release"),
        add_version("greeting", "Hi {{ name }}, welcome to {{ app }}!"),
        promote("greeting", 2, "Friendlier", by=BOB),
        add_version("greeting", "Hey {{ name }}."),
        add_version("greeting", "Yo {{ name }}."),
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
