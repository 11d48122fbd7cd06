"""Class 6, broken git objects: a tree entry whose mode does not match its object, a missing,
truncated or corrupt object, a commit whose tree is gone. The check stops with a clear error and
exit status 2; every reader (show, export, history, the read API) gives a clear error, never a
traceback nor exit 3. Entries that are well-formed but not registry files (a submodule, an
executable file, a symlink) are refused by the layout rules (exit 1)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from helpers.attack import (
    blob,
    check_base,
    commit_tree,
    object_file,
    replace_in_tree,
    tree_with,
)
from helpers.cli import run_main
from helpers.gitrepo import git
from helpers.registry_repo import Registry, build_base
from registry import Registry as Reader
from registry.errors import BrokenObject

G = "prompts/greeting"


def rev(repo: Path, name: str) -> str:
    return git(repo, "rev-parse", name).strip()


def on_base(repo: Path, path: str, entry: tuple[str, str] | None) -> str:
    """A commit on top of the base whose tree has ``entry`` (mode, object id) at ``path``."""
    tree = replace_in_tree(repo, rev(repo, "base^{tree}"), path, entry)
    commit = commit_tree(repo, tree, [rev(repo, "base")], "hand-made tree")
    git(repo, "update-ref", "refs/heads/attack", commit)
    return commit


def destroy(repo: Path, oid: str, *, keep: int | None = None) -> None:
    """Remove the loose object ``oid``, or cut it to its first ``keep`` bytes."""
    path = object_file(repo, oid)
    data = path.read_bytes()
    path.chmod(0o644)
    path.unlink()
    if keep is not None:
        path.write_bytes(data[:keep])


def new_draft(repo: Path) -> str:
    text = git(repo, "show", "base:prompts/notes/versions/1.yaml").replace(
        "version: 1", "version: 2"
    )
    return text.replace("Summarise", "Summarise again")


def blob_mode_on_a_tree(repo: Path) -> str:
    return on_base(repo, f"{G}/versions/2.yaml", ("100644", rev(repo, f"base:{G}/versions")))


def blob_mode_on_a_tree_for_a_new_file(repo: Path) -> str:
    return on_base(repo, f"{G}/versions/5.yaml", ("100644", rev(repo, f"base:{G}")))


def tree_mode_on_a_blob_for_versions(repo: Path) -> str:
    return on_base(repo, f"{G}/versions", ("40000", rev(repo, f"base:{G}/versions/2.yaml")))


def tree_mode_on_a_blob_for_a_prompt(repo: Path) -> str:
    return on_base(repo, "prompts/notes", ("40000", rev(repo, "base:prompts/notes/prompt.yaml")))


def tree_mode_on_a_blob_for_prompts(repo: Path) -> str:
    return on_base(repo, "prompts", ("40000", rev(repo, f"base:{G}/prompt.yaml")))


def missing_blob(repo: Path) -> str:
    oid = blob(repo, new_draft(repo))
    commit = on_base(repo, "prompts/notes/versions/2.yaml", ("100644", oid))
    destroy(repo, oid)
    return commit


def truncated_blob(repo: Path) -> str:
    # Cut to nothing: libgit2 up to 1.9 loops forever on a loose object cut anywhere after its
    # first byte (libgit2 issue 7342, fixed after 1.9). Such an object cannot come from a push,
    # which arrives as a pack that git verifies; only damage to the clone's own disk makes one.
    oid = blob(repo, new_draft(repo))
    commit = on_base(repo, "prompts/notes/versions/2.yaml", ("100644", oid))
    destroy(repo, oid, keep=0)
    return commit


def corrupt_blob(repo: Path) -> str:
    oid = blob(repo, new_draft(repo))
    commit = on_base(repo, "prompts/notes/versions/2.yaml", ("100644", oid))
    path = object_file(repo, oid)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.chmod(0o644)
    path.write_bytes(bytes(data))
    return commit


def missing_tree_of_a_commit(repo: Path) -> str:
    tree = tree_with(repo, "base", {"prompts/notes/versions/2.yaml": new_draft(repo)})
    commit = commit_tree(repo, tree, [rev(repo, "base")])
    destroy(repo, tree)
    return commit


def missing_folder_tree(repo: Path) -> str:
    tree = tree_with(repo, "base", {"prompts/notes/versions/2.yaml": new_draft(repo)})
    commit = commit_tree(repo, tree, [rev(repo, "base")])
    destroy(repo, rev(repo, f"{tree}:prompts/notes/versions"))
    return commit


def missing_parent_commit(repo: Path) -> str:
    middle = commit_tree(repo, tree_with(repo, "base", {"x.txt": "x"}), [rev(repo, "base")])
    head = commit_tree(
        repo,
        tree_with(repo, middle, {"prompts/notes/versions/2.yaml": new_draft(repo)}),
        [middle],
    )
    destroy(repo, middle)
    return head


def missing_golden_cases_of_a_promotion(repo: Path) -> str:
    """The promotion's golden cases are read to run them; their blob is gone."""
    git(repo, "switch", "-q", "-c", "promoting", "base")
    Registry(repo).ps("promote", "notes", "1", "--yes")
    cases = "- name: one\n  variables: {thread: x}\n  expect:\n    contains: [x]\n"
    tree = tree_with(repo, "promoting", {"prompts/notes/tests.yaml": cases})
    commit = commit_tree(repo, tree, [rev(repo, "promoting")])
    destroy(repo, rev(repo, f"{tree}:prompts/notes/tests.yaml"))
    git(repo, "switch", "-q", "main")
    return commit


BROKEN: list[tuple[str, Callable[[Path], str]]] = [
    ("blob-mode-on-a-tree", blob_mode_on_a_tree),
    ("blob-mode-on-a-tree-new-file", blob_mode_on_a_tree_for_a_new_file),
    ("tree-mode-on-a-blob-versions", tree_mode_on_a_blob_for_versions),
    ("tree-mode-on-a-blob-prompt", tree_mode_on_a_blob_for_a_prompt),
    ("tree-mode-on-a-blob-prompts", tree_mode_on_a_blob_for_prompts),
    ("missing-blob", missing_blob),
    ("truncated-blob", truncated_blob),
    ("corrupt-blob", corrupt_blob),
    ("missing-tree-of-a-commit", missing_tree_of_a_commit),
    ("missing-folder-tree", missing_folder_tree),
    ("missing-parent-commit", missing_parent_commit),
    ("missing-golden-cases", missing_golden_cases_of_a_promotion),
]


@pytest.mark.parametrize("attack", [pytest.param(a, id=case) for case, a in BROKEN])
def test_check_base_exits_2_on_broken_objects(repo: Path, attack: Callable[[Path], str]) -> None:
    build_base(Registry(repo))
    head = attack(repo)

    verdict = check_base(repo, "base", options=("--ref", head))

    assert verdict.status == 2, (verdict.stderr, verdict.report)
    assert verdict.stderr.startswith("error: the repository is damaged: "), verdict.stderr
    assert "hint: run 'git fsck'" in verdict.stderr
    assert "Traceback" not in verdict.stderr and verdict.report == {}


READERS = [
    ("show", lambda head: ("show", "greeting", "--ref", head)),
    ("show-notes", lambda head: ("show", "notes@2", "--ref", head)),
    ("export", lambda head: ("export", "--ref", head)),
    ("versions", lambda head: ("versions", "greeting", "--ref", head)),
    ("history", lambda head: ("history", "--ref", head)),
    ("check-tree", lambda head: ("check", "--ref", head)),
]


@pytest.mark.parametrize(
    "attack",
    [
        pytest.param(a, id=case)
        for case, a in BROKEN
        if case not in ("missing-parent-commit", "tree-mode-on-a-blob-prompt")
    ],
)
@pytest.mark.parametrize(("reader", "command"), READERS, ids=[r for r, _ in READERS])
def test_readers_give_a_clear_error_on_broken_objects(
    repo: Path,
    attack: Callable[[Path], str],
    reader: str,
    command: Callable[[str], tuple[str, ...]],
) -> None:
    build_base(Registry(repo))
    head = attack(repo)

    status, _out, err = run_main(repo, *command(head))

    assert status != 3 and "internal error" not in err and "Traceback" not in err
    if status != 0:
        assert err.startswith("error: ") and "hint: " in err
    if "damaged" in err:
        assert status == 2


@pytest.mark.parametrize("attack", [blob_mode_on_a_tree, missing_tree_of_a_commit, corrupt_blob])
def test_the_read_api_raises_broken_object(repo: Path, attack: Callable[[Path], str]) -> None:
    build_base(Registry(repo))
    head = attack(repo)
    with pytest.raises(BrokenObject) as raised:
        prompts = Reader.open(repo, ref=head)
        prompts.get("greeting")
        prompts.get("notes", version=2)
    assert raised.value.exit_status == 2


# (id, path, entry maker, rules): well-formed entries that are no registry file.
def gitlink(repo: Path) -> tuple[str, str]:
    return ("160000", rev(repo, "base"))


def executable(repo: Path) -> tuple[str, str]:
    return ("100755", blob(repo, new_draft(repo)))


def symlink_to_a_file(repo: Path) -> tuple[str, str]:
    return ("120000", blob(repo, "../1.yaml"))


def symlink_mode_on_a_tree(repo: Path) -> tuple[str, str]:
    return ("120000", rev(repo, f"base:{G}/versions"))


def socket_mode(repo: Path) -> tuple[str, str]:
    """Mode 140000: a submodule to git (a checkout has no file there), a file to libgit2."""
    return ("140000", blob(repo, new_draft(repo)))


def legacy_group_writable(repo: Path) -> tuple[str, str]:
    return ("100664", blob(repo, new_draft(repo)))


def same_pointer_socket_mode(repo: Path) -> tuple[str, str]:
    """The base's own production.yaml, only its mode changed: libgit2's diff sees no change."""
    return ("140000", rev(repo, f"base:{G}/production.yaml"))


LAYOUT = [
    ("gitlink-as-a-prompt", "prompts/sub", gitlink, {"layout"}),
    ("socket-mode-same-pointer", f"{G}/production.yaml", same_pointer_socket_mode, {"layout"}),
    ("socket-mode-version", "prompts/notes/versions/2.yaml", socket_mode, {"layout"}),
    ("legacy-mode-version", "prompts/notes/versions/2.yaml", legacy_group_writable, {"layout"}),
    ("gitlink-as-a-version", "prompts/notes/versions/2.yaml", gitlink, {"layout"}),
    ("gitlink-as-a-history", "prompts/notes/history.yaml", gitlink, {"commit", "layout"}),
    ("executable-version", "prompts/notes/versions/2.yaml", executable, {"layout"}),
    ("symlink-to-a-file", "prompts/notes/versions/2.yaml", symlink_to_a_file, {"symlink"}),
    (
        "symlink-mode-on-a-tree",
        "prompts/notes/versions/2.yaml",
        symlink_mode_on_a_tree,
        {"symlink"},
    ),
]


@pytest.mark.parametrize(
    ("path", "entry", "expected"),
    [pytest.param(p, e, r, id=case) for case, p, e, r in LAYOUT],
)
def test_entries_that_are_no_registry_file_are_refused(
    repo: Path, path: str, entry: Callable[[Path], tuple[str, str]], expected: set[str]
) -> None:
    build_base(Registry(repo))
    head = on_base(repo, path, entry(repo))

    verdict = check_base(repo, "base", options=("--ref", head))

    assert verdict.status == 1, verdict.stderr
    assert verdict.rules == expected
    status, out, _err = run_main(repo, "export", "--ref", head)
    assert status == 0 and "Summarise again" not in out
