"""The gate before production: ``promote`` runs the version's golden cases first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers.cli import Cli, promptship, run_main
from helpers.gitrepo import git, status_clean
from helpers.golden_files import commit_tests
from helpers.inmemory import ACTOR, NOW, add_prompt, add_version, promote_version, with_file
from helpers.remotes import local_state
from registry.errors import GoldenTestsFailed, LifecycleError
from registry.gate import SKIPPED_KEY, plan_tested_promotion
from registry.snapshot import DictSnapshot

FAILING_FOR_V2 = """\
- name: greets by name
  variables: {name: Ada, app_name: Acme}
  expect: {contains: Ada}
- name: says welcome
  variables: {name: Ada, app_name: Acme}
  expect: {contains: Welcome}
"""


@pytest.fixture
def gated(sample: Cli, repo: Path) -> Cli:
    """greeting v1 in production, v2 a draft that fails the case 'says welcome'."""
    commit_tests(repo, FAILING_FOR_V2)
    return sample


def test_a_failing_case_refuses_the_promotion_and_writes_nothing(gated: Cli, repo: Path) -> None:
    before = local_state(repo)
    status, out, err = run_main(repo, "promote", "greeting", "2", "--yes")
    assert status == 1
    assert out == ""
    assert err.startswith(
        "error: greeting v2 failed 1 of 2 golden test case(s): 'says welcome'\nhint: "
    )
    assert "--skip-tests" in err
    assert local_state(repo) == before
    assert status_clean(repo)


def test_dry_run_is_refused_too(gated: Cli, repo: Path) -> None:
    status, out, err = run_main(repo, "promote", "greeting", "2", "--dry-run")
    assert (status, out) == (1, "")
    assert "'says welcome'" in err


def test_refused_as_a_subprocess(gated: Cli, repo: Path) -> None:
    before = local_state(repo)
    done = promptship(repo, "promote", "greeting", "2", "--yes")
    assert done.returncode == 1
    assert "'says welcome'" in done.stderr
    assert "Traceback" not in done.stderr
    assert local_state(repo) == before


def test_refused_in_a_bare_repository(gated: Cli, repo: Path, tmp_path: Path) -> None:
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(bare))
    tip = git(bare, "rev-parse", "main")
    status, _, err = run_main(bare, "promote", "greeting", "2", "--ref", "refs/heads/main", "--yes")
    assert status == 1 and "'says welcome'" in err
    assert git(bare, "rev-parse", "main") == tip


def test_passing_cases_let_the_promotion_through(gated: Cli, repo: Path) -> None:
    (repo / "prompts/greeting/tests.yaml").write_text(FAILING_FOR_V2.replace("Welcome", "elcome"))
    git(repo, "commit", "-q", "-am", "Case matches both wordings")
    gated.ok("promote", "greeting", "2", "--yes")
    pointer = (repo / "prompts/greeting/production.yaml").read_text()
    assert "version: 2" in pointer
    record = json.loads((repo / "prompts/greeting/history.yaml").read_text().splitlines()[-1][2:])
    assert SKIPPED_KEY not in record
    assert git(repo, "log", "-1", "--format=%B").rstrip().endswith("Golden-Tests: 2 passed")


def test_the_committed_cases_decide_not_the_work_tree(gated: Cli, repo: Path) -> None:
    """promote commits the branch tip's state, so it tests that state."""
    (repo / "prompts/greeting/tests.yaml").write_text(FAILING_FOR_V2.replace("Welcome", "elcome"))
    status, _, err = run_main(repo, "promote", "greeting", "2", "--yes")
    assert status == 1 and "'says welcome'" in err
    assert "version: 1" in (repo / "prompts/greeting/production.yaml").read_text()


def test_skip_tests_promotes_and_says_so_in_history_and_commit(gated: Cli, repo: Path) -> None:
    gated.ok("promote", "greeting", "2", "--yes", "--skip-tests", "--notes", "Hotfix")
    assert "version: 2" in (repo / "prompts/greeting/production.yaml").read_text()
    lines = (repo / "prompts/greeting/history.yaml").read_text().splitlines()
    record = json.loads(lines[-1][2:])
    assert (record["version"], record[SKIPPED_KEY], record["notes"]) == (2, True, "Hotfix")
    assert "tests_skipped" not in lines[0]
    message = git(repo, "log", "-1", "--format=%B")
    assert message.rstrip().endswith("Golden-Tests: skipped")
    history = json.loads(gated.ok("history", "greeting", "--json").stdout)
    assert history[0][SKIPPED_KEY] is True
    assert SKIPPED_KEY not in history[1]
    gated.ok("check")
    assert status_clean(repo)


def test_a_broken_tests_file_refuses_the_promotion(sample: Cli, repo: Path) -> None:
    commit_tests(repo, "- {name: a, expect: {containz: x}}\n")
    before = local_state(repo)
    status, _, err = run_main(repo, "promote", "greeting", "2", "--yes")
    assert status == 1
    assert "tests.yaml:1: case 'a': unknown key 'containz'" in err
    assert local_state(repo) == before
    assert run_main(repo, "promote", "greeting", "2", "--yes", "--skip-tests")[0] == 0
    assert "version: 2" in (repo / "prompts/greeting/production.yaml").read_text()
    assert status_clean(repo)


# -- the gate as a function, on snapshots in memory -------------------------------------------


@pytest.fixture
def snapshot() -> DictSnapshot:
    snap = add_prompt(DictSnapshot(), "greeting", "Hello {{ name }}")
    snap = add_version(snap, "greeting", "Hi {{ name }}")
    return with_file(
        snap,
        "prompts/greeting/tests.yaml",
        b"- {name: polite, variables: {name: Ada}, expect: {regex: '^Hello'}}\n",
    )


def test_plan_refuses_a_failing_version(snapshot: DictSnapshot) -> None:
    with pytest.raises(GoldenTestsFailed) as caught:
        plan_tested_promotion(snapshot, "greeting", 2, actor=ACTOR, now=NOW)
    assert (caught.value.prompt, caught.value.version, caught.value.failed) == (
        "greeting",
        2,
        ("polite",),
    )
    assert caught.value.total == 1


def test_plan_skipping_records_it(snapshot: DictSnapshot) -> None:
    plan = plan_tested_promotion(snapshot, "greeting", 2, actor=ACTOR, now=NOW, skip_tests=True)
    assert plan.record is not None and plan.record.extra == {SKIPPED_KEY: True}
    assert plan.trailers[-1] == ("Golden-Tests", "skipped")
    history = plan.writes["prompts/greeting/history.yaml"]
    assert history is not None and b'"tests_skipped": true' in history


def test_plan_without_cases_adds_no_trailer(snapshot: DictSnapshot) -> None:
    untested = DictSnapshot(
        {k: v for k, v in snapshot.files.items() if not k.endswith("tests.yaml")}
    )
    plan = plan_tested_promotion(untested, "greeting", 2, actor=ACTOR, now=NOW)
    assert [key for key, _ in plan.trailers] == [
        "Prompt",
        "Version",
        "Previous-Version",
        "Promoted-By",
    ]


def test_lifecycle_rules_come_before_the_cases(snapshot: DictSnapshot) -> None:
    """An already published version is refused as such, not for its tests: v2 fails its case."""
    published = promote_version(snapshot, "greeting", 2)
    with pytest.raises(LifecycleError, match="already in production"):
        plan_tested_promotion(published, "greeting", 2, actor=ACTOR, now=NOW)
