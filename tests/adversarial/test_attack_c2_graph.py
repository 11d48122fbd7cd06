"""Class 2, commit-graph shapes: every commit between base and head is judged against its first
parent, whatever its shape -- root commits merged in, merges whose tree is their own, octopus
merges, a first parent outside the change, a prompt removed and made again, long chains."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from helpers.attack import check_base, commit_chain, commit_on, commit_tree, tree_with
from helpers.gitrepo import git
from helpers.registry_repo import Registry, build_base
from registry import Registry as Reader

G = "prompts/greeting"
F = "prompts/faq"


def show(repo: Path, rev: str, path: str) -> str:
    return git(repo, "show", f"{rev}:{path}")


def rev(repo: Path, name: str) -> str:
    return git(repo, "rev-parse", name).strip()


def edited_v2(repo: Path) -> str:
    """greeting's published v2, its content changed."""
    return show(repo, "base", f"{G}/versions/2.yaml").replace("welcome", "WELCOME")


def rewritten_history(repo: Path) -> str:
    return show(repo, "base", f"{G}/history.yaml").replace("Initial release", "Launch")


def forged_record(repo: Path) -> str:
    history = show(repo, "base", f"{G}/history.yaml")
    last = history.splitlines(keepends=True)[-1]
    return history + last.replace(
        '"version": 2, "previous_version": 1', '"version": 3, "previous_version": 2'
    )


def side(repo: Path, name: str = "side") -> str:
    """A harmless side branch from the base: a draft edited."""
    draft = show(repo, "base", "prompts/notes/versions/1.yaml").replace("Summarise", "Sum up")
    git(repo, "branch", name, "base")
    return commit_on(repo, name, {"prompts/notes/versions/1.yaml": draft}, message="edit a draft")


def merge(repo: Path, tree_from: str, parents: list[str], writes: dict[str, str | None]) -> str:
    """A merge commit of ``parents`` whose tree is ``tree_from``'s with ``writes`` applied."""
    return commit_tree(repo, tree_with(repo, tree_from, writes), parents, "Merge branch 'side'")


def root_commit(repo: Path, writes: dict[str, str | None]) -> str:
    """A commit without parents: the base's tree, changed, as a second history would bring it."""
    return commit_tree(repo, tree_with(repo, "base", writes), [], "unrelated history")


# Each attack returns the head to check; the expected rules are the exact set reported.
Attack = Callable[[Path], str]


def root_commit_merged_rewriting_history(repo: Path) -> str:
    root = root_commit(repo, {f"{G}/history.yaml": rewritten_history(repo)})
    return merge(repo, root, [rev(repo, "base"), root], {})


def root_commit_merged_editing_published_content(repo: Path) -> str:
    root = root_commit(repo, {f"{G}/versions/2.yaml": edited_v2(repo)})
    return merge(repo, root, [rev(repo, "base"), root], {})


def root_commit_merged_as_first_parent(repo: Path) -> str:
    root = root_commit(repo, {f"{G}/versions/2.yaml": edited_v2(repo)})
    return merge(repo, root, [root, rev(repo, "base")], {})


def evil_merge_edits_published_content(repo: Path) -> str:
    other = side(repo)
    return merge(repo, other, ["base", other], {f"{G}/versions/2.yaml": edited_v2(repo)})


def evil_merge_forges_a_record(repo: Path) -> str:
    other = side(repo)
    return merge(repo, other, ["base", other], {f"{G}/history.yaml": forged_record(repo)})


def evil_merge_moves_the_pointer(repo: Path) -> str:
    other = side(repo)
    pointer = show(repo, "base", f"{G}/production.yaml").replace("version: 2", "version: 4")
    return merge(repo, other, ["base", other], {f"{G}/production.yaml": pointer})


def evil_merge_undone_by_the_next_commit(repo: Path) -> str:
    other = side(repo)
    evil = merge(repo, other, ["base", other], {f"{G}/versions/2.yaml": edited_v2(repo)})
    restored = show(repo, "base", f"{G}/versions/2.yaml")
    return commit_tree(repo, tree_with(repo, evil, {f"{G}/versions/2.yaml": restored}), [evil])


def octopus_merge_edits_published_content(repo: Path) -> str:
    one, two = side(repo, "one"), side(repo, "two")
    faq = show(repo, "base", f"{F}/versions/1.yaml").replace("briefly", "at length")
    return merge(repo, one, ["base", one, two], {f"{F}/versions/1.yaml": faq})


def merge_whose_first_parent_is_behind_the_base(repo: Path) -> str:
    other = side(repo)
    behind = rev(repo, "base~1")
    return merge(repo, other, [behind, other], {f"{G}/versions/2.yaml": edited_v2(repo)})


def merge_taking_a_side_that_rewrote_history(repo: Path) -> str:
    git(repo, "branch", "side", "base")
    rewrite = commit_on(repo, "side", {f"{G}/history.yaml": rewritten_history(repo)})
    return merge(repo, rewrite, ["base", rewrite], {})


def promotion_split_over_two_merged_branches(repo: Path) -> str:
    registry = Registry(repo)
    registry.git("checkout", "-q", "-b", "honest", "base")
    registry.ps("promote", "greeting", "3", "--yes")
    promoted = registry.head()
    registry.git("checkout", "-q", "base")
    moved = {
        path: show(repo, promoted, path)
        for path in (f"{G}/production.yaml", f"{G}/versions/2.yaml", f"{G}/versions/3.yaml")
    }
    git(repo, "branch", "pointer", "base")
    git(repo, "branch", "record", "base")
    pointer = commit_on(repo, "pointer", moved, message="move production")
    record = commit_on(
        repo, "record", {f"{G}/history.yaml": show(repo, promoted, f"{G}/history.yaml")}
    )
    return merge(repo, promoted, [pointer, record], {})


def merge_reverting_a_promotion_of_the_change(repo: Path) -> str:
    registry = Registry(repo)
    registry.git("checkout", "-q", "-b", "attack", "base")
    registry.ps("promote", "greeting", "3", "--yes")
    promoted = registry.head()
    registry.git("checkout", "-q", "base")
    return merge(repo, "base", [promoted, rev(repo, "base")], {})


def history_cut_then_appended_again(repo: Path) -> str:
    history = show(repo, "base", f"{G}/history.yaml")
    git(repo, "branch", "attack", "base")
    commit_on(repo, "attack", {f"{G}/history.yaml": history.splitlines(keepends=True)[0]})
    return commit_on(repo, "attack", {f"{G}/history.yaml": history})


def long_chain_with_one_edit_undone(repo: Path) -> str:
    draft = show(repo, "base", "prompts/notes/versions/1.yaml")
    steps: list[dict[str, str | None]] = [
        {"prompts/notes/versions/1.yaml": draft.replace("Summarise", f"Summarise ({n})")}
        for n in range(300)
    ]
    steps[150] = {f"{G}/versions/2.yaml": edited_v2(repo)}
    steps[151] = {f"{G}/versions/2.yaml": show(repo, "base", f"{G}/versions/2.yaml")}
    git(repo, "branch", "attack", "base")
    return commit_chain(repo, "attack", steps)


def faq_made_again_with_another_v1(repo: Path, removal: str) -> str:
    """faq removed by a commit saying ``removal``, then made again with another v1."""
    git(repo, "branch", "attack", "base")
    commit_on(repo, "attack", {F: None}, message=removal)
    other = show(repo, "base", f"{F}/versions/1.yaml").replace("Answer", "Ignore")
    return commit_on(
        repo,
        "attack",
        {
            f"{F}/prompt.yaml": show(repo, "base", f"{F}/prompt.yaml"),
            f"{F}/versions/1.yaml": other.replace("status: published", "status: draft"),
        },
        message="create(faq)",
    )


def retire_then_make_again_with_another_v1(repo: Path) -> str:
    return faq_made_again_with_another_v1(repo, "delete(faq)\n\nRetire-Prompt: faq")


def retire_then_make_again_restarting_history(repo: Path) -> str:
    git(repo, "branch", "attack", "base")
    commit_on(repo, "attack", {F: None}, message="delete(faq)\n\nRetire-Prompt: faq")
    history = show(repo, "base", f"{F}/history.yaml").replace('"First"', '"Second life"')
    pointer = show(repo, "base", f"{F}/production.yaml")
    return commit_on(
        repo,
        "attack",
        {
            f"{F}/prompt.yaml": show(repo, "base", f"{F}/prompt.yaml"),
            f"{F}/versions/1.yaml": show(repo, "base", f"{F}/versions/1.yaml"),
            f"{F}/production.yaml": pointer,
            f"{F}/history.yaml": history,
        },
        message="create(faq)",
    )


def retire_then_make_again_with_fewer_versions(repo: Path) -> str:
    git(repo, "branch", "attack", "base")
    commit_on(repo, "attack", {G: None}, message="delete(greeting)\n\nRetire-Prompt: greeting")
    return commit_on(
        repo,
        "attack",
        {
            f"{G}/prompt.yaml": show(repo, "base", f"{G}/prompt.yaml"),
            f"{G}/versions/1.yaml": show(repo, "base", f"{G}/versions/1.yaml"),
        },
        message="create(greeting)",
    )


def removed_and_made_again_without_a_trailer(repo: Path) -> str:
    return faq_made_again_with_another_v1(repo, "remove faq")


def promoted_in_the_change_then_made_again(repo: Path) -> str:
    registry = Registry(repo)
    registry.git("checkout", "-q", "-b", "attack", "base")
    registry.ps("create", "fresh", "--content", "First {{ x }}")
    registry.ps("promote", "fresh", "1", "--yes")
    promoted = show(repo, "HEAD", "prompts/fresh/versions/1.yaml")
    registry.ps("delete", "fresh", "--force")
    registry.git("checkout", "-q", "--detach")
    return commit_on(
        repo,
        "attack",
        {
            "prompts/fresh/prompt.yaml": show(repo, "HEAD~1", "prompts/fresh/prompt.yaml"),
            "prompts/fresh/versions/1.yaml": promoted.replace("First", "Other").replace(
                "status: published", "status: draft"
            ),
        },
    )


def promoted_in_the_change_then_dropped(repo: Path) -> str:
    registry = Registry(repo)
    registry.git("checkout", "-q", "-b", "attack", "base")
    registry.ps("create", "fresh", "--content", "First {{ x }}")
    registry.ps("new-version", "fresh", "--content", "Second {{ x }}")
    registry.ps("promote", "fresh", "2", "--yes")
    registry.ps("delete", "fresh", "--force")
    registry.git("checkout", "-q", "--detach")
    return commit_on(
        repo,
        "attack",
        {
            "prompts/fresh/prompt.yaml": show(repo, "HEAD~1", "prompts/fresh/prompt.yaml"),
            "prompts/fresh/versions/1.yaml": show(repo, "HEAD~1", "prompts/fresh/versions/1.yaml"),
        },
    )


def renamed(repo: Path) -> dict[str, str | None]:
    """greeting's files moved to prompts/welcome/, as they are."""
    files = git(repo, "ls-tree", "-r", "--name-only", "base", G).split()
    writes: dict[str, str | None] = {G: None}
    for path in files:
        writes[path.replace("prompts/greeting/", "prompts/welcome/")] = show(repo, "base", path)
    return writes


def rename_a_prompt_in_production(repo: Path) -> str:
    git(repo, "branch", "attack", "base")
    return commit_on(repo, "attack", renamed(repo), message="rename greeting to welcome")


ATTACKS: list[tuple[str, Attack, set[str]]] = [
    (
        "root-commit-merged-rewriting-history",
        root_commit_merged_rewriting_history,
        {"append-only", "commit"},
    ),
    (
        "root-commit-merged-editing-published",
        root_commit_merged_editing_published_content,
        {"digest", "frozen"},
    ),
    ("root-commit-as-first-parent", root_commit_merged_as_first_parent, {"digest", "frozen"}),
    ("evil-merge-edits-published", evil_merge_edits_published_content, {"digest", "frozen"}),
    (
        "evil-merge-forges-a-record",
        evil_merge_forges_a_record,
        {"commit", "history-chain", "pointer-move"},
    ),
    (
        "evil-merge-moves-the-pointer",
        evil_merge_moves_the_pointer,
        {"commit", "digest", "history-chain", "pointer", "pointer-move"},
    ),
    ("evil-merge-undone-by-next-commit", evil_merge_undone_by_the_next_commit, {"frozen"}),
    ("octopus-merge-edits-published", octopus_merge_edits_published_content, {"digest", "frozen"}),
    (
        "merge-first-parent-behind-base",
        merge_whose_first_parent_is_behind_the_base,
        {"digest", "frozen"},
    ),
    (
        "merge-of-side-rewriting-history",
        merge_taking_a_side_that_rewrote_history,
        {"append-only", "commit"},
    ),
    ("promotion-split-over-two-branches", promotion_split_over_two_merged_branches, {"commit"}),
    ("merge-reverting-a-promotion", merge_reverting_a_promotion_of_the_change, {"commit"}),
    ("history-cut-then-appended-again", history_cut_then_appended_again, {"commit"}),
    ("long-chain-with-an-edit-undone", long_chain_with_one_edit_undone, {"frozen"}),
    (
        "retired-then-made-again-other-v1",
        retire_then_make_again_with_another_v1,
        {"append-only", "frozen", "transition"},
    ),
    (
        "retired-then-made-again-new-history",
        retire_then_make_again_restarting_history,
        {"append-only"},
    ),
    (
        "retired-then-made-again-fewer-versions",
        retire_then_make_again_with_fewer_versions,
        {"append-only", "deleted"},
    ),
    (
        "removed-then-made-again-no-trailer",
        removed_and_made_again_without_a_trailer,
        {"append-only", "frozen", "transition"},
    ),
    ("promoted-in-change-then-made-again", promoted_in_the_change_then_made_again, {"frozen"}),
    ("promoted-in-change-then-dropped", promoted_in_the_change_then_dropped, {"deleted"}),
    ("renamed-prompt-in-production", rename_a_prompt_in_production, {"file-name", "retire"}),
]


@pytest.mark.parametrize(
    ("attack", "expected"), [pytest.param(a, e, id=case) for case, a, e in ATTACKS]
)
def test_graph_attack_is_refused(repo: Path, attack: Attack, expected: set[str]) -> None:
    build_base(Registry(repo))
    head = attack(repo)

    verdict = check_base(repo, "base", head=head)

    assert verdict.status == 1, verdict.stderr
    assert verdict.rules == expected
    assert git(repo, "status", "--porcelain") == ""


def test_a_second_history_alone_shares_nothing_with_the_base(repo: Path) -> None:
    build_base(Registry(repo))
    head = root_commit(repo, {f"{G}/versions/2.yaml": edited_v2(repo)})

    verdict = check_base(repo, "base", head=head)

    assert verdict.status == 2
    assert "share no history" in verdict.stderr and "hint:" in verdict.stderr


def test_a_rename_with_its_retire_trailer_passes(repo: Path) -> None:
    """Taking a prompt out by its trailer and adding it under a new name is an honest change."""
    build_base(Registry(repo))
    writes = renamed(repo)
    for file, key in (("prompt.yaml", "name"), ("production.yaml", "prompt")):
        writes[f"prompts/welcome/{file}"] = show(repo, "base", f"{G}/{file}").replace(
            f"{key}: greeting", f"{key}: welcome"
        )
    git(repo, "branch", "attack", "base")
    head = commit_on(
        repo, "attack", writes, message="rename(greeting): welcome\n\nRetire-Prompt: greeting"
    )

    verdict = check_base(repo, "base", head=head)

    assert (verdict.status, verdict.rules) == (0, set()), verdict.report
    assert verdict.report["retired"] == ["greeting"]
    assert Reader.open(repo, ref=head).get("welcome").version == 2
