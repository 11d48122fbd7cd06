"""The storage layer on real repositories: one commit per change set, compare-and-swap, races,
identity, dirty files and the work tree sync."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pygit2
import pytest

from helpers.gitrepo import git, head, status_clean
from helpers.inmemory import create, promote
from registry.catalog import load_pointer
from registry.check.tree import check_tree
from registry.errors import (
    ConcurrentChange,
    DirtyWorkTree,
    IdentityMissing,
    InputError,
    RepositoryError,
    Superseded,
)
from registry.git.publish import write_change
from registry.git.store import GitSnapshot, GitStore
from registry.identity import Identity
from registry.lifecycle import Body, new_version
from registry.promotion import plan_promotion
from registry.snapshot import ChangeSet, Snapshot

ALICE = Identity(name="Alice Example", email="alice@example.com")
BOB = Identity(name="Bob Example", email="bob@example.com")


@pytest.fixture
def store(repo: Path) -> GitStore:
    return GitStore.open(repo)


def test_first_commit_on_an_unborn_branch(store: GitStore, repo: Path) -> None:
    result = write_change(store, create("greeting"), identity=ALICE)
    assert result.parent is None
    assert head(repo) == result.commit
    assert git(repo, "log", "--format=%an <%ae>|%cn <%ce>|%s").strip() == (
        "Alice Example <alice@example.com>|Alice Example <alice@example.com>|create(greeting): v1"
    )
    assert status_clean(repo)
    assert (repo / "prompts/greeting/versions/1.yaml").is_file()


def test_commit_touches_only_written_paths_and_keeps_other_trees(
    store: GitStore, repo: Path
) -> None:
    (repo / "README.md").write_text("hi\n")
    git(repo, "add", "README.md")
    git(repo, "commit", "-qm", "readme")
    write_change(store, create("a"), identity=ALICE)
    write_change(store, create("b"), identity=ALICE)
    before = pygit2.Repository(str(repo)).revparse_single("HEAD").tree
    write_change(store, promote("b", 1), identity=ALICE)
    after = pygit2.Repository(str(repo)).revparse_single("HEAD").tree
    assert before["README.md"].id == after["README.md"].id
    assert before["prompts/a"].id == after["prompts/a"].id
    assert git(repo, "diff", "--name-only", "HEAD~1", "HEAD").split() == [
        "prompts/b/history.yaml",
        "prompts/b/production.yaml",
        "prompts/b/versions/1.yaml",
    ]


def test_message_has_notes_and_trailers(store: GitStore, repo: Path) -> None:
    write_change(store, create("p"), identity=ALICE)
    write_change(
        store,
        lambda s, now: plan_promotion(s, "p", 1, notes="Initial release", actor=str(BOB), now=now),
        identity=BOB,
    )
    trailers = git(repo, "log", "-1", "--format=%(trailers:only,unfold)")
    assert (
        "Prompt: p\nVersion: 1\nPrevious-Version: none\nPromoted-By: Bob Example <bob@example.com>"
        in trailers
    )
    assert git(repo, "log", "-1", "--format=%an|%b").startswith("Bob Example|Initial release")


@pytest.fixture
def bare(tmp_path: Path) -> Path:
    """A bare repository: no work tree, so no clone lock; writers race on the ref alone."""
    path = tmp_path / "bare.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(path))
    return path


def test_lost_race_to_another_prompt_is_rebuilt(bare: Path) -> None:
    store = GitStore.open(bare, ref="refs/heads/main")
    write_change(store, create("a"), identity=ALICE)
    write_change(store, create("b"), identity=ALICE)
    calls = []

    def operation(snap: Snapshot, now: str) -> ChangeSet:
        calls.append(now)
        if len(calls) == 1:
            # another writer lands first, on another prompt
            write_change(
                GitStore.open(bare, ref="refs/heads/main"),
                promote("b", 1, by=str(BOB)),
                identity=BOB,
            )
        return plan_promotion(snap, "a", 1, actor=str(ALICE), now=now)

    result = write_change(store, operation, identity=ALICE)
    assert result.attempts == 2
    assert git(bare, "log", "--format=%s", "-2").split("\n")[:2] == [
        "promote(a): v1",
        "promote(b): v1",
    ]
    snap = GitStore.open(bare, ref="refs/heads/main").snapshot()
    assert load_pointer(snap, "a") is not None and load_pointer(snap, "b") is not None
    assert check_tree(snap) == []


def test_lost_race_to_a_plain_git_commit_in_a_clone(store: GitStore, repo: Path) -> None:
    write_change(store, create("a"), identity=ALICE)
    calls = []

    def operation(snap: Snapshot, now: str) -> ChangeSet:
        calls.append(now)
        if len(calls) == 1:
            (repo / "README.md").write_text("someone else\n")
            git(repo, "add", "README.md")
            git(repo, "commit", "-qm", "readme")
        return plan_promotion(snap, "a", 1, actor=str(ALICE), now=now)

    result = write_change(store, operation, identity=ALICE)
    assert result.attempts == 2
    assert git(repo, "log", "--format=%s", "-2").split("\n")[:2] == ["promote(a): v1", "readme"]
    assert status_clean(repo)


def test_lost_race_on_the_same_pointer_is_superseded(bare: Path) -> None:
    store = GitStore.open(bare, ref="refs/heads/main")
    write_change(store, create("p"), identity=ALICE)
    write_change(
        store, lambda s, now: new_version(s, "p", actor=str(ALICE), now=now), identity=ALICE
    )
    tip = git(bare, "rev-parse", "main").strip()

    def operation(snap: Snapshot, now: str) -> ChangeSet:
        if git(bare, "rev-parse", "main").strip() == tip:
            write_change(
                GitStore.open(bare, ref="refs/heads/main"),
                promote("p", 1, by=str(BOB)),
                identity=BOB,
            )
        return plan_promotion(snap, "p", 2, actor=str(ALICE), now=now)

    with pytest.raises(Superseded) as caught:
        write_change(store, operation, identity=ALICE)
    assert (caught.value.version, caught.value.by) == (1, "Bob Example <bob@example.com>")
    assert "superseded by v1 (promoted by Bob Example <bob@example.com> at" in caught.value.message
    assert git(bare, "log", "-1", "--format=%s", "main").strip() == "promote(p): v1"


def test_decision_base_older_than_the_tip_is_superseded(store: GitStore, repo: Path) -> None:
    write_change(store, create("p"), identity=ALICE)
    write_change(
        store, lambda s, now: new_version(s, "p", actor=str(ALICE), now=now), identity=ALICE
    )
    decided = store.snapshot()
    write_change(store, promote("p", 1, by=str(BOB)), identity=BOB)
    tip = head(repo)
    with pytest.raises(Superseded):
        write_change(store, promote("p", 2), identity=ALICE, base=decided)
    assert head(repo) == tip


def test_overlapping_edit_is_a_concurrent_change(store: GitStore, repo: Path) -> None:
    write_change(store, create("p"), identity=ALICE)
    decided = store.snapshot()
    (repo / "prompts/p/versions/1.yaml").write_text(
        (repo / "prompts/p/versions/1.yaml").read_text().replace("Hello", "Bye")
    )
    git(repo, "commit", "-qam", "hand edit")
    from registry.lifecycle import edit_version

    tip = head(repo)
    with pytest.raises(ConcurrentChange, match=r"versions/1\.yaml"):
        write_change(
            store,
            lambda s, now: edit_version(
                s, "p", 1, body=Body(content="mine"), actor=str(ALICE), now=now
            ),
            identity=ALICE,
            base=decided,
        )
    assert head(repo) == tip
    assert "Bye" in (repo / "prompts/p/versions/1.yaml").read_text()


def test_bare_repository_with_ref(tmp_path: Path, repo: Path) -> None:
    write_change(GitStore.open(repo), create("p"), identity=ALICE)
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(bare))
    store = GitStore.open(bare, ref="refs/heads/main")
    result = write_change(store, promote("p", 1), identity=ALICE)
    assert git(bare, "rev-parse", "refs/heads/main").strip() == result.commit
    assert not store.checked_out


def test_writing_another_branch_leaves_the_checkout_alone(store: GitStore, repo: Path) -> None:
    write_change(store, create("p"), identity=ALICE)
    git(repo, "branch", "release")
    other = GitStore.open(repo, ref="refs/heads/release")
    write_change(other, promote("p", 1), identity=ALICE)
    assert not (repo / "prompts/p/production.yaml").exists()
    assert status_clean(repo)
    assert git(repo, "show", "release:prompts/p/production.yaml").startswith("prompt: p")


@pytest.mark.parametrize("ref", ["main", "refs/tags/v1", "refs/heads/bad..name"])
def test_bad_refs(repo: Path, ref: str) -> None:
    with pytest.raises(RepositoryError, match="not a branch reference"):
        GitStore.open(repo, ref=ref)


def test_detached_head_refuses_to_write_but_reads(store: GitStore, repo: Path) -> None:
    write_change(store, create("p"), identity=ALICE)
    git(repo, "checkout", "-q", "--detach")
    detached = GitStore.open(repo)
    assert detached.snapshot().read("prompts/p/prompt.yaml") is not None
    with pytest.raises(RepositoryError, match="detached"):
        write_change(detached, create("q"), identity=ALICE)


def test_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(RepositoryError, match="not inside a git repository"):
        GitStore.open(tmp_path)


@pytest.mark.parametrize("where", ["work tree", "index"])
def test_dirty_touched_file_refuses_before_writing(store: GitStore, repo: Path, where: str) -> None:
    write_change(store, create("p"), identity=ALICE)
    file = repo / "prompts/p/versions/1.yaml"
    file.write_text(file.read_text() + "# local note\n")
    if where == "index":
        git(repo, "add", str(file))
    tip = head(repo)
    with pytest.raises(DirtyWorkTree) as caught:
        write_change(store, promote("p", 1), identity=ALICE)
    assert caught.value.paths == ("prompts/p/versions/1.yaml",)
    assert head(repo) == tip
    assert file.read_text().endswith("# local note\n")
    assert not (repo / "prompts/p/production.yaml").exists()


def test_untouched_dirty_files_do_not_matter(store: GitStore, repo: Path) -> None:
    write_change(store, create("p"), identity=ALICE)
    write_change(store, create("q"), identity=ALICE)
    (repo / "prompts/q/versions/1.yaml").write_text("local edit\n")
    write_change(store, promote("p", 1), identity=ALICE)
    assert git(repo, "status", "--porcelain").strip() == "M prompts/q/versions/1.yaml"


def test_sync_leaves_no_staged_revert(store: GitStore, repo: Path) -> None:
    write_change(store, create("p"), identity=ALICE)
    write_change(store, promote("p", 1), identity=ALICE)
    assert git(repo, "diff", "--cached", "--name-only") == ""
    assert git(repo, "diff", "--name-only") == ""
    (repo / "notes.txt").write_text("unrelated\n")
    git(repo, "add", "notes.txt")
    git(repo, "commit", "-qm", "user's own commit")
    assert load_pointer(GitStore.open(repo).snapshot(), "p") is not None


def test_delete_removes_folder_from_disk_and_index(store: GitStore, repo: Path) -> None:
    from registry.lifecycle import delete_prompt

    write_change(store, create("p"), identity=ALICE)
    write_change(
        store,
        lambda s, now: delete_prompt(s, "p", force=False, actor=str(ALICE), now=now),
        identity=ALICE,
    )
    assert not (repo / "prompts").exists()
    assert status_clean(repo)
    assert git(repo, "ls-files") == ""


def test_merge_in_progress_is_refused(store: GitStore, repo: Path) -> None:
    write_change(store, create("p"), identity=ALICE)
    (Path(pygit2.Repository(str(repo)).path) / "MERGE_HEAD").write_text(head(repo) + "\n")
    tip = head(repo)
    with pytest.raises(RepositoryError, match="in progress"):
        write_change(store, promote("p", 1), identity=ALICE)
    assert head(repo) == tip
    assert not (repo / "prompts/p/production.yaml").exists()


def test_identity_resolution(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = GitStore.open(repo)
    assert store.identity() == ALICE
    assert store.identity("Bob Example <bob@example.com>") == BOB
    with pytest.raises(InputError):
        store.identity("bob")
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL"):
        monkeypatch.delenv(var)
    with pytest.raises(IdentityMissing):
        store.identity()
    git(repo, "config", "user.name", "Carol Example")
    git(repo, "config", "user.email", "carol@example.com")
    assert GitStore.open(repo).identity() == Identity(
        name="Carol Example", email="carol@example.com"
    )


def test_snapshot_of_unborn_branch_is_empty(repo: Path) -> None:
    snap = GitStore.open(repo).snapshot()
    assert isinstance(snap, GitSnapshot)
    assert snap.list_dir("prompts") is None and snap.commit_id is None


def test_git_fsck_is_happy(store: GitStore, repo: Path) -> None:
    write_change(store, create("p"), identity=ALICE)
    write_change(store, promote("p", 1), identity=ALICE)
    done = subprocess.run(
        ["git", "fsck", "--strict"], cwd=repo, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_a_branch_checked_out_in_another_work_tree_is_refused(
    store: GitStore, repo: Path, tmp_path: Path
) -> None:
    write_change(store, create("p"), identity=ALICE)
    other = tmp_path / "other"
    git(repo, "worktree", "add", "-q", str(other), "-b", "feature")
    tip = git(repo, "rev-parse", "feature").strip()
    with pytest.raises(RepositoryError, match="is checked out in") as caught:
        write_change(GitStore.open(repo, ref="refs/heads/feature"), create("q"), identity=ALICE)
    assert str(other) in caught.value.message
    # and from the linked work tree, the main one's branch
    with pytest.raises(RepositoryError, match="is checked out in"):
        write_change(GitStore.open(other, ref="refs/heads/main"), create("q"), identity=ALICE)
    assert git(repo, "rev-parse", "feature").strip() == tip
    assert status_clean(repo) and status_clean(other)


def test_a_ref_that_cannot_be_written_is_refused_at_once(bare: Path) -> None:
    write_change(GitStore.open(bare, ref="refs/heads/main"), create("p"), identity=ALICE)
    with pytest.raises(RepositoryError, match="cannot move refs/heads/main/sub"):
        write_change(GitStore.open(bare, ref="refs/heads/main/sub"), create("q"), identity=ALICE)
    assert git(bare, "for-each-ref", "--format=%(refname)").split() == ["refs/heads/main"]
