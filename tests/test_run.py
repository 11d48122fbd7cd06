"""The test panel end to end: ``run`` and ``runs`` against a real chat-completions server on
127.0.0.1, through CliRunner and as a subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from helpers.chat_server import RETRY_AFTER, ChatServer, closed_port, expected_reply
from helpers.cli import Cli, promptship, run_main
from helpers.gitrepo import git, head, status_clean

GREETING_V1 = "Hello, {{ name }}! Welcome to {{ app_name }}."
GREETING_V2 = "Hi {{ name }}, welcome to {{ app_name }}!"
ADA = ("--var", "name=Ada", "--var", "app_name=Acme")
CHAT = """\
- role: system
  content: You answer for {{ company }}.
- role: user
  content: "{{ question }}"
"""


@pytest.fixture(autouse=True)
def no_outside_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing from the machine's environment reaches a provider, and output width is fixed."""
    for var in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "TEST_PANEL_KEY"):
        monkeypatch.delenv(var, raising=False)
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
        monkeypatch.delenv(var.lower(), raising=False)
    monkeypatch.setenv("COLUMNS", "200")


@pytest.fixture
def server() -> Iterator[ChatServer]:
    with ChatServer() as chat:
        yield chat


def providers_file() -> Path:
    return Path(os.environ["XDG_CONFIG_HOME"]) / "promptship" / "providers.yaml"


def write_providers(text: str) -> Path:
    path = providers_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def local_providers(url: str) -> str:
    return f"""\
default: local
providers:
  local:
    base_url: {url}
    prices:
      alpha: {{input: 2.5, output: 10}}
      beta: {{input: 0.15, output: 0.6}}
  keyed:
    base_url: {url}
    api_key_env: TEST_PANEL_KEY
"""


@pytest.fixture
def panel(cli: Cli, server: ChatServer, tmp_path: Path) -> Cli:
    """A registry with 'greeting' v1 (metadata: alpha, temperature 0.2, max_tokens 50) and v2
    (temperature 0.9), a chat prompt 'support', and providers pointing at the server."""
    write_providers(local_providers(server.base_url))
    cli.ok(
        "create",
        "greeting",
        "--content",
        GREETING_V1,
        *(
            "--meta",
            "model=alpha",
            "--meta-json",
            "temperature=0.2",
            "--meta-json",
            "max_tokens=50",
        ),
    )
    cli.ok("new-version", "greeting", "--from", "1", "--content", GREETING_V2)
    cli.ok("edit", "greeting", "2", "--meta-json", "temperature=0.9")
    chat = tmp_path / "chat.yaml"
    chat.write_text(CHAT, encoding="utf-8")
    cli.ok("create", "support", "--type", "chat", "--file", str(chat))
    return cli


def log_path(repo: Path) -> Path:
    return repo / ".git" / "promptship" / "runs.jsonl"


def logged(repo: Path) -> list[dict[str, Any]]:
    path = log_path(repo)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def refused(repo: Path, *args: str, status: int = 1) -> str:
    """Runs ``run`` through the real exit point, expects ``status`` and returns stderr."""
    got, out, err = run_main(repo, "run", *args)
    assert got == status, (out, err)
    assert "Traceback" not in err
    return err


def run_json(cli: Cli, *args: str) -> tuple[int, list[dict[str, Any]], str]:
    result = cli("run", *args, "--json")
    return result.exit_code, json.loads(result.stdout), result.stderr


# --- single and multi-model runs ----------------------------------------------------------------


def test_one_model_sends_the_rendered_text_as_one_user_message(
    panel: Cli, server: ChatServer, repo: Path
) -> None:
    status, results, _ = run_json(panel, "greeting@1", "--model", "alpha", *ADA)
    assert status == 0
    messages = [{"role": "user", "content": "Hello, Ada! Welcome to Acme."}]
    assert server.bodies() == [
        {"model": "alpha", "messages": messages, "temperature": 0.2, "max_tokens": 50}
    ]
    want = expected_reply("alpha", messages)
    [result] = results
    assert result["provider"] == "local"
    assert result["model"] == "alpha"
    assert result["response"] == want["text"]
    assert result["usage"] == want["usage"]
    assert result["resolved"] == {"type": "text", "content": "Hello, Ada! Welcome to Acme."}
    assert result["finish_reason"] == "stop"
    assert isinstance(result["latency_ms"], int) and result["latency_ms"] >= 0
    assert result["error"] is None
    [record] = logged(repo)
    assert record["id"] == result["run_id"]
    assert record["variables"] == {"name": "Ada", "app_name": "Acme"}


def test_text_output_shows_prompt_answer_tokens_latency_and_cost(
    panel: Cli, server: ChatServer
) -> None:
    out = panel.ok("run", "greeting@1", "--model", "alpha", *ADA).stdout
    messages = [{"role": "user", "content": "Hello, Ada! Welcome to Acme."}]
    usage = expected_reply("alpha", messages)["usage"]
    cost = (usage["prompt_tokens"] * Decimal("2.5") + usage["completion_tokens"] * 10) / 10**6
    assert "Hello, Ada! Welcome to Acme." in out
    assert "alpha says: Hello, Ada! Welcome to Acme." in out
    assert f"{usage['total_tokens']} ({usage['prompt_tokens']} in, " in out
    assert f"${cost:.6f}" in out
    assert " ms" in out


def test_chat_messages_are_sent_as_they_are(panel: Cli, server: ChatServer) -> None:
    panel.ok(
        "run",
        "support@1",
        "--model",
        "alpha",
        "--var",
        "company=Acme",
        "--var",
        "question=Where is my order?",
    )
    assert server.bodies()[0]["messages"] == [
        {"role": "system", "content": "You answer for Acme."},
        {"role": "user", "content": "Where is my order?"},
    ]


def test_models_run_at_once_and_answer_in_the_order_asked(panel: Cli, server: ChatServer) -> None:
    # The server answers "together-" models only once both have asked, so this passes only when
    # the requests overlap.
    status, results, _ = run_json(
        panel,
        "greeting@1",
        *ADA,
        *("--model", "together-b", "--model", "echo", "--model", "together-a"),
    )
    assert status == 0, results
    assert [r["model"] for r in results] == ["together-b", "echo", "together-a"]
    assert results[0]["response"].startswith("together-b says:")
    assert results[1]["response"] == "Hello, Ada! Welcome to Acme."
    assert all(r["error"] is None for r in results)


def test_side_by_side_columns_on_a_wide_terminal(panel: Cli) -> None:
    out = panel.ok("run", "greeting@1", *ADA, "--model", "alpha", "--model", "beta").stdout
    header = next(line for line in out.splitlines() if "local:alpha" in line)
    assert "local:beta" in header
    row = next(line for line in out.splitlines() if line.startswith("response"))
    assert row.index("alpha says:") < row.index("beta says:")


def test_narrow_terminal_stacks_the_answers(panel: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    out = panel.ok("run", "greeting@1", *ADA, "--model", "alpha", "--model", "beta").stdout
    lines = out.splitlines()
    assert lines.index("-- local:alpha --") < lines.index("-- local:beta --")
    assert "alpha says: Hello, Ada! Welcome to Acme." in lines


def test_echo_runs_offline_without_any_provider(cli: Cli) -> None:
    cli.ok("create", "greeting", "--content", GREETING_V1)
    status, results, _ = run_json(cli, "greeting@1", "--model", "echo", *ADA)
    assert status == 0
    assert results[0]["response"] == "Hello, Ada! Welcome to Acme."
    assert results[0]["cost_usd"] == 0
    assert results[0]["usage"] == {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10}


def test_more_than_ten_models_is_refused(panel: Cli, server: ChatServer, repo: Path) -> None:
    many = [a for i in range(11) for a in ("--model", f"m{i}")]
    assert "11 models given; a run compares at most 10" in refused(repo, "greeting@1", *ADA, *many)
    assert server.bodies() == []
    assert logged(repo) == []


# --- parameters ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "sent"),
    [
        ((), {"temperature": 0.2, "max_tokens": 50}),
        (("--param", "temperature=0.7"), {"temperature": 0.7, "max_tokens": 50}),
        (("--param", "max_tokens="), {"temperature": 0.2}),
        (("--param", "top_p=0.5", "--param", "seed=3"), {"temperature": 0.2, "max_tokens": 50, "top_p": 0.5, "seed": 3}),
        (("--param", "reasoning_effort=low"), {"temperature": 0.2, "max_tokens": 50, "reasoning_effort": "low"}),
    ],
)  # fmt: skip
def test_parameters_come_from_metadata_and_param_overrides_them(
    panel: Cli, server: ChatServer, repo: Path, args: tuple[str, ...], sent: dict[str, Any]
) -> None:
    panel.ok("run", "greeting@1", "--model", "alpha", *ADA, *args)
    [body] = server.bodies()
    assert {k: v for k, v in body.items() if k not in ("model", "messages")} == sent
    assert logged(repo)[0]["parameters"] == sent


def test_model_defaults_to_the_metadata_model(panel: Cli, server: ChatServer) -> None:
    panel.ok("run", "greeting@1", *ADA)
    assert [b["model"] for b in server.bodies()] == ["alpha"]


def test_no_model_anywhere_is_refused(panel: Cli, server: ChatServer, repo: Path) -> None:
    err = refused(repo, "support@1", "--var", "company=A", "--var", "question=Q")
    assert "error: no model to run: this version's metadata names none" in err
    assert "hint: give --model MODEL" in err
    assert server.bodies() == []


def test_unusable_parameters_are_all_named_and_nothing_is_sent(
    panel: Cli, server: ChatServer, repo: Path
) -> None:
    err = refused(
        repo,
        "greeting@1",
        "--model",
        "alpha",
        *ADA,
        *("--param", "temperature=hot", "--param", "max_tokens=0", "--param", "stream=true"),
        *("--param", "frequency_penalty=.nan", "--param", "repetition_penalty=.inf"),
    )
    assert "--param temperature: must be a number from 0, not 'hot'" in err
    assert "--param max_tokens: must be a whole number from 1, not 0" in err
    assert "--param stream: set by promptship itself" in err
    # YAML 1.1 and 1.2 read .nan differently, so it stays text and is no number
    assert "--param frequency_penalty: must be a number, not '.nan'" in err
    assert server.bodies() == []
    assert logged(repo) == []


def test_missing_variables_refuse_before_any_call(
    panel: Cli, server: ChatServer, repo: Path
) -> None:
    err = refused(repo, "greeting@1", "--model", "alpha", "--var", "name=Ada")
    assert "error: missing variables: app_name" in err
    assert server.bodies() == []
    assert logged(repo) == []


# --- providers ----------------------------------------------------------------------------------


def test_provider_prefix_chooses_the_provider_and_its_key(
    panel: Cli, server: ChatServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_PANEL_KEY", "sk-test-123")
    status, results, _ = run_json(
        panel, "greeting@1", *ADA, "--model", "keyed:beta", "--model", "llama3:8b"
    )
    assert status == 0
    assert [(r["provider"], r["model"]) for r in results] == [
        ("keyed", "beta"),
        ("local", "llama3:8b"),
    ]
    by_model = {r["body"]["model"]: r["headers"] for r in server.requests}
    assert by_model["beta"]["Authorization"] == "Bearer sk-test-123"
    assert "Authorization" not in by_model["llama3:8b"]
    # Prices belong to a provider: 'keyed' lists none, so its cost is unknown.
    assert results[0]["cost_usd"] is None


def test_environment_variables_describe_the_openai_provider(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli.ok("create", "greeting", "--content", GREETING_V1)
    with ChatServer(api_key="sk-env") as chat:
        monkeypatch.setenv("OPENAI_BASE_URL", chat.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
        status, results, _ = run_json(cli, "greeting@1", "--model", "gpt-x", *ADA)
        assert chat.requests[0]["headers"]["Authorization"] == "Bearer sk-env"
    assert status == 0
    assert (results[0]["provider"], results[0]["cost_usd"]) == ("openai", None)


def test_unreadable_providers_file_names_every_problem(
    panel: Cli, server: ChatServer, repo: Path
) -> None:
    write_providers(
        "providers:\n  local:\n    base_url: ftp://x\n    colour: blue\n  echo:\n    base_url: http://x\n"
    )
    err = refused(repo, "greeting@1", "--model", "alpha", *ADA)
    assert "providers.local.base_url: must be an http:// or https:// address" in err
    assert "providers.local: unknown key 'colour'" in err
    assert "'echo' is built in" in err
    assert server.bodies() == []


def test_key_in_a_file_others_can_read_is_warned_about(panel: Cli, server: ChatServer) -> None:
    path = write_providers(
        f"providers:\n  local:\n    base_url: {server.base_url}\n    api_key: sk-1\n"
    )
    path.chmod(0o644)
    result = panel.ok("run", "greeting@1", "--model", "alpha", *ADA)
    assert "warning: " in result.stderr and "chmod 600" in result.stderr
    assert server.requests[0]["headers"]["Authorization"] == "Bearer sk-1"


# --- failures -----------------------------------------------------------------------------------


FAILURES = [
    ("fail-401", "unauthorized", "no API key was sent (HTTP 401): Incorrect API key provided"),
    ("fail-429", "rate-limited", f"rate limited (HTTP 429); retry after {RETRY_AFTER} s: Rate limit reached"),
    ("fail-500", "server-error", "the server failed (HTTP 500): The server had an error"),
    ("fail-502", "server-error", "the server failed (HTTP 502): <html><body>Bad Gateway</body></html>"),
    ("unknown-model", "http-error", "the request was refused (HTTP 404): The model unknown-model does not exist"),
    ("slow", "timeout", "no complete answer within 0.3 s"),
    ("trickle", "timeout", "no complete answer within 0.3 s"),
    ("not-json", "malformed", "the answer is not JSON: <html>surprise</html>"),
    ("no-choices", "malformed", "the answer is not a chat completion (no choices[0].message.content)"),
    ("bad-usage", "malformed", "'usage' does not hold token counts"),
]  # fmt: skip


@pytest.mark.parametrize(("model", "kind", "detail"), FAILURES)
def test_a_failing_model_is_named_and_the_others_still_answer(
    panel: Cli, repo: Path, model: str, kind: str, detail: str
) -> None:
    status, results, stderr = run_json(
        panel, "greeting@1", *ADA, "--model", "alpha", "--model", model, "--timeout", "0.3"
    )
    assert status == 1
    assert f"error: provider 'local', model '{model}': {detail}" in stderr
    assert "Traceback" not in stderr
    ok, failed = results
    assert ok["response"] == "alpha says: Hello, Ada! Welcome to Acme." and ok["error"] is None
    assert failed["response"] is None
    assert failed["error"]["kind"] == kind
    assert [r["error"] and r["error"]["kind"] for r in logged(repo)[0]["results"]] == [None, kind]


def test_rate_limit_records_how_long_to_wait(panel: Cli, repo: Path) -> None:
    panel("run", "greeting@1", *ADA, "--model", "fail-429")
    error = logged(repo)[0]["results"][0]["error"]
    assert (error["status"], error["retry_after"]) == (429, float(RETRY_AFTER))


def test_wrong_key_is_told_apart_from_no_key(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    cli.ok("create", "greeting", "--content", GREETING_V1)
    with ChatServer(api_key="right") as chat:
        monkeypatch.setenv("OPENAI_BASE_URL", chat.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "wrong")
        result = cli("run", "greeting@1", "--model", "gpt-x", *ADA)
    assert result.exit_code == 1
    assert "error: provider 'openai', model 'gpt-x': the API key was refused (HTTP 401)" in (
        result.stderr
    )


def test_missing_key_fails_that_model_before_sending(panel: Cli, server: ChatServer) -> None:
    result = panel("run", "greeting@1", *ADA, "--model", "keyed:beta", "--model", "alpha")
    assert result.exit_code == 1
    assert (
        "error: provider 'keyed', model 'beta': no API key: the environment variable "
        "TEST_PANEL_KEY is not set" in result.stderr
    )
    assert "hint: export TEST_PANEL_KEY=" in result.stderr
    assert [b["model"] for b in server.bodies()] == ["alpha"]


def test_unreachable_server(panel: Cli) -> None:
    write_providers(f"providers:\n  down:\n    base_url: http://127.0.0.1:{closed_port()}/v1\n")
    result = panel("run", "greeting@1", *ADA, "--model", "down:alpha", "--model", "echo")
    assert result.exit_code == 1
    assert "error: provider 'down', model 'alpha': cannot reach http://127.0.0.1:" in result.stderr
    assert "Hello, Ada! Welcome to Acme." in result.stdout


def test_nothing_configured_names_the_model_and_echo_still_answers(cli: Cli, repo: Path) -> None:
    cli.ok("create", "greeting", "--content", GREETING_V1)
    result = cli("run", "greeting@1", *ADA, "--model", "gpt-4o", "--model", "echo")
    assert result.exit_code == 1
    assert "error: provider 'openai', model 'gpt-4o': no such provider is configured" in (
        result.stderr
    )
    assert str(providers_file()) in result.stderr
    assert [r["error"] is None for r in logged(repo)[0]["results"]] == [False, True]


def test_without_httpx_the_run_extra_is_asked_for(
    panel: Cli, server: ChatServer, monkeypatch: pytest.MonkeyPatch, repo: Path
) -> None:
    monkeypatch.setitem(sys.modules, "httpx", None)
    err = refused(repo, "greeting@1", *ADA, "--model", "alpha")
    assert "error: sending prompts to models needs the httpx package" in err
    assert "hint: pip install 'promptship[run]'" in err
    assert server.bodies() == [] and logged(repo) == []
    panel.ok("run", "greeting@1", *ADA, "--model", "echo")


# --- the run log and re-runs --------------------------------------------------------------------


def test_the_log_stays_out_of_git(panel: Cli, repo: Path) -> None:
    before = head(repo)
    panel.ok("run", "greeting@1", *ADA, "--model", "alpha")
    assert log_path(repo).is_file()
    assert log_path(repo).stat().st_mode & 0o777 == 0o600
    assert status_clean(repo)
    assert head(repo) == before


def test_each_run_appends_one_record(panel: Cli, repo: Path) -> None:
    panel.ok("run", "greeting@1", *ADA, "--model", "alpha", "--param", "seed=1")
    panel("run", "greeting@2", *ADA, "--model", "alpha", "--model", "fail-500")
    first, second = logged(repo)
    assert first["prompt"] == "greeting" and first["version"] == 1
    assert first["overrides"] == {"seed": 1}
    assert first["parameters"] == {"temperature": 0.2, "max_tokens": 50, "seed": 1}
    assert first["commit"] == head(repo)
    assert first["digest"].startswith("sha256:")
    assert first["resolved"]["content"] == "Hello, Ada! Welcome to Acme."
    assert first["results"][0]["cost_usd"] is not None
    assert second["version"] == 2 and second["parameters"]["temperature"] == 0.9
    assert [r["model"] for r in second["results"]] == ["alpha", "fail-500"]
    assert first["id"] != second["id"]


def test_runs_lists_newest_first_and_filters_by_prompt(panel: Cli) -> None:
    panel.ok("run", "greeting@1", *ADA, "--model", "alpha")
    panel.ok("run", "support@1", "--var", "company=A", "--var", "question=Q", "--model", "beta")
    panel("run", "greeting@2", *ADA, "--model", "fail-500")
    listed = json.loads(panel.ok("runs", "--json").stdout)
    assert [(r["prompt"], r["version"]) for r in listed] == [
        ("greeting", 2),
        ("support", 1),
        ("greeting", 1),
    ]
    only = json.loads(panel.ok("runs", "greeting", "--json", "--limit", "1").stdout)
    assert [(r["prompt"], r["version"]) for r in only] == [("greeting", 2)]
    text = panel.ok("runs").stdout.splitlines()
    assert text[0].split() == ["ID", "WHEN", "PROMPT", "MODELS", "TOKENS", "COST", "RESULT"]
    assert text[1].startswith(listed[0]["id"]) and text[1].endswith("1 of 1 failed")
    assert text[3].endswith("ok")


def test_runs_show_prints_a_past_run(panel: Cli) -> None:
    [first] = json.loads(panel.ok("run", "greeting@1", *ADA, "--model", "alpha", "--json").stdout)
    shown = panel.ok("runs", "--show", first["run_id"][:5]).stdout
    assert "alpha says: Hello, Ada! Welcome to Acme." in shown
    again = json.loads(panel.ok("runs", "--show", first["run_id"], "--json").stdout)
    assert again == [first]


def test_no_runs_yet(panel: Cli) -> None:
    result = panel.ok("runs")
    assert result.stdout == "" and "no runs yet" in result.stderr


def test_rerun_against_another_version_shows_both(
    panel: Cli, server: ChatServer, repo: Path
) -> None:
    [first] = json.loads(
        panel.ok(
            "run", "greeting@1", *ADA, "--model", "alpha", "--param", "seed=7", "--json"
        ).stdout
    )
    result = panel.ok("run", "--rerun", first["run_id"], "--version", "v2")
    new_body = server.bodies()[1]
    assert new_body["messages"] == [{"role": "user", "content": "Hi Ada, welcome to Acme!"}]
    # Same model, variables and --param values; the other parameters come from v2's metadata.
    assert (new_body["model"], new_body["seed"], new_body["temperature"]) == ("alpha", 7, 0.9)
    old_row = "alpha says: Hello, Ada! Welcome to Acme."
    new_row = "alpha says: Hi Ada, welcome to Acme!"
    row = next(line for line in result.stdout.splitlines() if line.startswith("response"))
    assert row.index(old_row) < row.index(new_row)
    old, new = logged(repo)
    assert new["rerun_of"] == old["id"] == first["run_id"]
    assert new["version"] == 2 and new["variables"] == old["variables"]


def test_rerun_defaults_to_the_same_version_and_keeps_the_provider(
    panel: Cli, server: ChatServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_PANEL_KEY", "k")
    [first] = json.loads(
        panel.ok("run", "greeting@1", *ADA, "--model", "keyed:beta", "--json").stdout
    )
    both = json.loads(panel.ok("run", "--rerun", first["run_id"], "--json").stdout)
    assert [(r["provider"], r["model"], r["version"]) for r in both["new"]] == [
        ("keyed", "beta", 1)
    ]
    assert both["old"] == [first]


def test_rerun_of_a_failed_model_can_fail_again(panel: Cli, repo: Path) -> None:
    [first] = json.loads(panel("run", "greeting@1", *ADA, "--model", "fail-500", "--json").stdout)
    result = panel("run", "--rerun", first["run_id"], "--version", "2")
    assert result.exit_code == 1
    assert "error: provider 'local', model 'fail-500'" in result.stderr
    assert len(logged(repo)) == 2


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (("--rerun", "nope"), 1, "error: no run with id 'nope' in this clone's run log"),
        (("--rerun", "x", "--model", "a"), 2, "--rerun repeats a past run as it was"),
        (("greeting", "--version", "2"), 2, "--version goes with --rerun"),
        ((), 2, "give the prompt to run"),
    ],
)
def test_rerun_refusals(
    panel: Cli, repo: Path, args: tuple[str, ...], status: int, message: str
) -> None:
    assert refused(repo, *args, status=status).count(message) == 1
    assert logged(repo) == []


def test_ambiguous_run_id_prefix(panel: Cli, repo: Path) -> None:
    for _ in range(2):
        panel.ok("run", "greeting@1", *ADA, "--model", "echo")
    records = logged(repo)
    for n, record in enumerate(records):
        record["id"] = f"abcd{n}000"
    log_path(repo).write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    assert "run id 'abcd' is ambiguous: abcd0000, abcd1000" in refused(repo, "--rerun", "abcd")
    assert len(logged(repo)) == 2


def test_a_damaged_log_line_is_skipped_with_a_warning(panel: Cli, repo: Path) -> None:
    panel.ok("run", "greeting@1", *ADA, "--model", "echo")
    with log_path(repo).open("a", encoding="utf-8") as handle:
        handle.write('{"id": "cut sh')
    result = panel.ok("runs", "--json")
    assert len(json.loads(result.stdout)) == 1
    assert "warning: 1 line(s) of the run log could not be read" in result.stderr


def test_linked_worktrees_share_the_clone_log(panel: Cli, repo: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    git(repo, "worktree", "add", "-q", str(other), "-b", "side")
    Cli(other).ok("run", "greeting@1", *ADA, "--model", "echo")
    assert len(json.loads(panel.ok("runs", "--json").stdout)) == 1


def test_concurrent_runs_keep_every_record(panel: Cli, repo: Path) -> None:
    # Real processes appending large records at once: none may be cut or interleaved.
    script = """
import sys
import time
from dataclasses import replace
import pygit2
from registry.panel.runner import append_run, run_log_path
from registry.panel.runlog import parse_log
path = run_log_path(pygit2.Repository(sys.argv[1]))
record = parse_log(path.read_bytes())[0][0]
big = {"big": sys.argv[2] * 200_000}
for i in range(20):
    append_run(path, replace(record, id=f"{sys.argv[2]}-{i}", variables=big))
"""
    panel.ok("run", "greeting@1", *ADA, "--model", "echo")
    git_dir = str(repo / ".git")
    workers = [subprocess.Popen([sys.executable, "-c", script, git_dir, f"w{n}"]) for n in range(4)]
    assert [w.wait(timeout=60) for w in workers] == [0, 0, 0, 0]
    records = logged(repo)
    assert len(records) == 81
    assert sorted(r["id"] for r in records[1:]) == sorted(
        f"w{n}-{i}" for n in range(4) for i in range(20)
    )


# --- as a user runs it ----------------------------------------------------------------------------


def test_run_and_runs_as_a_subprocess(panel: Cli, server: ChatServer, repo: Path) -> None:
    done = promptship(repo, "run", "greeting@1", *ADA, "--model", "alpha", "--model", "fail-429")
    assert done.returncode == 1
    assert "alpha says: Hello, Ada! Welcome to Acme." in done.stdout
    assert (
        f"error: provider 'local', model 'fail-429': rate limited (HTTP 429); retry after {RETRY_AFTER} s"
        in done.stderr
    )
    assert "Traceback" not in done.stderr
    listed = promptship(repo, "runs", "--json")
    assert listed.returncode == 0
    [record] = json.loads(listed.stdout)
    again = promptship(repo, "run", "--rerun", record["id"], "--version", "2", "--json")
    assert again.returncode == 1
    assert json.loads(again.stdout)["new"][0]["response"] == "alpha says: Hi Ada, welcome to Acme!"


def test_exit_point_returns_one_when_a_model_fails(panel: Cli, repo: Path) -> None:
    status, out, err = run_main(repo, "run", "greeting@1", *ADA, "--model", "fail-500")
    assert status == 1
    assert "error: provider 'local', model 'fail-500'" in err
    assert "FAILED: the server failed (HTTP 500)" in out


def test_help_does_not_load_httpx(repo: Path) -> None:
    code = (
        "import sys\nfrom cli.main import main\nmain(['run', '--help'])\n"
        "print('httpx' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip().endswith("False")


def test_ctrl_c_ends_a_run_without_waiting_for_the_slowest_model(
    panel: Cli, server: ChatServer, repo: Path
) -> None:
    args = ["run", "greeting@1", *ADA, "--model", "slow", "--timeout", "60"]
    process = subprocess.Popen(
        [sys.executable, "-m", "cli", *args],
        cwd=repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    while not server.bodies() and process.poll() is None:
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    # The slow model answers only when the server stops, after this returns.
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130
    assert out == "" and "Traceback" not in err
    assert logged(repo) == []
