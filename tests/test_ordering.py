"""Order that does not depend on the clock's resolution: equal timestamps keep file order within a
prompt and commit order across prompts."""

from __future__ import annotations

import gc
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from helpers.cli import Cli
from helpers.gitrepo import git, head
from helpers.terminal import answer_on_terminal
from registry.git.decision import Operation
from registry.git.publish import write_change
from registry.git.store import GitStore, utc_now
from registry.identity import Identity
from registry.lifecycle import Body, create_prompt, new_version, unarchive_version
from registry.promotion import plan_promotion

ALICE = Identity(name="Alice Example", email="alice@example.com")
SAME = "2026-11-29T12:00:00Z"


def at(stamp: str) -> Callable[[], str]:
    return lambda: stamp


def test_ties_across_prompts_follow_commit_order(repo: Path, cli: Cli) -> None:
    store = GitStore.open(repo)
    for name in ("a", "b"):
        write_change(
            store,
            lambda s, now, n=name: create_prompt(
                s, n, body=Body(content=n), actor=str(ALICE), now=now
            ),
            identity=ALICE,
        )
    # b is promoted first, a second, in the same second: name order would put b on top
    for name in ("b", "a"):
        write_change(
            store,
            lambda s, now, n=name: plan_promotion(s, n, 1, actor=str(ALICE), now=now),
            identity=ALICE,
            clock=at(SAME),
        )
    newest = [r["prompt"] for r in json.loads(cli.ok("history", "--json").stdout)]
    assert newest == ["a", "b"]
    oldest = [r["prompt"] for r in json.loads(cli.ok("history", "--json", "--oldest-first").stdout)]
    assert oldest == ["b", "a"]


def test_ties_far_back_and_through_a_merge_follow_the_first_parent_line(
    repo: Path, cli: Cli
) -> None:
    # Each record's commit is found by binary search over the first-parent line: ties buried
    # under many later commits, and a record that arrives with a merge, must still order right.
    actor = str(ALICE)

    def write(operation: Operation, stamp: str | None = None, ref: str | None = None) -> None:
        store = GitStore.open(repo, ref=ref)
        clock = at(stamp) if stamp else utc_now
        write_change(store, operation, identity=ALICE, clock=clock)

    for name in ("a", "b", "c"):
        for content in ("1", "2", "3"):
            make = create_prompt if content == "1" else new_version
            write(
                lambda s, now, n=name, m=make, t=content: m(
                    s, n, body=Body(content=t), actor=actor, now=now
                )
            )
    first, second = "2026-11-29T12:00:00Z", "2026-11-29T13:00:00Z"
    write(lambda s, now: plan_promotion(s, "c", 1, actor=actor, now=now), first)
    write(lambda s, now: plan_promotion(s, "a", 1, actor=actor, now=now), first)
    for minute in range(30):  # later history: b goes back and forth between v2 and v3
        number = 2 + minute % 2
        if minute > 1:
            write(lambda s, now, n=number: unarchive_version(s, "b", n, actor=actor, now=now))
        write(
            lambda s, now, n=number: plan_promotion(s, "b", n, actor=actor, now=now),
            f"2026-11-29T12:{minute + 10:02d}:00Z",
        )
    git(repo, "branch", "side")
    write(lambda s, now: plan_promotion(s, "c", 2, actor=actor, now=now), second)
    write(
        lambda s, now: plan_promotion(s, "a", 2, actor=actor, now=now),
        second,
        ref="refs/heads/side",
    )
    git(repo, "merge", "-q", "--no-ff", "side", "-m", "Merge side")
    records = json.loads(cli.ok("history", "--json").stdout)
    tied = [(r["promoted_at"], r["prompt"]) for r in records if r["promoted_at"] in (first, second)]
    # newest first: the merge brought a's record after c's; c was promoted before a back then
    assert tied == [(second, "a"), (second, "c"), (first, "a"), (first, "c")]


def test_ties_within_a_prompt_follow_file_order(repo: Path, cli: Cli) -> None:
    store = GitStore.open(repo)
    actor = str(ALICE)
    write_change(
        store,
        lambda s, now: create_prompt(s, "p", body=Body(content="1"), actor=actor, now=now),
        identity=ALICE,
    )
    write_change(
        store,
        lambda s, now: new_version(s, "p", body=Body(content="2"), actor=actor, now=now),
        identity=ALICE,
    )
    for number in (1, 2):
        write_change(
            store,
            lambda s, now, n=number: plan_promotion(s, "p", n, actor=actor, now=now),
            identity=ALICE,
            clock=at(SAME),
        )
    write_change(
        store, lambda s, now: unarchive_version(s, "p", 1, actor=actor, now=now), identity=ALICE
    )
    write_change(
        store,
        lambda s, now: plan_promotion(s, "p", 1, actor=actor, now=now),
        identity=ALICE,
        clock=at(SAME),
    )
    records = json.loads(cli.ok("history", "p", "--json").stdout)
    assert [(r["version"], r["previous_version"]) for r in records] == [(1, 2), (2, 1), (1, None)]


def test_list_sorted_by_creation_and_change(repo: Path, cli: Cli) -> None:
    store = GitStore.open(repo)
    actor = str(ALICE)
    for name, stamp in (
        ("zeta", "2026-11-01T00:00:00Z"),
        ("alpha", "2026-11-02T00:00:00Z"),
        ("mid", "2026-11-03T00:00:00Z"),
    ):
        write_change(
            store,
            lambda s, now, n=name: create_prompt(s, n, actor=actor, now=now),
            identity=ALICE,
            clock=at(stamp),
        )
    write_change(
        store,
        lambda s, now: new_version(s, "zeta", actor=actor, now=now),
        identity=ALICE,
        clock=at("2026-11-04T00:00:00Z"),
    )

    def names(sort: str) -> list[str]:
        return [r["name"] for r in json.loads(cli.ok("list", "--json", "--sort", sort).stdout)]

    assert names("name") == ["alpha", "mid", "zeta"]
    assert names("created") == ["zeta", "alpha", "mid"]
    assert names("changed") == ["zeta", "mid", "alpha"]


@pytest.mark.parametrize(("answer", "promoted"), [("y\n", True), ("n\n", False)])
def test_promote_asks_on_a_terminal(sample: Cli, repo: Path, answer: str, promoted: bool) -> None:
    tip = head(repo)
    status, seen = answer_on_terminal(
        repo, "promote", "greeting", "2", "--notes", "Friendlier", answer=answer
    )
    text = seen.decode()
    assert "from:  v1 (published -> archived)" in text and "to:    v2 (draft -> published)" in text
    assert "notes: Friendlier" in text
    if promoted:
        assert (
            status == 0
            and git(repo, "log", "-1", "--format=%s").strip() == "promote(greeting): v1 -> v2"
        )
    else:
        assert status == 1 and "cancelled" in text and head(repo) == tip


def test_history_turns_the_cycle_collector_back_on(repo: Path, cli: Cli) -> None:
    # history pauses it while building records: a program running the command in process, as
    # this test does, must get it back whether the command succeeds or fails.
    store = GitStore.open(repo)
    actor = str(ALICE)
    write_change(
        store,
        lambda s, now: create_prompt(s, "p", body=Body(content="1"), actor=actor, now=now),
        identity=ALICE,
    )
    write_change(
        store, lambda s, now: plan_promotion(s, "p", 1, actor=actor, now=now), identity=ALICE
    )
    assert [r["version"] for r in json.loads(cli.ok("history", "--json").stdout)] == [1]
    assert gc.isenabled()
    (repo / "prompts/p/history.yaml").write_text("not a record\n")
    git(repo, "commit", "-qam", "history broken by hand")
    failed = cli("history", "--json")
    assert failed.exit_code == 1 and "history.yaml" in failed.stderr
    assert gc.isenabled()
