from __future__ import annotations

import hashlib
import json

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.errors import InvalidRegistry
from registry.model import (
    Message,
    Version,
    digest_of,
    parse_pointer,
    parse_prompt_info,
    parse_version,
    version_bytes,
    with_status,
)

GOOD = b"""version: 3
status: draft
type: text
content: |
  Hello, {{name}}! Welcome to {{app_name}}.
metadata:
  model: gpt-4o
created_at: "2026-11-29T14:02:11Z"
created_by: Alice Example <alice@example.com>
"""


def problems(data: bytes, number: int = 3) -> list[str]:
    with pytest.raises(InvalidRegistry) as caught:
        parse_version(
            data, path="prompts/greeting/versions/3.yaml", prompt="greeting", number=number
        )
    return [str(p) for p in caught.value.problems]


def test_the_documented_example_parses() -> None:
    version = parse_version(GOOD, path="p", prompt="greeting", number=3)
    assert version.content == "Hello, {{name}}! Welcome to {{app_name}}.\n"
    assert version.metadata == {"model": "gpt-4o"}
    assert version.created_at == "2026-11-29T14:02:11Z"


def test_digest_is_recomputable_from_the_documented_algorithm() -> None:
    version = parse_version(GOOD, path="p", prompt="greeting", number=3)
    mapping = yaml.safe_load(GOOD)
    mapping["created_at"] = "2026-11-29T14:02:11Z"
    del mapping["status"]
    text = json.dumps(mapping, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert version.digest == "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    assert digest_of({**mapping, "status": "published"}) == version.digest


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (GOOD.replace(b"version: 3", b"version: 4"), "file is named 3.yaml"),
        (GOOD + b"colour: blue\n", "unknown key 'colour'"),
        (GOOD.replace(b"status: draft", b"status: live"), "'status' must be one of"),
        (GOOD.replace(b"type: text", b"type: image"), "'type' must be one of"),
        (GOOD.replace(b"version: 3", b"version: '3'"), "'version' must be a whole number"),
        (GOOD.replace(b'"2026-11-29T14:02:11Z"', b"yesterday"), "'created_at' must be a UTC time"),
        (
            GOOD.replace(b'"2026-11-29T14', '"٢٠٢٦-11-29T14'.encode()),
            "'created_at' must be a UTC time",
        ),
        (GOOD.replace(b"Alice Example <alice@example.com>", b"alice"), "'created_by' must read"),
        (
            GOOD.replace(b"  model: gpt-4o", b"  when: !!binary aGVsbG8="),
            "has the tag tag:yaml.org,2002:binary",
        ),
        (GOOD.replace(b"type: text", b"type: chat"), "'messages'"),
        (b"- just\n- a list\n", "must hold a mapping"),
        (GOOD.replace(b"status: draft\n", b""), "missing key 'status'"),
    ],
)
def test_schema_problems_name_the_file(data: bytes, expected: str) -> None:
    found = problems(data)
    assert any(expected in p for p in found), found
    assert all(p.startswith("prompts/greeting/versions/3.yaml") for p in found)


def test_every_problem_of_a_file_is_reported_at_once_with_lines() -> None:
    data = (
        GOOD.replace(b"status: draft", b"status: live").replace(b"type: text", b"type: image")
        + b"extra: 1\n"
    )
    found = problems(data)
    assert len(found) == 3
    assert any(p.startswith("prompts/greeting/versions/3.yaml:2:") for p in found)
    assert any(p.startswith("prompts/greeting/versions/3.yaml:10:") for p in found)


def test_chat_messages_are_checked() -> None:
    data = b"""version: 1
status: draft
type: chat
messages:
- role: system
  content: Be brief.
- role: wizard
  content: Hi
created_at: "2026-11-29T14:02:11Z"
created_by: A <a@example.com>
"""
    assert any("messages[1]" in p for p in problems(data, number=1))


def test_prompt_name_must_match_its_folder() -> None:
    with pytest.raises(InvalidRegistry) as caught:
        parse_prompt_info(b"name: other\n", path="prompts/greeting/prompt.yaml", prompt="greeting")
    assert "folder is named 'greeting'" in str(caught.value)


def test_pointer_schema() -> None:
    with pytest.raises(InvalidRegistry) as caught:
        parse_pointer(b"prompt: greeting\nversion: 1\ndigest: md5:x\n", path="p", prompt="greeting")
    text = str(caught.value)
    assert "digest" in text and "missing key 'promoted_at'" in text


def test_status_change_touches_one_line_and_keeps_comments() -> None:
    data = GOOD.replace(b"metadata:", b"# tuned for support\nmetadata:")
    version = parse_version(data, path="p", prompt="greeting", number=3)
    changed = with_status(data, version, "published")
    assert changed == data.replace(b"status: draft", b"status: published")


def test_status_change_normalises_a_file_without_metadata() -> None:
    data = GOOD.replace(b"metadata:\n  model: gpt-4o\n", b"")
    version = parse_version(data, path="p", prompt="greeting", number=3)
    changed = with_status(data, version, "published")
    reparsed = parse_version(changed, path="p", prompt="greeting", number=3)
    assert reparsed.status == "published"
    assert b"metadata: {}" in changed
    assert (
        digest_of(yaml.safe_load(changed) | {"created_at": reparsed.created_at}) == version.digest
    )


texts = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=200
) | st.sampled_from(
    ["", "a\n", "line\n\nline  \n", " lead", "tail ", "- x", "a: b", "#", "{{ x }}\n", "\t tab"]
)
metadata = st.dictionaries(
    st.text(min_size=1, max_size=10),
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    max_size=4,
)


@settings(max_examples=150, deadline=None)
@given(content=texts, meta=metadata, chat=st.booleans())
def test_written_files_read_back_identically(
    content: str, meta: dict[str, object], chat: bool
) -> None:
    version = Version(
        prompt="p",
        version=1,
        status="draft",
        type="chat" if chat else "text",
        content=None if chat else content,
        messages=(Message(role="system", content=content), Message(role="user", content="x"))
        if chat
        else None,
        metadata=meta,
        created_at="2026-11-29T14:02:11Z",
        created_by="A Example <a@example.com>",
    )
    data = version_bytes(version)
    assert parse_version(data, path="p", prompt="p", number=1) == version
    published = with_status(data, version, "published")
    assert parse_version(published, path="p", prompt="p", number=1).digest == version.digest
