"""The consumer view of one snapshot: lookups, the values handed out, and every typed error."""

from __future__ import annotations

from typing import Any

import pytest

from helpers.inmemory import ACTOR, NOW, add_prompt, add_version, promote_version, with_file
from registry.errors import (
    InputError,
    InvalidName,
    InvalidRegistry,
    MissingVariables,
    NoProductionVersion,
    PromptNotFound,
    TemplateSyntaxError,
    UnknownVariables,
    VersionNotFound,
)
from registry.read.versions import SnapshotReader
from registry.snapshot import DictSnapshot


@pytest.fixture
def snapshot() -> DictSnapshot:
    """greeting: v1 production, v2 draft; support: chat, v1 production; draft-only: v1 draft."""
    snap = add_prompt(
        DictSnapshot(),
        "greeting",
        "Hello, {{ name }}! Welcome to {{ app_name }}.",
        metadata={"model": "gpt-4o", "stop": ["\n"], "extra": {"seed": 7}},
    )
    snap = add_version(snap, "greeting", "Hi {{ name }}!")
    snap = add_prompt(
        snap,
        "support",
        [("system", "You help customers of {{ company }}."), ("user", "{{ question }}")],
    )
    return add_prompt(snap, "draft-only", "Soon {{ thing }}", promote=False)


def test_get_returns_the_production_version_with_every_field(snapshot: DictSnapshot) -> None:
    version = SnapshotReader(snapshot).get("greeting")
    assert (version.prompt, version.version, version.status, version.type) == (
        "greeting",
        1,
        "published",
        "text",
    )
    assert version.content == "Hello, {{ name }}! Welcome to {{ app_name }}."
    assert version.messages is None
    assert version.variables == ("app_name", "name")
    assert version.metadata["model"] == "gpt-4o"
    assert version.is_production
    assert version.digest.startswith("sha256:")
    assert (version.created_at, version.created_by) == (NOW, ACTOR)
    assert (version.promoted_at, version.promoted_by) == (NOW, ACTOR)


@pytest.mark.parametrize(
    ("args", "kwargs", "number", "production"),
    [
        (("greeting",), {}, 1, True),
        (("greeting",), {"label": "production"}, 1, True),
        (("greeting",), {"label": "latest"}, 2, False),
        (("greeting",), {"version": 2}, 2, False),
        (("greeting",), {"version": "v1"}, 1, True),
        (("greeting@2",), {}, 2, False),
        (("greeting@latest",), {}, 2, False),
        (("greeting@production",), {}, 1, True),
        (("draft-only",), {"label": "latest"}, 1, False),
    ],
)
def test_selecting_a_version(
    snapshot: DictSnapshot,
    args: tuple[str],
    kwargs: dict[str, Any],
    number: int,
    production: bool,
) -> None:
    version = SnapshotReader(snapshot).get(*args, **kwargs)
    assert (version.version, version.is_production) == (number, production)
    assert (version.promoted_at is not None) == production


def test_chat_version_renders_each_message(snapshot: DictSnapshot) -> None:
    version = SnapshotReader(snapshot).get("support")
    assert version.type == "chat"
    assert version.content is None
    assert [m.role for m in version.messages or ()] == ["system", "user"]
    assert version.variables == ("company", "question")
    rendered = version.render(company="Acme", question="Where is my parcel?")
    assert rendered.messages == (
        {"role": "system", "content": "You help customers of Acme."},
        {"role": "user", "content": "Where is my parcel?"},
    )


def test_render_through_the_reader_and_the_version(snapshot: DictSnapshot) -> None:
    reader = SnapshotReader(snapshot)
    values = {"name": "Ada", "app_name": "Acme"}
    assert reader.get("greeting").render(**values).content == "Hello, Ada! Welcome to Acme."
    assert reader.get("greeting", version=2).render(name="Ada").content == "Hi Ada!"


def test_answers_are_remembered_and_immutable(snapshot: DictSnapshot) -> None:
    reader = SnapshotReader(snapshot)
    first = reader.get("greeting")
    assert reader.get("greeting") is first
    assert reader.get("greeting@1") == first
    with pytest.raises(TypeError):
        first.metadata["model"] = "other"  # type: ignore[index]
    assert first.metadata["stop"] == ("\n",)
    with pytest.raises(TypeError):
        first.metadata["extra"]["seed"] = 8
    assert first.to_json()["metadata"] == {"model": "gpt-4o", "stop": ["\n"], "extra": {"seed": 7}}


def test_answers_come_from_the_snapshot_read_first(snapshot: DictSnapshot) -> None:
    """A reader is bound to its snapshot: a later state is a new reader."""
    reader = SnapshotReader(snapshot)
    later = promote_version(snapshot, "greeting", 2)
    assert reader.get("greeting").version == 1
    assert SnapshotReader(later).get("greeting").version == 2


def test_production_versions_lists_promoted_prompts_by_name(snapshot: DictSnapshot) -> None:
    reader = SnapshotReader(snapshot)
    assert reader.names() == ["draft-only", "greeting", "support"]
    assert [(v.prompt, v.version) for v in reader.production_versions()] == [
        ("greeting", 1),
        ("support", 1),
    ]


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "fields"),
    [
        (("nope",), {}, PromptNotFound, {"prompt": "nope"}),
        (("nope",), {"label": "latest"}, PromptNotFound, {"prompt": "nope"}),
        (("nope",), {"version": 1}, PromptNotFound, {"prompt": "nope"}),
        (("greeting",), {"version": 9}, VersionNotFound, {"prompt": "greeting", "version": 9}),
        (("draft-only",), {}, NoProductionVersion, {"prompt": "draft-only"}),
        (("Not A Name",), {}, InvalidName, {"name": "Not A Name"}),
        (("greeting",), {"label": "stable"}, InputError, {}),
        (("greeting",), {"label": "latest", "version": 1}, InputError, {}),
        (("greeting@2",), {"version": 1}, InputError, {}),
        (("greeting",), {"version": "three"}, InputError, {}),
    ],
)
def test_lookup_errors_are_typed(
    snapshot: DictSnapshot,
    args: tuple[str],
    kwargs: dict[str, Any],
    error: type[Exception],
    fields: dict[str, Any],
) -> None:
    reader = SnapshotReader(snapshot)
    with pytest.raises(error) as caught:
        reader.get(*args, **kwargs)
    for key, value in fields.items():
        assert getattr(caught.value, key) == value


def test_missing_and_unknown_variables_are_named(snapshot: DictSnapshot) -> None:
    version = SnapshotReader(snapshot).get("greeting")
    with pytest.raises(MissingVariables) as missing:
        version.render(name="Ada", colour="red")
    assert missing.value.missing == ("app_name",)
    assert missing.value.unknown == ("colour",)
    with pytest.raises(UnknownVariables) as unknown:
        version.render(name="Ada", app_name="Acme", colour="red")
    assert unknown.value.unknown == ("colour",)
    assert unknown.value.missing == ()


def test_a_version_edited_after_promotion_is_not_served(snapshot: DictSnapshot) -> None:
    path = "prompts/greeting/versions/1.yaml"
    tampered = snapshot.files[path].replace(b"Hello", b"Goodbye")
    reader = SnapshotReader(with_file(snapshot, path, tampered))
    with pytest.raises(InvalidRegistry) as caught:
        reader.get("greeting")
    assert caught.value.problems[0].file == "prompts/greeting/production.yaml"
    assert "digest" in caught.value.message
    edited = reader.get("greeting", version=1)
    assert edited.content == "Goodbye, {{ name }}! Welcome to {{ app_name }}."
    assert (edited.is_production, edited.promoted_by) == (False, None)


def test_a_broken_file_is_invalid_registry(snapshot: DictSnapshot) -> None:
    broken = with_file(snapshot, "prompts/greeting/production.yaml", b"prompt: [unclosed\n")
    with pytest.raises(InvalidRegistry) as caught:
        SnapshotReader(broken).get("greeting")
    assert caught.value.problems[0].rule == "yaml-syntax"


def test_a_pointer_to_a_draft_is_not_served(snapshot: DictSnapshot) -> None:
    pointer = snapshot.files["prompts/greeting/production.yaml"].replace(
        b"version: 1", b"version: 2"
    )
    reader = SnapshotReader(with_file(snapshot, "prompts/greeting/production.yaml", pointer))
    with pytest.raises(InvalidRegistry, match="draft, not published"):
        reader.get("greeting")


def test_a_template_syntax_error_surfaces_on_use(snapshot: DictSnapshot) -> None:
    path = "prompts/greeting/versions/2.yaml"
    broken = with_file(snapshot, path, snapshot.files[path].replace(b"{{ name }}", b"{{ name "))
    version = SnapshotReader(broken).get("greeting", version=2)
    with pytest.raises(TemplateSyntaxError):
        version.render(name="x")
