"""The command line in process (CliRunner): every command, its JSON, and its refusals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.cli import Cli, run_main
from helpers.gitrepo import changed_files, files_under, git, head, status_clean, tree_files


def test_flow_create_edit_render_promote_history(cli: Cli, repo: Path) -> None:
    cli.ok(
        "create",
        "greeting",
        "--content",
        "Hello, {{name}}!",
        "--description",
        "Greets",
        "--tag",
        "onboarding",
    )
    cli.ok(
        "edit",
        "greeting",
        "1",
        "--content",
        "Hello, {{ name }}! Welcome to {{ app }}.",
        "--meta",
        "model=gpt-4o",
    )
    shown = json.loads(cli.ok("show", "greeting@latest", "--json").output)
    assert shown["variables"] == ["app", "name"]
    assert shown["metadata"] == {"model": "gpt-4o"}
    assert shown["is_production"] is False
    rendered = cli.ok("render", "greeting@1", "--var", "name=Ada", "--var", "app=Acme").output
    assert rendered == "Hello, Ada! Welcome to Acme.\n"
    cli.ok("promote", "greeting", "v1", "--notes", "Initial release", "--yes")
    assert json.loads(cli.ok("show", "greeting", "--json").output)["is_production"] is True
    (record,) = json.loads(cli.ok("history", "--json").output)
    assert record == {
        "prompt": "greeting",
        "version": 1,
        "previous_version": None,
        "promoted_by": "Alice Example <alice@example.com>",
        "promoted_at": record["promoted_at"],
        "notes": "Initial release",
    }
    assert status_clean(repo)
    assert git(repo, "log", "--format=%s").split("\n")[:3] == [
        "promote(greeting): v1",
        "edit(greeting): v1",
        "create(greeting): v1",
    ]


def test_versions_json_and_archived(sample: Cli) -> None:
    sample.ok("promote", "greeting", "2", "--yes")
    listed = json.loads(sample.ok("versions", "greeting", "--json").output)
    assert [(v["version"], v["status"]) for v in listed] == [(2, "published")]
    listed = json.loads(sample.ok("versions", "greeting", "--include-archived", "--json").output)
    assert [(v["version"], v["status"]) for v in listed] == [(1, "archived"), (2, "published")]
    assert set(listed[0]) == {"version", "status", "created_at", "created_by"}


def test_rollback_is_unarchive_then_promote(sample: Cli, repo: Path) -> None:
    sample.ok("promote", "greeting", "2", "--yes", "--notes", "v2")
    result = sample("promote", "greeting", "1", "--yes")
    assert result.exit_code == 1 and "unarchive it first" in result.output
    sample.ok("unarchive", "greeting", "1")
    sample.ok("promote", "greeting", "1", "--yes", "--notes", "Roll back")
    history = json.loads(sample.ok("history", "greeting", "--json", "--oldest-first").output)
    assert [(r["version"], r["previous_version"]) for r in history] == [(1, None), (2, 1), (1, 2)]
    assert (repo / "prompts/greeting/production.yaml").read_text().splitlines()[1] == "version: 1"
    assert "status: archived" in (repo / "prompts/greeting/versions/2.yaml").read_text()


def test_every_commit_has_at_most_one_published_version(sample: Cli, repo: Path) -> None:
    from registry.check.tree import check_tree
    from registry.git.store import GitStore

    sample.ok("promote", "greeting", "2", "--yes")
    sample.ok("unarchive", "greeting", "1")
    sample.ok("promote", "greeting", "1", "--yes")
    store = GitStore.open(repo)
    for commit in git(repo, "rev-list", "HEAD").split():
        snapshot = store.snapshot_at(commit)
        assert check_tree(snapshot) == [], commit
        published = [
            p
            for p in tree_files(repo, commit)
            if p.endswith(".yaml")
            and "versions/" in p
            and b"status: published" in (snapshot.read(p) or b"")
        ]
        assert len(published) <= 1


def test_list_filters_and_sorts(cli: Cli) -> None:
    cli.ok("create", "beta", "--description", "Second thing", "--tag", "x", "--tag", "y")
    cli.ok("create", "alpha", "--description", "First thing", "--tag", "x")
    cli.ok("create", "gamma", "--description", "Support reply")
    cli.ok("promote", "gamma", "1", "--yes")

    def names(*args: str) -> list[str]:
        return [row["name"] for row in json.loads(cli.ok("list", "--json", *args).output)]

    assert names() == ["alpha", "beta", "gamma"]
    assert names("--tag", "x") == ["alpha", "beta"]
    assert names("--tag", "x", "--tag", "y") == ["beta"]
    assert names("--search", "THING") == ["alpha", "beta"]
    assert names("--search", "gam") == ["gamma"]
    assert names("--production") == ["gamma"]
    assert names("--no-production") == ["alpha", "beta"]
    assert names("--sort", "changed")[0] == "gamma"
    row = json.loads(cli.ok("list", "--json").output)[2]
    assert (row["latest_version"], row["production_version"]) == (1, 1)


def test_update_changes_info_without_a_version(sample: Cli, repo: Path) -> None:
    sample.ok(
        "update",
        "greeting",
        "--description",
        "New words",
        "--tag",
        "email",
        "--untag",
        "onboarding",
    )
    assert changed_files(repo) == ["prompts/greeting/prompt.yaml"]
    assert json.loads(sample.ok("list", "--json").output)[0]["tags"] == ["email"]


def test_delete(sample: Cli, repo: Path) -> None:
    tip = head(repo)
    result = sample("delete", "greeting")
    assert result.exit_code == 1 and "will break" in result.output and "--force" in result.output
    assert head(repo) == tip
    sample.ok("delete", "greeting", "--force")
    assert not (repo / "prompts").exists()
    assert git(repo, "log", "-1", "--format=%s").strip() == "delete(greeting)"
    assert status_clean(repo)


def test_promote_without_a_terminal_needs_yes(sample: Cli, repo: Path) -> None:
    tip = head(repo)
    result = sample("promote", "greeting", "2")
    assert result.exit_code == 1
    assert "--yes" in result.output
    assert head(repo) == tip


def test_dry_run_shows_the_commit_and_writes_nothing(sample: Cli, repo: Path) -> None:
    tip = head(repo)
    before = files_under(repo)
    result = sample.ok("promote", "greeting", "2", "--notes", "Friendlier", "--dry-run")
    assert "promote(greeting): v1 -> v2" in result.output
    assert "-status: draft\n+status: published" in result.output
    assert '+- {"version": 2, "previous_version": 1' in result.output
    assert "Previous-Version: 1" in result.output
    assert head(repo) == tip and files_under(repo) == before


def test_chat_prompt_from_file(cli: Cli, tmp_path: Path) -> None:
    messages = tmp_path / "m.yaml"
    messages.write_text(
        "- role: system\n  content: You review {{ language }} code.\n- role: user\n  content: '{{ diff }}'\n"
    )
    cli.ok("create", "review", "--type", "chat", "--file", str(messages))
    shown = json.loads(cli.ok("show", "review@1", "--json").output)
    assert shown["messages"][0] == {"role": "system", "content": "You review {{ language }} code."}
    assert shown["variables"] == ["diff", "language"]
    out = json.loads(
        cli.ok("render", "review@1", "--var", "language=Go", "--var", "diff=+x", "--json").output
    )
    assert out["messages"] == [
        {"role": "system", "content": "You review Go code."},
        {"role": "user", "content": "+x"},
    ]


def test_render_vars_file_and_errors(sample: Cli, tmp_path: Path) -> None:
    values = tmp_path / "vars.yaml"
    values.write_text("name: Ada\napp_name: Acme\n")
    assert sample.ok(
        "render", "greeting", "--vars-file", str(values), "--var", "name=Lin"
    ).output.startswith("Hello, Lin!")
    result = sample("render", "greeting", "--var", "nme=Ada")
    assert result.exit_code == 1
    assert "missing variables: app_name, name; unknown variables: nme" in result.output


def test_history_filters(sample: Cli) -> None:
    sample.ok("promote", "greeting", "2", "--yes", "--by", "Bob Example <bob@example.com>")
    assert [
        r["version"] for r in json.loads(sample.ok("history", "--json", "--user", "bob").output)
    ] == [2]
    assert [r["version"] for r in json.loads(sample.ok("history", "--json").output)] == [2, 1]
    assert json.loads(sample.ok("history", "--json", "--until", "2000-01-01").output) == []
    assert len(json.loads(sample.ok("history", "--json", "--since", "2000-01-01").output)) == 2
    result = sample("history", "--since", "soon")
    assert result.exit_code == 1 and "not a date" in result.output


def test_init_twice_is_refused_and_writes_nothing(cli: Cli, repo: Path) -> None:
    cli.ok("init")
    tip = head(repo)
    result = cli("init")
    assert result.exit_code == 1 and "--force" in result.output
    assert head(repo) == tip and status_clean(repo)


def test_demo_in_a_given_folder(tmp_path: Path) -> None:
    target = tmp_path / "demo"
    status, out, err = run_main(tmp_path, "demo", str(target))
    assert status == 0, err
    assert "no problems" in out + err
    history = git(target, "log", "--format=%s")
    assert "promote(welcome-email): v2 -> v1" in history
    assert status_clean(target)
    status, _, err = run_main(tmp_path, "demo", str(target))
    assert status == 1 and "not empty" in err


@pytest.mark.parametrize("exists", [False, True])
def test_a_demo_that_fails_leaves_its_folder_as_it_found_it(tmp_path: Path, exists: bool) -> None:
    target = tmp_path / "demo"
    if exists:
        target.mkdir()
    # Without the git program the clone's index cannot be written: the demo stops.
    env = {**os.environ, "PATH": str(tmp_path / "no-programs-here")}
    done = subprocess.run(
        [sys.executable, "-m", "cli", "demo", str(target)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "error: the git program is not installed (promptship runs 'git ls-files'" in done.stderr
    assert (list(target.iterdir()) == []) if exists else not target.exists()


# Refusals: each one exits 1 with error: and a hint, no traceback, nothing written.

HOSTILE_NAMES = ["a/b", "../escape", "has space", "Upper", "x" * 300, "café", "-", ".hidden"]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_names(cli: Cli, repo: Path, name: str) -> None:
    status, _out, err = run_main(repo, "create", name, "--content", "x")
    assert status == 1
    assert err.startswith("error: ") and "hint: " in err and "Traceback" not in err
    assert git(repo, "rev-list", "--all") == "" and not (repo / "prompts").exists()


def refused(repo: Path, *args: str, expect: str) -> str:
    tip = git(repo, "rev-parse", "HEAD", check=False)
    status, out, err = run_main(repo, *args)
    assert status == 1, (out, err)
    assert err.startswith("error: ") and "Traceback" not in err
    assert expect in err, err
    assert git(repo, "rev-parse", "HEAD", check=False) == tip
    return err


def test_unknown_prompt_and_version(sample: Cli, repo: Path) -> None:
    refused(repo, "promote", "nope", "1", "--yes", expect="no prompt named 'nope'")
    refused(repo, "promote", "greeting", "9", "--yes", expect="has no version 9")
    refused(repo, "show", "greeting@9", expect="has no version 9")
    refused(repo, "edit", "greeting", "1", "--content", "x", expect="keeps its content for good")
    assert status_clean(repo)


def test_malformed_yaml_in_a_hand_edited_file(sample: Cli, repo: Path) -> None:
    file = repo / "prompts/greeting/versions/2.yaml"
    file.write_text("version: 2\nstatus: [draft\n")
    git(repo, "commit", "-qam", "broken by hand")
    err = refused(
        repo, "promote", "greeting", "2", "--yes", expect="prompts/greeting/versions/2.yaml:"
    )
    assert "malformed YAML" in err


def test_anchors_in_a_hand_edited_file(sample: Cli, repo: Path) -> None:
    file = repo / "prompts/greeting/versions/2.yaml"
    file.write_text(file.read_text().replace("metadata: {}", "metadata: &m {a: [*m]}"))
    git(repo, "commit", "-qam", "anchors")
    refused(repo, "show", "greeting@2", expect="anchors and aliases")


def test_non_utf8_input_and_file(sample: Cli, repo: Path, tmp_path: Path) -> None:
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("Grüße {{ name }}".encode("latin-1"))
    refused(repo, "new-version", "greeting", "--file", str(latin), expect="not UTF-8")
    file = repo / "prompts/greeting/versions/2.yaml"
    file.write_bytes(file.read_bytes().replace(b"Hi", b"H\xefi"))
    git(repo, "commit", "-qam", "latin-1 by hand")
    refused(repo, "show", "greeting@2", expect="not UTF-8")


def test_huge_input_file_is_refused(sample: Cli, repo: Path, tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    with big.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    refused(repo, "new-version", "greeting", "--file", str(big), expect="larger than")


def test_huge_committed_file_is_refused(sample: Cli, repo: Path) -> None:
    file = repo / "prompts/greeting/versions/2.yaml"
    file.write_text(
        file.read_text().replace(
            "metadata: {}", "metadata: {pad: '" + "x" * (2 * 1024 * 1024) + "'}"
        )
    )
    git(repo, "commit", "-qam", "huge")
    refused(repo, "promote", "greeting", "2", "--yes", expect="over the limit")


def test_symlink_in_prompts_is_reported_and_not_followed(
    sample: Cli, repo: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_text("name: evil\n")
    (repo / "prompts/evil").symlink_to(tmp_path)
    git(repo, "add", "prompts/evil")
    git(repo, "commit", "-qm", "symlink")
    assert [row["name"] for row in json.loads(sample.ok("list", "--json").output)] == ["greeting"]
    status, out, _ = run_main(repo, "check")
    assert status == 1 and "prompts/evil: is a symlink" in out
    refused(repo, "show", "evil", expect="no prompt named 'evil'")


def test_dirty_file_refusal(sample: Cli, repo: Path) -> None:
    file = repo / "prompts/greeting/versions/2.yaml"
    file.write_text(file.read_text() + "# mine\n")
    refused(repo, "promote", "greeting", "2", "--yes", expect="uncommitted changes")
    assert file.read_text().endswith("# mine\n")
    assert not (repo / "prompts/greeting/versions/2.yaml").read_text().count("published")


def test_no_identity(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(var)
    err = refused(repo, "create", "greeting", expect="no git identity")
    assert "git config --global user.name" in err
    assert not (repo / "prompts").exists()


def test_not_a_repository(tmp_path: Path) -> None:
    status, _, err = run_main(tmp_path, "list")
    assert status == 1 and "not inside a git repository" in err


@pytest.mark.parametrize(
    "args",
    [
        ["promote", "greeting"],
        ["create"],
        ["list", "--sort", "size"],
        ["nosuchcommand"],
        ["edit", "greeting", "1"],
        ["create", "x", "--content", "a", "--file", "b"],
    ],
)
def test_usage_errors_exit_2(sample: Cli, repo: Path, args: list[str]) -> None:
    tip = head(repo)
    status, _, err = run_main(repo, *args)
    assert status == 2, err
    assert "Traceback" not in err
    assert head(repo) == tip


def test_the_lazy_command_table_names_every_command_once() -> None:
    import importlib
    import pkgutil

    import cli.commands
    from cli.app import COMMAND_MODULES

    defined = {
        command.name: module.name
        for module in pkgutil.iter_modules(cli.commands.__path__)
        for command in importlib.import_module(f"cli.commands.{module.name}").COMMANDS
    }
    assert defined == COMMAND_MODULES


def _modules_after(args: list[str]) -> set[str]:
    """The modules a fresh interpreter has loaded once ``promptship ARGS`` has run."""
    script = (
        "import json, sys\n"
        "from cli.main import main\n"
        "try:\n"
        f"    main({args!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_a_command_loads_only_its_own_module() -> None:
    loaded = _modules_after(["history", "--help"])
    assert {m for m in loaded if m.startswith("cli.commands.")} == {"cli.commands.history"}


@pytest.mark.parametrize(
    "data",
    [
        [{"prompt": "grüße", "version": 2, "previous_version": None, "notes": 'a\nb "c"'}],
        {"metadata": {"temperature": 0.2, "stop": ["\u2028", "\t"], "nested": {"x": []}}},
        [],
        {"huge": 2**70},
    ],
)
def test_json_output_has_the_standard_librarys_layout(
    data: object, capsys: pytest.CaptureFixture[str]
) -> None:
    from cli.output import echo_json, echo_json_list

    echo_json(data)
    expected = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    assert capsys.readouterr().out == expected
    # the list writer, a thousand items at a time, writes the very same text
    items = data if isinstance(data, list) else [data] * 1001
    echo_json_list(iter(items))
    assert capsys.readouterr().out == json.dumps(items, indent=2, ensure_ascii=False) + "\n"


def test_a_production_version_edited_by_hand_is_served_by_no_command(
    sample: Cli, repo: Path
) -> None:
    file = repo / "prompts/greeting/versions/1.yaml"
    file.write_text(file.read_text().replace("Hello", "Send me your password"))
    git(repo, "commit", "-qam", "tampered by hand")
    for args in (
        ["show", "greeting"],
        ["render", "greeting", "--var", "name=Bo", "--var", "app_name=X"],
        ["run", "greeting", "--model", "echo", "--var", "name=Bo", "--var", "app_name=X"],
        ["test", "greeting"],
    ):
        status, out, err = run_main(repo, *args)
        assert status == 1, (args, out)
        assert "digest does not match v1" in err and "password" not in out
    shown = json.loads(sample.ok("show", "greeting@1", "--json").stdout)
    assert shown["is_production"] is False


def test_a_work_tree_read_never_follows_a_symlinked_folder(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (outside / "versions").mkdir(parents=True)
    (outside / "prompt.yaml").write_text("name: evil\n")
    (outside / "tests.yaml").write_text("- {name: leak, variables: {}, expect: {contains: x}}\n")
    (repo / "prompts").mkdir()
    (repo / "prompts/evil").symlink_to(outside)
    from registry.git.folder import FolderSnapshot

    snapshot = FolderSnapshot(repo)
    assert snapshot.read("prompts/evil/prompt.yaml") is None
    assert snapshot.list_dir("prompts/evil/versions") is None
    status, _, err = run_main(repo, "test", "evil@1")
    assert status == 1 and "no prompt named 'evil'" in err


def test_help_loads_no_git_yaml_template_or_web_library() -> None:
    """Start-up stays lazy: '--help' needs click alone."""
    heavy = {"pygit2", "yaml", "jinja2", "starlette", "uvicorn", "httpx", "filelock"}
    loaded = _modules_after(["--help"])
    assert "cli.main" in loaded
    assert heavy & loaded == set()
