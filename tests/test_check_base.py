"""The rules against a base (5-8) on real repositories: every tampering with history, published
content, statuses and pointers is caught, and every change promptship itself makes passes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from helpers.registry_repo import Registry, build_base
from registry.git.ranges import check_change
from registry.git.store import GitStore

G = "prompts/greeting"
Action = Callable[[Registry], None]


@pytest.fixture
def reg(repo: Path) -> Registry:
    registry = Registry(repo)
    build_base(registry)
    assert registry.rules() == set()
    return registry


def _history(r: Registry) -> list[str]:
    return r.read(f"{G}/history.yaml").splitlines(keepends=True)


def edit_published(r: Registry) -> None:
    r.replace(f"{G}/versions/2.yaml", "welcome", "WELCOME")


def edit_archived_once_published(r: Registry) -> None:
    r.replace(f"{G}/versions/1.yaml", "Hello", "Howdy")


def edit_archived_never_published(r: Registry) -> None:
    r.replace(f"{G}/versions/4.yaml", "Yo", "Yo yo")


def unarchive_then_edit(r: Registry) -> None:
    r.ps("unarchive", "greeting", "1")
    r.replace(f"{G}/versions/1.yaml", "Hello", "Howdy")


def edit_after_promoting_in_the_change(r: Registry) -> None:
    r.ps("promote", "greeting", "3", "--yes")
    r.ps("unarchive", "greeting", "2")
    r.ps("promote", "greeting", "2", "--yes")  # v3 archived again: its content is frozen
    r.ps("unarchive", "greeting", "3")
    r.replace(f"{G}/versions/3.yaml", "Hey", "Hey there")


def edit_after_promoting_back_in_the_change(r: Registry) -> None:
    r.ps("promote", "greeting", "3", "--yes")
    r.ps("unarchive", "greeting", "2")
    r.ps("promote", "greeting", "2", "--yes")  # v2 in production again, then edited by hand
    r.replace(f"{G}/versions/2.yaml", "Hi", "Hi there")


def delete_history_record(r: Registry) -> None:
    lines = _history(r)
    r.write(f"{G}/history.yaml", lines[0])


def rewrite_history_record(r: Registry) -> None:
    r.replace(f"{G}/history.yaml", '"notes": "Initial release"', '"notes": "Launch"')


def move_pointer_without_history(r: Registry) -> None:
    r.replace(f"{G}/versions/2.yaml", "status: published", "status: archived")
    r.replace(f"{G}/versions/3.yaml", "status: draft", "status: published")
    from registry.model import parse_version

    v3 = parse_version(
        (r.path / f"{G}/versions/3.yaml").read_bytes(), path="", prompt="greeting", number=3
    )
    r.replace(f"{G}/production.yaml", "version: 2", "version: 3")
    text = r.read(f"{G}/production.yaml")
    old = next(line for line in text.splitlines() if line.startswith("digest:"))
    r.replace(f"{G}/production.yaml", old, f"digest: {v3.digest}")


def history_without_pointer_move(r: Registry) -> None:
    last = _history(r)[-1]
    r.write(
        f"{G}/history.yaml",
        "".join(_history(r))
        + last.replace(
            '"version": 2, "previous_version": 1', '"version": 3, "previous_version": 2'
        ),
    )


def two_published(r: Registry) -> None:
    r.replace(f"{G}/versions/3.yaml", "status: draft", "status: published")


def demote_production(r: Registry) -> None:
    r.replace(f"{G}/versions/2.yaml", "status: published", "status: archived")
    r.remove(f"{G}/production.yaml")


def delete_published_version(r: Registry) -> None:
    r.remove(f"{G}/versions/2.yaml")


def delete_draft(r: Registry) -> None:
    r.remove(f"{G}/versions/3.yaml")


def publish_draft_by_hand(r: Registry) -> None:
    """The draft is marked published and production re-pointed, all consistent, but with no
    record in history."""
    move_pointer_without_history(r)


def wrong_first_record(r: Registry) -> None:
    r.ps("promote", "greeting", "3", "--yes")
    r.replace(
        f"{G}/history.yaml",
        '"version": 3, "previous_version": 2',
        '"version": 3, "previous_version": 1',
    )


def remove_prompt_in_production(r: Registry) -> None:
    r.remove("prompts/faq")


def malformed_draft(r: Registry) -> None:
    r.write("prompts/notes/versions/1.yaml", "version: 1\nstatus: [draft\n")


def yaml_bomb_draft(r: Registry) -> None:
    r.write(
        "prompts/notes/versions/2.yaml",
        'a: &a ["x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a]\nc: [*b,*b,*b,*b,*b,*b,*b,*b]\n',
    )


def symlinked_version(r: Registry) -> None:
    (r.path / "prompts/notes/versions/2.yaml").symlink_to("/etc/passwd")


def non_utf8_draft(r: Registry) -> None:
    r.write(
        "prompts/notes/versions/1.yaml",
        r.read("prompts/notes/versions/1.yaml").encode() + b"# \xff\n",
    )


def reuse_a_number(r: Registry) -> None:
    r.ps("new-version", "notes", "--content", "Second {{ thread }}")
    r.ps("new-version", "notes", "--content", "Third {{ thread }}")
    r.git("branch", "-f", "base")
    r.remove("prompts/notes/versions/2.yaml")
    r.commit("drop v2")
    r.git("branch", "-f", "base")  # a base that already lost v2
    r.write(
        "prompts/notes/versions/2.yaml",
        r.read("prompts/notes/versions/3.yaml").replace("version: 3", "version: 2"),
    )


TAMPERING: list[tuple[str, Action, set[str]]] = [
    ("edited published content", edit_published, {"frozen", "digest"}),
    ("edited archived content", edit_archived_once_published, {"frozen"}),
    ("edited archived draft", edit_archived_never_published, {"frozen"}),
    ("edit after unarchive of a once-published version", unarchive_then_edit, {"frozen"}),
    (
        "edit of a version promoted in the same change",
        edit_after_promoting_in_the_change,
        {"frozen"},
    ),
    (
        "edit of a version promoted back in the same change",
        edit_after_promoting_back_in_the_change,
        {"frozen", "digest"},
    ),
    ("deleted history record", delete_history_record, {"append-only", "commit", "history-chain"}),
    ("rewritten history record", rewrite_history_record, {"append-only", "commit"}),
    (
        "pointer moved without history",
        move_pointer_without_history,
        {"pointer-move", "commit", "transition", "history-chain"},
    ),
    (
        "history without a pointer move",
        history_without_pointer_move,
        {"pointer-move", "commit", "history-chain"},
    ),
    ("two published versions", two_published, {"one-production", "transition"}),
    (
        "production demoted by hand",
        demote_production,
        {"transition", "pointer-move", "commit", "history-chain"},
    ),
    ("deleted published version", delete_published_version, {"deleted", "pointer"}),
    ("deleted draft", delete_draft, {"deleted"}),
    ("first added record from the wrong version", wrong_first_record, {"pointer-move", "commit"}),
    ("prompt in production removed", remove_prompt_in_production, {"retire"}),
    ("malformed file", malformed_draft, {"yaml-syntax"}),
    ("YAML bomb", yaml_bomb_draft, {"yaml-safety"}),
    ("symlink", symlinked_version, {"symlink"}),
    ("non-UTF-8", non_utf8_draft, {"utf-8"}),
    ("reused version number", reuse_a_number, {"reused-number"}),
]


@pytest.mark.parametrize(
    ("action", "expected"), [pytest.param(a, e, id=case) for case, a, e in TAMPERING]
)
def test_tampering_is_caught(reg: Registry, action: Action, expected: set[str]) -> None:
    action(reg)
    reg.commit()
    assert reg.rules() == expected
    status, report, _ = reg.check("--base", "base")
    assert status == 1 and not report["ok"]
    # however many ways a version was changed, it is reported once
    frozen = [v["file"] for v in report["violations"] if v["rule"] == "frozen"]
    assert len(frozen) == len(set(frozen))


def test_a_change_split_over_commits_that_disagree_is_caught(reg: Registry) -> None:
    """Pointer in one commit, its history record in the next: the end state is sound, each
    commit is not."""
    reg.ps("promote", "greeting", "3", "--yes")
    promotion = reg.head()
    reg.git("reset", "-q", "--hard", "HEAD~1")
    reg.git("checkout", promotion, "--", f"{G}/production.yaml", f"{G}/versions")
    reg.commit("move production")
    reg.git("checkout", promotion, "--", f"{G}/history.yaml")
    reg.commit("record it")
    status, report, _ = reg.check("--base", "base")
    assert status == 1
    assert [v["rule"] for v in report["violations"]] == ["commit", "commit"], report
    messages = " / ".join(v["message"] for v in report["violations"])
    assert "(move production) moves production without appending its history record" in messages
    assert "(record it) changes history.yaml but not production.yaml" in messages


HONEST: list[tuple[str, Action]] = [
    ("nothing changed", lambda r: None),
    ("a hand-edited draft", lambda r: r.replace(f"{G}/versions/3.yaml", "Hey", "Hey there")),
    (
        "a hand-written new draft",
        lambda r: r.write(
            "prompts/notes/versions/2.yaml",
            r.read("prompts/notes/versions/1.yaml").replace("version: 1", "version: 2"),
        ),
    ),
    (
        "a description changed by hand",
        lambda r: r.replace("prompts/faq/prompt.yaml", "description: ''", "description: FAQ"),
    ),
    (
        "golden tests added",
        lambda r: r.write(
            f"{G}/tests.yaml", "- name: says hello\n  variables: {}\n  expect: {contains: Hello}\n"
        ),
    ),
]


@pytest.mark.parametrize("action", [pytest.param(a, id=case) for case, a in HONEST])
def test_honest_hand_changes_pass(reg: Registry, action: Action) -> None:
    action(reg)
    reg.git("add", "-A")
    reg.git("commit", "-q", "--allow-empty", "-m", "hand edit")
    assert reg.rules() == set()


def test_unarchive_and_promote_in_one_pull_request_pass(reg: Registry) -> None:
    reg.ps("unarchive", "greeting", "1")
    reg.ps("promote", "greeting", "1", "--notes", "Roll back", "--yes")
    status, report, _ = reg.check("--base", "base")
    assert status == 0, report
    assert report["promotions"] == [
        {
            "prompt": "greeting",
            "from": 2,
            "to": 1,
            "by": "Alice Example <alice@example.com>",
            "at": report["promotions"][0]["at"],
            "notes": "Roll back",
            "tests_skipped": False,
        }
    ]


def test_every_history_made_by_the_cli_passes_from_every_base(reg: Registry) -> None:
    """A long run of every command; then each earlier commit, as a base, passes."""
    r = reg
    r.ps("unarchive", "greeting", "4")
    r.ps("edit", "greeting", "4", "--content", "Yo {{ name }}, edited.")
    r.ps("promote", "greeting", "4", "--notes", "Edited after unarchive", "--yes")
    r.ps("promote", "greeting", "3", "--yes")
    r.ps("unarchive", "greeting", "2")
    r.ps("promote", "greeting", "2", "--notes", "Roll back", "--yes")
    r.ps("new-version", "greeting", "--from", "2", "--content", "Hello again {{ name }}")
    r.ps("edit", "greeting", "5", "--content", "Hello again, {{ name }}")
    r.ps("archive", "greeting", "5")
    r.ps("delete", "faq", "--force")
    retired = r.head()
    r.ps("create", "faq", "--content", "A new FAQ for {{ question }}")
    r.ps("promote", "faq", "1", "--yes")
    chat = r.path.parent / "chat.yaml"
    chat.write_text("- {role: system, content: 'You help {{ who }}'}\n")
    r.ps("create", "chat", "--type", "chat", "--file", str(chat))
    r.ps("promote", "chat", "1", "--yes")
    r.ps("delete", "notes")
    r.ps("update", "greeting", "--description", "Greets people")
    commits = r.git("rev-list", "HEAD").split()
    before_retiring = set(r.git("rev-list", f"{retired}~1").split())
    for base in commits[1:]:
        status, report, err = r.check("--base", base)
        if base not in before_retiring:
            assert status == 0, (base, report["violations"], err)
            continue
        # faq's first life still binds a faq made again within the same change.
        assert status == 1, (base, err)
        assert {v["file"].split("/")[1] for v in report["violations"]} == {"faq"}
        rules = {v["rule"] for v in report["violations"]}
        assert "frozen" in rules and rules <= {"append-only", "created", "frozen"}, rules
    status, report, _ = r.check("--base", retired)
    moves = [(p["prompt"], p["from"], p["to"]) for p in report["promotions"]]
    assert sorted(moves, key=lambda m: m[0]) == [("chat", None, 1), ("faq", None, 1)]
    status, report, _ = r.check("--base", "base")
    assert report["retired"] == []  # faq is back under the same name
    moves = [(p["prompt"], p["from"], p["to"]) for p in report["promotions"]]
    assert sorted(moves, key=lambda m: m[0]) == [  # faq's new history is not an append
        ("chat", None, 1),
        ("greeting", 2, 4),
        ("greeting", 4, 3),
        ("greeting", 3, 2),
    ]


def test_retiring_with_delete_force_passes_and_is_reported(reg: Registry) -> None:
    reg.ps("delete", "faq", "--force")
    assert "Retire-Prompt: faq" in reg.git("log", "-1", "--format=%B")
    status, report, _ = reg.check("--base", "base")
    assert status == 0, report
    assert report["retired"] == ["faq"]


def test_a_retire_trailer_on_another_commit_does_not_count(reg: Registry) -> None:
    reg.git("commit", "-q", "--allow-empty", "-m", "prepare\n\nRetire-Prompt: faq")
    reg.remove("prompts/faq")
    reg.commit("remove faq")
    assert reg.rules() == {"retire"}


def test_a_pull_request_behind_its_base_is_judged_on_its_own_changes(reg: Registry) -> None:
    reg.git("checkout", "-q", "-b", "feature")
    reg.ps("promote", "greeting", "3", "--yes")
    reg.git("checkout", "-q", "base")
    reg.ps("new-version", "faq", "--content", "B {{ question }}")
    reg.ps("promote", "faq", "2", "--yes")
    reg.git("checkout", "-q", "feature")
    status, report, _ = reg.check("--base", "base")
    assert status == 0, report
    assert [p["prompt"] for p in report["promotions"]] == ["greeting"]


def test_a_merge_commit_as_github_builds_it_passes(reg: Registry) -> None:
    """GitHub checks out refs/pull/N/merge: the pull request merged into its base."""
    reg.git("checkout", "-q", "-b", "feature")
    reg.ps("promote", "greeting", "3", "--yes")
    reg.git("checkout", "-q", "base")
    reg.ps("new-version", "faq", "--content", "B {{ question }}")
    reg.git("checkout", "-q", "--detach", "base")
    reg.git("merge", "-q", "--no-ff", "-m", "Merge feature", "feature")
    status, report, _ = reg.check("--base", "base")
    assert status == 0, report
    assert report["commits"] == 2
    assert [p["prompt"] for p in report["promotions"]] == ["greeting"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--base", "no-such-branch"), "there is no branch or remote-tracking branch"),
        (("--base", "base", "--ref", "nope"), "the head 'nope' cannot be read"),
    ],
)
def test_an_unusable_base_exits_2(reg: Registry, args: tuple[str, ...], message: str) -> None:
    status, report, err = reg.check(*args)
    assert status == 2
    assert report == {}
    assert message in err and "hint:" in err


def test_unrelated_histories_exit_2(reg: Registry) -> None:
    reg.git("checkout", "-q", "--orphan", "other")
    reg.git("commit", "-q", "--allow-empty", "-m", "unrelated")
    status, _, err = reg.check("--base", "base")
    assert status == 2
    assert "share no history" in err


def test_only_the_prompts_a_change_touches_are_read(reg: Registry) -> None:
    """A problem the base already had in another prompt is not the change's: the tree check
    after the merge reports it, the check of the change does not read that prompt."""
    reg.git("checkout", "-q", "base")
    reg.write("prompts/notes/versions/1.yaml", "not: [valid\n")
    reg.commit("break notes on the base")
    reg.git("checkout", "-q", "-B", "main")
    reg.ps("promote", "greeting", "3", "--yes")
    status, report, _ = reg.check("--base", "base")
    assert (status, report["prompts_checked"]) == (0, 1), report
    assert reg.check()[0] == 1


def test_the_outcome_names_the_prompt_folders_a_change_touches(reg: Registry) -> None:
    """What a server re-prepares after a tip passes: each prompt folder that differs, added or
    gone, and no other."""
    reg.ps("promote", "greeting", "3", "--yes")
    reg.ps("create", "added", "--content", "New {{ thing }}")
    reg.ps("delete", "faq", "--force")
    outcome = check_change(GitStore.open(reg.path), "base")
    assert outcome.ok, outcome.problems
    assert outcome.touched == ("added", "faq", "greeting")
    assert check_change(GitStore.open(reg.path), "base", "base").touched == ()


def test_only_the_added_history_lines_are_parsed(reg: Registry) -> None:
    """The base's records are compared as bytes; a line the base holds is not parsed again."""
    reg.ps("promote", "greeting", "3", "--yes")
    promotion = reg.head()
    reg.git("checkout", "-q", "base")
    lines = _history(reg)
    reg.write(f"{G}/history.yaml", lines[0].replace('"Initial release"', "7") + lines[1])
    reg.commit("a record the format refuses, on the base")
    reg.git("checkout", "-q", "-B", "main")
    reg.git("cherry-pick", "--allow-empty", promotion)
    assert reg.rules() == set()
    assert {v["rule"] for v in reg.check()[1]["violations"]} == {"history-format"}


@pytest.mark.parametrize(
    ("message", "names"),
    [
        ("delete(faq)\n\nIt had v1 in production.\n\nPrompt: faq\nRetire-Prompt: faq\n", {"faq"}),
        ("delete(faq)\n\nRetire-Prompt: faq\nnot a trailer line\n", set()),
        ("Retire-Prompt: faq\n", set()),
        ("x\n\nretire-prompt: a\nRetire-Prompt: b\n", {"a", "b"}),
    ],
)
def test_retire_trailers_are_read_from_the_last_paragraph(message: str, names: set[str]) -> None:
    from registry.check.review import retired_prompts

    assert retired_prompts(message) == names


def test_a_link_is_never_read_even_when_its_bytes_are_a_file_of_the_base(reg: Registry) -> None:
    """git stores a link's target as a blob, so a link whose target is the base's pointer file,
    byte for byte, has that file's object id; the check must still see a link, not the file."""
    pointer = reg.path / G / "production.yaml"
    content = pointer.read_text()
    pointer.unlink()
    pointer.symlink_to(content)
    reg.commit("production.yaml becomes a link")
    assert reg.git("rev-parse", f"HEAD:{G}/production.yaml") == reg.git(
        "rev-parse", f"base:{G}/production.yaml"
    )
    assert reg.rules() == {"symlink", "pointer", "history-chain", "pointer-move"}
