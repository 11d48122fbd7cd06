"""Promotion as a pure operation: what it writes, and what it refuses."""

from __future__ import annotations

import pytest

from helpers.inmemory import ALICE, BOB, create, new_draft, run
from registry.catalog import load_history, load_pointer, load_version
from registry.check.tree import check_tree
from registry.errors import InvalidRegistry, LifecycleError
from registry.lifecycle import archive_version, unarchive_version
from registry.promotion import plan_promotion
from registry.snapshot import DictSnapshot, apply_changes

A, B = ALICE, BOB


def base() -> DictSnapshot:
    """'p' with two drafts, made at 10:00:01 and 10:00:02."""
    return run(DictSnapshot(), create("p", "one"), new_draft("p", "two"))


def test_first_promotion_writes_version_pointer_history() -> None:
    snap = base()
    changes = plan_promotion(snap, "p", 1, notes="Initial", actor=A, now="2026-11-29T11:00:00Z")
    assert set(changes.writes) == {
        "prompts/p/versions/1.yaml",
        "prompts/p/production.yaml",
        "prompts/p/history.yaml",
    }
    assert changes.subject == "promote(p): v1"
    assert ("Previous-Version", "none") in changes.trailers
    after = apply_changes(snap, changes)
    pointer = load_pointer(after, "p")
    assert pointer is not None
    assert (pointer.version, pointer.promoted_by, pointer.promoted_at) == (
        1,
        A,
        "2026-11-29T11:00:00Z",
    )
    assert pointer.digest == load_version(after, "p", 1).digest
    assert check_tree(after) == []


def test_second_promotion_changes_exactly_four_files_and_appends_one_line() -> None:
    snap = apply_changes(
        base(), plan_promotion(base(), "p", 1, actor=A, now="2026-11-29T11:00:00Z")
    )
    changes = plan_promotion(
        snap, "p", 2, notes="Better\nreasons", actor=B, now="2026-11-29T12:00:00Z"
    )
    assert set(changes.writes) == {
        "prompts/p/versions/1.yaml",
        "prompts/p/versions/2.yaml",
        "prompts/p/production.yaml",
        "prompts/p/history.yaml",
    }
    old_history = snap.files["prompts/p/history.yaml"]
    new_history = changes.writes["prompts/p/history.yaml"]
    assert new_history is not None and new_history.startswith(old_history)
    assert new_history[len(old_history) :].count(b"\n") == 1
    assert changes.subject == "promote(p): v1 -> v2"
    assert changes.body == "Better\nreasons"
    after = apply_changes(snap, changes)
    assert [load_version(after, "p", n).status for n in (1, 2)] == ["archived", "published"]
    records = load_history(after, "p")
    assert [(r.version, r.previous_version, r.notes) for r in records] == [
        (1, None, ""),
        (2, 1, "Better\nreasons"),
    ]
    assert check_tree(after) == []


def test_promoting_production_again_is_refused() -> None:
    snap = apply_changes(
        base(), plan_promotion(base(), "p", 1, actor=A, now="2026-11-29T11:00:00Z")
    )
    with pytest.raises(LifecycleError, match="already in production"):
        plan_promotion(snap, "p", 1, actor=A, now="2026-11-29T12:00:00Z")


def test_promoting_archived_says_unarchive_first_and_rollback_works() -> None:
    snap = apply_changes(
        base(), plan_promotion(base(), "p", 1, actor=A, now="2026-11-29T11:00:00Z")
    )
    snap = apply_changes(snap, plan_promotion(snap, "p", 2, actor=A, now="2026-11-29T12:00:00Z"))
    with pytest.raises(LifecycleError) as caught:
        plan_promotion(snap, "p", 1, actor=A, now="2026-11-29T13:00:00Z")
    assert "unarchive it first" in caught.value.hint
    snap = apply_changes(snap, unarchive_version(snap, "p", 1, actor=A, now="2026-11-29T13:00:00Z"))
    snap = apply_changes(
        snap, plan_promotion(snap, "p", 1, notes="Roll back", actor=A, now="2026-11-29T13:00:01Z")
    )
    assert [(r.version, r.previous_version) for r in load_history(snap, "p")] == [
        (1, None),
        (2, 1),
        (1, 2),
    ]
    assert load_version(snap, "p", 2).status == "archived"
    assert check_tree(snap) == []


def test_archived_draft_cannot_be_promoted() -> None:
    snap = apply_changes(
        base(), archive_version(base(), "p", 2, actor=A, now="2026-11-29T11:00:00Z")
    )
    with pytest.raises(LifecycleError, match="archived"):
        plan_promotion(snap, "p", 2, actor=A, now="2026-11-29T12:00:00Z")


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (lambda f: f.pop("prompts/p/production.yaml"), "no production.yaml"),
        (
            lambda f: f.__setitem__(
                "prompts/p/versions/1.yaml",
                f["prompts/p/versions/1.yaml"].replace(b"status: published", b"status: draft"),
            ),
            "not published",
        ),
        (
            lambda f: f.__setitem__(
                "prompts/p/versions/2.yaml",
                f["prompts/p/versions/2.yaml"].replace(b"status: draft", b"status: published"),
            ),
            "production is v1",
        ),
    ],
)
def test_refuses_to_build_on_hand_broken_production(tamper: object, message: str) -> None:
    snap = apply_changes(
        base(), plan_promotion(base(), "p", 1, actor=A, now="2026-11-29T11:00:00Z")
    )
    files = dict(snap.files)
    assert callable(tamper)
    tamper(files)
    with pytest.raises(InvalidRegistry, match=message):
        plan_promotion(DictSnapshot(files), "p", 2, actor=A, now="2026-11-29T12:00:00Z")


def test_extra_record_keys_are_kept() -> None:
    changes = plan_promotion(
        base(), "p", 1, actor=A, now="2026-11-29T11:00:00Z", extra={"tests_skipped": True}
    )
    assert changes.record is not None
    after = apply_changes(base(), changes)
    assert load_history(after, "p")[0].extra == {"tests_skipped": True}
    assert b'"tests_skipped": true' in after.files["prompts/p/history.yaml"]
