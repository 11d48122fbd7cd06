"""Class 7, what lives outside prompts/ but changes it: a .gitattributes line that makes git
write registry files otherwise than committed (a filter, ident, CRLF line ends, another
encoding, archive rewrites) is refused, in the check of a change and of a tree; lines that only
change how git shows or merges files pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.attack import check_base, commit_on
from helpers.cli import run_main
from helpers.gitrepo import git
from helpers.registry_repo import Registry, build_base

SCAFFOLD = "prompts/** text eol=lf\n"

REFUSED = [
    ("lfs-filter-on-prompts", "prompts/** filter=lfs diff=lfs merge=lfs -text"),
    ("filter-on-everything", "* filter=rewrite"),
    ("filter-on-yaml-files", "*.yaml filter=rewrite"),
    ("ident-on-version-files", "prompts/*/versions/*.yaml ident"),
    ("ident-on-one-version-by-name", "7.yaml ident"),
    ("ident-on-numbered-files", "[0-9]*.yaml ident"),
    ("ident-on-history-by-name", "history.yaml ident"),
    ("crlf-line-ends", "prompts/** eol=crlf"),
    ("crlf-with-text", "* text eol=crlf"),
    ("utf16-in-work-tree", "prompts/** working-tree-encoding=UTF-16"),
    ("archive-substitution", "prompts/** export-subst"),
    ("archive-leaves-out", "prompts/*/production.yaml export-ignore"),
    ("macro-hiding-a-filter", "[attr]nice filter=rewrite\nprompts/** nice"),
    ("macro-of-a-macro", "[attr]inner ident\n[attr]outer inner\n*.yaml outer"),
    ("quoted-pattern", '"prompts/**" ident'),
    ("upper-case-folder", "PROMPTS/** filter=rewrite"),
    ("glob-for-the-folder", "p*/** filter=rewrite"),
    ("double-star-prefix", "**/versions/* ident"),
    ("anchored-folder", "/prompts/** ident"),
    ("second-line-after-a-harmless-one", SCAFFOLD + "prompts/** ident"),
]

HARMLESS = [
    ("the-scaffolded-line", SCAFFOLD),
    ("text-auto-everywhere", "* text=auto"),
    ("crlf-for-batch-files", "*.bat eol=crlf"),
    ("lfs-for-images", "*.png filter=lfs diff=lfs merge=lfs -text"),
    ("filter-outside-prompts", "docs/** filter=rewrite"),
    ("linguist-and-diff", "prompts/** linguist-generated -diff merge=union"),
    ("binary-macro", "prompts/** binary"),
    ("unset-filter", "prompts/** -filter !ident"),
    ("folder-only-pattern", "prompts/ filter=rewrite"),
    ("comment", "# prompts/** filter=rewrite"),
]


def attributes_change(repo: Path, text: str) -> str:
    build_base(Registry(repo))
    git(repo, "branch", "attack", "base")
    return commit_on(repo, "attack", {".gitattributes": text + "\n"}, message="attributes")


@pytest.mark.parametrize("text", [pytest.param(t, id=case) for case, t in REFUSED])
def test_attributes_that_touch_prompts_are_refused(repo: Path, text: str) -> None:
    head = attributes_change(repo, text)

    verdict = check_base(repo, "base", head=head)

    assert verdict.status == 1, verdict.stderr
    assert verdict.rules == {"attributes"}
    (problem,) = verdict.report["violations"]
    assert problem["file"] == ".gitattributes"
    assert problem["line"] == len(text.splitlines())
    # The whole tree's check refuses it too (CI after a push to main).
    status, out, _ = run_main(repo, "check", "--format", "json")
    assert status == 1 and '"attributes"' in out


@pytest.mark.parametrize("text", [pytest.param(t, id=case) for case, t in HARMLESS])
def test_attributes_that_leave_prompts_alone_pass(repo: Path, text: str) -> None:
    head = attributes_change(repo, text)
    verdict = check_base(repo, "base", head=head)
    assert (verdict.status, verdict.rules) == (0, set()), verdict.report


def test_a_symlinked_attributes_file_is_refused(repo: Path) -> None:
    build_base(Registry(repo))
    git(repo, "branch", "attack", "base")
    head = commit_on(repo, "attack", {".gitattributes": "docs/attrs"}, mode="120000")
    verdict = check_base(repo, "base", head=head)
    assert (verdict.status, verdict.rules) == (1, {"attributes"})


@pytest.mark.parametrize(
    ("path", "rule"),
    [
        pytest.param("prompts/.gitattributes", "layout", id="in-prompts"),
        pytest.param("prompts/greeting/.gitattributes", "layout", id="in-a-prompt"),
        pytest.param("prompts/greeting/versions/.gitattributes", "layout", id="in-versions"),
    ],
)
def test_attributes_inside_prompts_are_stray_files(repo: Path, path: str, rule: str) -> None:
    build_base(Registry(repo))
    git(repo, "branch", "attack", "base")
    head = commit_on(repo, "attack", {path: "* filter=rewrite\n"})
    verdict = check_base(repo, "base", head=head)
    assert (verdict.status, verdict.rules) == (1, {rule})


def test_an_attributes_file_the_change_leaves_alone_is_not_its_problem(repo: Path) -> None:
    """The base already had the line: the check of the whole tree reports it, not a change that
    does not touch it."""
    build_base(Registry(repo))
    git(repo, "checkout", "-q", "base")
    (repo / ".gitattributes").write_text("* ident\n")
    git(repo, "add", ".gitattributes")
    git(repo, "commit", "-q", "-m", "attributes on the base")
    git(repo, "branch", "-f", "main")
    git(repo, "checkout", "-q", "main")
    git(repo, "branch", "attack", "main")
    head = commit_on(repo, "attack", {"README.md": "hello\n"})
    verdict = check_base(repo, "main", head=head)
    assert (verdict.status, verdict.rules) == (0, set())
