"""The layout keeps its promise: only the shell (registry/git/, registry/panel/, registry/web/)
runs git, starts processes or talks HTTP; the core, the check, the read API, the write API and the
command line reach them only through it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHELL = ("registry/git/", "registry/panel/", "registry/web/")
FORBIDDEN = frozenset({"pygit2", "subprocess", "httpx"})


def imported(source: str) -> set[str]:
    """Every module ``source`` imports, at the top or inside a function, absolute names only
    (a relative import stays inside promptship's own packages)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def forbidden_imports(source: str) -> set[str]:
    return {name for name in imported(source) if name.split(".")[0] in FORBIDDEN}


def test_nothing_outside_the_shell_imports_git_processes_or_http() -> None:
    modules = sorted([*ROOT.glob("registry/**/*.py"), *ROOT.glob("cli/**/*.py")])
    assert len(modules) > 50
    offenders = {
        rel: sorted(found)
        for path in modules
        if not (rel := path.relative_to(ROOT).as_posix()).startswith(SHELL)
        and (found := forbidden_imports(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("import subprocess\n", {"subprocess"}),
        ("def f():\n    import pygit2.enums as e\n", {"pygit2.enums"}),
        ("class C:\n    def m(self):\n        from httpx import Client\n", {"httpx"}),
        ("if True:\n    from pygit2 import Repository\n", {"pygit2"}),
        ("from .git import store\nimport os\nfrom registry import Editor\n", set()),
    ],
)
def test_the_scan_finds_imports_wherever_they_are(source: str, found: set[str]) -> None:
    assert forbidden_imports(source) == found
