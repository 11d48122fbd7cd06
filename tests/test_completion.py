"""Shell completion as a shell asks for it: promptship run as a program with click's completion
variables, in a real registry; names, then versions; nothing, and no traceback, where the
repository is broken."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pygit2
import pytest

from helpers.cli import promptship
from helpers.gitrepo import git
from helpers.registry_repo import Registry, build_base

NAMES = ["faq", "greeting", "notes"]


@pytest.fixture
def registry(repo: Path) -> Path:
    """greeting v1-v4 (v2 in production), faq v1 (in production), notes v1 (a draft)."""
    build_base(Registry(repo))
    return repo


def complete(cwd: Path, line: str, shell: str = "bash") -> list[str]:
    """What promptship offers for the last word of ``line`` (an empty last word after a
    trailing space), as the completion script of ``shell`` asks for it."""
    words = line.split(" ")
    done = promptship(
        cwd,
        env={
            "_PROMPTSHIP_COMPLETE": f"{shell}_complete",
            "COMP_WORDS": line,
            # fish passes the word being completed; bash and zsh its index.
            "COMP_CWORD": words[-1] if shell == "fish" else str(len(words) - 1),
        },
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    rows = [row for row in done.stdout.splitlines() if row]
    if shell == "zsh":  # type, value and help, a line each
        return rows[1::3]
    return [row.split(",", 1)[1] for row in rows]  # bash and fish: "type,value" a line


@pytest.mark.parametrize(
    "command",
    [
        "show",
        "render",
        "test",
        "run",
        "versions",
        "history",
        "runs",
        "promote",
        "edit",
        "archive",
        "unarchive",
        "new-version",
        "update",
        "delete",
    ],
)
def test_prompt_names_complete_for_every_command_that_takes_one(
    registry: Path, command: str
) -> None:
    assert complete(registry, f"promptship {command} ") == NAMES
    assert complete(registry, f"promptship {command} g") == ["greeting"]
    assert complete(registry, f"promptship {command} x") == []


def test_versions_and_labels_complete_after_a_name(registry: Path) -> None:
    greeting = ["greeting@1", "greeting@2", "greeting@3", "greeting@4"]
    assert complete(registry, "promptship show greeting@") == [
        *greeting,
        "greeting@latest",
        "greeting@production",
    ]
    assert complete(registry, "promptship render greeting@p") == ["greeting@production"]
    # A name typed in full goes on to its versions; a draft-only prompt has no production.
    assert complete(registry, "promptship show notes") == ["notes@1", "notes@latest"]
    assert complete(registry, "promptship run faq@") == ["faq@1", "faq@latest", "faq@production"]
    assert complete(registry, "promptship show nobody@") == []


@pytest.mark.parametrize("command", ["promote", "edit", "archive", "unarchive"])
def test_version_numbers_complete_after_the_name_of_a_changing_command(
    registry: Path, command: str
) -> None:
    assert complete(registry, f"promptship {command} greeting ") == ["1", "2", "3", "4"]
    assert complete(registry, f"promptship {command} faq ") == ["1"]
    assert complete(registry, f"promptship {command} greeting v3") == ["3"]
    assert complete(registry, f"promptship {command} nobody ") == []


def test_a_new_prompts_name_is_not_completed(registry: Path) -> None:
    assert complete(registry, "promptship create ") == []


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_each_shell_gets_the_names_in_its_format(registry: Path, shell: str) -> None:
    assert complete(registry, "promptship show ", shell) == NAMES


def test_repo_and_ref_say_where_names_come_from(registry: Path, tmp_path: Path) -> None:
    git(registry, "tag", "before")
    Registry(registry).ps("create", "welcome", "--content", "Hi {{ name }}")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert complete(elsewhere, "promptship show ") == []
    assert complete(elsewhere, f"promptship --repo {registry} show w") == ["welcome"]
    assert complete(registry, "promptship show --ref before w") == []
    assert complete(registry, "promptship versions --ref before ") == NAMES


def test_a_bare_repository_completes_from_its_head(registry: Path, tmp_path: Path) -> None:
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(registry), str(bare))
    assert complete(tmp_path, f"promptship --repo {bare} history ") == NAMES


def corrupt(path: Path, oid: str) -> None:
    """Overwrite the loose object ``oid`` with bytes that do not inflate."""
    loose = path / ".git/objects" / oid[:2] / oid[2:]
    loose.chmod(0o644)
    loose.write_bytes(b"not a zlib stream")


@pytest.mark.parametrize("damage", ["prompts tree", "versions tree", "head commit", "no commit"])
def test_a_broken_repository_offers_nothing_and_prints_no_traceback(
    repo: Path, damage: str
) -> None:
    if damage != "no commit":
        build_base(Registry(repo))
        tree = pygit2.Repository(str(repo)).head.peel(pygit2.Commit).tree
        target = {
            "prompts tree": lambda: tree["prompts"].id,
            "versions tree": lambda: tree["prompts/greeting/versions"].id,
            "head commit": lambda: pygit2.Repository(str(repo)).head.target,
        }[damage]()
        corrupt(repo, str(target))
    assert complete(repo, "promptship show greeting@") == []
    if damage != "versions tree":
        assert complete(repo, "promptship show ") == []
        assert complete(repo, "promptship history g") == []


def test_completion_outside_any_repository_offers_nothing(tmp_path: Path) -> None:
    assert complete(tmp_path, "promptship show ") == []
    assert complete(tmp_path, "promptship --repo /no/such/place show ") == []


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_the_bash_script_fills_compreply(registry: Path) -> None:
    """The script 'eval "$(_PROMPTSHIP_COMPLETE=bash_source promptship)"' installs, run by bash
    as it runs it on Tab."""
    scripts = Path(sys.executable).parent
    assert (scripts / "promptship").exists() or shutil.which("promptship", path=str(scripts))
    script = (
        'eval "$(_PROMPTSHIP_COMPLETE=bash_source promptship)"\n'
        "COMP_WORDS=(promptship show greeting@p); COMP_CWORD=2\n"
        "_promptship_completion promptship\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    env = {**os.environ, "PATH": f"{scripts}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", "-c", script], cwd=registry, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "greeting@production\n"
