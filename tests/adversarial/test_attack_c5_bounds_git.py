"""Class 5, the git side: what one check of a change reads is bounded -- commits in the range,
files changed over its commits, bytes of files inflated -- and past a bound the check stops with
an error naming it and the option that raises it (exit 2), instead of running for hours."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.attack import check_base, commit_chain, commit_on, commit_tree, tree_with
from helpers.gitrepo import git
from helpers.registry_repo import Registry, build_base

DRAFT = "prompts/notes/versions/1.yaml"


def draft_edits(repo: Path, count: int, start: int = 0) -> list[dict[str, str | None]]:
    """``count`` changes, each editing the never-published draft: honest, one file each."""
    text = git(repo, "show", f"base:{DRAFT}")
    return [
        {DRAFT: text.replace("Summarise", f"Summarise ({n})")} for n in range(start, start + count)
    ]


@pytest.fixture
def reg(repo: Path) -> Path:
    build_base(Registry(repo))
    git(repo, "branch", "attack", "base")
    return repo


@pytest.mark.parametrize("count", [1_001, 10_000], ids=["just-over", "ten-thousand"])
def test_too_many_commits_stop_with_the_limit_named(reg: Path, count: int) -> None:
    head = commit_chain(reg, "attack", draft_edits(reg, count))
    verdict = check_base(reg, "base", head=head)
    assert verdict.status == 2
    assert "more than 1,000 commits" in verdict.stderr
    assert "--max-commits N" in verdict.stderr and verdict.report == {}


def test_the_commit_limit_counts_every_side_of_a_merge(reg: Path) -> None:
    one = commit_chain(reg, "attack", draft_edits(reg, 600))
    git(reg, "branch", "other", "base")
    two = commit_chain(reg, "other", draft_edits(reg, 600, start=600))
    head = commit_tree(reg, tree_with(reg, two, {}), [one, two], "merge")
    verdict = check_base(reg, "base", head=head)
    assert verdict.status == 2 and "more than 1,000 commits" in verdict.stderr


def test_a_raised_commit_limit_judges_every_commit(reg: Path) -> None:
    edits = draft_edits(reg, 1_200)
    published = git(reg, "show", "base:prompts/greeting/versions/2.yaml")
    edits[700] = {"prompts/greeting/versions/2.yaml": published.replace("Hi", "Yo")}
    edits[701] = {"prompts/greeting/versions/2.yaml": published}
    head = commit_chain(reg, "attack", edits)
    verdict = check_base(reg, "base", head=head, options=("--max-commits", "1200"))
    assert (verdict.status, verdict.rules) == (1, {"frozen"})
    assert verdict.report["commits"] == 1_200


def test_too_many_files_in_one_commit(reg: Path) -> None:
    text = git(reg, "show", f"base:{DRAFT}")
    files: dict[str, str | None] = {
        f"prompts/notes/versions/{n}.yaml": text.replace("version: 1", f"version: {n}")
        for n in range(2, 80)
    }
    head = commit_on(reg, "attack", files)
    verdict = check_base(reg, "base", head=head, options=("--max-files", "50"))
    assert verdict.status == 2
    assert "more than 50 files under prompts/" in verdict.stderr
    assert "--max-files N" in verdict.stderr


def test_files_are_counted_over_the_commits(reg: Path) -> None:
    head = commit_chain(reg, "attack", draft_edits(reg, 60))
    verdict = check_base(reg, "base", head=head, options=("--max-files", "50"))
    assert verdict.status == 2 and "more than 50 files" in verdict.stderr
    within = check_base(reg, "base", head=head, options=("--max-files", "200"))
    assert (within.status, within.rules) == (0, set())


def test_too_many_bytes_to_read(reg: Path) -> None:
    text = git(reg, "show", f"base:{DRAFT}")
    big = [{DRAFT: text.replace("Summarise", "Summarise " + str(n) * 200_000)} for n in range(1, 8)]
    head = commit_chain(reg, "attack", big)
    verdict = check_base(reg, "base", head=head, options=("--max-bytes", "1000000"))
    assert verdict.status == 2
    assert "more than 1,000,000 bytes" in verdict.stderr and "--max-bytes N" in verdict.stderr


def test_each_blob_is_read_once_across_commits(reg: Path) -> None:
    """Ten commits flip a large draft between two contents: two distinct blobs, so the bytes
    read stay those of two copies and a bound of three passes."""
    text = git(reg, "show", f"base:{DRAFT}")
    one = text.replace("Summarise", "Summarise " + "a" * 300_000)
    two = text.replace("Summarise", "Summarise " + "b" * 300_000)
    head = commit_chain(reg, "attack", [{DRAFT: one if n % 2 else two} for n in range(10)])
    verdict = check_base(reg, "base", head=head, options=("--max-bytes", "1000000"))
    assert (verdict.status, verdict.rules) == (0, set()), verdict.stderr


HISTORY = "prompts/greeting/history.yaml"


def repeated_records(repo: Path, count: int) -> str:
    """The base's history with its last record written ``count`` more times: every copy breaks
    the chain rules, none is a promotion."""
    history = git(repo, "show", f"base:{HISTORY}")
    return history + history.splitlines(keepends=True)[-1] * count


def test_records_appended_beyond_one_a_commit_are_not_taken_for_promotions(reg: Path) -> None:
    """100,000 records appended in two commits: refused at once, without parsing them, and
    none reported as a promotion."""
    grown = repeated_records(reg, 100_000)
    head = commit_chain(reg, "attack", [{HISTORY: grown}, {HISTORY: grown + "\n"}])
    verdict = check_base(reg, "base", head=head)
    assert verdict.status == 1 and "commit" in verdict.rules, verdict.stderr
    assert verdict.report["promotions"] == []
    assert any("appends 100,00" in v["message"] for v in verdict.report["violations"])
    assert len(verdict.report["violations"]) < 10
    assert verdict.seconds < 30 and verdict.peak_mib < 300


def test_a_file_breaking_a_rule_on_every_line_is_reported_within_bounds(reg: Path) -> None:
    """A history rewritten into 100,000 records that break the chain: the report lists the
    first problems of the file and counts the rest, in seconds."""
    history = repeated_records(reg, 100_000)
    rewritten = history.replace('"notes": "Initial release"', '"notes": "Rewritten"', 1)
    head = commit_on(reg, "attack", {HISTORY: rewritten})
    verdict = check_base(reg, "base", head=head)
    assert verdict.status == 1 and "append-only" in verdict.rules, verdict.stderr
    listed = [v for v in verdict.report["violations"] if v["file"] == HISTORY]
    assert 20 < len(listed) <= 51
    assert (
        listed[-1]["message"].startswith("and ")
        and "more problems in this file" in (listed[-1]["message"])
    )
    assert verdict.seconds < 60
