"""``promptship init`` and the JSON Schemas of the registry's files: the schemas accept every
file promptship writes and refuse the broken ones, and editors can point at them."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from helpers.cli import run_main
from helpers.gitrepo import changed_files, git, head
from helpers.registry_repo import Registry, build_base
from registry.scaffold import SCHEMAS, YAMLLINT_CONFIGS, YAMLLINT_IGNORED


def schema(kind: str) -> Draft202012Validator:
    data = json.loads((resources.files("registry") / "schemas" / f"{kind}.schema.json").read_text())
    Draft202012Validator.check_schema(data)
    return Draft202012Validator(data)


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def kind_of(path: Path) -> str:
    if path.parent.name == "versions":
        return "version"
    return {"prompt.yaml": "prompt", "production.yaml": "pointer", "history.yaml": "history"}[
        path.name
    ]


def test_every_file_promptship_writes_matches_its_schema(repo: Path, tmp_path: Path) -> None:
    registry = Registry(repo)
    build_base(registry)
    chat = tmp_path / "chat.yaml"
    chat.write_text(
        "- {role: system, content: 'You help {{ who }}'}\n- {role: user, content: hi}\n"
    )
    registry.ps("create", "helper", "--type", "chat", "--file", str(chat), "--tag", "support")
    registry.ps("promote", "helper", "1", "--yes")
    files = sorted((repo / "prompts").rglob("*.yaml"))
    assert {kind_of(f) for f in files} == set(SCHEMAS)
    for file in files:
        errors = list(schema(kind_of(file)).iter_errors(load(file)))
        assert errors == [], (file, errors)


VERSION = {
    "version": 1,
    "status": "draft",
    "type": "text",
    "content": "Hi {{ name }}",
    "metadata": {},
    "created_at": "2026-11-29T10:00:00Z",
    "created_by": "Alice Example <alice@example.com>",
}


@pytest.mark.parametrize(
    ("kind", "document"),
    [
        ("version", {**VERSION, "status": "live"}),
        ("version", {**VERSION, "colour": "red"}),
        ("version", {k: v for k, v in VERSION.items() if k != "content"}),
        ("version", {**VERSION, "messages": [{"role": "user", "content": "x"}]}),
        ("version", {**VERSION, "created_at": "2026-11-29 10:00"}),
        ("version", {**VERSION, "created_by": "alice"}),
        ("version", {**VERSION, "type": "chat", "messages": [{"role": "robot", "content": "x"}]}),
        ("prompt", {"name": "Greeting"}),
        ("prompt", {"name": "greeting", "tags": ["Bad Tag"]}),
        (
            "pointer",
            {
                "prompt": "g",
                "version": 1,
                "digest": "md5:00",
                "promoted_at": "2026-11-29T10:00:00Z",
                "promoted_by": "A <a@b.c>",
            },
        ),
        (
            "history",
            [
                {
                    "version": 1,
                    "previous_version": 0,
                    "promoted_by": "A <a@b.c>",
                    "promoted_at": "2026-11-29T10:00:00Z",
                    "notes": "",
                }
            ],
        ),
        (
            "history",
            [
                {
                    "version": 1,
                    "promoted_by": "A <a@b.c>",
                    "promoted_at": "2026-11-29T10:00:00Z",
                    "notes": "",
                }
            ],
        ),
    ],
)
def test_the_schemas_refuse_what_the_check_refuses(kind: str, document: Any) -> None:
    assert list(schema(kind).iter_errors(document))


def test_init_lays_out_ci_review_and_schemas_in_one_commit(repo: Path) -> None:
    git(repo, "commit", "-q", "--allow-empty", "-m", "start")
    status, _, err = run_main(
        repo, "init", "--owner", "@acme/prompt-owners", "--owner", "lead@example.com"
    )
    assert status == 0, err
    assert changed_files(repo) == [
        ".gitattributes",
        ".github/CODEOWNERS",
        ".github/workflows/prompts.yml",
        ".promptship/schemas/history.schema.json",
        ".promptship/schemas/pointer.schema.json",
        ".promptship/schemas/prompt.schema.json",
        ".promptship/schemas/version.schema.json",
        ".yamllint",
    ]
    owners = (repo / ".github/CODEOWNERS").read_text().splitlines()
    assert "prompts/*/production.yaml @acme/prompt-owners lead@example.com" in owners
    assert "prompts/** text eol=lf" in (repo / ".gitattributes").read_text()
    for kind in SCHEMAS:
        name = f"{kind}.schema.json"
        shipped = (resources.files("registry") / "schemas" / name).read_bytes()
        assert (repo / ".promptship/schemas" / name).read_bytes() == shipped
    assert git(repo, "status", "--porcelain") == ""


def test_init_without_owners_suggests_the_review_line(repo: Path) -> None:
    assert run_main(repo, "init")[0] == 0
    text = (repo / ".github/CODEOWNERS").read_text()
    assert "# prompts/*/production.yaml @your-org/prompt-owners" in text
    assert not [line for line in text.splitlines() if line and not line.startswith("#")]


@pytest.mark.parametrize("owner", ["acme", "@", "@acme/", "two words"])
def test_init_refuses_an_owner_it_cannot_write(repo: Path, owner: str) -> None:
    status, _, err = run_main(repo, "init", "--owner", owner)
    assert status == 1
    assert "is not a code owner" in err
    assert git(repo, "rev-list", "--all") == ""


def test_init_keeps_existing_files_unless_forced(repo: Path) -> None:
    assert run_main(repo, "init")[0] == 0
    first = head(repo)
    status, _, err = run_main(repo, "init")
    assert status == 1 and "already present" in err
    assert head(repo) == first
    assert run_main(repo, "init", "--force", "--owner", "@me")[0] == 0
    assert "prompts/*/production.yaml @me" in (repo / ".github/CODEOWNERS").read_text()


def test_a_schema_comment_added_by_hand_survives_status_changes(repo: Path) -> None:
    """promptship writes no such comment itself; one a person adds stays through archive,
    unarchive and promote (they change one line), and the digest ignores it."""
    registry = Registry(repo)
    build_base(registry)
    path = "prompts/greeting/versions/3.yaml"
    comment = "# yaml-language-server: $schema=../../../.promptship/schemas/version.schema.json\n"
    registry.write(path, comment + registry.read(path))
    registry.commit("editor hint")
    for step in (
        ("archive", "greeting", "3"),
        ("unarchive", "greeting", "3"),
        ("promote", "greeting", "3", "--yes"),
    ):
        registry.ps(*step)
        assert registry.read(path).startswith(comment), step
    assert registry.rules() == set()


def yamllint(folder: Path, *config: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "yamllint", "--strict", "-f", "parsable", *config, "."],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )


def test_yamllint_with_the_settings_init_writes_passes_a_registry_the_cli_made(
    repo: Path, tmp_path: Path
) -> None:
    registry = Registry(repo)
    registry.ps("init", "--owner", "@acme/prompt-owners")
    build_base(registry)
    long_text = "A line far longer than eighty characters, as prompts have: " + "word " * 30
    registry.ps("create", "long", "--content", long_text + "\n\n\n\nFour blank lines above.")
    registry.ps("promote", "long", "1", "--notes", "Notes that run on and on " * 10, "--yes")
    chat = tmp_path / "chat.yaml"
    chat.write_text("- {role: system, content: 'Helpful to {{ who }}, in Français'}\n")
    registry.ps("create", "helper", "--type", "chat", "--file", str(chat), "--tag", "support")
    registry.ps("promote", "helper", "1", "--yes")
    # What a team adds by hand beside the registry stays judged by yamllint's defaults.
    registry.write("ops/deploy.yml", "---\nsteps:\n  - build\n  - ship\n")
    registry.commit("deploy settings")
    assert (repo / "prompts/long/history.yaml").read_text().count("\n") == 1

    done = yamllint(repo)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    # The same tree under yamllint's default settings fails: the settings are what keeps it green.
    (repo / ".yamllint").unlink()
    default = yamllint(repo)
    assert default.returncode == 1
    assert "prompts/long/history.yaml" in default.stdout
    assert ".github/workflows/prompts.yml" not in default.stdout
    # A file of the team's that breaks the default rules is still reported with the settings.
    git(repo, "checkout", "--", ".yamllint")
    registry.write("ops/deploy.yml", "steps:\n- build\n")
    assert "ops/deploy.yml" in yamllint(repo).stdout


@pytest.mark.parametrize("settings", YAMLLINT_CONFIGS)
def test_init_keeps_a_teams_yamllint_settings_and_says_what_to_ignore(
    repo: Path, settings: str
) -> None:
    mine = "---\nextends: relaxed\n"
    (repo / settings).write_text(mine)
    git(repo, "add", settings)
    git(repo, "commit", "-q", "-m", "lint settings")
    for forced in ((), ("--force",)):
        status, out, err = run_main(repo, "init", *forced)
        assert status == 0, err
        assert ".yamllint" not in changed_files(repo)
        assert (repo / settings).read_text() == mine
        assert "Your yamllint settings are kept" in out
        for pattern in YAMLLINT_IGNORED:
            assert pattern in out
