"""Class 8, the review side: created_at and created_by of any version the base has -- drafts
included -- never change, whatever else a change does to the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.attack import check_base, commit_on
from helpers.gitrepo import git
from helpers.registry_repo import Registry, build_base

G = "prompts/greeting"
LATER = '"2031-01-01T00:00:00Z"'
MALLORY = "Mallory Example <mallory@example.com>"


def field_changed(repo: Path, path: str, key: str) -> str:
    text = git(repo, "show", f"base:{path}")
    line = next(line for line in text.splitlines() if line.startswith(f"{key}:"))
    return text.replace(line, f"{key}: {LATER if key == 'created_at' else MALLORY}")


ATTACKS = [
    ("draft-created-at", "prompts/notes/versions/1.yaml", "created_at", {"created"}),
    ("draft-created-by", "prompts/notes/versions/1.yaml", "created_by", {"created"}),
    ("archived-draft-created-at", f"{G}/versions/4.yaml", "created_at", {"created", "frozen"}),
    ("archived-created-by", f"{G}/versions/1.yaml", "created_by", {"created", "frozen"}),
    (
        "published-created-at",
        f"{G}/versions/2.yaml",
        "created_at",
        {"created", "digest", "frozen"},
    ),
    ("unpromoted-draft-created-by", f"{G}/versions/3.yaml", "created_by", {"created"}),
]


@pytest.mark.parametrize(
    ("path", "key", "expected"), [pytest.param(p, k, e, id=case) for case, p, k, e in ATTACKS]
)
def test_created_fields_never_change(repo: Path, path: str, key: str, expected: set[str]) -> None:
    build_base(Registry(repo))
    git(repo, "branch", "attack", "base")
    head = commit_on(repo, "attack", {path: field_changed(repo, path, key)})

    verdict = check_base(repo, "base", head=head)

    assert verdict.status == 1, verdict.stderr
    assert verdict.rules == expected
    created = [v for v in verdict.report["violations"] if v["rule"] == "created"]
    assert [v["file"] for v in created] == [path]


def test_a_draft_edited_with_its_created_fields_kept_passes(repo: Path) -> None:
    registry = Registry(repo)
    build_base(registry)
    registry.ps("edit", "notes", "1", "--content", "Summarise {{ thread }} in one line.")
    verdict = check_base(repo, "base")
    assert (verdict.status, verdict.rules) == (0, set())


def test_a_draft_made_again_under_a_retired_name_keeps_them(repo: Path) -> None:
    """notes (never in production) removed and made again in one change: its v1 is still the
    base's v1, so its creation cannot be rewritten either."""
    registry = Registry(repo)
    build_base(registry)
    registry.ps("delete", "notes")
    registry.git("checkout", "-q", "--detach")
    git(repo, "branch", "attack", "HEAD")
    path = "prompts/notes/versions/1.yaml"
    head = commit_on(
        repo,
        "attack",
        {
            "prompts/notes/prompt.yaml": git(repo, "show", "base:prompts/notes/prompt.yaml"),
            path: field_changed(repo, path, "created_at"),
        },
        message="create(notes)",
    )
    verdict = check_base(repo, "base", head=head)
    assert verdict.status == 1
    assert verdict.rules == {"created"}


def test_a_version_new_in_the_change_may_be_rewritten_before_merging(repo: Path) -> None:
    registry = Registry(repo)
    build_base(registry)
    registry.ps("new-version", "notes", "--content", "Again {{ thread }}")
    registry.git("checkout", "-q", "--detach")
    path = "prompts/notes/versions/2.yaml"
    text = git(repo, "show", f"HEAD:{path}")
    line = next(line for line in text.splitlines() if line.startswith("created_by:"))
    git(repo, "branch", "attack", "HEAD")
    head = commit_on(repo, "attack", {path: text.replace(line, f"created_by: {MALLORY}")})
    verdict = check_base(repo, "base", head=head)
    assert (verdict.status, verdict.rules) == (0, set())
