"""``--push``: commit, push with the git program, rebuild on the remote's tip after a lost race,
stop when the decision no longer holds; a failure leaves the clone exactly as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.cli import Cli, promptship, run_main
from helpers.gitrepo import BOB, git, head, status_clean
from helpers.remotes import (
    CHANGING_COMMANDS,
    clone,
    install_hook,
    local_state,
    remote_tip,
    seeded_remote,
    subjects,
)
from registry.errors import Superseded
from registry.git.program import parse_push_report
from registry.git.publish import Pushed, write_change
from registry.git.store import GitStore
from registry.promotion import plan_promotion
from stress.scenarios import git_daemon


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    return seeded_remote(tmp_path)


@pytest.fixture
def alice(remote: Path, tmp_path: Path) -> Path:
    return clone(remote, tmp_path / "alice")


@pytest.fixture
def bob(remote: Path, tmp_path: Path) -> Path:
    return clone(remote, tmp_path / "bob")


def test_push_publishes_the_commit_and_keeps_the_clone_in_line(alice: Path, remote: Path) -> None:
    result = Cli(alice).ok("promote", "greeting", "2", "--yes", "--notes", "Warmer", "--push")
    assert "pushed to origin/main" in result.output
    assert remote_tip(remote) == head(alice)
    assert git(alice, "rev-parse", "origin/main").strip() == head(alice)
    assert subjects(remote, "main", 1) == ["promote(greeting): v1 -> v2"]
    assert status_clean(alice)


@pytest.mark.parametrize(("args", "subject"), CHANGING_COMMANDS)
def test_every_changing_command_pushes(
    alice: Path, remote: Path, args: list[str], subject: str
) -> None:
    Cli(alice).ok(*args, "--push")
    assert subjects(remote, "main", 1) == [subject]
    assert remote_tip(remote) == head(alice)
    assert status_clean(alice)


def test_unarchive_pushes(alice: Path, remote: Path) -> None:
    cli = Cli(alice)
    cli.ok("archive", "greeting", "3")
    cli.ok("unarchive", "greeting", "3", "--push")
    assert subjects(remote, "main", 2) == ["unarchive(greeting): v3", "archive(greeting): v3"]


def test_a_lost_race_over_other_prompts_is_rebuilt_on_the_remote_tip(
    alice: Path, bob: Path, remote: Path
) -> None:
    Cli(bob).ok("new-version", "farewell", "--content", "See you {{ name }}", "--by", BOB, "--push")
    bobs = remote_tip(remote)
    result = Cli(alice).ok("promote", "greeting", "2", "--yes", "--push")
    assert "rebuilt on newer commits there (attempt 2)" in result.output
    assert remote_tip(remote) == head(alice)
    assert git(alice, "rev-parse", "HEAD~1").strip() == bobs
    assert (alice / "prompts/farewell/versions/2.yaml").read_text().count("See you") == 1
    assert status_clean(alice)
    assert git(remote, "rev-list", "--merges", "main") == ""


def test_content_from_stdin_survives_a_rebuild(alice: Path, bob: Path, remote: Path) -> None:
    Cli(bob).ok("update", "farewell", "--tag", "email", "--by", BOB, "--push")
    result = Cli(alice).ok(
        "edit", "greeting", "3", "--file", "-", "--push", input="Good day {{ name }}\n"
    )
    assert "rebuilt on newer commits there (attempt 2)" in result.output
    shown = git(remote, "show", "main:prompts/greeting/versions/3.yaml")
    assert "content: |\n  Good day {{ name }}\n" in shown
    assert status_clean(alice)


def test_the_supersession_guard(alice: Path, bob: Path, remote: Path) -> None:
    """Two clones promote different versions of one prompt: the second is told who won, and
    nothing of either is overwritten."""
    Cli(alice).ok("promote", "greeting", "2", "--yes", "--notes", "Alice's pick", "--push")
    alices = remote_tip(remote)
    before = local_state(bob)
    status, _, err = run_main(
        bob, "promote", "greeting", "3", "--yes", "--by", BOB, "--notes", "Bob's pick", "--push"
    )
    assert status == 1
    assert "promotion of 'greeting' superseded by v2 (promoted by Alice Example" in err
    assert "hint: " in err
    assert remote_tip(remote) == alices
    assert local_state(bob) == before
    history = git(remote, "show", "main:prompts/greeting/history.yaml")
    assert "Alice's pick" in history
    assert "Bob's pick" not in history


def test_superseded_carries_who_and_when(alice: Path, bob: Path) -> None:
    Cli(alice).ok("promote", "greeting", "2", "--yes", "--push")
    store = GitStore.open(bob)
    with pytest.raises(Superseded) as caught:
        write_change(
            store,
            lambda snap, now: plan_promotion(snap, "greeting", 3, actor=BOB, now=now),
            identity=store.identity(BOB),
            publishing=Pushed(store),
        )
    assert caught.value.version == 2
    assert caught.value.by == "Alice Example <alice@example.com>"
    assert caught.value.at.endswith("Z")


@pytest.mark.parametrize(
    ("hook", "reason"),
    [("pre-receive", "pre-receive hook declined"), ("update", "hook declined")],
)
def test_a_ref_declined_by_a_server_hook_fails_and_changes_nothing(
    alice: Path, remote: Path, hook: str, reason: str
) -> None:
    install_hook(remote, hook, "echo 'promotions are frozen this week' >&2; exit 1")
    tip = remote_tip(remote)
    before = local_state(alice)
    status, _, err = run_main(alice, "promote", "greeting", "2", "--yes", "--push")
    assert status == 1
    assert f"origin refused the push to refs/heads/main: {reason}" in err
    assert "remote: promotions are frozen this week" in err
    assert remote_tip(remote) == tip
    assert local_state(alice) == before


def test_without_an_upstream_push_is_refused_before_anything(tmp_path: Path) -> None:
    path = tmp_path / "solo"
    git(tmp_path, "init", "-q", "-b", "main", str(path))
    status, _, err = run_main(path, "create", "greeting", "--push")
    assert status == 1
    assert "branch 'main' has no upstream" in err
    assert git(path, "rev-parse", "--verify", "-q", "HEAD", check=False) == ""


def test_an_unknown_remote_is_refused(alice: Path) -> None:
    before = local_state(alice)
    status, _, err = run_main(alice, "create", "summary", "--push", "--remote", "backup")
    assert status == 1
    assert "no remote named 'backup'" in err
    assert "its remotes: origin" in err
    assert local_state(alice) == before


def test_remote_option_pushes_to_another_remote(alice: Path, remote: Path, tmp_path: Path) -> None:
    backup = tmp_path / "backup.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(backup))
    git(alice, "remote", "add", "backup", str(backup))
    origin = remote_tip(remote)
    Cli(alice).ok("create", "summary", "--push", "--remote", "backup")
    assert remote_tip(backup) == head(alice)
    assert remote_tip(remote) == origin


def test_remote_without_push_is_a_usage_error(alice: Path) -> None:
    before = local_state(alice)
    status, _, err = run_main(alice, "create", "summary", "--remote", "origin")
    assert status == 2
    assert "add --push" in err
    assert local_state(alice) == before


def test_an_unreachable_remote_fails_cleanly(alice: Path, tmp_path: Path) -> None:
    git(alice, "remote", "set-url", "origin", str(tmp_path / "gone.git"))
    before = local_state(alice)
    status, _, err = run_main(alice, "promote", "greeting", "2", "--yes", "--push")
    assert status == 1
    assert err.startswith("error: git push with 'origin' failed: ")
    assert "Traceback" not in err
    assert local_state(alice) == before


def test_a_failing_local_pre_push_hook_fails_cleanly(alice: Path) -> None:
    install_hook(alice / ".git", "pre-push", "echo 'run the tests first' >&2; exit 1")
    before = local_state(alice)
    status, _, err = run_main(alice, "promote", "greeting", "2", "--yes", "--push")
    assert status == 1
    assert "git push with 'origin' failed" in err
    assert "run the tests first" in err
    assert local_state(alice) == before


def test_a_diverged_branch_is_not_rebuilt_over(alice: Path, bob: Path, remote: Path) -> None:
    Cli(alice).ok("new-version", "farewell")
    Cli(bob).ok("create", "summary", "--by", BOB, "--push")
    tip = remote_tip(remote)
    before = local_state(alice)
    status, _, err = run_main(alice, "promote", "greeting", "2", "--yes", "--push")
    assert status == 1
    assert "main has commits that origin/main does not have" in err
    assert "git pull --rebase" in err
    assert remote_tip(remote) == tip
    assert local_state(alice) == before


def test_unpushed_local_commits_go_along_as_git_push_would(alice: Path, remote: Path) -> None:
    Cli(alice).ok("new-version", "farewell")
    Cli(alice).ok("promote", "greeting", "2", "--yes", "--push")
    assert subjects(remote, "main", 2) == [
        "promote(greeting): v1 -> v2",
        "new-version(farewell): v2",
    ]


def test_a_dirty_file_the_catch_up_would_overwrite_is_refused(
    alice: Path, bob: Path, remote: Path
) -> None:
    Cli(bob).ok("edit", "greeting", "3", "--content", "Howdy {{ name }}", "--by", BOB, "--push")
    tip = remote_tip(remote)
    edited = alice / "prompts/greeting/versions/3.yaml"
    edited.write_text(edited.read_text() + "# my notes\n")
    before = local_state(alice)
    status, _, err = run_main(alice, "promote", "greeting", "2", "--yes", "--push")
    assert status == 1
    assert "uncommitted changes in files this command would change" in err
    assert "prompts/greeting/versions/3.yaml" in err
    assert remote_tip(remote) == tip
    assert local_state(alice) == before


def test_two_new_versions_at_once_both_land_with_the_next_numbers(
    alice: Path, bob: Path, remote: Path
) -> None:
    Cli(alice).ok("new-version", "greeting", "--content", "A {{ name }}", "--push")
    result = Cli(bob).ok(
        "new-version", "greeting", "--content", "B {{ name }}", "--by", BOB, "--push"
    )
    assert "created greeting v5 (draft)" in result.output
    assert subjects(remote, "main", 2) == [
        "new-version(greeting): v5",
        "new-version(greeting): v4",
    ]
    assert status_clean(bob)


def test_the_first_push_to_an_empty_remote(tmp_path: Path) -> None:
    remote = tmp_path / "empty.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    path = tmp_path / "first"
    git(tmp_path, "clone", "-q", str(remote), str(path))
    git(path, "config", "branch.main.remote", "origin")
    git(path, "config", "branch.main.merge", "refs/heads/main")
    Cli(path).ok("create", "greeting", "--push")
    assert remote_tip(remote) == head(path)


def test_push_as_a_real_subprocess(alice: Path, remote: Path) -> None:
    done = promptship(alice, "promote", "greeting", "2", "--yes", "--push")
    assert done.returncode == 0, done.stderr
    assert "pushed to origin/main" in done.stdout
    assert remote_tip(remote) == head(alice)


def test_push_through_git_daemon(remote: Path, tmp_path: Path) -> None:
    with git_daemon(tmp_path) as url:
        alice = clone(f"{url}remote.git", tmp_path / "alice")
        bob = clone(f"{url}remote.git", tmp_path / "bob")
        Cli(alice).ok("promote", "greeting", "2", "--yes", "--push")
        status, _, err = run_main(bob, "promote", "greeting", "3", "--yes", "--push")
        Cli(bob).ok("new-version", "farewell", "--push")
    assert status == 1
    assert "superseded by v2" in err
    assert remote_tip(remote) == head(bob)
    assert subjects(remote, "main", 2) == [
        "new-version(farewell): v2",
        "promote(greeting): v1 -> v2",
    ]


@pytest.mark.parametrize(
    ("stdout", "flag", "accepted", "behind", "reason"),
    [
        (" \tHEAD:refs/heads/main\t6311a86..2a40832\nDone\n", " ", True, False, "6311a86..2a40832"),
        ("*\tabc:refs/heads/new\t[new branch]\n", "*", True, False, "[new branch]"),
        ("=\tabc:refs/heads/main\t[up to date]\n", "=", True, False, "[up to date]"),
        ("!\tabc:refs/heads/main\t[rejected] (fetch first)\n", "!", False, True, "fetch first"),
        (
            "!\tabc:refs/heads/main\t[rejected] (non-fast-forward)\n",
            "!",
            False,
            True,
            "non-fast-forward",
        ),
        (
            "!\tabc:refs/heads/main\t[remote rejected] (pre-receive hook declined)\n",
            "!",
            False,
            False,
            "pre-receive hook declined",
        ),
    ],
)
def test_push_report_lines(
    stdout: str, flag: str, accepted: bool, behind: bool, reason: str
) -> None:
    [update] = parse_push_report("To /somewhere/remote.git\n" + stdout)
    assert (update.flag, update.accepted, update.behind, update.reason) == (
        flag,
        accepted,
        behind,
        reason,
    )


def test_push_report_keeps_what_the_server_said() -> None:
    [update] = parse_push_report(
        "!\tabc:refs/heads/main\t[remote rejected] (hook declined)\n",
        "remote: branch is protected        \nremote: \nerror: failed to push some refs\n",
    )
    assert update.messages == ("branch is protected",)
