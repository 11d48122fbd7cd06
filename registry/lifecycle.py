"""The lifecycle of prompt versions (everything but promotion) as pure operations.

Each operation reads a snapshot and returns the ``ChangeSet`` of one commit, or raises an error
saying which rule it met and what to do instead. Promotion lives in ``promotion.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from .catalog import (
    load_history,
    load_info,
    load_pointer,
    load_version,
    next_version_number,
    version_numbers,
)
from .errors import InputError, LifecycleError, PromptExists
from .identity import check_actor
from .jsonsafe import loads_strict
from .model import (
    CHAT_ROLES,
    Message,
    PromptInfo,
    PromptType,
    Version,
    as_message,
    metadata_fault,
    prompt_info_bytes,
    version_bytes,
    with_status,
)
from .names import RETIRE_TRAILER, check_name, is_valid_tag, prompt_dir, prompt_file, version_path
from .snapshot import ChangeSet, Snapshot
from .templates import check_template
from .yamlsafe import YamlError, load_yaml

__all__ = [
    "Body",
    "Text",
    "archive_version",
    "create_prompt",
    "delete_prompt",
    "edit_version",
    "merge_metadata",
    "new_version",
    "parse_body",
    "parse_metadata",
    "parse_parameters",
    "unarchive_version",
    "update_info",
]


@dataclass(frozen=True, kw_only=True, slots=True)
class Body:
    """The template part of a version: ``content`` for text prompts, ``messages`` for chat."""

    content: str | None = None
    messages: tuple[Message, ...] | None = None

    @property
    def type(self) -> PromptType:
        return "text" if self.messages is None else "chat"


@dataclass(frozen=True, kw_only=True, slots=True)
class Text:
    """Content as a person gave it (``--content``, ``--file``): plain text for a text prompt,
    YAML messages for a chat prompt. The operation reads it as the version's type asks, so the
    caller need not look the version up first."""

    text: str
    source: str


def _as_body(given: Body | Text | None, type: PromptType) -> Body | None:
    if isinstance(given, Text):
        return parse_body(given.text, type=type, source=given.source)
    return given


def parse_body(text: str, *, type: PromptType, source: str) -> Body:
    """A body from ``--content``/``--file`` text: the text itself for a text prompt; for a chat
    prompt, YAML holding a list of ``{role, content}`` (or a mapping with ``messages:``)."""
    if type == "text":
        return Body(content=text)
    try:
        loaded = load_yaml(text.encode("utf-8"), path=source)
    except YamlError as exc:
        raise InputError(str(exc.problem), hint=_CHAT_HINT) from None
    if isinstance(loaded, dict) and set(loaded) == {"messages"}:
        loaded = loaded["messages"]
    if not isinstance(loaded, list) or not loaded:
        raise InputError(f"{source}: a chat prompt needs a list of messages", hint=_CHAT_HINT)
    messages = []
    for i, item in enumerate(loaded):
        message = as_message(item)
        if message is None:
            raise InputError(f"{source}: message {i + 1} is not {{role, content}}", hint=_CHAT_HINT)
        messages.append(message)
    return Body(messages=tuple(messages))


_CHAT_HINT = (
    "give chat messages as YAML, e.g. - {role: system, content: You are helpful.} "
    "then - {role: user, content: 'Hello {{name}}'} (roles: " + ", ".join(CHAT_ROLES) + ")"
)


def parse_metadata(texts: Sequence[str] = (), json_values: Sequence[str] = ()) -> dict[str, Any]:
    """Metadata to set, from ``--meta KEY=TEXT`` (the value is always text: ``017``, ``yes`` and
    ``0.2`` stay as written) and ``--meta-json KEY=JSON`` (a JSON value: ``0.2``, ``100``,
    ``true``, ``null``, ``"text"``, a list or an object)."""
    result: dict[str, Any] = {}
    for option, pairs in (("--meta", texts), ("--meta-json", json_values)):
        for pair in pairs:
            key, sep, raw = pair.partition("=")
            key = key.strip()
            if not sep or not key:
                example = "model=gpt-4o" if option == "--meta" else "temperature=0.2"
                raise InputError(
                    f"{option} {pair!r} is not KEY=VALUE", hint=f"e.g. {option} {example}"
                )
            if option == "--meta":
                result[key] = raw
                continue
            try:
                result[key] = loads_strict(raw)
            except ValueError as exc:
                raise InputError(
                    f"--meta-json {key}: {raw!r} is not a JSON value ({exc})",
                    hint='write a number (0.2, 100), true, false, null, "text in quotes", '
                    f"[a, list] or {{an: object}}; for text, --meta {key}=...",
                ) from None
    return result


def parse_parameters(pairs: Sequence[str], *, option: str = "--param") -> dict[str, Any]:
    """``KEY=VALUE`` model parameters for a test run, never written to the registry: a value
    every YAML reader reads alike is typed (``temperature=0.2`` is a number), anything else is
    text; ``KEY=`` with nothing after it removes the key (``None`` in the result)."""
    result: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise InputError(f"{pair!r} is not KEY=VALUE", hint=f"e.g. {option} temperature=0.2")
        if raw == "":
            result[key.strip()] = None
            continue
        try:
            value = load_yaml(raw.encode("utf-8"), path=f"{option} {key}")
        except YamlError:
            value = raw
        if isinstance(value, (dict, list)):
            value = raw
        result[key.strip()] = value
    return result


def merge_metadata(base: Mapping[str, Any], updates: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``updates`` over it; an update to ``None`` drops the key."""
    merged = dict(base)
    for key, value in updates.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def _updated_metadata(
    base: Mapping[str, Any], values: Mapping[str, Any] | None, unset: Sequence[str]
) -> dict[str, Any]:
    """``base`` with ``values`` set (``None`` is JSON's null, a value like any other) and the
    keys in ``unset`` removed; refused unless every reader reads the result alike."""
    merged = {k: v for k, v in base.items() if k not in unset}
    merged.update(values or {})
    fault = metadata_fault(merged)
    if fault is not None:
        raise InputError(
            fault[1],
            hint="metadata values are JSON values: text (--meta KEY=TEXT), or numbers, "
            "true/false, null, lists and objects (--meta-json KEY=JSON)",
        )
    return merged


def _blank(type: PromptType) -> Body:
    if type == "text":
        return Body(content="")
    return Body(messages=(Message(role="system", content=""), Message(role="user", content="")))


def _new_draft(
    name: str, number: int, body: Body, metadata: Mapping[str, Any], actor: str, now: str
) -> Version:
    version = Version(
        prompt=name,
        version=number,
        status="draft",
        type=body.type,
        content=body.content,
        messages=body.messages,
        metadata=dict(metadata),
        created_at=now,
        created_by=actor,
    )
    _check_templates(version)
    return version


def _check_templates(version: Version) -> None:
    for where, text in version.templates():
        check_template(text, where=f"{version.prompt} v{version.version} {where}")


def _trailers(name: str, version: int) -> tuple[tuple[str, str], ...]:
    return (("Prompt", name), ("Version", str(version)))


def create_prompt(
    snapshot: Snapshot,
    name: str,
    *,
    body: Body | Text | None = None,
    type: PromptType = "text",
    description: str = "",
    tags: Sequence[str] = (),
    metadata: Mapping[str, Any] | None = None,
    actor: str,
    now: str,
) -> ChangeSet:
    """A new prompt whose version 1 is a draft (blank unless ``body`` is given); ``metadata``
    holds JSON values (``None`` is null)."""
    check_name(name)
    check_actor(actor)
    if (
        snapshot.list_dir(prompt_dir(name)) is not None
        or snapshot.read(prompt_dir(name)) is not None
    ):
        raise PromptExists(name)
    body = _as_body(body, type) or _blank(type)
    if body.type != type:
        raise InputError(
            f"the content given is for a {body.type} prompt, not {type}",
            hint="give chat messages for a chat prompt (--type chat), plain text for a text prompt",
        )
    info = PromptInfo(name=name, description=description, tags=_check_tags(tags))
    draft = _new_draft(name, 1, body, _updated_metadata({}, metadata, ()), actor, now)
    return ChangeSet(
        prompt=name,
        version=1,
        writes={
            prompt_file(name): prompt_info_bytes(info),
            version_path(name, 1): version_bytes(draft),
        },
        subject=f"create({name}): v1",
        body=description,
        trailers=_trailers(name, 1),
    )


def _check_tags(tags: Sequence[str]) -> tuple[str, ...]:
    for tag in tags:
        if not is_valid_tag(tag):
            raise InputError(
                f"{tag!r} is not a valid tag", hint="tags use a-z, 0-9 and '-', '_' or '.' between"
            )
    return tuple(dict.fromkeys(tags))


def new_version(
    snapshot: Snapshot,
    name: str,
    *,
    source: int | None = None,
    body: Body | Text | None = None,
    metadata: Mapping[str, Any] | None = None,
    unset_metadata: Sequence[str] = (),
    actor: str,
    now: str,
) -> ChangeSet:
    """The next version as a draft: a copy of ``source``, the ``body`` given, or blank.

    Metadata comes from ``source`` (else the latest version), then ``metadata`` sets keys and
    ``unset_metadata`` removes keys."""
    load_info(snapshot, name)
    check_actor(actor)
    numbers = version_numbers(snapshot, name)
    origin_number = source if source is not None else (numbers[-1] if numbers else None)
    origin = load_version(snapshot, name, origin_number) if origin_number is not None else None
    body = _as_body(body, origin.type if origin else "text")
    if body is None:
        if source is not None and origin is not None:
            body = Body(content=origin.content, messages=origin.messages)
        else:
            body = _blank(origin.type if origin else "text")
    number = next_version_number(snapshot, name)
    base_meta = origin.metadata if origin else {}
    merged = _updated_metadata(base_meta, metadata, unset_metadata)
    draft = _new_draft(name, number, body, merged, actor, now)
    return ChangeSet(
        prompt=name,
        version=number,
        writes={version_path(name, number): version_bytes(draft)},
        subject=f"new-version({name}): v{number}" + (f" from v{source}" if source else ""),
        trailers=_trailers(name, number),
    )


def _published_ever(snapshot: Snapshot, name: str, number: int) -> bool:
    pointer = load_pointer(snapshot, name)
    if pointer is not None and pointer.version == number:
        return True
    return any(r.version == number for r in load_history(snapshot, name))


def edit_version(
    snapshot: Snapshot,
    name: str,
    number: int,
    *,
    body: Body | Text | None = None,
    metadata: Mapping[str, Any] | None = None,
    unset_metadata: Sequence[str] = (),
    actor: str,
    now: str,
) -> ChangeSet:
    """Change a draft's content or metadata (``metadata`` sets keys, ``unset_metadata``
    removes keys); only drafts that were never published."""
    check_actor(actor)
    version = load_version(snapshot, name, number)
    if version.status == "published" or _published_ever(snapshot, name, number):
        raise LifecycleError(
            name,
            number,
            f"{name} v{number} has been in production, and such a version keeps its content for good",
            hint=f"make a changed copy as a new version (promptship new-version {name} --from {number})",
        )
    if version.status == "archived":
        raise LifecycleError(
            name,
            number,
            f"{name} v{number} is archived; only drafts can be edited",
            hint=f"unarchive it first (promptship unarchive {name} {number}), "
            f"or copy it as a new version (promptship new-version {name} --from {number})",
        )
    body = _as_body(body, version.type)
    if body is not None and body.type != version.type:
        raise InputError(
            f"{name} v{number} is a {version.type} prompt; the content given is {body.type}",
            hint="give plain text for a text prompt, a YAML list of messages for a chat prompt",
        )
    body = body or Body(content=version.content, messages=version.messages)
    edited = replace(
        version,
        content=body.content,
        messages=body.messages,
        metadata=_updated_metadata(version.metadata, metadata, unset_metadata),
    )
    _check_templates(edited)
    if edited == version:
        raise InputError(f"{name} v{number} already has this content", hint="nothing to change")
    return ChangeSet(
        prompt=name,
        version=number,
        writes={version_path(name, number): version_bytes(edited)},
        subject=f"edit({name}): v{number}",
        trailers=_trailers(name, number),
    )


def archive_version(
    snapshot: Snapshot, name: str, number: int, *, actor: str, now: str
) -> ChangeSet:
    """Draft → archived. The production version is archived only by promoting another one."""
    check_actor(actor)
    version = load_version(snapshot, name, number)
    if version.status == "published":
        raise LifecycleError(
            name,
            number,
            f"{name} v{number} is in production and cannot be archived directly",
            hint=f"promote another version of {name}: that archives v{number} in the same commit",
        )
    if version.status == "archived":
        raise LifecycleError(
            name, number, f"{name} v{number} is already archived", hint="nothing to do"
        )
    return _status_change(snapshot, version, "archive", "archived")


def unarchive_version(
    snapshot: Snapshot, name: str, number: int, *, actor: str, now: str
) -> ChangeSet:
    """Archived → draft, so it can be promoted again (a rollback is unarchive + promote)."""
    check_actor(actor)
    version = load_version(snapshot, name, number)
    if version.status != "archived":
        raise LifecycleError(
            name,
            number,
            f"{name} v{number} is {version.status}, not archived",
            hint="only archived versions can be unarchived",
        )
    return _status_change(snapshot, version, "unarchive", "draft")


def _status_change(snapshot: Snapshot, version: Version, verb: str, status: Any) -> ChangeSet:
    name, number = version.prompt, version.version
    path = version_path(name, number)
    data = snapshot.read(path) or b""
    return ChangeSet(
        prompt=name,
        version=number,
        writes={path: with_status(data, version, status)},
        subject=f"{verb}({name}): v{number}",
        trailers=_trailers(name, number),
    )


def delete_prompt(snapshot: Snapshot, name: str, *, force: bool, actor: str, now: str) -> ChangeSet:
    """Remove a whole prompt. One in production only with ``force``: consumers reading it break."""
    check_actor(actor)
    load_info(snapshot, name)
    pointer = load_pointer(snapshot, name)
    if pointer is not None and not force:
        raise LifecycleError(
            name,
            None,
            f"{name} has a production version (v{pointer.version}); applications reading it "
            "will break when it is gone",
            hint=f"if that is what you want, delete it with force (promptship delete {name} --force)",
        )
    body = f"It had v{pointer.version} in production." if pointer else ""
    # The check lets a prompt in production leave only by a commit that says so (Retire-Prompt).
    retire = ((RETIRE_TRAILER, name),) if pointer else ()
    return ChangeSet(
        prompt=name,
        writes={prompt_dir(name): None},
        subject=f"delete({name})",
        body=body,
        trailers=(("Prompt", name), *retire),
    )


def update_info(
    snapshot: Snapshot,
    name: str,
    *,
    description: str | None = None,
    add_tags: Sequence[str] = (),
    remove_tags: Sequence[str] = (),
    actor: str,
    now: str,
) -> ChangeSet:
    """Change a prompt's description or tags; no version is created."""
    check_actor(actor)
    info = load_info(snapshot, name)
    tags = [t for t in info.tags if t not in remove_tags]
    tags += [t for t in _check_tags(add_tags) if t not in tags]
    updated = replace(
        info, description=info.description if description is None else description, tags=tuple(tags)
    )
    if updated == info:
        raise InputError(
            f"{name} already has this description and these tags", hint="nothing to change"
        )
    changed = [
        what
        for what, differs in (
            ("description", updated.description != info.description),
            ("tags", updated.tags != info.tags),
        )
        if differs
    ]
    return ChangeSet(
        prompt=name,
        writes={prompt_file(name): prompt_info_bytes(updated)},
        subject=f"update({name}): {', '.join(changed)}",
        trailers=(("Prompt", name),),
    )
