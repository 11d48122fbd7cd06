"""The registry's records and the schemas of its files.

``parse_*`` functions turn one file's bytes into a frozen record or raise ``InvalidRegistry`` listing
every problem of that file; ``*_bytes`` functions write a record in the documented layout.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from .errors import InvalidRegistry, Problem
from .names import MAX_VERSION, is_valid_tag
from .yamlsafe import (
    MAX_SAFE_INTEGER,
    YamlError,
    dump_mapping,
    key_lines,
    load_yaml,
    load_yaml_text,
)

__all__ = [
    "CHAT_ROLES",
    "DIGEST",
    "MAX_IDENTITY_LENGTH",
    "MAX_MESSAGES",
    "MAX_METADATA_DEPTH",
    "MAX_METADATA_TEXT",
    "STATUSES",
    "TIMESTAMP",
    "TYPES",
    "Message",
    "Pointer",
    "PromptInfo",
    "Status",
    "Version",
    "as_message",
    "digest_of",
    "is_timestamp",
    "json_compatible",
    "load_file",
    "metadata_fault",
    "parse_identity",
    "parse_pointer",
    "parse_prompt_info",
    "parse_version",
    "pointer_bytes",
    "prompt_info_bytes",
    "version_bytes",
    "version_from_mapping",
    "with_status",
]

Status = Literal["draft", "published", "archived"]
PromptType = Literal["text", "chat"]
STATUSES: tuple[Status, ...] = ("draft", "published", "archived")
TYPES: tuple[PromptType, ...] = ("text", "chat")
CHAT_ROLES = ("system", "developer", "user", "assistant")

TIMESTAMP = re.compile(
    r"(?:[0-9]{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    r"|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))"
    # February 29th of leap years: divisible by 4, and by 400 when by 100.
    r"|(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)-02-29)"
    r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z\Z"
)
"""A UTC time, to the second, on a day the calendar has (the pattern knows leap years, so a
history of 100,000 records is checked without a date computed per record)."""
MAX_IDENTITY_LENGTH = 320
"""Characters in ``Name <email>``: room for any real name and address, and a bound on the work
an identity from a pull request can cause."""
DIGEST = re.compile(r"sha256:[0-9a-f]{64}\Z")
# Characters that end a line for some reader (YAML 1.1 counts NEL and the Unicode separators),
# or that no terminal shows: never part of a name.
_WHITE_SPACE = re.compile(r"\s")
_LINE_OR_CONTROL = frozenset([*map(chr, range(32)), "\x7f", "\x85", "\u2028", "\u2029"])


def is_timestamp(value: object) -> bool:
    return isinstance(value, str) and bool(TIMESTAMP.match(value))


@functools.lru_cache(maxsize=1024)  # the same few people create and promote most versions
def parse_identity(text: str) -> tuple[str, str] | None:
    """Split ``"Name <email>"`` into its parts, or ``None`` if it is not of that form.

    Read from the end in linear time: the text comes from pull requests, where a backtracking
    pattern could be made to run for hours."""
    text = text.strip()
    if len(text) > MAX_IDENTITY_LENGTH or not text.endswith(">"):
        return None
    start = text.rfind("<")
    name, email = text[:start].rstrip(), text[start + 1 : -1]
    if (
        start < 0
        or not name
        or not email
        or "<" in name
        or ">" in name
        or ">" in email
        or _WHITE_SPACE.search(email)
        or not _LINE_OR_CONTROL.isdisjoint(name)
    ):
        return None
    return name, email


def digest_of(mapping: Mapping[str, Any]) -> str:
    """``sha256:`` + hex SHA-256 of the version mapping without ``status``, as canonical JSON."""
    body = {k: v for k, v in mapping.items() if k != "status"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, kw_only=True, slots=True)
class Message:
    role: str
    content: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Version:
    """One version of a prompt, as its ``versions/N.yaml`` holds it."""

    prompt: str
    version: int
    status: Status
    type: PromptType
    content: str | None = None
    messages: tuple[Message, ...] | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    created_at: str
    created_by: str

    def to_mapping(self) -> dict[str, Any]:
        """The file's mapping, keys in the documented order."""
        data: dict[str, Any] = {"version": self.version, "status": self.status, "type": self.type}
        if self.type == "text":
            data["content"] = self.content
        else:
            data["messages"] = [{"role": m.role, "content": m.content} for m in self.messages or ()]
        data["metadata"] = dict(self.metadata)
        data["created_at"] = self.created_at
        data["created_by"] = self.created_by
        return data

    @property
    def digest(self) -> str:
        """Of the normal form: a file without ``metadata`` counts as ``metadata: {}``."""
        return digest_of(self.to_mapping())

    def templates(self) -> list[tuple[str, str]]:
        """``(where, template)`` for each piece of text that is a template."""
        if self.type == "text":
            return [("content", self.content or "")]
        return [(f"messages[{i}]", m.content) for i, m in enumerate(self.messages or ())]


@dataclass(frozen=True, kw_only=True, slots=True)
class PromptInfo:
    """A prompt's ``prompt.yaml``: what it is for, and tags to find it by."""

    name: str
    description: str = ""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class Pointer:
    """A prompt's ``production.yaml``: which version is in production."""

    prompt: str
    version: int
    digest: str
    promoted_at: str
    promoted_by: str


class _Checker:
    """Collects every problem of one file so a user can fix them in one pass."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.text = text
        self.problems: list[Problem] = []
        self._lines: dict[str, int] | None = None

    def add(self, message: str, *, rule: str = "schema", key: str | None = None) -> None:
        line = None
        if key:
            if self._lines is None:
                self._lines = key_lines(self.text)
            line = self._lines.get(key)
        self.problems.append(Problem(file=self.path, line=line, rule=rule, message=message))

    def mapping(self, data: Any, *, required: Sequence[str], optional: Sequence[str]) -> bool:
        if not isinstance(data, dict):
            self.add("the file must hold a mapping of keys to values")
            return False
        for key in data:
            if key not in required and key not in optional:
                known = ", ".join([*required, *optional])
                self.add(f"unknown key {key!r} (allowed: {known})", key=str(key))
        for key in required:
            if key not in data:
                self.add(f"missing key {key!r}")
        return True

    def text_field(self, data: Mapping[str, Any], key: str) -> None:
        if key in data and not isinstance(data[key], str):
            self.add(f"{key!r} must be text", key=key)

    def timestamp(self, data: Mapping[str, Any], key: str) -> None:
        if key in data and not is_timestamp(data[key]):
            self.add(
                f'{key!r} must be a UTC time like "2026-11-29T14:02:11Z", not {data[key]!r}',
                key=key,
            )

    def identity(self, data: Mapping[str, Any], key: str) -> None:
        value = data.get(key)
        if key in data and not (isinstance(value, str) and parse_identity(value)):
            self.add(f'{key!r} must read "Name <email>", not {value!r}', key=key)

    def integer(self, data: Mapping[str, Any], key: str) -> None:
        value = data.get(key)
        if key in data and (type(value) is not int or not 1 <= value <= MAX_VERSION):
            self.add(
                f"{key!r} must be a whole number from 1 to {MAX_VERSION:,}, not {value!r}", key=key
            )

    def raise_if_any(self) -> None:
        if self.problems:
            raise InvalidRegistry(self.problems)


def load_file(data: bytes, path: str) -> tuple[Any, str]:
    """A registry file's YAML value and its text, or ``InvalidRegistry`` naming the fault."""
    try:
        return load_yaml_text(data, path=path)
    except YamlError as exc:
        raise InvalidRegistry([exc.problem]) from None


def json_compatible(value: Any) -> bool:
    """Metadata must survive JSON (for the digest, ``--json`` and consumers in other languages)."""
    return _json_fault(value, math.inf, math.inf) is None


MAX_MESSAGES = 1000
"""Messages in one chat version."""
MAX_METADATA_TEXT = 64 << 10
"""Characters of keys and text in one version's metadata."""
MAX_METADATA_DEPTH = 10
"""Levels of lists and mappings in one version's metadata, itself included."""


def metadata_fault(metadata: Any) -> tuple[str, str] | None:
    """``(rule, message)`` saying why ``metadata`` is not a version's metadata, or ``None``."""
    if not isinstance(metadata, dict):
        return "schema", _METADATA_SHAPE
    # The usual metadata, flat text, numbers and true/false, is checked in one pass.
    text = 0
    for key, value in metadata.items():
        kind = type(value)
        if type(key) is not str:
            break
        if kind is str:
            text += len(key) + len(value)
        elif (
            value is None
            or kind is bool
            or (kind is int and abs(value) <= MAX_SAFE_INTEGER)
            or (kind is float and math.isfinite(value))
        ):
            text += len(key)
        else:
            break
    else:
        if text <= MAX_METADATA_TEXT:
            return None
    fault = _json_fault(metadata, MAX_METADATA_DEPTH, MAX_METADATA_TEXT)
    if fault is None:
        return None
    return ("schema", _METADATA_SHAPE) if fault == "json" else ("limit", fault)


_METADATA_SHAPE = (
    "'metadata' must be a mapping of text keys to plain values (text, whole numbers of at most "
    "15 digits, finite decimals, true/false, null, lists, mappings)"
)


def _json_fault(value: Any, max_depth: float, max_text: float) -> str | None:
    """``"json"`` when ``value`` is not plain JSON every reader keeps exactly, a message when it
    is deeper or holds more text than allowed, else ``None`` (one walk, no recursion)."""
    text = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        kind = type(item)
        if kind is str:
            text += len(item)
        elif kind is bool or item is None:
            pass
        elif kind is int:
            if abs(item) > MAX_SAFE_INTEGER:
                return "json"
        elif kind is float:
            if not math.isfinite(item):
                return "json"
        elif kind is list or kind is dict:
            if depth > max_depth:
                return f"'metadata' is nested deeper than {max_depth} levels"
            if kind is dict:
                for key in item:
                    if type(key) is not str:
                        return "json"
                    text += len(key)
                stack.extend((v, depth + 1) for v in item.values())
            else:
                stack.extend((v, depth + 1) for v in item)
        else:
            return "json"
        if text > max_text:
            return f"'metadata' holds more than {max_text:,} characters of keys and text"
    return None


def parse_version(data: bytes, *, path: str, prompt: str, number: int) -> Version:
    """Read ``versions/<number>.yaml`` of ``prompt``."""
    loaded, text = load_file(data, path)
    return version_from_mapping(loaded, text=text, path=path, prompt=prompt, number=number)


def version_from_mapping(loaded: Any, *, text: str, path: str, prompt: str, number: int) -> Version:
    """The schema check of a loaded version file (``text`` locates the keys of its problems)."""
    check = _Checker(path, text)
    required = ("version", "status", "type", "created_at", "created_by")
    optional = ("content", "messages", "metadata")
    if not check.mapping(loaded, required=required, optional=optional):
        check.raise_if_any()
    check.integer(loaded, "version")
    if type(loaded.get("version")) is int and loaded["version"] != number:
        check.add(
            f"'version' is {loaded['version']} but the file is named {number}.yaml",
            rule="file-name",
            key="version",
        )
    if "status" in loaded and loaded["status"] not in STATUSES:
        check.add(f"'status' must be one of {', '.join(STATUSES)}", key="status")
    kind = loaded.get("type")
    if "type" in loaded and kind not in TYPES:
        check.add(f"'type' must be one of {', '.join(TYPES)}", key="type")
    messages = _check_body(check, loaded, kind)
    metadata = loaded.get("metadata", {})
    fault = metadata_fault(metadata)
    if fault is not None:
        check.add(fault[1], rule=fault[0], key="metadata")
    check.timestamp(loaded, "created_at")
    check.identity(loaded, "created_by")
    check.raise_if_any()
    return Version(
        prompt=prompt,
        version=loaded["version"],
        status=loaded["status"],
        type=kind,
        content=loaded.get("content"),
        messages=messages,
        metadata=metadata,
        created_at=loaded["created_at"],
        created_by=loaded["created_by"],
    )


def _check_body(
    check: _Checker, loaded: Mapping[str, Any], kind: Any
) -> tuple[Message, ...] | None:
    if kind == "text":
        if "messages" in loaded:
            check.add("a text prompt has 'content', not 'messages'", key="messages")
        if "content" not in loaded:
            check.add("missing key 'content'")
        check.text_field(loaded, "content")
        return None
    if kind != "chat":
        return None
    if "content" in loaded:
        check.add("a chat prompt has 'messages', not 'content'", key="content")
    raw = loaded.get("messages")
    if not isinstance(raw, list) or not raw:
        check.add("a chat prompt needs 'messages': a list of {role, content}", key="messages")
        return None
    if len(raw) > MAX_MESSAGES:
        check.add(
            f"{len(raw):,} messages, more than the {MAX_MESSAGES:,} a version may hold",
            rule="limit",
            key="messages",
        )
        return None
    messages = []
    for i, item in enumerate(raw):
        message = as_message(item)
        if message is None:
            check.add(
                f"messages[{i}] must be {{role, content}} with role one of "
                f"{', '.join(CHAT_ROLES)} and content text",
                key="messages",
            )
            continue
        messages.append(message)
    return tuple(messages)


def as_message(item: Any) -> Message | None:
    """``item`` as a chat message, or ``None`` if it is not exactly ``{role, content}`` with a
    known role and text content."""
    if (
        isinstance(item, dict)
        and set(item) == {"role", "content"}
        and item["role"] in CHAT_ROLES
        and isinstance(item["content"], str)
    ):
        return Message(role=item["role"], content=item["content"])
    return None


def version_bytes(version: Version) -> bytes:
    return dump_mapping(version.to_mapping(), quoted=frozenset({"created_at"}))


def parse_prompt_info(data: bytes, *, path: str, prompt: str) -> PromptInfo:
    loaded, text = load_file(data, path)
    check = _Checker(path, text)
    if not check.mapping(loaded, required=("name",), optional=("description", "tags")):
        check.raise_if_any()
    if "name" in loaded and loaded["name"] != prompt:
        check.add(
            f"'name' is {loaded['name']!r} but the folder is named {prompt!r}",
            rule="file-name",
            key="name",
        )
    check.text_field(loaded, "description")
    tags = loaded.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) and is_valid_tag(t) for t in tags):
        check.add("'tags' must be a list of names (a-z, 0-9, '-', '_', '.')", key="tags")
    check.raise_if_any()
    return PromptInfo(name=prompt, description=loaded.get("description", ""), tags=tuple(tags))


def prompt_info_bytes(info: PromptInfo) -> bytes:
    return dump_mapping(
        {"name": info.name, "description": info.description, "tags": list(info.tags)}
    )


def parse_pointer(data: bytes, *, path: str, prompt: str) -> Pointer:
    loaded, text = load_file(data, path)
    check = _Checker(path, text)
    keys = ("prompt", "version", "digest", "promoted_at", "promoted_by")
    if not check.mapping(loaded, required=keys, optional=()):
        check.raise_if_any()
    if "prompt" in loaded and loaded["prompt"] != prompt:
        check.add(
            f"'prompt' is {loaded['prompt']!r} but the folder is named {prompt!r}",
            rule="file-name",
            key="prompt",
        )
    check.integer(loaded, "version")
    if "digest" in loaded and not (
        isinstance(loaded["digest"], str) and DIGEST.match(loaded["digest"])
    ):
        check.add("'digest' must be sha256: and 64 lowercase hex digits", key="digest")
    check.timestamp(loaded, "promoted_at")
    check.identity(loaded, "promoted_by")
    check.raise_if_any()
    return Pointer(
        prompt=prompt,
        version=loaded["version"],
        digest=loaded["digest"],
        promoted_at=loaded["promoted_at"],
        promoted_by=loaded["promoted_by"],
    )


def pointer_bytes(pointer: Pointer) -> bytes:
    mapping = {
        "prompt": pointer.prompt,
        "version": pointer.version,
        "digest": pointer.digest,
        "promoted_at": pointer.promoted_at,
        "promoted_by": pointer.promoted_by,
    }
    return dump_mapping(mapping, quoted=frozenset({"promoted_at"}))


def with_status(data: bytes, version: Version, status: Status) -> bytes:
    """``data`` with only its ``status:`` line changed, so a diff shows just that.

    The file is re-dumped instead when a one-line change cannot do it, or when the file differs from
    its normal form (no ``metadata`` key, say), so that a published file always reads back to the
    mapping its digest was computed from.
    """
    line = re.compile(
        rb"^status:[ \t]*['\"]?" + version.status.encode() + rb"['\"]?[ \t]*(#[^\n]*)?$", re.M
    )
    new, count = line.subn(b"status: " + status.encode(), data, count=2)
    changed = replace(version, status=status)
    if count == 1:
        try:
            loaded = load_yaml(new, path="")
        except YamlError:
            loaded = None
        if loaded == changed.to_mapping():
            return new
    return version_bytes(changed)
