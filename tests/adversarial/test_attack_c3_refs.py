"""Class 3, refs: a short name reads a branch or a remote-tracking branch, never a tag someone
pushed under the same name; ambiguous names and revision expressions are refused, by every
command and the read API, with the full name to give instead."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from helpers.attack import check_base, commit_on
from helpers.cli import run_main
from helpers.gitrepo import git
from helpers.registry_repo import Registry, build_base
from registry import Registry as Reader
from registry.errors import RepositoryError

G = "prompts/greeting"
ROOT = Path(__file__).resolve().parents[2]


def attacker_commit(repo: Path) -> str:
    """A commit, on no branch, that serves other content as greeting's production version."""
    published = git(repo, "show", f"base:{G}/versions/2.yaml")
    git(repo, "branch", "attack", "base")
    commit = commit_on(repo, "attack", {f"{G}/versions/2.yaml": published.replace("Hi", "Pwned")})
    git(repo, "branch", "-D", "attack")
    return commit


@pytest.fixture
def reg(repo: Path) -> Registry:
    registry = Registry(repo)
    build_base(registry)
    return registry


def with_remote_tracking_main(repo: Path) -> None:
    git(repo, "update-ref", "refs/remotes/origin/main", "main")


# (id, refs the attacker adds: name -> "attack" or "base", the short name read, words of the error)
AMBIGUOUS = [
    ("tag-named-like-the-branch", {"refs/tags/main": "attack"}, "main", "ambiguous"),
    (
        "tag-named-like-the-remote-branch",
        {"refs/tags/origin/main": "attack"},
        "origin/main",
        "ambiguous",
    ),
    (
        "branch-named-like-the-remote-branch",
        {"refs/heads/origin/main": "attack"},
        "origin/main",
        "ambiguous",
    ),
    (
        "branch-named-heads-slash-main",
        {"refs/heads/heads/main": "attack"},
        "heads/main",
        "ambiguous",
    ),
    ("ref-directly-under-refs", {"refs/main": "attack"}, "main", "ambiguous"),
    ("tag-only-no-branch", {"refs/tags/live": "attack"}, "live", "names a tag"),
    ("tags-prefix-short-name", {"refs/tags/live": "attack"}, "tags/live", "names a tag"),
    ("pull-request-ref", {"refs/pull/1/head": "attack"}, "pull/1/head", "names the ref"),
]


def add_refs(repo: Path, refs: dict[str, str], attack: str) -> None:
    with_remote_tracking_main(repo)
    for name, target in refs.items():
        git(repo, "update-ref", name, attack if target == "attack" else "base")


@pytest.mark.parametrize(
    ("refs", "name", "words"),
    [pytest.param(r, n, w, id=case) for case, r, n, w in AMBIGUOUS],
)
def test_read_api_never_follows_a_pushed_ref(
    reg: Registry, refs: dict[str, str], name: str, words: str
) -> None:
    add_refs(reg.path, refs, attacker_commit(reg.path))
    with pytest.raises(RepositoryError, match=words) as refused:
        Reader.open(reg.path, ref=name)
    assert refused.value.hint.startswith(("give the full name", "if you mean it"))


@pytest.mark.parametrize(
    ("refs", "name", "words"),
    [pytest.param(r, n, w, id=case) for case, r, n, w in AMBIGUOUS],
)
def test_check_base_never_compares_with_a_pushed_ref(
    reg: Registry, refs: dict[str, str], name: str, words: str
) -> None:
    add_refs(reg.path, refs, attacker_commit(reg.path))
    verdict = check_base(reg.path, name)
    assert verdict.status == 2
    assert words in verdict.stderr and "hint:" in verdict.stderr
    assert verdict.report == {}


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(("export", "--ref", "main"), id="export"),
        pytest.param(("show", "greeting", "--ref", "main"), id="show"),
        pytest.param(("history", "greeting", "--ref", "main"), id="history"),
        pytest.param(("versions", "greeting", "--ref", "main"), id="versions"),
        pytest.param(("render", "greeting", "--var", "name=A", "--ref", "main"), id="render"),
        pytest.param(("check", "--ref", "main"), id="check-ref"),
        pytest.param(("check", "--base", "base", "--ref", "main"), id="check-base-ref"),
    ],
)
def test_every_command_refuses_a_tag_shadowing_the_branch(
    reg: Registry, command: tuple[str, ...]
) -> None:
    git(reg.path, "tag", "main", attacker_commit(reg.path))
    status, out, err = run_main(reg.path, *command)
    assert status in (1, 2)
    assert "Pwned" not in out
    assert "ambiguous" in err and "refs/heads/main" in err and "Traceback" not in err


EXPRESSIONS = [
    "HEAD~1",
    "main^",
    "main@{1}",
    "@{-1}",
    ":/greeting",
    "main..base",
    "@",
    "main:prompts",
]


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_revision_expressions_are_refused_with_a_hint(reg: Registry, expression: str) -> None:
    with pytest.raises(RepositoryError, match="promptship reads no revision expressions") as err:
        Reader.open(reg.path, ref=expression)
    assert "git rev-parse" in err.value.hint


def test_a_branch_named_like_a_short_commit_id_is_ambiguous(reg: Registry) -> None:
    short = git(reg.path, "rev-parse", "--short=12", "base~1").strip()
    git(reg.path, "branch", short, attacker_commit(reg.path))
    with pytest.raises(RepositoryError, match="ambiguous"):
        Reader.open(reg.path, ref=short)


def test_accepted_names_read_what_they_say(reg: Registry) -> None:
    repo = reg.path
    attack = attacker_commit(repo)
    with_remote_tracking_main(repo)
    git(repo, "tag", "live", attack)
    base = git(repo, "rev-parse", "base").strip()
    for name in ("main", "refs/heads/main", "origin/main", "refs/remotes/origin/main", "HEAD"):
        assert Reader.open(repo, ref=name).commit == base, name
    assert Reader.open(repo, ref=base[:10]).commit == base
    assert Reader.open(repo, ref="heads/main").commit == base
    # A tag is read when it is named in full: that cannot be taken for anything else.
    assert Reader.open(repo, ref="refs/tags/live").commit == attack


def test_fetch_head_and_other_special_names_are_refused(reg: Registry) -> None:
    (reg.path / ".git" / "FETCH_HEAD").write_text(git(reg.path, "rev-parse", "base"))
    with pytest.raises(RepositoryError, match="no branch or remote-tracking branch") as err:
        Reader.open(reg.path, ref="FETCH_HEAD")
    assert "HEAD, a branch (main)" in err.value.hint


REFSPEC = re.compile(r"\+?([\w/.-]+):([\w/.-]+)")
FETCH = re.compile(r"\bfetch\b[^\n`]*\borigin\b[^)`]{0,200}")


def test_documented_fetch_commands_use_fully_qualified_refspecs() -> None:
    """A fetch of 'main' into a short name lets a tag of that name stand in for the branch;
    every fetch the docs and workflows give says refs/heads/... and where it goes."""
    files = [
        ROOT / "README.md",
        *sorted((ROOT / "docs").glob("*.md")),
        ROOT / "registry" / "scaffold_files" / "prompts.yml",
        ROOT / ".github" / "workflows" / "prompts.yml",
        ROOT / "action.yml",
    ]
    found = []
    for file in files:
        for command in FETCH.findall(file.read_text(encoding="utf-8")):
            if "--unshallow" in command or "fetch-depth" in command:
                continue
            refspecs = REFSPEC.findall(command)
            found.append(command)
            assert refspecs, (file, command)
            for source, target in refspecs:
                assert source.startswith("refs/heads/"), (file, command)
                assert target.startswith(("refs/remotes/", "refs/heads/")), (file, command)
    assert found  # the consumer guide shows how to keep a mirror fresh
