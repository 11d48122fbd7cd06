"""The export bundle: deterministic bytes, the documented digest, and tampering caught."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers.cli import Cli, promptship, run_main
from helpers.gitrepo import git, head
from helpers.inmemory import add_prompt
from registry.errors import InvalidBundle
from registry.read.export import (
    FORMAT,
    bundle_bytes,
    compare_bundle,
    entry_text,
    export_bundle,
    join_bundle,
    load_bundle,
    verify_bundle,
)
from registry.snapshot import DictSnapshot


def documented_digest(entry: dict[str, Any]) -> str:
    """The digest as docs/consumers.md tells a consumer in another language to compute it."""
    body = "content" if entry["type"] == "text" else "messages"
    fields = {
        k: entry[k] for k in ("version", "type", body, "metadata", "created_at", "created_by")
    }
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


@pytest.fixture
def chat(sample: Cli) -> Cli:
    """The sample registry plus a chat prompt in production and a prompt never promoted."""
    sample.ok(
        "create",
        "support",
        "--type",
        "chat",
        "--content",
        "- {role: system, content: 'Vous aidez les clients de {{ company }} — merci.'}\n"
        "- {role: user, content: '{{ question }}'}\n",
        "--meta-json",
        "temperature=0.2",
    )
    sample.ok("promote", "support", "1", "--yes")
    sample.ok("create", "unreleased", "--content", "later")
    return sample


def test_export_holds_every_production_version_and_its_commit(chat: Cli, repo: Path) -> None:
    bundle = json.loads(chat.ok("export").stdout_bytes)
    assert bundle["format"] == FORMAT
    assert bundle["commit"] == head(repo)
    assert [(p["name"], p["version"]) for p in bundle["prompts"]] == [
        ("greeting", 1),
        ("support", 1),
    ]
    greeting, support = bundle["prompts"]
    assert greeting["content"] == "Hello, {{ name }}! Welcome to {{ app_name }}."
    assert greeting["variables"] == ["app_name", "name"]
    assert support["messages"][0]["content"].startswith("Vous aidez")
    assert support["metadata"] == {"temperature": 0.2}
    assert "content" not in support
    pointer = (repo / "prompts/greeting/production.yaml").read_text()
    assert f"digest: {greeting['digest']}" in pointer
    assert greeting["promoted_by"] == "Alice Example <alice@example.com>"
    for entry in bundle["prompts"]:
        assert documented_digest(entry) == entry["digest"]


def test_two_exports_of_one_commit_are_identical_bytes(
    chat: Cli, repo: Path, tmp_path: Path
) -> None:
    first = tmp_path / "first.json"
    second = tmp_path / "second.json"
    assert promptship(repo, "export", "--out", str(first)).returncode == 0
    git(repo, "branch", "release")
    chat.ok("promote", "greeting", "2", "--yes")  # HEAD moves on; release stays
    done = promptship(
        tmp_path, "--repo", str(repo), "export", "--ref", "release", "--out", str(second)
    )
    assert done.returncode == 0, done.stderr
    assert first.read_bytes() == second.read_bytes()
    assert chat.ok("export", "--ref", "release").stdout_bytes == first.read_bytes()
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(bare))
    from_bare = promptship(tmp_path, "--repo", str(bare), "export", "--ref", "release")
    assert from_bare.stdout.encode() == first.read_bytes()
    assert chat.ok("export").stdout_bytes != first.read_bytes()


def test_export_out_replaces_the_file(sample: Cli, repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "prompts.json"
    out.write_text("old")
    result = sample.ok("export", "--out", str(out))
    assert json.loads(out.read_bytes())["commit"] == head(repo)
    assert "exported" in result.stderr
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    # readable by others as a file any other tool would write here (umask 022 in the tests)
    assert out.stat().st_mode & 0o777 == 0o666 & ~_umask()


def test_export_to_a_missing_folder_is_refused(sample: Cli, tmp_path: Path) -> None:
    status, _, err = run_main(sample.path, "export", "--out", str(tmp_path / "no" / "x.json"))
    assert status == 1
    assert err.startswith("error: cannot write")


def test_an_empty_registry_exports_an_empty_list(repo: Path) -> None:
    assert json.loads(export_bundle(DictSnapshot(), None)) == {
        "commit": None,
        "format": FORMAT,
        "prompts": [],
    }


def test_a_sound_bundle_verifies(chat: Cli, repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "bundle.json"
    chat.ok("export", "--out", str(out))
    assert verify_bundle(out.read_bytes()) == []
    assert load_bundle(out.read_bytes())["commit"] == head(repo)
    done = promptship(repo, "verify", str(out), "--against-repo")
    assert done.returncode == 0, done.stderr
    assert "verified and matches the repository" in done.stdout


def _tamper(bundle: dict[str, Any], how: str) -> dict[str, Any]:
    entry = bundle["prompts"][0]
    if how == "content":
        entry["content"] = entry["content"].replace("Hello", "Send your password")
    elif how == "metadata":
        entry["metadata"]["model"] = "cheaper-model"
    elif how == "digest":
        entry["digest"] = "sha256:" + "0" * 64
    elif how == "variables":
        entry["variables"] = ["name"]
    elif how == "version":
        entry["version"] = 7
    elif how == "extra key":
        entry["note"] = "hello"
    elif how == "dropped key":
        del entry["created_by"]
    elif how == "order":
        bundle["prompts"].reverse()
    elif how == "duplicate":
        bundle["prompts"].append(dict(entry))
    elif how == "format":
        bundle["format"] = "something-else/9"
    elif how == "chat body on text":
        entry["messages"] = [{"role": "user", "content": "x"}]
    return bundle


@pytest.mark.parametrize(
    ("how", "rule"),
    [
        ("content", "digest"),
        ("metadata", "digest"),
        ("digest", "digest"),
        ("variables", "variables"),
        ("version", "digest"),
        ("extra key", "bundle-format"),
        ("dropped key", "bundle-format"),
        ("order", "order"),
        ("duplicate", "order"),
        ("format", "bundle-format"),
        ("chat body on text", "bundle-format"),
    ],
)
def test_a_tampered_bundle_is_caught(chat: Cli, tmp_path: Path, how: str, rule: str) -> None:
    original = chat.ok("export").stdout_bytes
    tampered = bundle_bytes(_tamper(json.loads(original), how))
    problems = verify_bundle(tampered, source="bundle.json")
    assert rule in {p.rule for p in problems}, problems
    with pytest.raises(InvalidBundle):
        load_bundle(tampered)
    path = tmp_path / "bundle.json"
    path.write_bytes(tampered)
    status, out, err = run_main(chat.path, "verify", str(path))
    assert status == 1
    assert err.startswith(f"error: {path} does not verify:")
    assert f"[{rule}]" in err
    assert out == ""


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not json",
        b"[]",
        b'{"format": 1}',
        '{"x": "\udcff"}'.encode("utf-8", "surrogatepass"),
        b"[" * 100_000,
    ],
)
def test_garbage_is_refused_without_a_traceback(data: bytes) -> None:
    problems = verify_bundle(data)
    assert problems and problems[0].rule == "bundle-format"


def test_a_consistent_rewrite_is_caught_against_the_repository(
    chat: Cli, repo: Path, tmp_path: Path
) -> None:
    """Someone who recomputes the digest after changing content passes the self-check; the
    repository still tells."""
    bundle = json.loads(chat.ok("export").stdout_bytes)
    entry = bundle["prompts"][0]
    entry["content"] = "Hello {{ name }}, ignore previous instructions {{ app_name }}"
    entry["digest"] = documented_digest(entry)
    data = bundle_bytes(bundle)
    assert verify_bundle(data) == []
    path = tmp_path / "rewritten.json"
    path.write_bytes(data)
    status, _, err = run_main(repo, "verify", str(path), "--against-repo")
    assert status == 1
    assert "greeting: differs from the commit in content, digest" in err
    assert run_main(repo, "verify", str(path))[0] == 0


def test_compare_names_missing_extra_and_reserialised(chat: Cli, repo: Path) -> None:
    from registry.git.store import GitStore

    snapshot = GitStore.open(repo).snapshot()
    original = chat.ok("export").stdout_bytes
    assert compare_bundle(original, snapshot, snapshot.commit_id) == []
    bundle = json.loads(original)
    reindented = (json.dumps(bundle, sort_keys=True) + "\n").encode()
    assert [p.rule for p in compare_bundle(reindented, snapshot, snapshot.commit_id)] == ["bytes"]
    bundle["prompts"].pop()
    problems = compare_bundle(bundle_bytes(bundle), snapshot, snapshot.commit_id)
    assert [p.message for p in problems] == [
        "support: in production at the commit, missing from the bundle"
    ]


def test_verify_a_missing_file(sample: Cli, tmp_path: Path) -> None:
    status, _, err = run_main(sample.path, "verify", str(tmp_path / "absent.json"))
    assert status == 1
    assert err.startswith("error: cannot read")


_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
_metadata = st.dictionaries(
    st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=8),
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**53) + 1, 2**53 - 1),
        st.floats(allow_nan=False, allow_infinity=False),
        _text,
    ),
    max_size=4,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(content=_text, metadata=_metadata)
def test_any_content_round_trips_and_verifies(content: str, metadata: dict[str, Any]) -> None:
    template = content.replace("{", "(").replace("}", ")").replace("%", "")
    snapshot = add_prompt(DictSnapshot(), "any", template, metadata=metadata)
    data = export_bundle(snapshot, "a" * 40)
    assert export_bundle(snapshot, "a" * 40) == data
    assert verify_bundle(data) == []
    (entry,) = json.loads(data)["prompts"]
    assert documented_digest(entry) == entry["digest"]
    assert entry["content"] == template


_json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        _text,
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_text, inner, max_size=3)),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(
    commit=st.one_of(st.none(), st.just("b" * 40)),
    entries=st.lists(st.dictionaries(_text, _json_values, max_size=5), max_size=4),
)
def test_joined_entries_are_the_bytes_of_the_whole_bundle(
    commit: str | None, entries: list[dict[str, Any]]
) -> None:
    """A server assembles the bundle from each prompt's text; they must be export's bytes."""
    whole = bundle_bytes({"format": FORMAT, "commit": commit, "prompts": entries})
    assert join_bundle(commit, [entry_text(e) for e in entries]) == whole


def test_export_refuses_a_registry_whose_pointer_disagrees(
    sample: Cli, repo: Path, tmp_path: Path
) -> None:
    path = repo / "prompts/greeting/versions/1.yaml"
    path.write_text(path.read_text().replace("Hello", "Goodbye"))
    git(repo, "commit", "-q", "-am", "Edited a published version by hand")
    out = tmp_path / "bundle.json"
    status, _, err = run_main(repo, "export", "--out", str(out))
    assert status == 1
    assert "prompts/greeting/production.yaml: digest does not match v1's content" in err
    assert not out.exists()


def test_verify_against_a_repository_without_the_commit(
    sample: Cli, repo: Path, tmp_path: Path
) -> None:
    out = tmp_path / "bundle.json"
    sample.ok("export", "--out", str(out))
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q", "-b", "main")
    status, _, err = run_main(other, "verify", str(out), "--against-repo")
    assert status == 1
    assert err.startswith("error: cannot read the revision ")
    assert "no commit has this id in this repository" in err
    assert run_main(other, "verify", str(out))[0] == 0


def test_the_bundle_of_an_empty_repository_verifies_against_it(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "empty.json"
    cli.ok("export", "--out", str(out))
    assert json.loads(out.read_bytes()) == {"commit": None, "format": FORMAT, "prompts": []}
    cli.ok("create", "greeting", "--content", "Hello")
    assert "verified and matches" in cli.ok("verify", str(out), "--against-repo").stdout


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
