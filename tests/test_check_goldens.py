"""check --base runs the golden cases of every version a change promotes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from helpers.cli import Cli
from helpers.gitrepo import git
from registry.git.publish import write_change
from registry.git.store import GitStore
from registry.identity import Identity
from registry.promotion import plan_promotion

ALICE = Identity(name="Alice Example", email="alice@example.com")
CASES = """- name: greets by name
  variables: {name: Ada, app_name: Acme}
  expect: {contains: "Hello, Ada"}
"""


def with_cases(sample: Cli, repo: Path) -> str:
    (repo / "prompts/greeting/tests.yaml").write_text(CASES)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "golden cases")
    git(repo, "branch", "base")
    return "base"


def check(cli: Cli, base: str) -> tuple[int, dict[str, Any]]:
    outcome = cli("check", "--base", base, "--format", "json")
    return outcome.exit_code, json.loads(outcome.stdout)


def test_a_promotion_that_fails_its_cases_is_reported(sample: Cli, repo: Path) -> None:
    base = with_cases(sample, repo)
    # v2 says "Hi", not "Hello": made without the gate, as a hand-made promotion would be
    write_change(
        GitStore.open(repo),
        lambda s, now: plan_promotion(s, "greeting", 2, actor=str(ALICE), now=now),
        identity=ALICE,
    )
    status, report = check(sample, base)
    assert status == 1
    (violation,) = report["violations"]
    assert violation["file"] == "prompts/greeting/tests.yaml"
    assert violation["rule"] == "golden-tests"
    assert (
        "greeting v2 is promoted by this change but fails golden test case(s) 'greets by name'"
        in violation["message"]
    )


def test_a_recorded_skip_is_accepted_and_shown(sample: Cli, repo: Path) -> None:
    base = with_cases(sample, repo)
    sample.ok("promote", "greeting", "2", "--yes", "--skip-tests")
    status, report = check(sample, base)
    assert status == 0, report
    (promotion,) = report["promotions"]
    assert (promotion["to"], promotion["tests_skipped"]) == (2, True)


def test_a_passing_promotion_passes(sample: Cli, repo: Path) -> None:
    base = with_cases(sample, repo)
    sample.ok("new-version", "greeting", "--from", "1")
    sample.ok("promote", "greeting", "3", "--yes")
    status, report = check(sample, base)
    assert status == 0, report
