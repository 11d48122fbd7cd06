"""Class 8: names Windows cannot check out, and creation fields that are not what they claim.

A prompt folder named ``con``, ``aux.txt`` or ``com1`` breaks every Windows clone; a
``created_at`` of February 30th or a ``created_by`` that is no ``Name <email>`` is not what the
format documents. The check refuses each, and so does the CLI before writing anything.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers.attack import check_base, commit_on, registry_at_base
from helpers.cli import run_main
from helpers.gitrepo import git, tree_files
from registry import Registry as Reader
from registry.errors import PromptshipError

NOTES = "prompts/notes/versions/1.yaml"


@pytest.fixture
def base(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    registry_at_base(repo, tmp_path_factory.getbasetemp())
    return repo


WINDOWS_NAMES = ["con", "prn", "aux", "nul", "com1", "com9", "lpt1", "lpt9", "con.txt", "aux.a.b"]


@pytest.mark.parametrize("name", WINDOWS_NAMES)
def test_a_prompt_folder_windows_cannot_check_out(base: Path, name: str) -> None:
    info = f"name: {name}\ndescription: ''\ntags: []\n"
    version = git(base, "show", f"base:{NOTES}")
    commit_on(
        base,
        "attack",
        {f"prompts/{name}/prompt.yaml": info, f"prompts/{name}/versions/1.yaml": version},
    )
    verdict = check_base(base, "base", head="attack")
    assert verdict.status == 1, verdict.report
    assert verdict.rules == {"name"}, verdict.report
    (violation,) = verdict.report["violations"]
    assert violation["file"] == f"prompts/{name}" and "Windows" in violation["message"]
    assert name not in Reader.open(base, ref="attack").names()


@pytest.mark.parametrize("name", ["con", "Con", "lpt3.md", "nul.yaml"])
def test_the_cli_refuses_a_windows_device_name(base: Path, name: str) -> None:
    before = git(base, "rev-parse", "HEAD")
    status, out, err = run_main(base, "create", name, "--content", "x")
    assert status == 1 and out == ""
    assert err.startswith("error: ") and "hint: " in err
    assert git(base, "rev-parse", "HEAD") == before
    assert not (base / "prompts" / name).exists()


IMPOSSIBLE_TIMES = ["2026-02-30", "2025-02-29", "2100-02-29", "2026-04-31", "2026-06-31"]


@pytest.mark.parametrize("day", IMPOSSIBLE_TIMES)
def test_a_creation_time_on_a_day_the_calendar_lacks(base: Path, day: str) -> None:
    text = git(base, "show", f"base:{NOTES}").replace('created_at: "', f'created_at: "{day}T')
    text = "\n".join(
        f'created_at: "{day}T10:00:00Z"' if line.startswith("created_at:") else line
        for line in text.splitlines()
    )
    commit_on(base, "attack", {NOTES: text + "\n"})
    verdict = check_base(base, "base", head="attack")
    assert verdict.status == 1 and "schema" in verdict.rules, verdict.report
    with pytest.raises(PromptshipError):
        Reader.open(base, ref="attack").get("notes", version=1)


def test_a_leap_day_is_a_real_day(base: Path) -> None:
    """The control: a new draft created on February 29th of a leap year passes (an existing
    version's ``created_at`` may not change at all, so the control adds version 2)."""
    text = "\n".join(
        'created_at: "2028-02-29T10:00:00Z"'
        if line.startswith("created_at:")
        else "version: 2"
        if line.startswith("version:")
        else line
        for line in git(base, "show", f"base:{NOTES}").splitlines()
    )
    second = NOTES.replace("/1.yaml", "/2.yaml")
    commit_on(base, "attack", {second: text + "\n"})
    verdict = check_base(base, "base", head="attack")
    assert (verdict.status, verdict.rules) == (0, set()), verdict.report
    assert (
        Reader.open(base, ref="attack").get("notes", version=2).created_at == "2028-02-29T10:00:00Z"
    )


BAD_IDENTITIES = [
    ("two-addresses", "Alice <a@example.com> <b@example.com>"),
    ("no-name", "<a@example.com>"),
    ("no-address", "Alice Example"),
    ("space-in-address", "Alice <a b@example.com>"),
    ("escape-character", '"Al\\eice <a@example.com>"'),
    ("newline-in-name", '"Al\\nice <a@example.com>"'),
    ("empty-address", "Alice <>"),
]


@pytest.mark.parametrize(
    "identity", [i for _, i in BAD_IDENTITIES], ids=[n for n, _ in BAD_IDENTITIES]
)
def test_a_creator_that_is_no_name_and_address(base: Path, identity: str) -> None:
    text = "\n".join(
        f"created_by: {identity}" if line.startswith("created_by:") else line
        for line in git(base, "show", f"base:{NOTES}").splitlines()
    )
    commit_on(base, "attack", {NOTES: text + "\n"})
    verdict = check_base(base, "base", head="attack")
    assert verdict.status == 1 and verdict.rules == {"schema"}, verdict.report
    with pytest.raises(PromptshipError):
        Reader.open(base, ref="attack").get("notes", version=1)


def test_a_promotion_time_on_a_day_the_calendar_lacks(base: Path) -> None:
    path = "prompts/greeting/history.yaml"
    record = {
        "version": 3,
        "previous_version": 2,
        "promoted_by": "Alice Example <alice@example.com>",
        "promoted_at": "2099-02-29T00:00:00Z",
        "notes": "n",
    }
    commit_on(
        base, "attack", {path: git(base, "show", f"base:{path}") + f"- {json.dumps(record)}\n"}
    )
    verdict = check_base(base, "base", head="attack")
    assert verdict.status == 1 and "history-format" in verdict.rules, verdict.report


def test_the_cli_refuses_an_author_that_is_no_name_and_address(base: Path) -> None:
    before = tree_files(base)
    status, _, err = run_main(base, "create", "fresh", "--content", "x", "--by", "Al\x1bice <a@b>")
    assert status == 1 and "hint: " in err
    assert tree_files(base) == before and not (base / "prompts" / "fresh").exists()
