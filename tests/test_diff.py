"""``diff``: what changed between two versions of a prompt, in the core and on the command line."""

from __future__ import annotations

import doctest
import json
from typing import Any

import pytest

import registry.diffs
from helpers.cli import Cli
from registry.diffs import body_lines, diff_versions
from registry.model import Message, Version


def _version(number: int, **fields: Any) -> Version:
    base: dict[str, Any] = {
        "prompt": "greeting",
        "version": number,
        "status": "draft",
        "type": "text",
        "content": "",
        "created_at": "2026-01-01T00:00:00Z",
        "created_by": "Alice Example <alice@example.com>",
    }
    base.update(fields)
    return Version(**base)


def _chat(*pairs: tuple[str, str]) -> tuple[Message, ...]:
    return tuple(Message(role=r, content=c) for r, c in pairs)


def test_docstring_example_holds() -> None:
    assert doctest.testmod(registry.diffs).failed == 0


@pytest.mark.parametrize(
    ("old", "new", "lines"),
    [
        ("a\nb\nc\n", "a\nB\nc\n", [" a", "-b", "+B", " c"]),
        ("a\n", "a\nb\n", [" a", "+b"]),
        ("a\nb\n", "b\n", ["-a", " b"]),
        ("", "x\n", ["+x"]),
    ],
)
def test_text_bodies_differ_line_by_line(old: str, new: str, lines: list[str]) -> None:
    diff = diff_versions(_version(1, content=old), _version(2, content=new))
    assert [line.op + line.text for h in diff.hunks for line in h.lines] == lines
    assert not diff.same


def test_hunks_keep_three_lines_of_context_and_split_far_changes() -> None:
    old = "".join(f"line {i}\n" for i in range(1, 21))
    new = old.replace("line 2\n", "line two\n").replace("line 19\n", "line nineteen\n")
    diff = diff_versions(_version(1, content=old), _version(2, content=new))
    assert [h.header() for h in diff.hunks] == ["@@ -1,5 +1,5 @@", "@@ -16,5 +16,5 @@"]


def test_chat_messages_added_removed_and_reordered_read_as_lines() -> None:
    old = _version(
        1,
        type="chat",
        content=None,
        messages=_chat(("system", "Be brief."), ("user", "Hi {{ name }}")),
    )
    new = _version(
        2,
        type="chat",
        content=None,
        messages=_chat(("user", "Hi {{ name }}"), ("system", "Be brief."), ("assistant", "Sure.")),
    )
    assert body_lines(new) == [
        "[user]",
        "Hi {{ name }}",
        "[system]",
        "Be brief.",
        "[assistant]",
        "Sure.",
    ]
    lines = [line.op + line.text for h in diff_versions(old, new).hunks for line in h.lines]
    assert lines == [
        "+[user]",
        "+Hi {{ name }}",
        " [system]",
        " Be brief.",
        "-[user]",
        "-Hi {{ name }}",
        "+[assistant]",
        "+Sure.",
    ]


@pytest.mark.parametrize(
    ("old", "new", "changes"),
    [
        ({"model": "a"}, {"model": "b"}, [("metadata.model", "changed", "a", "b")]),
        ({}, {"temperature": 0.2}, [("metadata.temperature", "added", None, 0.2)]),
        ({"stop": ["x"]}, {}, [("metadata.stop", "removed", ["x"], None)]),
        ({"n": 1}, {"n": 1.0}, [("metadata.n", "changed", 1, 1.0)]),
        ({"n": 1}, {"n": True}, [("metadata.n", "changed", 1, True)]),
        ({"a": 1, "b": 2}, {"b": 2, "a": 1}, []),
    ],
)
def test_metadata_differs_key_by_key(
    old: dict[str, Any], new: dict[str, Any], changes: list[tuple[str, str, Any, Any]]
) -> None:
    diff = diff_versions(_version(1, metadata=old), _version(2, metadata=new))
    assert [(f.field, f.kind, f.old, f.new) for f in diff.fields] == changes
    assert diff.same == (not changes)


def test_a_changed_type_is_a_field() -> None:
    old = _version(1, content="Hi\n")
    new = _version(2, type="chat", content=None, messages=_chat(("user", "Hi")))
    diff = diff_versions(old, new)
    assert [(f.field, f.old, f.new) for f in diff.fields] == [("type", "text", "chat")]


def test_same_versions_say_so() -> None:
    diff = diff_versions(_version(1, content="x\n"), _version(2, content="x\n", status="archived"))
    assert diff.same
    assert diff.text().endswith("(same template and metadata)\n")


def test_cli_text_and_json(sample: Cli) -> None:
    sample.ok("edit", "greeting", "2", "--meta-json", "temperature=0.4")
    text = sample.ok("diff", "greeting", "1", "v2").stdout
    assert text == (
        "--- greeting v1 (published)\n"
        "+++ greeting v2 (draft)\n"
        "metadata.temperature: (none) -> 0.4\n"
        "@@ -1,1 +1,1 @@\n"
        "-Hello, {{ name }}! Welcome to {{ app_name }}.\n"
        "+Hi {{ name }}, welcome to {{ app_name }}!\n"
    )
    data = json.loads(sample.ok("diff", "greeting", "production", "latest", "--json").stdout)
    assert data["prompt"] == "greeting"
    assert (data["from"]["version"], data["to"]["version"]) == (1, 2)
    assert data["from"]["digest"].startswith("sha256:")
    assert data["same"] is False
    assert data["fields"] == [
        {"field": "metadata.temperature", "change": "added", "from": None, "to": 0.4}
    ]
    assert data["hunks"] == [
        {
            "old_start": 1,
            "old_lines": 1,
            "new_start": 1,
            "new_lines": 1,
            "lines": [
                "-Hello, {{ name }}! Welcome to {{ app_name }}.",
                "+Hi {{ name }}, welcome to {{ app_name }}!",
            ],
        }
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("greeting", "1", "9"), "has no version 9"),
        (("nothing", "1", "2"), "no prompt named 'nothing'"),
        (("greeting", "1", "x@y"), "after '@' comes production, latest or a version number"),
        (("Bad Name", "1", "2"), "not a valid prompt name"),
    ],
)
def test_cli_refusals(sample: Cli, args: tuple[str, ...], message: str) -> None:
    result = sample("diff", *args)
    assert result.exit_code == 1
    assert message in result.stderr
    assert "hint:" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_diff_built_to_defeat_the_matcher_is_one_replacement_between_shared_ends() -> None:
    """10,000 lines of 101 repeated values, shuffled: the line matcher would take about a minute
    on them; past MAX_LINE_PAIRS the middle is shown as one replacement, the shared start and end
    kept as context."""
    old = ["same start", *(f"l{i % 101}" for i in range(10_000)), "same end"]
    new = ["same start", *(f"l{(i * 7 + 3) % 101}" for i in range(10_000)), "same end"]
    (hunk,) = registry.diffs._hunks(old, new, 1)
    ops = [line.op for line in hunk.lines]
    assert ops == [" ", *["-"] * 10_000, *["+"] * 10_000, " "]
    assert [line.text for line in hunk.lines if line.op == "+"] == new[1:-1]
    assert (hunk.old_start, hunk.old_count, hunk.new_start, hunk.new_count) == (
        1,
        10_002,
        1,
        10_002,
    )


def test_a_long_version_with_one_changed_line_still_shows_only_that_line() -> None:
    old = [f"line {i}" for i in range(5_000)]
    new = [*old[:2_500], "changed", *old[2_501:]]
    (hunk,) = registry.diffs._hunks(old, new, 3)
    assert [line.op + line.text for line in hunk.lines if line.op != " "] == [
        "-line 2500",
        "+changed",
    ]
