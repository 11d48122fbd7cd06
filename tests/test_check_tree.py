"""The tree rules (1-4) on registries in memory: a sound registry passes, and each way of breaking
a rule is reported with its rule, file and line."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from helpers.inmemory import edited, sound_registry, with_files
from registry.check.tree import check_tree
from registry.model import digest_of
from registry.snapshot import DictSnapshot
from registry.yamlsafe import MAX_FILE_BYTES, MAX_HISTORY_BYTES, load_yaml

G = "prompts/greeting"
Mutation = Callable[[DictSnapshot], DictSnapshot]


def test_a_registry_made_by_promptship_passes() -> None:
    assert check_tree(sound_registry()) == []


def test_an_empty_repository_passes() -> None:
    assert check_tree(DictSnapshot({"README.md": b"hello\n"})) == []


def _replace(path: str, old: str, new: str) -> Mutation:
    return lambda s: edited(s, path, lambda text: text.replace(old, new))


def _put(path: str, data: bytes) -> Mutation:
    return lambda s: with_files(s, **{path: data})


def _drop(path: str) -> Mutation:
    return lambda s: with_files(s, **{path: None})


def _link(path: str) -> Mutation:
    return lambda s: DictSnapshot(s.files, s.symlinks | {path})


def _history_lines(change: Callable[[list[str]], list[str]]) -> Mutation:
    def mutate(s: DictSnapshot) -> DictSnapshot:
        lines = s.files[f"{G}/history.yaml"].decode().splitlines(keepends=True)
        return with_files(s, **{f"{G}/history.yaml": "".join(change(lines)).encode()})

    return mutate


def _pointer_digest(s: DictSnapshot) -> DictSnapshot:
    """production.yaml given the digest of v2's file as written (readers that hash the normal
    form then refuse it)."""
    written = digest_of(load_yaml(s.files[f"{G}/versions/2.yaml"], path="v2"))
    return edited(
        s, f"{G}/production.yaml", lambda text: re.sub(r"digest: \S+", f"digest: {written}", text)
    )


BOMB = b"""a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: [*f,*f,*f,*f,*f,*f,*f,*f,*f]
"""

BROKEN: list[tuple[str, Mutation, str, str, int | None]] = [
    # rule 1: schema, names
    (
        "unknown key",
        _replace(f"{G}/versions/3.yaml", "type: text", "type: text\ncolour: red"),
        "schema",
        f"{G}/versions/3.yaml",
        4,
    ),
    (
        "missing key",
        _replace(f"{G}/versions/3.yaml", "type: text\n", ""),
        "schema",
        f"{G}/versions/3.yaml",
        None,
    ),
    (
        "bad status",
        _replace(f"{G}/versions/3.yaml", "status: draft", "status: live"),
        "schema",
        f"{G}/versions/3.yaml",
        2,
    ),
    (
        "timestamp not quoted text",
        _replace(f"{G}/versions/3.yaml", 'created_at: "', "created_at: '2026"),
        "yaml-syntax",
        f"{G}/versions/3.yaml",
        None,
    ),
    (
        "version number disagrees with the file name",
        _replace(f"{G}/versions/3.yaml", "version: 3", "version: 7"),
        "file-name",
        f"{G}/versions/3.yaml",
        1,
    ),
    (
        "prompt.yaml names another prompt",
        _replace(f"{G}/prompt.yaml", "name: greeting", "name: welcome"),
        "file-name",
        f"{G}/prompt.yaml",
        1,
    ),
    (
        "pointer names another prompt",
        _replace(f"{G}/production.yaml", "prompt: greeting", "prompt: welcome"),
        "file-name",
        f"{G}/production.yaml",
        1,
    ),
    (
        "malformed YAML",
        _put(f"{G}/versions/3.yaml", b"version: 3\nstatus: [draft\n"),
        "yaml-syntax",
        f"{G}/versions/3.yaml",
        3,
    ),
    (
        "two documents",
        _put(f"{G}/prompt.yaml", b"name: greeting\n---\nname: other\n"),
        "yaml-syntax",
        f"{G}/prompt.yaml",
        2,
    ),
    (
        "a template that does not parse",
        _replace(f"{G}/versions/3.yaml", "Hey {{ name }}.", "Hey {{ name."),
        "template",
        f"{G}/versions/3.yaml",
        None,
    ),
    # rule 4 at the level of one file: encodings, sizes, YAML safety
    (
        "non-UTF-8 bytes",
        _put(f"{G}/versions/3.yaml", b"version: 3\ncontent: caf\xe9\n"),
        "utf-8",
        f"{G}/versions/3.yaml",
        2,
    ),
    ("a YAML bomb", _put(f"{G}/versions/3.yaml", BOMB), "yaml-safety", f"{G}/versions/3.yaml", 1),
    (
        "an alias",
        _put(f"{G}/prompt.yaml", b"name: &n greeting\ndescription: *n\n"),
        "yaml-safety",
        f"{G}/prompt.yaml",
        1,
    ),
    (
        "deep flow nesting",
        _put(f"{G}/versions/3.yaml", b"metadata: " + b"[" * 50 + b"]" * 50 + b"\n"),
        "yaml-safety",
        f"{G}/versions/3.yaml",
        1,
    ),
    (
        "deep block nesting",
        _put(f"{G}/versions/3.yaml", b"metadata:\n  x:\n  " + b"- " * 40 + b"1\n"),
        "yaml-safety",
        f"{G}/versions/3.yaml",
        3,
    ),
    (
        "nesting of 21 levels",
        _replace(
            f"{G}/versions/3.yaml", "metadata: {}", "metadata: {a: " + "[" * 19 + "]" * 19 + "}"
        ),
        "yaml-safety",
        f"{G}/versions/3.yaml",
        5,
    ),
    (
        "nesting past libyaml's own limit",
        _put(f"{G}/versions/3.yaml", b"[" * 5000 + b"]" * 5000),
        "yaml-safety",
        f"{G}/versions/3.yaml",
        1,
    ),
    (
        "a version file over 1 MiB",
        _put(f"{G}/versions/3.yaml", b"content: |\n" + b"  x\n" * (MAX_FILE_BYTES // 4 + 1)),
        "size",
        f"{G}/versions/3.yaml",
        None,
    ),
    (
        "a history over 64 MiB",
        _put(f"{G}/history.yaml", b"- {}\n" * (MAX_HISTORY_BYTES // 5 + 1)),
        "size",
        f"{G}/history.yaml",
        None,
    ),
    # rule 4: layout
    (
        "a stray file in prompts/",
        _put("prompts/notes.txt", b"x"),
        "layout",
        "prompts/notes.txt",
        None,
    ),
    ("a stray file in a prompt", _put(f"{G}/notes.md", b"x"), "layout", f"{G}/notes.md", None),
    (
        "a stray folder in a prompt",
        _put(f"{G}/drafts/a.yaml", b"x"),
        "layout",
        f"{G}/drafts",
        None,
    ),
    (
        "a version file not named N.yaml",
        _put(f"{G}/versions/05.yaml", b"x"),
        "layout",
        f"{G}/versions/05.yaml",
        None,
    ),
    (
        "versions is a file",
        _put("prompts/other/versions", b"x"),
        "layout",
        "prompts/other/versions",
        None,
    ),
    ("prompt.yaml missing", _drop(f"{G}/prompt.yaml"), "layout", f"{G}/prompt.yaml", None),
    ("prompts/ is a file", lambda s: DictSnapshot({"prompts": b"x"}), "layout", "prompts", None),
    (
        "prompts/ is a symlink",
        lambda s: DictSnapshot({}, frozenset({"prompts"})),
        "symlink",
        "prompts",
        None,
    ),
    ("a symlinked version", _link(f"{G}/versions/9.yaml"), "symlink", f"{G}/versions/9.yaml", None),
    ("a symlinked prompt folder", _link("prompts/evil"), "symlink", "prompts/evil", None),
    (
        "a symlinked history",
        _link("prompts/support/history.yaml"),
        "symlink",
        "prompts/support/history.yaml",
        None,
    ),
    (
        "an uppercase folder name",
        _put("prompts/Greeting/prompt.yaml", b"name: Greeting\n"),
        "name",
        "prompts/Greeting",
        None,
    ),
    (
        "a dotted path trick",
        _put("prompts/..x/prompt.yaml", b"name: x\n"),
        "name",
        "prompts/..x",
        None,
    ),
    (
        "a non-ASCII lookalike name",
        _put("prompts/gre\u0435ting/prompt.yaml", b"name: x\n"),
        "name",
        "prompts/gre\u0435ting",
        None,
    ),
    # rule 2: production
    (
        "two published versions",
        _replace(f"{G}/versions/3.yaml", "status: draft", "status: published"),
        "one-production",
        f"{G}/versions/",
        None,
    ),
    (
        "published but no pointer",
        _drop(f"{G}/production.yaml"),
        "pointer",
        f"{G}/production.yaml",
        None,
    ),
    (
        "pointer names a missing version",
        _replace(f"{G}/production.yaml", "version: 2", "version: 9"),
        "pointer",
        f"{G}/production.yaml",
        None,
    ),
    (
        "pointer names a draft",
        _replace(f"{G}/versions/2.yaml", "status: published", "status: draft"),
        "pointer",
        f"{G}/production.yaml",
        None,
    ),
    (
        "published content edited",
        _replace(f"{G}/versions/2.yaml", "Hi {{ name }}", "Hello {{ name }}"),
        "digest",
        f"{G}/production.yaml",
        None,
    ),
    (
        "published file without its metadata key",
        _replace(f"{G}/versions/2.yaml", "metadata: {}\n", ""),
        "digest",
        f"{G}/versions/2.yaml",
        None,
    ),
    (
        "published file without its metadata key, production holding that file's digest",
        lambda s: _pointer_digest(_replace(f"{G}/versions/2.yaml", "metadata: {}\n", "")(s)),
        "digest",
        f"{G}/versions/2.yaml",
        None,
    ),
    # rule 3: history
    (
        "a line that is not a record",
        _history_lines(lambda lines: [*lines, "- version: 3\n"]),
        "history-format",
        f"{G}/history.yaml",
        3,
    ),
    (
        "CRLF line ends",
        _history_lines(lambda lines: [line.replace("\n", "\r\n") for line in lines]),
        "history-format",
        f"{G}/history.yaml",
        1,
    ),
    (
        "no final newline",
        _history_lines(lambda lines: [*lines[:-1], lines[-1].rstrip("\n")]),
        "history-format",
        f"{G}/history.yaml",
        None,
    ),
    (
        "a record missing a field",
        _history_lines(
            lambda lines: [lines[0].replace(', "notes": "Initial release"', ""), lines[1]]
        ),
        "history-format",
        f"{G}/history.yaml",
        1,
    ),
    (
        "a broken chain",
        _history_lines(
            lambda lines: [
                lines[0],
                lines[1].replace('"previous_version": 1', '"previous_version": 3'),
            ]
        ),
        "history-chain",
        f"{G}/history.yaml",
        2,
    ),
    (
        "a first record with a previous version",
        _history_lines(
            lambda lines: [
                lines[0].replace('"previous_version": null', '"previous_version": 1'),
                lines[1],
            ]
        ),
        "history-chain",
        f"{G}/history.yaml",
        1,
    ),
    (
        "a record naming a missing version",
        _history_lines(
            lambda lines: [
                lines[0].replace('"version": 1,', '"version": 8,'),
                lines[1].replace('"previous_version": 1', '"previous_version": 8'),
            ]
        ),
        "history-chain",
        f"{G}/history.yaml",
        1,
    ),
    (
        "time going backwards",
        _history_lines(lambda lines: [lines[0].replace("T10:00:02Z", "T11:00:00Z"), lines[1]]),
        "history-chain",
        f"{G}/history.yaml",
        2,
    ),
    (
        "the last record is not production",
        _history_lines(lambda lines: lines[:1]),
        "history-chain",
        f"{G}/history.yaml",
        1,
    ),
    (
        "history without a pointer",
        _put(
            "prompts/support/history.yaml",
            b'- {"version": 1, "previous_version": null, "promoted_by": "A <a@b.c>", "promoted_at": "2026-01-01T00:00:00Z", "notes": ""}\n',
        ),
        "history-chain",
        "prompts/support/history.yaml",
        None,
    ),
    (
        "a pointer without history",
        _drop(f"{G}/history.yaml"),
        "history-chain",
        f"{G}/history.yaml",
        None,
    ),
]


@pytest.mark.timeout(20)
@pytest.mark.parametrize(
    ("mutate", "rule", "file", "line"),
    [pytest.param(m, r, f, n, id=case) for case, m, r, f, n in BROKEN],
)
def test_each_broken_rule_is_reported(
    mutate: Mutation, rule: str, file: str, line: int | None
) -> None:
    problems = check_tree(mutate(sound_registry()))
    found = [p for p in problems if (p.rule, p.file) == (rule, file)]
    assert found, problems
    if line is not None:
        assert found[0].line == line, found


PASSING: list[tuple[str, Mutation]] = [
    (
        "golden tests file",
        _put(
            f"{G}/tests.yaml",
            b"- name: greets\n  variables: {name: Ada}\n  expect: {contains: Ada}\n",
        ),
    ),
    ("a hand-edited draft", _replace(f"{G}/versions/3.yaml", "Hey {{ name }}.", "Hey {{ name }}!")),
    ("a draft without metadata", _replace(f"{G}/versions/3.yaml", "metadata: {}\n", "")),
    (
        "stars and ampersands in text",
        _replace(f"{G}/versions/3.yaml", "Hey {{ name }}.", '"**Q&A** for {{ name }} *now*"'),
    ),
    (
        "a full Jinja template",
        _replace(
            f"{G}/versions/3.yaml",
            "content: Hey {{ name }}.",
            "content: '{% if vip %}Dear {{ name | title }}{% else %}Hi{% endif %} {# note #}'",
        ),
    ),
    (
        "metadata nested exactly 10 levels",
        _replace(
            f"{G}/versions/3.yaml", "metadata: {}", "metadata: {a: " + "[" * 9 + "]" * 9 + "}"
        ),
    ),
    (
        "history records with keys promptship does not know yet",
        _history_lines(
            lambda lines: [lines[0], lines[1].replace('"notes"', '"tests_skipped": true, "notes"')]
        ),
    ),
    (
        "a comment line",
        _replace(
            f"{G}/versions/3.yaml", "version: 3", "# yaml-language-server: $schema=x\nversion: 3"
        ),
    ),
    ("a README next to prompts/", _put("README.md", b"x")),
]


@pytest.mark.parametrize("mutate", [pytest.param(m, id=case) for case, m in PASSING])
def test_what_the_format_allows_passes(mutate: Mutation) -> None:
    assert check_tree(mutate(sound_registry())) == []


def test_every_problem_of_a_tree_is_reported_in_one_pass() -> None:
    broken = sound_registry()
    chosen = {"unknown key", "prompt.yaml names another prompt", "a stray file in prompts/"}
    for case, mutate, *_ in BROKEN:
        if case in chosen:
            broken = mutate(broken)
    problems = check_tree(broken)
    assert {(p.rule, p.file) for p in problems} == {
        ("schema", f"{G}/versions/3.yaml"),
        ("file-name", f"{G}/prompt.yaml"),
        ("layout", "prompts/notes.txt"),
    }


def test_every_rule_the_registry_reports_is_described() -> None:
    """A code a check module emits but the rules table lacks would reach a person as 'a rule
    of the registry', with no words and no fix."""
    import re
    from pathlib import Path

    import registry
    from registry.check.rules import RULES

    source = Path(registry.__file__).parent
    # Their problems never reach a check.
    outside = {"providers.py", "export.py", "runner.py", "runlog.py", "plan.py"}
    codes = {
        code
        for file in source.rglob("*.py")
        if file.name not in outside
        for code in re.findall(r'rule="([a-z0-9-]+)"', file.read_text())
    }
    codes |= {"layout", "symlink", "name"}  # passed to check._layout
    assert codes - set(RULES) == set()
