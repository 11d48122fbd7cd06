"""The lifecycle rules as pure operations on in-memory snapshots (no disk, no git)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from registry.catalog import load_history, load_pointer, load_version, resolve
from registry.check.tree import check_tree
from registry.errors import (
    InputError,
    LifecycleError,
    PromptExists,
    PromptNotFound,
    VersionNotFound,
)
from registry.lifecycle import (
    Body,
    archive_version,
    create_prompt,
    delete_prompt,
    edit_version,
    new_version,
    parse_body,
    parse_metadata,
    parse_parameters,
    unarchive_version,
    update_info,
)
from registry.model import Message
from registry.names import Selector
from registry.promotion import plan_promotion
from registry.snapshot import ChangeSet, DictSnapshot, apply_changes

ACTOR = "Alice Example <alice@example.com>"
NOW = "2026-11-29T10:00:00Z"


def run(
    snap: DictSnapshot, op: Callable[..., ChangeSet], *args: object, **kwargs: object
) -> DictSnapshot:
    changes = op(snap, *args, actor=ACTOR, now=kwargs.pop("now", NOW), **kwargs)
    after = apply_changes(snap, changes)
    assert check_tree(after) == [], check_tree(after)
    return after


def registry_with(statuses: str) -> DictSnapshot:
    """Prompt 'p' whose versions have the given statuses: d(raft), p(ublished), a(rchived); the
    published one promoted properly, archived ones that were published recorded in history."""
    snap = run(DictSnapshot(), create_prompt, "p", body=Body(content="v1 {{ x }}"))
    for _ in statuses[1:]:
        snap = run(snap, new_version, "p", body=Body(content="next {{ x }}"))
    for number, status in enumerate(statuses, start=1):
        if status == "a":
            snap = run(snap, archive_version, "p", number)
    published = statuses.find("p") + 1
    if published:
        snap = run(snap, plan_promotion, "p", published)
    return snap


def test_create_writes_prompt_and_draft_v1() -> None:
    changes = create_prompt(
        DictSnapshot(),
        "greeting",
        body=Body(content="Hi {{ name }}"),
        actor=ACTOR,
        now=NOW,
        tags=["a", "a", "b"],
    )
    assert set(changes.writes) == {
        "prompts/greeting/prompt.yaml",
        "prompts/greeting/versions/1.yaml",
    }
    snap = apply_changes(DictSnapshot(), changes)
    version = load_version(snap, "greeting", 1)
    assert (version.status, version.content, version.created_by, version.created_at) == (
        "draft",
        "Hi {{ name }}",
        ACTOR,
        NOW,
    )
    assert changes.subject == "create(greeting): v1"


def test_create_refuses_an_existing_prompt() -> None:
    snap = registry_with("d")
    with pytest.raises(PromptExists):
        create_prompt(snap, "p", actor=ACTOR, now=NOW)


def test_blank_chat_prompt_has_system_and_user() -> None:
    snap = apply_changes(
        DictSnapshot(), create_prompt(DictSnapshot(), "c", type="chat", actor=ACTOR, now=NOW)
    )
    assert [m.role for m in load_version(snap, "c", 1).messages or ()] == ["system", "user"]


def test_template_syntax_errors_are_refused() -> None:
    with pytest.raises(Exception, match="template syntax error"):
        create_prompt(DictSnapshot(), "p", body=Body(content="{{ unclosed"), actor=ACTOR, now=NOW)


def test_new_version_copies_blank_or_given() -> None:
    snap = registry_with("d")
    snap = run(
        snap, edit_version, "p", 1, body=Body(content="one {{ x }}"), metadata={"model": "m"}
    )
    copied = run(snap, new_version, "p", source=1)
    assert load_version(copied, "p", 2).content == "one {{ x }}"
    assert load_version(copied, "p", 2).metadata == {"model": "m"}
    blank = run(snap, new_version, "p")
    assert load_version(blank, "p", 2).content == ""
    assert load_version(blank, "p", 2).metadata == {"model": "m"}
    given = run(
        snap,
        new_version,
        "p",
        body=Body(content="given"),
        metadata={"t": 1, "stop": None},
        unset_metadata=["model"],
    )
    assert load_version(given, "p", 2).metadata == {"t": 1, "stop": None}


def test_version_numbers_are_never_reused() -> None:
    snap = registry_with("dp")
    # a version file removed by hand still has its number taken by history
    files = {k: v for k, v in snap.files.items() if not k.endswith("versions/2.yaml")}
    changes = new_version(DictSnapshot(files), "p", actor=ACTOR, now=NOW)
    assert changes.version == 3


@pytest.mark.parametrize(
    ("statuses", "number", "allowed"),
    [("d", 1, True), ("dp", 2, False), ("dpa", 3, False)],
)
def test_edit_only_drafts(statuses: str, number: int, allowed: bool) -> None:
    snap = registry_with(statuses)
    if allowed:
        after = run(snap, edit_version, "p", number, body=Body(content="edited"))
        assert load_version(after, "p", number).content == "edited"
    else:
        with pytest.raises(LifecycleError):
            edit_version(snap, "p", number, body=Body(content="edited"), actor=ACTOR, now=NOW)


def test_editing_a_once_published_draft_points_to_new_version_from() -> None:
    snap = registry_with("pd")
    snap = run(snap, plan_promotion, "p", 2)
    snap = run(snap, unarchive_version, "p", 1)
    assert load_version(snap, "p", 1).status == "draft"
    with pytest.raises(LifecycleError) as caught:
        edit_version(snap, "p", 1, body=Body(content="sneaky"), actor=ACTOR, now=NOW)
    assert "new-version p --from 1" in caught.value.hint


def test_editing_an_archived_draft_says_unarchive() -> None:
    snap = registry_with("a")
    with pytest.raises(LifecycleError) as caught:
        edit_version(snap, "p", 1, body=Body(content="x"), actor=ACTOR, now=NOW)
    assert "unarchive" in caught.value.hint


def test_edit_without_a_change_is_refused() -> None:
    snap = registry_with("d")
    with pytest.raises(InputError):
        edit_version(snap, "p", 1, body=Body(content="v1 {{ x }}"), actor=ACTOR, now=NOW)


@pytest.mark.parametrize(
    ("statuses", "number", "error"), [("p", 1, "production"), ("a", 1, "already archived")]
)
def test_archive_refusals(statuses: str, number: int, error: str) -> None:
    with pytest.raises(LifecycleError, match=error):
        archive_version(registry_with(statuses), "p", number, actor=ACTOR, now=NOW)


def test_archive_a_draft_changes_only_its_status_line() -> None:
    snap = registry_with("d")
    changes = archive_version(snap, "p", 1, actor=ACTOR, now=NOW)
    before = snap.files["prompts/p/versions/1.yaml"]
    assert changes.writes["prompts/p/versions/1.yaml"] == before.replace(
        b"status: draft", b"status: archived"
    )


@pytest.mark.parametrize("statuses", ["d", "p"])
def test_unarchive_only_archived(statuses: str) -> None:
    with pytest.raises(LifecycleError, match="not archived"):
        unarchive_version(registry_with(statuses), "p", 1, actor=ACTOR, now=NOW)


def test_unknown_prompt_and_version() -> None:
    with pytest.raises(PromptNotFound):
        archive_version(DictSnapshot(), "nope", 1, actor=ACTOR, now=NOW)
    with pytest.raises(VersionNotFound):
        archive_version(registry_with("d"), "p", 9, actor=ACTOR, now=NOW)


def test_delete_refuses_production_without_force() -> None:
    snap = registry_with("p")
    with pytest.raises(LifecycleError, match="will break"):
        delete_prompt(snap, "p", force=False, actor=ACTOR, now=NOW)
    after = run(snap, delete_prompt, "p", force=True)
    assert not [f for f in after.files if f.startswith("prompts/p/")]


def test_update_info_changes_no_version() -> None:
    snap = registry_with("d")
    changes = update_info(snap, "p", description="new", add_tags=["x", "y"], actor=ACTOR, now=NOW)
    assert list(changes.writes) == ["prompts/p/prompt.yaml"]
    assert changes.subject == "update(p): description, tags"
    with pytest.raises(InputError):
        update_info(snap, "p", add_tags=["Bad Tag"], actor=ACTOR, now=NOW)


def test_parse_body_for_chat() -> None:
    body = parse_body(
        "- {role: system, content: Be brief.}\n- {role: user, content: 'Hi {{ n }}'}\n",
        type="chat",
        source="f",
    )
    assert body.messages == (
        Message(role="system", content="Be brief."),
        Message(role="user", content="Hi {{ n }}"),
    )
    with pytest.raises(InputError):
        parse_body("just text", type="chat", source="f")


def test_parse_metadata_keeps_text_as_text_and_reads_json_values() -> None:
    assert parse_metadata(
        ["model=gpt-4o", "code=017", "flag=yes", "empty=", "eq=a=b"],
        ["temperature=0.2", "max_tokens=100", "stop=null", "on=true", 'code2="017"', "l=[1, 2]"],
    ) == {
        "model": "gpt-4o",
        "code": "017",
        "flag": "yes",
        "empty": "",
        "eq": "a=b",
        "temperature": 0.2,
        "max_tokens": 100,
        "stop": None,
        "on": True,
        "code2": "017",
        "l": [1, 2],
    }


@pytest.mark.parametrize(
    ("texts", "json_values", "wanted"),
    [
        (["novalue"], [], "is not KEY=VALUE"),
        (["=x"], [], "is not KEY=VALUE"),
        ([], ["n=017"], "is not a JSON value"),
        ([], ["n=NaN"], "NaN is not JSON"),
        ([], ["n=Infinity"], "Infinity is not JSON"),
        ([], ["n=12345678901234567890"], "beyond 2**53"),
        ([], ['n={"a": 1, "a": 2}'], "appears twice"),
        ([], ['n="\\ud800"'], "lone surrogate"),
        ([], ["n=yes"], "is not a JSON value"),
    ],
)
def test_parse_metadata_refuses_what_readers_could_read_otherwise(
    texts: list[str], json_values: list[str], wanted: str
) -> None:
    with pytest.raises(InputError) as caught:
        parse_metadata(texts, json_values)
    assert wanted in caught.value.message
    assert caught.value.hint


def test_parse_parameters_types_values() -> None:
    assert parse_parameters(
        ["temperature=0.2", "model=gpt-4o", "max_tokens=100", "stop=", "flag=true", "code=017"]
    ) == {
        "temperature": 0.2,
        "model": "gpt-4o",
        "max_tokens": 100,
        "stop": None,
        "flag": True,
        "code": "017",
    }
    with pytest.raises(InputError):
        parse_parameters(["novalue"])


def test_resolve_labels() -> None:
    snap = registry_with("pd")
    assert resolve(snap, Selector(prompt="p")).version == 1
    assert resolve(snap, Selector(prompt="p", label="latest")).version == 2
    assert resolve(snap, Selector(prompt="p", version=2)).status == "draft"
    assert load_pointer(snap, "p") is not None
    assert [r.version for r in load_history(snap, "p")] == [1]
