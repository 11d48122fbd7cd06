"""``promptship check`` as people, CI and pre-commit run it: formats, exit statuses, the work
tree, bare repositories, parallel checking and reports that untrusted names cannot subvert."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from helpers.cli import promptship, run_main
from helpers.gitrepo import git
from helpers.registry_repo import Registry, build_base
from registry.check import pool as checkpool
from registry.check.pool import TreeSource, check_registry

G = "prompts/greeting"


@pytest.fixture
def reg(repo: Path) -> Registry:
    registry = Registry(repo)
    build_base(registry)
    return registry


def test_a_sound_registry_prints_one_summary_line(reg: Registry) -> None:
    status, out, err = run_main(reg.path, "check")
    assert status == 0
    assert out == "ok: 3 prompts checked, no problems\n"
    assert err == ""


def test_each_violation_is_one_line_with_file_rule_and_fix(reg: Registry) -> None:
    reg.replace(f"{G}/versions/3.yaml", "status: draft", "status: published")
    reg.write("prompts/stray.txt", "x")
    status, out, _ = run_main(reg.path, "check")
    lines = out.splitlines()
    assert status == 1
    assert len(lines) == 3
    assert lines[0].startswith("prompts/greeting/versions/: v2, v3 are all published")
    assert "(rule: at most one version of a prompt is published)" in lines[0]
    assert "to fix: promote with 'promptship promote'" in lines[0]
    assert lines[1].startswith("prompts/stray.txt: ")
    assert lines[2] == "2 problems in 2 files (3 prompts checked)"


def test_the_work_tree_is_checked_before_anything_is_committed(reg: Registry) -> None:
    reg.write("prompts/notes/versions/1.yaml", "version: 1\nstatus: [\n")
    assert run_main(reg.path, "check")[0] == 1
    assert run_main(reg.path, "check", "--ref", "HEAD")[0] == 0


def test_files_git_ignores_are_not_stray_unless_tracked(reg: Registry) -> None:
    reg.write(".gitignore", ".DS_Store\n__pycache__/\n*.swp\n")
    reg.write(f"{G}/.DS_Store", "x")
    reg.write(f"{G}/versions/.3.yaml.swp", "x")
    reg.write(f"{G}/__pycache__/a.pyc", "x")
    assert run_main(reg.path, "check")[:2] == (0, "ok: 3 prompts checked, no problems\n")
    reg.git("add", "-f", f"{G}/.DS_Store")
    status, out, _ = run_main(reg.path, "check")
    assert status == 1
    assert out.startswith(f"{G}/.DS_Store: ")


def test_ignored_files_in_the_format_are_not_checked_either(reg: Registry) -> None:
    reg.write(".gitignore", "prompts/wip/\nprompts/greeting/tests.yaml\n")
    reg.write("prompts/wip/prompt.yaml", "name: other\n")
    reg.write(f"{G}/tests.yaml", "not a list\n")
    assert run_main(reg.path, "check")[:2] == (0, "ok: 3 prompts checked, no problems\n")
    reg.git("add", "-f", f"{G}/tests.yaml")
    status, out, _ = run_main(reg.path, "check")
    assert status == 1 and out.startswith(f"{G}/tests.yaml: ")


def test_json_lists_violations_and_promotions(reg: Registry) -> None:
    reg.ps("promote", "greeting", "3", "--notes", "Shorter", "--yes")
    reg.replace("prompts/notes/versions/1.yaml", "version: 1", "version: 1\nextra: 1")
    reg.commit()
    status, out, _ = run_main(reg.path, "check", "--base", "base", "--format", "json")
    report = json.loads(out)
    assert status == 1
    assert report["ok"] is False
    assert report["base"] == reg.git("rev-parse", "base").strip()
    assert report["head"] == reg.head()
    assert report["commits"] == 2
    assert report["prompts_checked"] == 2
    [violation] = report["violations"]
    assert violation | {"message": "", "hint": ""} == {
        "file": "prompts/notes/versions/1.yaml",
        "line": 2,
        "rule": "schema",
        "rule_text": "every file matches its schema",
        "message": "",
        "hint": "",
    }
    assert report["promotions"] == [
        {
            "prompt": "greeting",
            "from": 2,
            "to": 3,
            "by": "Alice Example <alice@example.com>",
            "at": report["promotions"][0]["at"],
            "notes": "Shorter",
            "tests_skipped": False,
        }
    ]


def test_github_format_annotates_and_writes_the_job_summary(
    reg: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier steps\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    reg.ps("promote", "greeting", "3", "--notes", "Shorter | <b>bold</b>", "--yes")
    reg.replace(f"{G}/versions/1.yaml", "Hello", "Howdy")
    reg.commit("edit v1")
    status, out, _ = run_main(reg.path, "check", "--base", "base", "--format", "github")
    assert status == 1
    annotations = [line for line in out.splitlines() if line.startswith("::error ")]
    assert len(annotations) == 1
    assert annotations[0].startswith(f"::error file={G}/versions/1.yaml,title=a version that")
    assert "::v1's content changed" in annotations[0]
    text = summary.read_text()
    assert text.startswith("earlier steps\n## promptship check\n")
    assert "**Failed**" in text
    assert "| greeting | v2 | v3 | Alice Example &lt;alice@example\\.com\\> |" in text
    assert "Shorter \\| &lt;b\\>bold&lt;/b\\>" in text
    assert "### Problems" in text


def test_an_unwritable_job_summary_is_a_clear_refusal(
    reg: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "missing" / "summary.md"))
    status, _, err = run_main(reg.path, "check", "--format", "github")
    assert status == 1
    assert err.startswith("error: cannot write the job summary") and "hint:" in err


def test_github_format_without_a_summary_file_only_prints(
    reg: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    status, out, _ = run_main(reg.path, "check", "--format", "github")
    assert (status, out) == (0, "ok: 3 prompts checked, no problems\n")


def test_a_file_name_cannot_inject_workflow_commands(reg: Registry) -> None:
    evil = "x\n::warning::pwned\r%0A"
    reg.write(f"prompts/{evil}", "x")
    status, out, _ = run_main(reg.path, "check", "--format", "github")
    assert status == 1
    lines = out.splitlines()
    assert [line[:8] for line in lines if line.startswith("::")] == ["::error "]
    assert "file=prompts/x%0A%3A%3Awarning%3A%3Apwned%0D%250A," in lines[0]
    status, out, _ = run_main(reg.path, "check")
    assert "prompts/x\\u000a::warning::pwned\\u000d%0A: " in out


def test_the_real_command_line(reg: Registry) -> None:
    reg.ps("promote", "greeting", "3", "--yes")
    done = promptship(reg.path, "check", "--base", "base")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok: 1 changed prompt in 1 commit since ")
    assert "greeting v2 -> v3" in done.stdout
    bad = promptship(reg.path, "check", "--base", "nowhere")
    assert bad.returncode == 2
    assert bad.stderr.startswith(
        "error: the base 'nowhere' cannot be read: there is no branch or remote-tracking branch "
        "of that name\n"
    )
    assert "Traceback" not in bad.stderr


def test_a_bare_repository_is_checked_at_head(reg: Registry, tmp_path: Path) -> None:
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(reg.path), str(bare))
    assert run_main(bare, "check")[:2] == (0, "ok: 3 prompts checked, no problems\n")
    reg.ps("promote", "greeting", "3", "--yes")
    git(reg.path, "push", "-q", str(bare), "main")
    status, out, _ = run_main(bare, "check", "--base", "base")
    assert status == 0, out
    assert "greeting v2 -> v3" in out


def test_an_unborn_branch_has_nothing_to_check(repo: Path, tmp_path: Path) -> None:
    assert run_main(repo, "check")[:2] == (0, "ok: 0 prompts checked, no problems\n")
    bare = tmp_path / "empty.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    assert run_main(bare, "check")[:2] == (0, "ok: 0 prompts checked, no problems\n")
    for args in (["--ref", "HEAD"], ["--base", "main"]):
        status, _, err = run_main(repo, "check", *args)
        assert status == 2
        assert "error: this repository has no commits yet: there is no change to check" in err
        assert "git fetch" not in err


def test_parallel_checking_finds_what_one_process_finds(
    reg: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(6):
        shutil.copytree(reg.path / G, reg.path / f"prompts/copy-{i}")
        reg.replace(f"prompts/copy-{i}/prompt.yaml", "name: greeting", f"name: copy-{i}")
        reg.replace(f"prompts/copy-{i}/production.yaml", "prompt: greeting", f"prompt: copy-{i}")
    reg.replace("prompts/copy-1/versions/3.yaml", "version: 3", "version: 30")
    reg.write("prompts/copy-4/stray", "x")
    reg.replace("prompts/copy-5/history.yaml", '"previous_version": 1', '"previous_version": 3')
    source = TreeSource(folder=str(reg.path))
    alone = check_registry(source, jobs=1)
    monkeypatch.setattr(checkpool, "PROMPTS_PER_JOB", 2)
    together = check_registry(source, jobs=2)
    assert together == alone
    assert len(alone.problems) == 3
    assert alone.prompts == 9
    status, out, _ = run_main(reg.path, "check", "--jobs", "2")
    assert status == 1
    assert out.count("\n") == 4


@pytest.mark.parametrize("bad", [("--jobs", "0"), ("--format", "xml")])
def test_unusable_options_exit_2(reg: Registry, bad: tuple[str, ...]) -> None:
    assert run_main(reg.path, "check", *bad)[0] == 2


@pytest.mark.parametrize("fmt", ["text", "json", "github"])
def test_a_file_name_that_is_not_utf8_is_reported_in_every_format(reg: Registry, fmt: str) -> None:
    with open(bytes(reg.path) + b"/prompts/notes/versions/\xff.yaml", "wb") as handle:
        handle.write(b"x")
    reg.commit("a name git allows")
    for args in ((), ("--ref", "HEAD"), ("--base", "base")):
        status, out, err = run_main(reg.path, "check", *args, "--format", fmt)
        assert (status, err) == (1, ""), (args, out, err)
        assert "prompts/notes/versions/\\udcff.yaml" in out
