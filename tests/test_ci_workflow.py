"""The repository's CI files, and the registry check as GitHub Actions runs it: a clone of the
pull request's merge commit, the base fetched, then the exact command of prompts.yml."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from helpers.gitrepo import git
from helpers.registry_repo import Registry, build_base
from registry.scaffold import workflow_text

ROOT = Path(__file__).resolve().parent.parent
PROMPTS_YML = ROOT / ".github/workflows/prompts.yml"
TESTS_YML = ROOT / ".github/workflows/tests.yml"


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    return workflow.get("on", workflow.get(True))  # type: ignore[no-any-return]  # YAML 1.1 reads 'on' as true


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    [job] = workflow["jobs"].values()
    return job["steps"]  # type: ignore[no-any-return]


def step_running(workflow: dict[str, Any], needle: str) -> dict[str, Any]:
    [found] = [s for s in steps(workflow) if needle in s.get("run", "")]
    return found


def evaluate(expression: str, context: dict[str, Any]) -> str:
    """A ``${{ a.b || c.d }}`` expression of the kind the workflows use, on an event payload."""

    def lookup(path: str) -> Any:
        value: Any = context
        for part in path.strip().split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value

    def replace(match: re.Match[str]) -> str:
        for alternative in match.group(1).split("||"):
            value = lookup(alternative)
            if value:
                return str(value)
        return ""

    return re.sub(r"\$\{\{(.*?)\}\}", replace, expression)


def run_step(
    step: dict[str, Any], cwd: Path, context: dict[str, Any]
) -> subprocess.CompletedProcess[str]:
    """A workflow step's shell command, with its env evaluated, and promptship on the PATH."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("GITHUB_STEP_SUMMARY", None)
    for key, value in step.get("env", {}).items():
        env[key] = evaluate(str(value), context)
    assert "${{" not in step["run"], "expressions belong in env:, not in the script"
    return subprocess.run(
        ["bash", "-e", "-c", step["run"]],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_tests_workflow_runs_the_readme_command_on_every_python() -> None:
    readme = (ROOT / "README.md").read_text()
    command = re.search(r"\*\*Run the tests:\*\*\s*```sh\n(.*?)\n```", readme, re.S)
    assert command is not None
    workflow = load(TESTS_YML)
    [job] = workflow["jobs"].values()
    assert job["strategy"]["matrix"]["python-version"] == ["3.10", "3.11", "3.12", "3.13"]
    assert step_running(workflow, "pytest")["run"] == command.group(1)
    assert workflow["permissions"] == {"contents": "read"}


def test_the_prompts_workflow_is_safe_for_untrusted_pull_requests() -> None:
    text = PROMPTS_YML.read_text()
    workflow = load(PROMPTS_YML)
    assert "pull_request_target" not in text
    assert set(triggers(workflow)) == {"pull_request", "merge_group", "push"}
    assert triggers(workflow)["push"] == {"branches": ["main"]}
    assert workflow["permissions"] == {"contents": "read"}
    checkout = next(s for s in steps(workflow) if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0
    assert checkout["with"]["persist-credentials"] is False
    assert step_running(workflow, "pip install")["run"] == "python -m pip install ."
    assert step_running(workflow, "--base")["if"] == "github.event_name != 'push'"
    checks = [s["run"] for s in steps(workflow) if "promptship check" in s.get("run", "")]
    assert len(checks) == 2
    assert all(run.endswith("--format github") for run in checks)


def test_the_repository_runs_the_workflow_init_writes() -> None:
    assert PROMPTS_YML.read_text() == workflow_text(".")
    assert 'pip install "promptship==' in workflow_text()


def test_the_action_is_a_composite_with_the_documented_inputs() -> None:
    action = load(ROOT / "action.yml")
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) == {"base", "path", "python-version"}
    for step in action["runs"]["steps"]:
        assert "${{" not in step.get("run", "")
    [check] = [s for s in action["runs"]["steps"] if "promptship check" in s.get("run", "")]
    assert check["working-directory"] == "${{ inputs.path }}"
    assert check["env"]["BASE"] == "${{ inputs.base }}"


@pytest.fixture
def origin(tmp_path: Path) -> tuple[Path, str, str]:
    """A hosted repository: main with a registry, and pull request 1 whose merge commit sits at
    refs/pull/1/merge as GitHub makes it. Returns the bare repository, the base and head ids."""
    work = tmp_path / "work"
    work.mkdir()
    git(work, "init", "-q", "-b", "main")
    registry = Registry(work)
    build_base(registry)
    git(work, "checkout", "-q", "-b", "feature")
    registry.ps("unarchive", "greeting", "1")
    registry.ps("promote", "greeting", "1", "--notes", "Roll back", "--yes")
    git(work, "checkout", "-q", "main")
    registry.ps("new-version", "notes", "--content", "Main moved on {{ thread }}")
    base = registry.head()
    git(work, "checkout", "-q", "--detach", "main")
    git(work, "merge", "-q", "--no-ff", "-m", "Merge pull request #1", "feature")
    merge = registry.head()
    bare = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(work), str(bare))
    git(bare, "update-ref", "refs/pull/1/merge", merge)
    return bare, base, merge


def checkout_pull_request(origin: Path, into: Path, depth: int | None) -> None:
    """What actions/checkout does for a pull_request event."""
    into.mkdir()
    git(into, "init", "-q")
    git(into, "remote", "add", "origin", f"file://{origin}")
    deepen = [f"--depth={depth}"] if depth else []
    git(
        into,
        "fetch",
        "-q",
        "--no-tags",
        *deepen,
        "origin",
        "+refs/pull/1/merge:refs/remotes/pull/1/merge",
    )
    git(into, "checkout", "-q", "--detach", "refs/remotes/pull/1/merge")


def pull_request_event(base: str) -> dict[str, Any]:
    return {
        "github": {"event_name": "pull_request", "event": {"pull_request": {"base": {"sha": base}}}}
    }


def test_a_shallow_checkout_is_told_to_fetch_then_passes(
    origin: tuple[Path, str, str], tmp_path: Path
) -> None:
    bare, base, _ = origin
    clone = tmp_path / "shallow"
    checkout_pull_request(bare, clone, depth=1)
    step = step_running(load(PROMPTS_YML), "--base")
    context = pull_request_event(base)

    first = run_step(step, clone, context)
    assert first.returncode == 2, first
    assert "shallow clone" in first.stderr
    assert "git fetch --unshallow origin" in first.stderr
    assert "fetch-depth: 0" in first.stderr

    git(clone, "fetch", "-q", "--unshallow", "origin")
    second = run_step(step, clone, context)
    assert second.returncode == 0, second
    assert second.stdout.startswith("ok: 1 changed prompt in 3 commits since ")
    assert "greeting v2 -> v1" in second.stdout


def test_a_full_checkout_passes_an_honest_pull_request_and_fails_a_tampered_one(
    origin: tuple[Path, str, str], tmp_path: Path
) -> None:
    bare, base, _ = origin
    clone = tmp_path / "full"
    checkout_pull_request(bare, clone, depth=None)
    workflow = load(PROMPTS_YML)
    context = pull_request_event(base)
    assert run_step(step_running(workflow, "--base"), clone, context).returncode == 0

    work = tmp_path / "work"
    git(work, "checkout", "-q", "feature")
    registry = Registry(work)
    registry.replace("prompts/greeting/versions/2.yaml", "welcome", "WELCOME")
    registry.commit("tweak the archived v2")
    git(work, "checkout", "-q", "--detach", "main")
    git(work, "merge", "-q", "--no-ff", "-m", "Merge pull request #1", "feature")
    git(work, "push", "-q", str(bare), "HEAD:refs/pull/1/merge", "--force")
    git(clone, "fetch", "-q", "origin", "+refs/pull/1/merge:refs/remotes/pull/1/merge")
    git(clone, "checkout", "-q", "--detach", "refs/remotes/pull/1/merge")
    failed = run_step(step_running(workflow, "--base"), clone, context)
    assert failed.returncode == 1
    assert failed.stdout.startswith("::error file=prompts/greeting/versions/2.yaml,")


def test_a_merge_group_and_a_push_run_their_steps(
    origin: tuple[Path, str, str], tmp_path: Path
) -> None:
    bare, base, merge = origin
    clone = tmp_path / "queue"
    checkout_pull_request(bare, clone, depth=None)
    workflow = load(PROMPTS_YML)
    group = {
        "github": {
            "event_name": "merge_group",
            "event": {"merge_group": {"base_sha": base, "head_sha": merge}},
        }
    }
    assert run_step(step_running(workflow, "--base"), clone, group).returncode == 0
    tree_check = step_running(workflow, "promptship check --format github")
    assert tree_check["if"] == "github.event_name == 'push'"
    done = run_step(tree_check, clone, {"github": {"event_name": "push"}})
    assert done.returncode == 0, done
    assert done.stdout == "ok: 3 prompts checked, no problems\n"


def test_the_pre_commit_hook_checks_the_files_about_to_be_committed(repo: Path) -> None:
    [hook] = load(ROOT / ".pre-commit-hooks.yaml")
    assert hook["id"] == "promptship-check"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False
    assert re.match(hook["files"], "prompts/greeting/versions/1.yaml")
    registry = Registry(repo)
    build_base(registry)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    entry = hook["entry"].split()

    def run_hook() -> int:
        return subprocess.run(entry, cwd=repo, env=env, capture_output=True, check=False).returncode

    assert run_hook() == 0
    registry.replace("prompts/greeting/versions/2.yaml", "status: published", "status: draft")
    git(repo, "add", "-A")
    assert run_hook() == 1
