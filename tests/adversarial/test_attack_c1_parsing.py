"""Class 1, parser differentials: bytes that two readers could read two ways.

Each attack starts from a registry made with the CLI, writes a hand-made commit, and asserts that
``check --base`` refuses it naming the rule, and that no consumer serves the attacker's bytes.
The YAML attacks target the draft notes v1 (or a pointer, prompt or tests file), so that the
ambiguity itself is the only thing wrong; the history attacks append one record.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from helpers.attack import check_base, commit_on, registry_at_base
from helpers.cli import run_main
from helpers.gitrepo import git
from registry import Registry as Reader
from registry.errors import PromptshipError
from registry.model import digest_of

NOTES = "prompts/notes/versions/1.yaml"


def notes_v1(repo: Path) -> str:
    return git(repo, "show", f"base:{NOTES}")


def with_line(text: str, old: str, new: str) -> str:
    assert old in text, (old, text)
    return text.replace(old, new, 1)


def refused(repo: Path, writes: dict[str, str | bytes], rule: str) -> None:
    commit_on(repo, "attack", writes)
    verdict = check_base(repo, "base", head="attack")
    assert verdict.status == 1, (verdict.stderr, verdict.report)
    assert rule in verdict.rules, verdict.report
    found = [v for v in verdict.report["violations"] if v["rule"] == rule]
    assert all(v["file"] in writes for v in found), found


def not_served(repo: Path, prompt: str, version: int | None = None) -> None:
    """Neither the read API nor export hands out what the attack wrote."""
    reader = Reader.open(repo, ref="attack")
    with pytest.raises(PromptshipError):
        if version is None:
            reader.get(prompt)
        else:
            reader.get(prompt, version=version)


def history_not_served(repo: Path, prompt: str) -> None:
    status, out, err = run_main(repo, "history", prompt, "--ref", "attack", "--json")
    assert (status, out) == (1, ""), err
    assert "history-format" in err and "hint:" in err


# -- YAML version files -----------------------------------------------------------------------

PLAIN_VALUES = [
    ("octal-1.1", "017"),
    ("octal-1.2", "0o17"),
    ("hex", "0x1F"),
    ("binary", "0b101"),
    ("exponent-no-dot", "1e3"),
    ("exponent-unsigned", "1.5e3"),
    ("underscores", "1_000"),
    ("leading-zero-9", "089"),
    ("yes", "yes"),
    ("no", "No"),
    ("on", "on"),
    ("off", "OFF"),
    ("y", "y"),
    ("n", "n"),
    ("sexagesimal", "1:20"),
    ("inf", ".inf"),
    ("nan", ".NaN"),
    ("date", "2026-11-29"),
    ("datetime-space", "2026-11-29 10:00:00"),
    ("beyond-2-53", "9007199254740993"),
    ("huge-exponent", "1.0e+999"),
]


@pytest.mark.parametrize(
    "value", [v for _, v in PLAIN_VALUES], ids=[name for name, _ in PLAIN_VALUES]
)
def test_a_plain_metadata_value_readers_resolve_differently(
    repo: Path, tmp_path_factory: pytest.TempPathFactory, value: str
) -> None:
    registry_at_base(repo, tmp_path_factory.getbasetemp())
    text = with_line(notes_v1(repo), "metadata: {}", f"metadata:\n  code: {value}")
    refused(repo, {NOTES: text}, "yaml-ambiguous")
    not_served(repo, "notes", 1)


VERSION_EDITS = [
    ("duplicate-status", "status: draft", "status: draft\nstatus: published"),
    ("duplicate-content", "content: Summarise", "content: Hello\ncontent: Summarise"),
    ("duplicate-by-escape", "type: text", 'type: text\n"\\x74ype": chat'),
    ("merge-key", "metadata: {}", "metadata:\n  <<: {model: gpt-4o}"),
    ("str-tag", "version: 1", "version: !!str 1"),
    ("int-tag", "version: 1", 'version: !!int "1"'),
    ("python-tag", "metadata: {}", "metadata: !!python/object/apply:os.system ['true']"),
    ("local-tag", "type: text", "type: !text text"),
    ("binary-tag", "metadata: {}", "metadata:\n  blob: !!binary aGk="),
    ("set-tag", "metadata: {}", "metadata: !!set {a, b}"),
    ("non-specific-tag", "metadata: {}", "metadata:\n  code: ! 017"),
    ("key-not-text", "metadata: {}", "metadata:\n  1: one"),
    ("key-bool", "metadata: {}", "metadata:\n  yes: one"),
    ("tab-separator", "status: draft", "status:\tdraft"),
    ("tab-in-plain", "content: Summarise", "content: Summarise\t"),
    ("nel-raw", "content: Summarise", "content: Sum\x85marise"),
    ("line-separator-raw", "content: Summarise", "content: Sum\u2028marise"),
    ("paragraph-separator-raw", "content: Summarise", "content: Sum\u2029marise"),
    ("c1-control-raw", "content: Summarise", "content: Sum\x9bmarise"),
    ("bom-inside", "content: Summarise", "content: Sum\ufeffmarise"),
    ("comment-glued-to-block", "content: Summarise", "content: |#note\n  Summarise"),
    ("tagged-block-glued-comment", "content: Summarise", "content: !!str |#note\n  Summarise"),
    ("tag-then-block-below", "content: Summarise", "content: !!str\n  >-#\n  Summarise"),
    ("str-tag-on-quoted", "type: text", "type: !!str 'text'"),
]


@pytest.mark.parametrize(
    ("old", "new"), [(o, n) for _, o, n in VERSION_EDITS], ids=[i for i, _, _ in VERSION_EDITS]
)
def test_a_version_file_readers_read_two_ways(
    repo: Path, tmp_path_factory: pytest.TempPathFactory, old: str, new: str
) -> None:
    registry_at_base(repo, tmp_path_factory.getbasetemp())
    refused(repo, {NOTES: with_line(notes_v1(repo), old, new)}, "yaml-ambiguous")
    not_served(repo, "notes", 1)


def test_production_holding_a_digest_only_some_readers_compute(
    repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A version file without ``metadata`` hashes one way as written and another in its normal
    form (``metadata: {}``). A pointer holding the as-written digest passed the tree check (of
    main after a merge, and of a server's first commit) while promptship's readers refused it;
    ``check --base`` refused it only as content that is not what was promoted."""
    registry = registry_at_base(repo, tmp_path_factory.getbasetemp())
    registry.ps("create", "fresh", "--content", "Fresh {{ thing }}")
    registry.ps("promote", "fresh", "1", "--yes")
    path, pointer = "prompts/fresh/versions/1.yaml", "prompts/fresh/production.yaml"
    history = "prompts/fresh/history.yaml"
    text = with_line(git(repo, "show", f"HEAD:{path}"), "metadata: {}\n", "")
    written = digest_of(yaml.safe_load(text))
    pointed = re.sub(r"digest: \S+", f"digest: {written}", git(repo, "show", f"HEAD:{pointer}"))
    # The prompt created and promoted again in one hand-made commit, with the promotion's
    # message: only the digest is wrong.
    git(repo, "branch", "attack", "base")
    info = "prompts/fresh/prompt.yaml"
    commit_on(
        repo,
        "attack",
        {
            info: git(repo, "show", f"HEAD:{info}"),
            path: text,
            pointer: pointed,
            history: git(repo, "show", f"HEAD:{history}"),
        },
        message=git(repo, "log", "-1", "--format=%B", "HEAD"),
    )
    verdict = check_base(repo, "base", head="attack")
    assert verdict.status == 1 and "digest" in verdict.rules, verdict.report
    # The tree check (of main after a merge, and of a server's first commit) refuses it too.
    status, out, err = run_main(repo, "check", "--ref", "attack", "--format", "json")
    assert status == 1, err
    assert {v["rule"] for v in json.loads(out)["violations"]} == {"digest"}
    not_served(repo, "fresh")


def test_an_unquoted_creation_time(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """PyYAML without timestamps reads text, a YAML 1.2 reader with them a datetime."""
    registry_at_base(repo, tmp_path_factory.getbasetemp())
    text = re.sub(r'created_at: "([^"]+)"', r"created_at: \1", notes_v1(repo))
    refused(repo, {NOTES: text}, "yaml-ambiguous")
    not_served(repo, "notes", 1)


WHOLE_FILE = [
    ("bom-start", lambda t: "\ufeff" + t, "yaml-ambiguous"),
    ("crlf", lambda t: t.replace("\n", "\r\n"), "yaml-ambiguous"),
    ("lone-cr", lambda t: t.replace("status: draft\n", "status: draft\r"), "yaml-ambiguous"),
    ("yaml-1.1-directive", lambda t: "%YAML 1.1\n---\n" + t, "yaml-ambiguous"),
    ("tag-directive", lambda t: "%TAG !e! tag:example.com,2026:\n---\n" + t, "yaml-ambiguous"),
    ("two-documents", lambda t: t + "---\nversion: 1\n", "yaml-syntax"),
    ("nul-byte", lambda t: t.replace("Summarise", "Sum\x00marise"), "yaml-syntax"),
    ("lone-surrogate", lambda t: t.replace("content: ", 'content: "\\ud800"\nx: '), "yaml-syntax"),
]


@pytest.mark.parametrize(
    ("change", "rule"), [(c, r) for _, c, r in WHOLE_FILE], ids=[i for i, _, _ in WHOLE_FILE]
)
def test_a_version_file_of_odd_bytes(
    repo: Path, tmp_path_factory: pytest.TempPathFactory, change: object, rule: str
) -> None:
    registry_at_base(repo, tmp_path_factory.getbasetemp())
    assert callable(change)
    refused(repo, {NOTES: change(notes_v1(repo))}, rule)
    not_served(repo, "notes", 1)


def test_a_duplicate_version_in_the_production_pointer(
    repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """PyYAML keeps the last 'version', a line reader the first: production must not be either."""
    registry_at_base(repo, tmp_path_factory.getbasetemp())
    pointer = git(repo, "show", "base:prompts/greeting/production.yaml")
    refused(
        repo,
        {
            "prompts/greeting/production.yaml": pointer.replace(
                "version: 2", "version: 2\nversion: 1"
            )
        },
        "yaml-ambiguous",
    )
    not_served(repo, "greeting")
    status, _, err = run_main(repo, "export", "--ref", "attack")
    assert status == 1 and "yaml-ambiguous" in err


def test_a_duplicate_name_in_prompt_yaml(
    repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    registry_at_base(repo, tmp_path_factory.getbasetemp())
    info = git(repo, "show", "base:prompts/notes/prompt.yaml")
    refused(
        repo,
        {"prompts/notes/prompt.yaml": info.replace("name: notes", "name: notes\nname: faq")},
        "yaml-ambiguous",
    )


def test_a_duplicate_key_in_golden_cases(
    repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The first 'expect' would fail the version, the last passes it."""
    registry_at_base(repo, tmp_path_factory.getbasetemp())
    cases = (
        "- name: greets\n  variables: {thread: x}\n"
        "  expect: {contains: never}\n  expect: {contains: Summarise}\n"
    )
    refused(repo, {"prompts/notes/tests.yaml": cases}, "yaml-ambiguous")


# -- history lines ----------------------------------------------------------------------------

RECORD = (
    '- {"version": 3, "previous_version": 2, "promoted_by": "Alice Example <alice@example.com>", '
    '"promoted_at": "2099-01-01T00:00:00Z", "notes": "n"}\n'
)

HISTORY_LINES = [
    ("duplicate-version", RECORD.replace('"version": 3,', '"version": 3, "version": 4,')),
    (
        "duplicate-previous",
        RECORD.replace('"previous_version": 2,', '"previous_version": 2, "previous_version": 1,'),
    ),
    ("nan", RECORD.replace('"notes": "n"', '"notes": "n", "score": NaN')),
    ("infinity", RECORD.replace('"notes": "n"', '"notes": "n", "score": -Infinity')),
    ("huge-integer", RECORD.replace('"version": 3', '"version": 30000000000000000000000')),
    ("beyond-2-53", RECORD.replace('"notes": "n"', '"notes": "n", "seq": 9007199254740993')),
    ("fraction", RECORD.replace('"version": 3', '"version": 3.0')),
    ("exponent", RECORD.replace('"notes": "n"', '"notes": "n", "weight": 1e5')),
    ("lone-surrogate", RECORD.replace('"notes": "n"', '"notes": "\\ud800"')),
    ("surrogate-pair-escape", RECORD.replace('"notes": "n"', '"notes": "\\ud83d\\ude00"')),
    ("raw-line-separator", RECORD.replace('"notes": "n"', '"notes": "a\u2028b"')),
    ("raw-nel", RECORD.replace('"notes": "n"', '"notes": "a\x85b"')),
    ("raw-delete", RECORD.replace('"notes": "n"', '"notes": "a\x7fb"')),
    ("tab-between-tokens", RECORD.replace('"notes": "n"', '"notes":\t"n"')),
    ("carriage-return", RECORD.replace("}\n", "}\r\n")),
    ("not-a-record", '- {"version": 3}  # a comment\n'),
    ("yaml-flow-not-json", "- {version: 3, previous_version: 2}\n"),
]


@pytest.mark.parametrize(
    "line", [line for _, line in HISTORY_LINES], ids=[i for i, _ in HISTORY_LINES]
)
def test_an_appended_history_line_readers_read_two_ways(
    repo: Path, tmp_path_factory: pytest.TempPathFactory, line: str
) -> None:
    """A record promoting greeting v3: the pointer moves with it, so only the line is wrong."""
    registry_at_base(repo, tmp_path_factory.getbasetemp())
    path = "prompts/greeting/history.yaml"
    history = git(repo, "show", f"base:{path}")
    refused(repo, {path: history + line}, "history-format")
    history_not_served(repo, "greeting")


def test_a_bom_before_the_history(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    registry_at_base(repo, tmp_path_factory.getbasetemp())
    path = "prompts/faq/history.yaml"
    history = git(repo, "show", f"base:{path}")
    commit_on(repo, "attack", {path: "\ufeff" + history})
    verdict = check_base(repo, "base", head="attack")
    assert verdict.status == 1
    assert {"append-only", "history-format"} <= verdict.rules
    history_not_served(repo, "faq")


def test_an_escaped_key_names_a_version_as_any_reader_reads_it(
    repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The base's history names greeting v1 as "\\u0076ersion" (a JSON key every reader reads as
    'version'); v1, unarchived to a draft, has been in production and keeps its content. A byte
    search for '"version": 1' beside the parser would have let the edit through."""
    r = registry_at_base(repo, tmp_path_factory.getbasetemp())
    r.ps("unarchive", "greeting", "1")
    path = "prompts/greeting/history.yaml"
    first, rest = r.read(path).split("\n", 1)
    r.write(path, first.replace('"version"', '"\\u0076ersion"', 1) + "\n" + rest)
    r.commit("history written with an escaped key")
    r.git("branch", "-f", "base")
    v1 = r.read("prompts/greeting/versions/1.yaml")
    commit_on(repo, "attack", {"prompts/greeting/versions/1.yaml": v1.replace("Hello", "Goodbye")})
    verdict = check_base(repo, "base", head="attack")
    assert verdict.status == 1 and "frozen" in verdict.rules, verdict.report


def test_the_base_passes_and_the_files_cli_writes_read_alike(
    repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The control: what the CLI wrote passes, so each refusal above is the attack's doing."""
    registry_at_base(repo, tmp_path_factory.getbasetemp())
    verdict = check_base(repo, "base")
    assert (verdict.status, verdict.rules) == (0, set()), verdict.report
    assert json.loads(run_main(repo, "export")[1])["prompts"]
