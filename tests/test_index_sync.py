"""The clone's index follows every commit: through git, so a split index works too, and a sync
that fails after the branch moved is finished by the next command, never left as a staged
revert."""

from __future__ import annotations

from pathlib import Path

import pygit2
import pytest

from helpers.cli import Cli, run_main
from helpers.gitrepo import files_under, git, head, status_clean
from registry.errors import SyncIncomplete
from registry.git.publish import write_change
from registry.git.store import GitStore
from registry.promotion import plan_promotion
from registry.snapshot import ChangeSet, Snapshot

JOURNAL = Path(".git") / "promptship-sync.json"


@pytest.fixture
def split(sample: Cli, repo: Path) -> Cli:
    """The sample registry in a clone whose index git keeps split (core.splitIndex)."""
    git(repo, "config", "core.splitIndex", "true")
    git(repo, "update-index", "--split-index")
    assert list((repo / ".git").glob("sharedindex.*"))
    with pytest.raises(pygit2.GitError, match="link"):
        pygit2.Repository(str(repo)).index.read(True)
    return sample


def test_promote_in_a_clone_with_a_split_index(split: Cli, repo: Path) -> None:
    split.ok("promote", "greeting", "2", "--yes")
    assert status_clean(repo)
    assert "version: 2" in (repo / "prompts/greeting/production.yaml").read_text()
    staged = git(repo, "ls-files", "-s", "prompts/greeting/production.yaml").split()[1]
    assert staged == git(repo, "rev-parse", "HEAD:prompts/greeting/production.yaml").strip()
    assert list((repo / ".git").glob("sharedindex.*"))


def test_delete_a_prompt_in_a_clone_with_a_split_index(split: Cli, repo: Path) -> None:
    split.ok("delete", "greeting", "--force")
    assert status_clean(repo)
    assert not (repo / "prompts/greeting").exists()
    assert git(repo, "ls-files", "prompts") == ""


def test_dirty_files_are_refused_in_a_clone_with_a_split_index(split: Cli, repo: Path) -> None:
    pointer = repo / "prompts/greeting/versions/2.yaml"
    pointer.write_text(pointer.read_text() + "# mine\n")
    git(repo, "add", str(pointer))
    tip = head(repo)
    status, _, err = run_main(repo, "promote", "greeting", "2", "--yes")
    assert status == 1
    assert "uncommitted changes in files this command would change" in err
    assert head(repo) == tip
    assert git(repo, "status", "--porcelain") == "M  prompts/greeting/versions/2.yaml\n"


def test_check_of_a_work_tree_with_a_split_index(split: Cli, repo: Path) -> None:
    (repo / ".gitignore").write_text("*.bak\n")
    (repo / "prompts/greeting/notes.bak").write_text("mine\n")
    assert split("check").exit_code == 0
    (repo / "prompts/greeting/stray.txt").write_text("not in the format\n")
    outcome = split("check")
    assert outcome.exit_code == 1
    assert "prompts/greeting/stray.txt" in outcome.stdout
    assert "notes.bak" not in outcome.stdout


def test_a_sync_that_fails_after_the_commit_is_finished_by_the_next_command(
    sample: Cli, repo: Path
) -> None:
    """Another git process takes the index lock while the promotion runs: the commit is made,
    the index cannot follow, and the journal stays until the next command syncs."""
    lock = repo / ".git" / "index.lock"
    store = GitStore.open(repo)
    identity = store.identity()

    def promote_while_git_holds_the_index(snapshot: Snapshot, now: str) -> ChangeSet:
        lock.write_text("")
        return plan_promotion(snapshot, "greeting", 2, actor=str(identity), now=now)

    tip = head(repo)
    with pytest.raises(SyncIncomplete) as raised:
        write_change(store, promote_while_git_holds_the_index, identity=identity)
    assert "git reset -q -- prompts/greeting/history.yaml" in raised.value.hint
    assert head(repo) != tip
    assert raised.value.commit == head(repo)
    assert (repo / JOURNAL).exists()
    lock.unlink()
    sample.ok("create", "farewell")
    assert status_clean(repo)
    assert not (repo / JOURNAL).exists()
    assert git(repo, "rev-parse", "HEAD~1").strip() == raised.value.commit
    assert "version: 2" in files_under(repo)["prompts/greeting/production.yaml"].decode()
