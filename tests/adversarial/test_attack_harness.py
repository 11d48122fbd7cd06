"""The harness the attacks stand on: a hand-made commit reaches the check as CI runs it."""

from __future__ import annotations

from pathlib import Path

from helpers.attack import check_base, commit_on
from helpers.gitrepo import git
from helpers.registry_repo import Registry, build_base


def test_a_hand_made_edit_of_published_content_is_refused(repo: Path) -> None:
    build_base(Registry(repo))
    published = git(repo, "show", "base:prompts/greeting/versions/2.yaml")
    commit_on(repo, "attack", {"prompts/greeting/versions/2.yaml": published.replace("Hi", "Yo")})

    verdict = check_base(repo, "base", head="attack")

    assert verdict.status == 1, verdict.stderr
    assert "frozen" in verdict.rules
    assert git(repo, "status", "--porcelain") == ""


def test_the_unchanged_base_passes(repo: Path) -> None:
    build_base(Registry(repo))
    verdict = check_base(repo, "base")
    assert (verdict.status, verdict.rules) == (0, set()), verdict.stderr
