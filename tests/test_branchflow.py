"""``promote --branch``: the promotion commit on a new branch for a pull request, built from the
remote's main branch without touching the checkout."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.cli import Cli, promptship, run_main
from helpers.gitrepo import BOB, changed_files, git, head
from helpers.remotes import clone, install_hook, local_state, remote_tip, seeded_remote, subjects


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    return seeded_remote(tmp_path)


@pytest.fixture
def alice(remote: Path, tmp_path: Path) -> Path:
    return clone(remote, tmp_path / "alice")


def _mtimes(path: Path) -> dict[str, int]:
    return {
        str(p.relative_to(path)): p.stat().st_mtime_ns
        for p in sorted(path.rglob("*"))
        if p.is_file() and ".git" not in p.parts
    }


def test_the_branch_starts_from_the_remote_main_and_the_checkout_is_untouched(
    alice: Path, remote: Path
) -> None:
    Cli(alice).ok("new-version", "farewell")
    git(alice, "switch", "-q", "-c", "work")
    before = local_state(alice)
    mtimes = _mtimes(alice)
    index = alice / ".git" / "index"
    index_before = (index.read_bytes(), index.stat().st_mtime_ns)
    head_ref = (alice / ".git" / "HEAD").read_text()
    result = Cli(alice).ok(
        "promote", "greeting", "2", "--yes", "--notes", "Warmer", "--branch", "promote/greeting-v2"
    )
    assert (index.read_bytes(), index.stat().st_mtime_ns) == index_before
    assert git(alice, "rev-parse", "promote/greeting-v2~1").strip() == remote_tip(remote)
    assert changed_files(alice, "promote/greeting-v2") == [
        "prompts/greeting/history.yaml",
        "prompts/greeting/production.yaml",
        "prompts/greeting/versions/1.yaml",
        "prompts/greeting/versions/2.yaml",
    ]
    after = local_state(alice)
    assert after.index == before.index
    assert after.files == before.files
    assert after.status == before.status
    assert _mtimes(alice) == mtimes
    assert (alice / ".git" / "HEAD").read_text() == head_ref
    assert "from origin/main" in result.output
    assert "git push -u origin promote/greeting-v2" in result.output
    assert "gh pr create --head promote/greeting-v2 --base main --fill" in result.output


def test_the_branch_passes_the_check_and_merges_as_a_fast_forward(alice: Path) -> None:
    Cli(alice).ok("promote", "greeting", "3", "--yes", "--branch", "promote/greeting-v3")
    git(alice, "merge", "-q", "--ff-only", "promote/greeting-v3")
    assert Cli(alice)("check").exit_code == 0
    assert (alice / "prompts/greeting/production.yaml").read_text().count("version: 3") == 1


@pytest.mark.parametrize(
    ("existing", "asked"),
    [
        ("promote/greeting", "promote/greeting"),
        # git keeps refs as paths: neither can stand beside the other
        ("promote", "promote/greeting"),
        ("promote/greeting", "promote/greeting/v2"),
    ],
)
@pytest.mark.parametrize("push", [False, True])
def test_an_existing_branch_name_is_refused(
    alice: Path, remote: Path, existing: str, asked: str, push: bool
) -> None:
    git(alice, "branch", existing)
    before = local_state(alice), git(remote, "for-each-ref")
    status, _, err = run_main(
        alice, "promote", "greeting", "2", "--yes", "--branch", asked, *(["--push"] * push)
    )
    assert status == 1
    assert f"a branch named {existing!r} already exists in this repository" in err
    assert "choose another name for the new branch" in err
    assert (local_state(alice), git(remote, "for-each-ref")) == before


def test_a_branch_name_taken_on_the_remote_is_refused_with_push(
    alice: Path, remote: Path, tmp_path: Path
) -> None:
    other = clone(remote, tmp_path / "other")
    git(other, "push", "-q", "origin", "HEAD:refs/heads/promote/greeting")
    git(alice, "fetch", "-q")
    before = local_state(alice)
    status, _, err = run_main(
        alice, "promote", "greeting", "2", "--yes", "--branch", "promote/greeting", "--push"
    )
    assert status == 1
    assert "already exists in remote 'origin'" in err
    assert local_state(alice) == before


def test_push_sends_the_branch_and_sets_its_upstream(alice: Path, remote: Path) -> None:
    main = remote_tip(remote)
    result = Cli(alice).ok(
        "promote", "greeting", "2", "--yes", "--branch", "promote/greeting-v2", "--push"
    )
    assert (
        remote_tip(remote, "promote/greeting-v2")
        == git(alice, "rev-parse", "promote/greeting-v2").strip()
    )
    assert remote_tip(remote) == main
    assert git(alice, "config", "branch.promote/greeting-v2.remote").strip() == "origin"
    assert "pushed to origin/promote/greeting-v2" in result.output
    assert "gh pr create --head promote/greeting-v2 --base main --fill" in result.output


def test_with_push_the_start_is_fetched_first(alice: Path, remote: Path, tmp_path: Path) -> None:
    other = clone(remote, tmp_path / "other")
    Cli(other).ok("create", "summary", "--by", BOB, "--push")
    Cli(alice).ok("promote", "greeting", "2", "--yes", "--branch", "promote/v2", "--push")
    assert git(alice, "rev-parse", "promote/v2~1").strip() == remote_tip(remote)


def test_a_hook_declining_the_branch_leaves_nothing(alice: Path, remote: Path) -> None:
    install_hook(remote, "pre-receive", "echo 'no new branches' >&2; exit 1")
    before = local_state(alice)
    status, _, err = run_main(alice, "promote", "greeting", "2", "--yes", "--branch", "p", "--push")
    assert status == 1
    assert "pre-receive hook declined" in err
    assert "remote: no new branches" in err
    assert local_state(alice) == before


def test_from_names_the_start(alice: Path) -> None:
    Cli(alice).ok("promote", "greeting", "2", "--yes")
    result = Cli(alice).ok(
        "promote", "greeting", "3", "--yes", "--branch", "promote/v3", "--from", "main"
    )
    assert git(alice, "rev-parse", "promote/v3~1").strip() == head(alice)
    assert (
        git(alice, "log", "-1", "--format=%s", "promote/v3").strip()
        == "promote(greeting): v2 -> v3"
    )
    assert "from main" in result.output
    assert "--base main" in result.output


def test_the_plan_is_decided_on_the_start_not_on_the_checkout(alice: Path) -> None:
    Cli(alice).ok("promote", "greeting", "2", "--yes")
    Cli(alice).ok("promote", "greeting", "3", "--yes", "--branch", "promote/v3")
    message = git(alice, "log", "-1", "--format=%B", "promote/v3")
    assert message.startswith("promote(greeting): v1 -> v3")


def test_without_a_remote_main_it_asks_for_from(tmp_path: Path) -> None:
    path = tmp_path / "solo"
    git(tmp_path, "init", "-q", "-b", "main", str(path))
    Cli(path).ok("create", "greeting")
    before = local_state(path)
    status, _, err = run_main(path, "promote", "greeting", "1", "--yes", "--branch", "p")
    assert status == 1
    assert "no remote to start the new branch from" in err
    assert "--from REF" in err
    assert local_state(path) == before
    Cli(path).ok("promote", "greeting", "1", "--yes", "--branch", "p", "--from", "main")
    assert git(path, "log", "-1", "--format=%s", "p").strip() == "promote(greeting): v1"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--branch", "p", "--ref", "refs/heads/main"], "--ref does not go with it"),
        (["--from", "main"], "add --branch NAME"),
    ],
)
def test_usage_errors(alice: Path, args: list[str], message: str) -> None:
    before = local_state(alice)
    status, _, err = run_main(alice, "promote", "greeting", "2", "--yes", *args)
    assert status == 2
    assert message in err
    assert local_state(alice) == before


def test_an_invalid_branch_name_is_refused(alice: Path) -> None:
    before = local_state(alice)
    status, _, err = run_main(alice, "promote", "greeting", "2", "--yes", "--branch", "bad..name")
    assert status == 1
    assert "'bad..name' is not a valid branch name" in err
    assert local_state(alice) == before


def test_dry_run_with_branch_writes_nothing(alice: Path) -> None:
    before = local_state(alice)
    result = Cli(alice).ok("promote", "greeting", "2", "--dry-run", "--branch", "p")
    assert "would commit on new branch p from origin/main" in result.output
    assert local_state(alice) == before


def test_branch_flow_in_a_bare_repository(remote: Path, tmp_path: Path) -> None:
    bare = tmp_path / "mirror.git"
    git(tmp_path, "clone", "-q", "--bare", str(remote), str(bare))
    Cli(bare).ok("promote", "greeting", "2", "--yes", "--branch", "promote/v2", "--from", "main")
    assert (
        git(bare, "log", "-1", "--format=%s", "promote/v2").strip() == "promote(greeting): v1 -> v2"
    )
    assert git(bare, "rev-parse", "main").strip() == remote_tip(remote)


def test_branch_flow_as_a_real_subprocess(alice: Path) -> None:
    done = promptship(alice, "promote", "greeting", "2", "--yes", "--branch", "promote/v2")
    assert done.returncode == 0, done.stderr
    assert "git push -u origin promote/v2" in done.stdout
    assert git(alice, "rev-parse", "HEAD").strip() == git(alice, "rev-parse", "origin/main").strip()
    assert subjects(alice, "promote/v2", 1) == ["promote(greeting): v1 -> v2"]
    assert git(alice, "rev-parse", "promote/v2~1") == git(alice, "rev-parse", "origin/main")
