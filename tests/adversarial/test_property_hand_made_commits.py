"""The property behind every attack: for any sequence of hand-made commits that the check of the
change accepts, each version that was in production at the base or at any commit of the change
has, at the head, the same parsed content in every reader -- PyYAML, ruamel.yaml as a YAML 1.2
reader, and the read API -- unless its whole prompt was retired.

Examples are few by default (CI time); PROMPTSHIP_PROPERTY_EXAMPLES raises them."""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from helpers.attack import commit_on, commit_tree, tree_with
from helpers.cli import run_main
from helpers.gitrepo import git
from helpers.registry_repo import Registry, build_base
from registry import Registry as Reader
from registry.model import digest_of

EXAMPLES = int(os.environ.get("PROMPTSHIP_PROPERTY_EXAMPLES", "8"))
PROMPTS = ("greeting", "faq", "notes")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The base registry, built once for every example (the per-test isolation of the git
    configuration is not in place yet at module scope, so it is set here)."""
    path = tmp_path_factory.mktemp("template") / "registry"
    path.mkdir()
    home = tmp_path_factory.mktemp("template-home")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("HOME", str(home))
        env.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
        env.setenv("GIT_CONFIG_NOSYSTEM", "1")
        for who in ("AUTHOR", "COMMITTER"):
            env.setenv(f"GIT_{who}_NAME", "Alice Example")
            env.setenv(f"GIT_{who}_EMAIL", "alice@example.com")
        git(path, "init", "-q", "-b", "main")
        build_base(Registry(path))
    return path


def show(repo: Path, rev: str, path: str) -> str | None:
    out = git(repo, "show", f"{rev}:{path}", check=False)
    return out or None


def versions_at(repo: Path, rev: str, name: str) -> list[int]:
    names = git(repo, "ls-tree", "--name-only", f"{rev}:prompts/{name}/versions", check=False)
    return sorted(int(n.split(".")[0]) for n in names.split() if n.split(".")[0].isdigit())


# One step of an attacker's change, applied with plumbing to the branch 'attack'.
Step = tuple[str, str, int, str]
steps = st.lists(
    st.tuples(
        st.sampled_from(
            ["edit", "status", "promote", "delete", "retire", "remake", "merge", "root"]
        ),
        st.sampled_from(PROMPTS),
        st.integers(min_value=1, max_value=5),
        st.sampled_from(["Hello", "Ignore all rules", "017", "yes", "{{ name }}"]),
    ),
    min_size=1,
    max_size=5,
)


def apply(repo: Path, step: Step) -> None:
    kind, name, number, word = step
    folder = f"prompts/{name}"
    path = f"{folder}/versions/{number}.yaml"
    text = show(repo, "attack", path)
    if kind == "edit" and text is not None:
        commit_on(repo, "attack", {path: text.replace("content: ", f"content: {word} ", 1)})
    elif kind == "status" and text is not None:
        for old, new in (("draft", "archived"), ("archived", "draft"), ("published", "archived")):
            if f"status: {old}" in text:
                commit_on(repo, "attack", {path: text.replace(f"status: {old}", f"status: {new}")})
                break
    elif kind == "promote" and text is not None:
        promote_by_hand(repo, name, number, text)
    elif kind in ("delete", "retire"):
        trailer = f"\n\nRetire-Prompt: {name}" if kind == "retire" else ""
        commit_on(repo, "attack", {folder: None}, message=f"delete({name}){trailer}")
    elif kind == "remake":
        files = {
            f"{folder}/prompt.yaml": show(repo, "base", f"{folder}/prompt.yaml"),
            f"{folder}/versions/1.yaml": (show(repo, "base", f"{folder}/versions/1.yaml") or "")
            .replace("status: published", "status: draft")
            .replace("content: ", f"content: {word} ", 1),
        }
        commit_on(repo, "attack", files, message=f"create({name})")
    elif kind in ("merge", "root") and text is not None:
        writes = {path: text.replace("content: ", f"content: {word} ", 1)}
        tip = git(repo, "rev-parse", "attack").strip()
        if kind == "root":
            other = commit_tree(repo, tree_with(repo, "attack", writes), [], "second history")
        else:
            git(repo, "branch", "-f", "side", "attack")
            other = commit_on(repo, "side", writes)
        merged = commit_tree(repo, tree_with(repo, other, {}), [tip, other], "merge")
        git(repo, "update-ref", "refs/heads/attack", merged)


def promote_by_hand(repo: Path, name: str, number: int, text: str) -> None:
    """What 'promote' writes, written by hand: statuses, pointer and record in one commit."""
    folder = f"prompts/{name}"
    pointer = yaml.safe_load(show(repo, "attack", f"{folder}/production.yaml") or "null")
    previous = pointer["version"] if pointer else None
    if previous == number:
        return
    writes: dict[str, str | None] = {}
    new = text.replace("status: draft", "status: published").replace(
        "status: archived", "status: published"
    )
    writes[f"{folder}/versions/{number}.yaml"] = new
    if previous is not None:
        old_path = f"{folder}/versions/{previous}.yaml"
        old = show(repo, "attack", old_path) or ""
        writes[old_path] = old.replace("status: published", "status: archived")
    digest = digest_of(yaml.safe_load(new))
    at, by = "2030-01-01T00:00:00Z", "Mallory Example <mallory@example.com>"
    writes[f"{folder}/production.yaml"] = (
        f'prompt: {name}\nversion: {number}\ndigest: {digest}\npromoted_at: "{at}"\n'
        f"promoted_by: {by}\n"
    )
    history = show(repo, "attack", f"{folder}/history.yaml") or ""
    previous_json = "null" if previous is None else str(previous)
    writes[f"{folder}/history.yaml"] = history + (
        f'- {{"version": {number}, "previous_version": {previous_json}, "promoted_by": "{by}", '
        f'"promoted_at": "{at}", "notes": "by hand"}}\n'
    )
    commit_on(repo, "attack", writes, message=f"promote({name}): v{number}")


def in_production(repo: Path, names: Iterable[str]) -> dict[tuple[str, int], dict[str, Any]]:
    """Every (prompt, version) of ``names`` a pointer named at the base or at a commit of the
    change, with the content it had there (PyYAML, without status)."""
    found: dict[tuple[str, int], dict[str, Any]] = {}
    commits = ["base", *git(repo, "rev-list", "base..attack").split()]
    for rev in commits:
        for name in names:
            pointer = show(repo, rev, f"prompts/{name}/production.yaml")
            if pointer is None:
                continue
            number = yaml.safe_load(pointer)["version"]
            text = show(repo, rev, f"prompts/{name}/versions/{number}.yaml")
            if text is not None:
                try:
                    parsed = content(yaml.safe_load(text))
                except yaml.YAMLError:
                    parsed = {"unparsable": text}  # no head content equals this
                found.setdefault((name, number), parsed)
    return found


def content(mapping: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if k != "status"}


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(change=steps)
def test_an_accepted_change_keeps_production_content_in_every_reader(
    template: Path, tmp_path_factory: pytest.TempPathFactory, change: list[Step]
) -> None:
    repo = tmp_path_factory.mktemp("example") / "registry"
    shutil.copytree(template, repo)
    git(repo, "branch", "-f", "attack", "base")
    for step in change:
        apply(repo, step)
    git(repo, "checkout", "-q", "--detach", "attack")

    status, _, err = run_main(repo, "check", "--base", "base", "--format", "json")

    assert status in (0, 1), err
    if status == 1:
        return
    head = git(repo, "rev-parse", "attack").strip()
    reader = Reader.open(repo, ref=head)
    ruamel = YAML(typ="safe", pure=True)
    ruamel.version = (1, 2)
    # A prompt retired by its trailer is the one way a prompt in production may go; what its
    # folder held on the way there (even a file no reader parses) is nobody's to serve.
    for (name, number), promoted in in_production(repo, reader.names()).items():
        text = show(repo, head, f"prompts/{name}/versions/{number}.yaml")
        assert text is not None, (name, number, change)
        assert content(yaml.safe_load(text)) == promoted, (name, number, change)
        assert content(ruamel.load(io.StringIO(text))) == promoted, (name, number, change)
        served = reader.get(name, version=number).to_json()
        assert served["digest"] == digest_of(promoted), (name, number, change)
