"""The write API on real repositories: each method is one commit and a result value; refusals
write nothing; ``expect_production`` and ``dry_run`` hold what a page or a script saw."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from helpers.cli import Cli
from helpers.gitrepo import ALICE, BOB, changed_files, git, head, status_clean
from helpers.remotes import clone, local_state, remote_tip, seeded_remote
from registry import Editor, Registry
from registry.errors import InputError, Superseded, WriteInterrupted


@pytest.fixture
def editor(repo: Path) -> Editor:
    return Editor.open(repo, by=ALICE)


def test_every_method_is_one_commit_with_its_result(editor: Editor, repo: Path) -> None:
    made = editor.create("greeting", content="Hello {{ name }}", tags=["onboarding"])
    assert (made.subject, made.prompt, made.version, made.branch) == (
        "create(greeting): v1",
        "greeting",
        1,
        "refs/heads/main",
    )
    assert made.files == ("prompts/greeting/prompt.yaml", "prompts/greeting/versions/1.yaml")
    assert made.commit == head(repo) and made.parent is None
    steps = [
        (editor.new_version("greeting", copy_of="v1"), "new-version(greeting): v2 from v1"),
        (editor.edit("greeting", 2, content="Hi {{ name }}"), "edit(greeting): v2"),
        (editor.update("greeting", description="Says hello"), "update(greeting): description"),
        (editor.archive("greeting", 2), "archive(greeting): v2"),
        (editor.unarchive("greeting", 2), "unarchive(greeting): v2"),
        (editor.promote("greeting", 2, notes="First"), "promote(greeting): v2"),
        (editor.init(), "init: prompt registry check, .gitattributes, CODEOWNERS, file schemas"),
        (editor.delete("greeting", force=True), "delete(greeting)"),
    ]
    parent = made.commit
    for result, subject in steps:
        assert result.subject == subject
        assert result.parent == parent
        assert git(repo, "log", "-1", "--format=%s", result.commit).strip() == subject
        changed = changed_files(repo, result.commit)
        assert changed
        assert all(any(f == w or f.startswith(w + "/") for w in result.files) for f in changed)
        parent = result.commit
    assert head(repo) == parent
    assert status_clean(repo)
    record = steps[5][0].record
    assert record is not None and (record.version, record.previous_version) == (2, None)
    assert git(repo, "log", "-1", "--format=%an <%ae>", steps[5][0].commit).strip() == ALICE


def test_chat_messages_as_mappings_or_messages(editor: Editor, repo: Path) -> None:
    editor.create(
        "support",
        messages=[
            {"role": "system", "content": "You help."},
            {"role": "user", "content": "{{ q }}"},
        ],
    )
    assert Registry.open(repo).get("support", label="latest").messages is not None
    with pytest.raises(InputError, match="not both"):
        editor.new_version("support", content="x", messages=[{"role": "user", "content": "y"}])
    with pytest.raises(InputError, match="message 1"):
        editor.new_version("support", messages=[{"role": "robot", "content": "y"}])


def test_expect_production_refuses_a_state_that_moved(editor: Editor, repo: Path) -> None:
    editor.create("greeting", content="one")
    editor.new_version("greeting", content="two")
    editor.new_version("greeting", content="three")
    seen = editor.promote("greeting", 2, dry_run=True).record.previous_version
    assert seen is None
    Editor.open(repo, by=BOB).promote("greeting", 3, notes="Bob's")
    before = local_state(repo)
    with pytest.raises(Superseded) as caught:
        editor.promote("greeting", 2, expect_production=seen)
    assert (caught.value.version, caught.value.by) == (3, BOB)
    assert local_state(repo) == before
    done = editor.promote("greeting", 2, expect_production=3)
    assert done.record is not None and done.record.previous_version == 3


def test_a_dry_run_is_the_exact_commit_and_writes_nothing(editor: Editor, repo: Path) -> None:
    editor.create("greeting", content="Hello")
    before = local_state(repo), git(repo, "for-each-ref")
    plan = editor.promote("greeting", 1, notes="First", dry_run=True)
    assert (local_state(repo), git(repo, "for-each-ref")) == before
    assert plan.parent == head(repo) and plan.branch == "refs/heads/main"
    assert plan.author == ALICE
    assert plan.files == (
        "prompts/greeting/history.yaml",
        "prompts/greeting/production.yaml",
        "prompts/greeting/versions/1.yaml",
    )
    assert "+status: published" in plan.diff and "-status: draft" in plan.diff
    done = editor.promote("greeting", 1, notes="First")
    message = git(repo, "log", "-1", "--format=%B", done.commit)
    # The same commit but for the time it records, taken when each was built.
    assert message.splitlines()[:3] == plan.message.splitlines()[:3]
    assert done.files == plan.files


def test_options_that_need_another_are_refused(editor: Editor, repo: Path) -> None:
    editor.create("greeting")
    tip = head(repo)
    with pytest.raises(InputError, match="give push=True"):
        editor.archive("greeting", 1, remote="origin")
    with pytest.raises(InputError, match="give branch= too"):
        editor.promote("greeting", 1, start="main")
    assert head(repo) == tip


def test_a_bare_repository_with_ref_and_a_push(tmp_path: Path) -> None:
    remote = seeded_remote(tmp_path)
    ed = Editor.open(remote, ref="refs/heads/main", by=BOB)
    done = ed.promote("greeting", 2, notes="From a bot")
    assert remote_tip(remote) == done.commit
    alice = clone(remote, tmp_path / "alice")
    pushed = Editor.open(alice).new_version("farewell", push=True)
    assert pushed.pushed_to == "origin/main" and remote_tip(remote) == pushed.commit
    assert status_clean(alice)


def test_an_interrupt_while_publishing_lands_the_change_and_says_so(
    sample: Cli, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In process: SIGINT raised as the branch is about to move is held until the clone is
    whole; the call then raises WriteInterrupted carrying the result."""
    monkeypatch.setenv("PROMPTSHIP_TEST_SIGINT_IN_CRITICAL_SECTION", "1")
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(WriteInterrupted) as caught:
        Editor.open(repo).promote("greeting", 2)
    assert signal.getsignal(signal.SIGINT) is before
    assert isinstance(caught.value, KeyboardInterrupt)
    assert caught.value.result.commit == head(repo)
    assert git(repo, "diff", "--cached", "--name-only", "HEAD") == ""
    assert status_clean(repo)
