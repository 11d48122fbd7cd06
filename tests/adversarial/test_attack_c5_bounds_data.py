"""Class 5, data side: work that would grow faster than the change, and counts without bound.

Identities and times are read in linear time and bounded in length; numbers of versions are at
most six digits, in file names and in files; the versions of a prompt, the messages of a chat
version, metadata and golden cases are bounded. Each attack is refused with its rule; the
figures of time and memory come from benchmarks/attacks.py, not from these tests.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers.attack import blob_tree, check_base, commit_on, commit_tree, registry_at_base
from helpers.cli import run_main
from helpers.gitrepo import git
from registry import Registry as Reader
from registry.errors import PromptshipError

NOTES = "prompts/notes/versions/1.yaml"
SPACES = "Alice" + " " * 300_000 + "x"  # a backtracking "Name <email>" pattern: hours


def notes_v2(repo: Path, **changes: str) -> str:
    """notes v1 as a new version 2, with lines replaced (key -> new line)."""
    lines = git(repo, "show", f"base:{NOTES}").splitlines()
    out = []
    for line in lines:
        key = line.split(":", 1)[0]
        out.append(changes.get(key, line) if key != "version" else "version: 2")
    return "\n".join(out) + "\n"


def refused(repo: Path, writes: dict[str, str | bytes], rule: str) -> set[str]:
    commit_on(repo, "attack", writes)
    verdict = check_base(repo, "base", head="attack")
    assert verdict.status == 1, (verdict.stderr, verdict.report)
    assert rule in verdict.rules, verdict.report
    assert "Traceback" not in verdict.stderr
    return verdict.rules


@pytest.fixture
def base(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    registry_at_base(repo, tmp_path_factory.getbasetemp())
    return repo


V2 = "prompts/notes/versions/2.yaml"

FIELDS = [
    ("created-by-spaces", {"created_by": f"created_by: {SPACES}"}, "schema"),
    ("created-by-long", {"created_by": f"created_by: {'a' * 100_000} <a@example.com>"}, "schema"),
    (
        "created-at-long",
        {"created_at": f'created_at: "2026-11-29T10:00:00Z{"0" * 500_000}"'},
        "schema",
    ),
    ("version-20-digits-in-file", {}, "yaml-ambiguous"),
    ("metadata-too-much-text", {"metadata": "metadata: {blob: " + "x" * 70_000 + "}"}, "limit"),
    ("metadata-11-levels", {"metadata": "metadata: " + "{a: " * 11 + "1" + "}" * 11}, "limit"),
]


@pytest.mark.parametrize(
    ("changes", "rule"), [(c, r) for _, c, r in FIELDS], ids=[i for i, _, _ in FIELDS]
)
def test_a_new_version_with_an_unbounded_field(
    base: Path, changes: dict[str, str], rule: str
) -> None:
    text = notes_v2(base, **changes)
    if not changes:
        text = text.replace("version: 2", "version: 20000000000000000002")
    refused(base, {V2: text}, rule)
    with pytest.raises(PromptshipError):
        Reader.open(base, ref="attack").get("notes", version=2)


@pytest.mark.parametrize(
    "name",
    ["1" + "0" * 240 + ".yaml", "1000000.yaml", "0001.yaml"],
    ids=["241-digits", "7-digits", "leading-zeros"],
)
def test_a_version_file_name_beyond_six_digits(base: Path, name: str) -> None:
    """A number read from a file name is read in constant time, or not at all."""
    rules = refused(base, {f"prompts/notes/versions/{name}": notes_v2(base)}, "layout")
    assert rules == {"layout"}
    assert Reader.open(base, ref="attack").get("notes", label="latest").version == 1


def test_a_version_number_beyond_the_limit_in_the_file(base: Path) -> None:
    text = notes_v2(base).replace("version: 2", "version: 1000000")
    assert {"schema"} <= refused(base, {V2: text}, "schema")


def test_ten_thousand_and_one_version_files(base: Path) -> None:
    """One tree of 10,001 files under versions/: refused without reading any of them."""
    text = notes_v2(base).encode()
    parent = git(base, "rev-parse", "base").strip()
    files = {f"prompts/notes/versions/{n}.yaml": text for n in range(2, 10_003)}
    tree = blob_tree(base, parent, files)
    git(base, "update-ref", "refs/heads/attack", commit_tree(base, tree, [parent]))
    verdict = check_base(base, "base", head="attack")
    assert verdict.status == 1 and "limit" in verdict.rules, verdict.report
    found = [v for v in verdict.report["violations"] if v["rule"] == "limit"]
    assert [v["file"] for v in found] == ["prompts/notes/versions/"]


def test_a_chat_version_of_1001_messages(base: Path) -> None:
    messages = "".join(f"- {{role: user, content: 'm{i}'}}\n" for i in range(1001))
    text = notes_v2(base, type="type: chat", content="messages:\n" + messages.rstrip("\n"))
    refused(base, {V2: text}, "limit")


def test_1001_golden_cases(base: Path) -> None:
    cases = "".join(f"- {{name: c{i}, expect: {{contains: x}}}}\n" for i in range(1001))
    refused(base, {"prompts/notes/tests.yaml": cases}, "limit")


def test_yaml_nested_past_the_limit(base: Path) -> None:
    text = notes_v2(base, metadata="metadata: " + "[" * 25 + "]" * 25)
    refused(base, {V2: text}, "yaml-safety")


RECORD = {
    "version": 3,
    "previous_version": 2,
    "promoted_by": "Alice Example <alice@example.com>",
    "promoted_at": "2099-01-01T00:00:00Z",
    "notes": "n",
}

RECORDS = [
    ("promoted-by-spaces", {"promoted_by": SPACES + " <a@example.com>"}),
    ("promoted-by-long", {"promoted_by": "a" * 100_000 + " <a@example.com>"}),
    ("version-7-digits", {"version": 1_000_000}),
    ("previous-7-digits", {"previous_version": 1_000_000}),
    ("promoted-at-long", {"promoted_at": "2099-01-01T00:00:00Z" + "0" * 100_000}),
]


@pytest.mark.parametrize("change", [c for _, c in RECORDS], ids=[i for i, _ in RECORDS])
def test_an_appended_record_with_an_unbounded_field(base: Path, change: dict[str, object]) -> None:
    path = "prompts/greeting/history.yaml"
    line = "- " + json.dumps({**RECORD, **change}) + "\n"
    refused(base, {path: git(base, "show", f"base:{path}") + line}, "history-format")


def test_a_pointer_whose_promoter_would_backtrack(base: Path) -> None:
    path = "prompts/faq/production.yaml"
    pointer = git(base, "show", f"base:{path}")
    by = next(line for line in pointer.splitlines() if line.startswith("promoted_by:"))
    refused(base, {path: pointer.replace(by, f"promoted_by: {SPACES} <a@example.com>")}, "schema")
    with pytest.raises(PromptshipError):
        Reader.open(base, ref="attack").get("faq")


def test_a_tag_and_a_description_of_a_megabyte_are_read_in_linear_time(base: Path) -> None:
    path = "prompts/notes/prompt.yaml"
    info = git(base, "show", f"base:{path}")
    refused(base, {path: info.replace("tags: []", "tags: [" + "a-" * 300_000 + "b!]")}, "schema")


def test_two_versions_built_to_defeat_the_line_matcher_diff_in_one_replacement(
    base: Path,
) -> None:
    """10,000 lines of 101 repeated values in two orders: both versions pass the check, and
    'promptship diff' (and the web page's compare tab, on the same code) shows the differing
    middle as one replacement instead of running the line matcher for about a minute."""
    first = "\n  ".join(f"l{i % 101}" for i in range(10_000))
    second = "\n  ".join(f"l{(i * 7 + 3) % 101}" for i in range(10_000))
    commit_on(
        base,
        "attack",
        {
            NOTES.replace("/1.yaml", "/2.yaml"): notes_v2(base, content=f"content: |-\n  {first}"),
        },
    )
    git(base, "checkout", "-q", "--detach", "attack")
    version_3 = notes_v2(base, content=f"content: |-\n  {second}").replace(
        "version: 2", "version: 3"
    )
    commit_on(base, "attack", {NOTES.replace("/1.yaml", "/3.yaml"): version_3})
    git(base, "checkout", "-q", "--detach", "attack")
    assert check_base(base, "base").status == 0
    status, out, err = run_main(base, "diff", "notes", "2", "3", "--json")
    assert status == 0, err
    (hunk,) = json.loads(out)["hunks"]
    ops = [line[0] for line in hunk["lines"]]
    assert ops == ["-"] * 10_000 + ["+"] * 10_000
