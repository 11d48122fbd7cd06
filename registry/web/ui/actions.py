"""Every write the page makes: one function per button, each one call of the write API.

Nothing here decides anything: the rules, the commit and the refusals are the write API's, so a
button makes the commit the command line makes. Each function opens the repository anew (the page
serves requests from several threads; a repository handle is not shared between them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ...errors import Superseded
from ...model import PromptType
from ...snapshot import ChangeSet, Snapshot

__all__ = [
    "Done",
    "Target",
    "archive",
    "create",
    "delete",
    "edit",
    "new_version",
    "promote",
    "unarchive",
    "update",
]


@dataclass(frozen=True, kw_only=True, slots=True)
class Target:
    """Where the page writes: the repository and its branch (``refs/heads/...``)."""

    path: str
    branch: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Done:
    """What a write did, as the page reports it."""

    commit: str
    subject: str
    version: int | None = None
    pushed_to: str | None = None
    new_branch: str | None = None
    remote: str | None = None
    target: str | None = None
    """The branch a pull request of ``new_branch`` would target."""


Messages = Sequence[Mapping[str, str]]


def create(
    at: Target,
    name: str,
    *,
    content: str | None = None,
    messages: Messages | None = None,
    kind: PromptType = "text",
    description: str = "",
    tags: Sequence[str] = (),
    metadata: Mapping[str, Any] | None = None,
) -> Done:
    """A new prompt whose v1 is a draft: ``content`` or ``messages``, else blank of ``kind``."""
    from ...lifecycle import create_prompt

    body = _body(content, messages) if content is not None or messages is not None else None
    return _write(
        at,
        lambda snap, actor, now: create_prompt(
            snap,
            name,
            body=body,
            type=kind,
            description=description,
            tags=tags,
            metadata=metadata,
            actor=actor,
            now=now,
        ),
    )


def new_version(at: Target, name: str, *, copy_of: int | None) -> Done:
    from ...lifecycle import new_version as make

    return _write(
        at, lambda snap, actor, now: make(snap, name, source=copy_of, actor=actor, now=now)
    )


def edit(
    at: Target,
    name: str,
    number: int,
    *,
    content: str | None = None,
    messages: Messages | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Done:
    from ...lifecycle import edit_version

    body = _body(content, messages) if content is not None or messages is not None else None
    return _write(
        at,
        lambda snap, actor, now: edit_version(
            snap, name, number, body=body, metadata=metadata, actor=actor, now=now
        ),
    )


def update(
    at: Target,
    name: str,
    *,
    description: str | None,
    add_tags: Sequence[str],
    remove_tags: Sequence[str],
) -> Done:
    from ...lifecycle import update_info

    return _write(
        at,
        lambda snap, actor, now: update_info(
            snap,
            name,
            description=description,
            add_tags=add_tags,
            remove_tags=remove_tags,
            actor=actor,
            now=now,
        ),
    )


def archive(at: Target, name: str, number: int) -> Done:
    from ...lifecycle import archive_version

    return _write(
        at, lambda snap, actor, now: archive_version(snap, name, number, actor=actor, now=now)
    )


def unarchive(at: Target, name: str, number: int) -> Done:
    from ...lifecycle import unarchive_version

    return _write(
        at, lambda snap, actor, now: unarchive_version(snap, name, number, actor=actor, now=now)
    )


def delete(at: Target, name: str, *, force: bool) -> Done:
    from ...lifecycle import delete_prompt

    return _write(
        at, lambda snap, actor, now: delete_prompt(snap, name, force=force, actor=actor, now=now)
    )


def promote(
    at: Target,
    name: str,
    number: int,
    *,
    notes: str,
    expect_production: int | None,
    skip_tests: bool = False,
    branch: str | None = None,
    push: bool = False,
) -> Done:
    """Promote ``number``, refused as superseded unless production is still
    ``expect_production`` (the version the page showed; ``None``: none)."""
    from ...catalog import load_pointer
    from ...gate import plan_tested_promotion

    def operation(snap: Snapshot, actor: str, now: str) -> ChangeSet:
        pointer = load_pointer(snap, name)
        if (pointer.version if pointer else None) != expect_production:
            if pointer is None:
                raise Superseded(name, None, "", "")
            raise Superseded(name, pointer.version, pointer.promoted_by, pointer.promoted_at)
        return plan_tested_promotion(
            snap, name, number, notes=notes, actor=actor, now=now, skip_tests=skip_tests
        )

    return _write(at, operation, branch=branch, push=push)


def _body(content: str | None, messages: Messages | None) -> Any:
    from ...lifecycle import Body
    from ...model import Message

    if messages is not None:
        return Body(messages=tuple(Message(role=m["role"], content=m["content"]) for m in messages))
    return Body(content=content or "")


def _write(at: Target, build: Any, *, branch: str | None = None, push: bool = False) -> Done:
    from ...git.branch import commit_on_new_branch, resolve_start
    from ...git.remote import write_and_push
    from ...git.store import GitStore

    store = GitStore.open(at.path, ref=at.branch)
    identity = store.identity()
    actor = str(identity)

    def operation(snap: Snapshot, now: str) -> ChangeSet:
        changes: ChangeSet = build(snap, actor, now)
        return changes

    if branch is not None:
        start = resolve_start(store, None, fetch=push)
        result = commit_on_new_branch(
            store, operation, identity=identity, branch=branch, start=start, push=push
        )
        return Done(
            commit=result.commit,
            subject=result.changes.subject,
            version=result.changes.version,
            pushed_to=result.pushed_to,
            new_branch=branch,
            remote=start.remote,
            target=start.target,
        )
    if push:
        result = write_and_push(store, operation, identity=identity)
    else:
        result = store.write(operation, identity=identity)
    return Done(
        commit=result.commit,
        subject=result.changes.subject,
        version=result.changes.version,
        pushed_to=result.pushed_to,
    )
