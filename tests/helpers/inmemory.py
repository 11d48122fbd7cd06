"""Registries built in memory with the core's own operations, for tests that need no disk."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from registry.lifecycle import Body, create_prompt, new_version
from registry.model import Message, Version
from registry.promotion import plan_promotion
from registry.snapshot import DictSnapshot, apply_changes

ACTOR = "Alice Example <alice@example.com>"
NOW = "2026-11-29T14:02:11Z"


def body(content: str | list[tuple[str, str]]) -> Body:
    if isinstance(content, str):
        return Body(content=content)
    return Body(messages=tuple(Message(role=r, content=c) for r, c in content))


def add_prompt(
    snapshot: DictSnapshot,
    name: str,
    content: str | list[tuple[str, str]],
    *,
    promote: bool = True,
    metadata: Mapping[str, Any] | None = None,
) -> DictSnapshot:
    """``snapshot`` with a new prompt whose v1 holds ``content`` (text, or chat messages)."""
    draft = body(content)
    snapshot = apply_changes(
        snapshot,
        create_prompt(
            snapshot, name, body=draft, type=draft.type, metadata=metadata, actor=ACTOR, now=NOW
        ),
    )
    return promote_version(snapshot, name, 1) if promote else snapshot


def add_version(
    snapshot: DictSnapshot, name: str, content: str | list[tuple[str, str]]
) -> DictSnapshot:
    return apply_changes(
        snapshot, new_version(snapshot, name, body=body(content), actor=ACTOR, now=NOW)
    )


def promote_version(snapshot: DictSnapshot, name: str, number: int) -> DictSnapshot:
    return apply_changes(snapshot, plan_promotion(snapshot, name, number, actor=ACTOR, now=NOW))


def with_file(snapshot: DictSnapshot, path: str, data: bytes) -> DictSnapshot:
    return DictSnapshot({**snapshot.files, path: data}, snapshot.symlinks)


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
