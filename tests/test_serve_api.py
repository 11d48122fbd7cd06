"""The read API of ``promptship serve``, asked by a real HTTP client of a real server process:
every endpoint, its headers, ETags and refusals."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from helpers.cli import Cli, promptship
from helpers.fixtures import isolate
from helpers.gitrepo import git
from helpers.remotes import clone, remote_tip, seeded_remote
from helpers.server import Server, Servers

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    """One server following a bare remote whose main holds 'greeting' (v2 in production after
    v1, v3 a draft), 'farewell' (never promoted) and 'support' (a chat prompt in production)."""
    root = tmp_path_factory.mktemp("served")
    servers = Servers(root)
    with pytest.MonkeyPatch.context() as patch:
        isolate(patch, root / "home")
        remote = seeded_remote(root)
        work = clone(remote, root / "work")
        cli = Cli(work)
        cli.ok(
            "promote",
            "greeting",
            "2",
            "--yes",
            "--notes",
            "Warmer",
            "--by",
            "Bob Example <bob@example.com>",
        )
        cli.ok(
            "create",
            "support",
            "--type",
            "chat",
            "--content",
            "- {role: system, content: 'You help customers of {{ company }}.'}\n"
            "- {role: user, content: '{{ question }}'}\n",
            "--meta",
            "temperature=0.2",
        )
        cli.ok("promote", "support", "1", "--yes")
        git(work, "push", "-q", "origin", "main")
        server = servers.start(repo=remote)
        try:
            yield server, remote
        finally:
            servers.stop_all()


def test_a_prompt_is_answered_with_its_commit_etag_and_fields(served: tuple[Server, Path]) -> None:
    server, remote = served
    response = server.client.get("/v1/prompts/greeting")
    assert response.status_code == 200
    assert response.headers["x-promptship-commit"] == remote_tip(remote)
    assert response.headers["etag"].startswith('"') and response.headers["etag"].endswith('"')
    assert response.headers["cache-control"] == "no-cache"
    body = response.json()
    shown = json.loads(promptship(remote, "show", "greeting", "--json").stdout)
    assert body["name"] == "greeting" and body["version"] == 2 == shown["version"]
    assert body["content"] == shown["content"] == "Hi {{ name }}"
    exported = json.loads(promptship(remote, "export").stdout)["prompts"]
    assert body["digest"] == next(e["digest"] for e in exported if e["name"] == "greeting")
    assert (body["status"], body["is_production"], body["promoted_by"]) == (
        "published",
        True,
        "Bob Example <bob@example.com>",
    )


@pytest.mark.parametrize(
    "header",
    ["{etag}", "W/{etag}", '"other", {etag}', "*"],
)
def test_if_none_match_with_the_etag_gets_304(served: tuple[Server, Path], header: str) -> None:
    server, _ = served
    etag = server.client.get("/v1/prompts/greeting").headers["etag"]
    again = server.client.get(
        "/v1/prompts/greeting", headers={"If-None-Match": header.format(etag=etag)}
    )
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert "x-promptship-commit" in again.headers


def test_another_etag_gets_the_answer(served: tuple[Server, Path]) -> None:
    server, _ = served
    response = server.client.get("/v1/prompts/greeting", headers={"If-None-Match": '"stale"'})
    assert response.status_code == 200 and response.json()["version"] == 2


@pytest.mark.parametrize(
    ("query", "version", "status"),
    [
        ({"version": "1"}, 1, "archived"),
        ({"version": "v3"}, 3, "draft"),
        ({"label": "latest"}, 3, "draft"),
        ({"label": "production"}, 2, "published"),
    ],
)
def test_versions_by_number_and_label(
    served: tuple[Server, Path], query: dict[str, str], version: int, status: str
) -> None:
    server, _ = served
    body = server.client.get("/v1/prompts/greeting", params=query).json()
    assert (body["version"], body["status"]) == (version, status)
    assert body["is_production"] == (version == 2)


@pytest.mark.parametrize(
    ("path", "query", "status", "kind"),
    [
        ("/v1/prompts/nope", {}, 404, "PromptNotFound"),
        ("/v1/prompts/farewell", {}, 404, "NoProductionVersion"),
        ("/v1/prompts/greeting", {"version": "9"}, 404, "VersionNotFound"),
        ("/v1/prompts/greeting", {"version": "abc"}, 400, "InputError"),
        ("/v1/prompts/greeting", {"version": "9" * 5000}, 400, "InputError"),
        ("/v1/prompts/greeting", {"label": "newest"}, 400, "InputError"),
        ("/v1/prompts/greeting", {"verison": "2"}, 400, "InputError"),
        ("/v1/prompts/Bad_Name", {}, 400, "InvalidName"),
        ("/v1/prompts/greeting/history", {"since": "yesterday"}, 400, "InputError"),
        ("/v1/prompts/nope/history", {}, 404, "PromptNotFound"),
        ("/v1/nothing", {}, 404, "NotFound"),
    ],
)
def test_refusals_are_json_named_after_the_python_errors(
    served: tuple[Server, Path], path: str, query: dict[str, str], status: int, kind: str
) -> None:
    server, remote = served
    response = server.client.get(path, params=query)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["type"] == kind
    assert error["message"] and set(error) >= {"type", "message", "hint"}
    assert response.headers["x-promptship-commit"] == remote_tip(remote)


def test_a_refusal_names_its_fields(served: tuple[Server, Path]) -> None:
    server, _ = served
    error = server.client.get("/v1/prompts/greeting", params={"version": "9"}).json()["error"]
    assert (error["prompt"], error["version"]) == ("greeting", 9)


def test_a_wrong_method_is_a_json_405(served: tuple[Server, Path]) -> None:
    server, _ = served
    response = server.client.delete("/v1/prompts/greeting")
    assert response.status_code == 405
    assert response.json()["error"]["type"] == "MethodNotAllowed"


def test_render_text_and_chat(served: tuple[Server, Path]) -> None:
    server, _ = served
    text = server.client.post("/v1/prompts/greeting/render", json={"variables": {"name": "Ada"}})
    assert text.status_code == 200
    assert text.json() == {"prompt": "greeting", "version": 2, "type": "text", "content": "Hi Ada"}
    chat = server.client.post(
        "/v1/prompts/support/render",
        json={"variables": {"company": "Acme", "question": "Where is my order?"}},
    )
    assert chat.json()["messages"] == [
        {"role": "system", "content": "You help customers of Acme."},
        {"role": "user", "content": "Where is my order?"},
    ]
    older = server.client.post(
        "/v1/prompts/greeting/render", params={"version": "1"}, json={"variables": {"name": "Ada"}}
    )
    assert older.json()["content"] == "Hello Ada"


@pytest.mark.parametrize(
    ("body", "status", "kind"),
    [
        ({"variables": {}}, 422, "MissingVariables"),
        ({"variables": {"name": "Ada", "age": 3}}, 422, "UnknownVariables"),
        ({"vars": {}}, 400, "InputError"),
        ({"variables": ["name"]}, 400, "InputError"),
        ({"variables": {f"v{i}": i for i in range(5000)}}, 400, "InputError"),
    ],
)
def test_render_refusals(
    served: tuple[Server, Path], body: dict[str, object], status: int, kind: str
) -> None:
    server, _ = served
    response = server.client.post("/v1/prompts/greeting/render", json=body)
    assert response.status_code == status
    assert response.json()["error"]["type"] == kind


def test_missing_variables_are_all_named(served: tuple[Server, Path]) -> None:
    server, _ = served
    error = server.client.post("/v1/prompts/support/render", json={"variables": {}}).json()["error"]
    assert error["missing"] == ["company", "question"]


def test_a_body_that_is_not_json_or_too_large_is_refused(served: tuple[Server, Path]) -> None:
    server, _ = served
    broken = server.client.post("/v1/prompts/greeting/render", content=b"{not json")
    assert (broken.status_code, broken.json()["error"]["type"]) == (400, "InputError")
    large = server.client.post(
        "/v1/prompts/greeting/render",
        content=json.dumps({"variables": {"name": "x" * (2 << 20)}}).encode(),
    )
    assert (large.status_code, large.json()["error"]["type"]) == (413, "PayloadTooLarge")


def test_the_listing_names_every_prompt(served: tuple[Server, Path]) -> None:
    server, _ = served
    rows = {row["name"]: row for row in server.client.get("/v1/prompts").json()["prompts"]}
    assert sorted(rows) == ["farewell", "greeting", "support"]
    assert (rows["greeting"]["production_version"], rows["greeting"]["latest_version"]) == (2, 3)
    assert rows["farewell"]["production_version"] is None
    assert rows["greeting"]["production_digest"].startswith("sha256:")


def test_export_is_the_bytes_promptship_export_writes(served: tuple[Server, Path]) -> None:
    server, remote = served
    response = server.client.get("/v1/export")
    assert response.content == promptship(remote, "export").stdout.encode()
    assert response.headers["etag"] == f'"{remote_tip(remote)}"'
    again = server.client.get("/v1/export", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304


def test_history_newest_first_and_filtered(served: tuple[Server, Path]) -> None:
    server, _ = served
    records = server.client.get("/v1/prompts/greeting/history").json()
    assert [r["version"] for r in records] == [2, 1]
    by_bob = server.client.get("/v1/prompts/greeting/history", params={"user": "bob"}).json()
    assert [r["version"] for r in by_bob] == [2]
    future = server.client.get("/v1/prompts/greeting/history", params={"since": "2999-01-01"})
    assert future.json() == []


def test_probes_and_metrics(served: tuple[Server, Path]) -> None:
    server, remote = served
    health = server.client.get("/healthz")
    assert health.json() == {"status": "ok"}
    assert health.headers["x-promptship-commit"] == remote_tip(remote)
    ready = server.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"commit": remote_tip(remote), "degraded": None, "fetch_error": None}
    metrics = server.client.get("/metrics")
    assert metrics.headers["content-type"].startswith("text/plain")
    lines = metrics.text.splitlines()
    assert "promptship_ready 1" in lines and "promptship_degraded 0" in lines
    assert f'promptship_served_commit_info{{commit="{remote_tip(remote)}"}} 1' in lines
    assert "promptship_prompts 3" in lines


def test_each_request_is_one_json_line_in_the_log(served: tuple[Server, Path]) -> None:
    server, _ = served
    server.client.get("/v1/prompts/greeting", params={"version": "1"})
    lines = [e for e in server.events("request") if e["path"] == "/v1/prompts/greeting"]
    assert any(e["query"] == "version=1" and e["status"] == 200 for e in lines)
    assert all(
        {"time", "method", "status", "bytes", "ms", "client", "commit"} <= set(e) for e in lines
    )


def test_tokens_are_required_except_by_probes(servers: Servers, tmp_path: Path) -> None:
    remote = seeded_remote(tmp_path)
    tokens = tmp_path / "tokens"
    tokens.write_text("# readers\nfirst-token-0123456789\n\nsecond-token-0123456789\n")
    server = servers.start(
        "--token-file", str(tokens), repo=remote, token="second-token-0123456789"
    )
    assert server.client.get("/v1/prompts/greeting").status_code == 200
    anonymous = httpx.get(f"{server.url}/v1/prompts/greeting")
    wrong = httpx.get(
        f"{server.url}/v1/prompts/greeting",
        headers={"Authorization": "Bearer nope-0123456789abcdef"},
    )
    for refused in (anonymous, wrong):
        assert refused.status_code == 401
        assert refused.json()["error"]["type"] == "Unauthorized"
        assert refused.headers["www-authenticate"].startswith("Bearer")
        assert "x-promptship-commit" not in refused.headers
    assert httpx.get(f"{server.url}/readyz").status_code == 200
    assert httpx.get(f"{server.url}/metrics").status_code == 401


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--host", "0.0.0.0"], "no --token-file protects it"),
        (["--token-file", "{tokens}"], "shorter than 16 characters"),
        (["--token-file", "{missing}"], "cannot read the token file"),
        (["--ref", "v1"], "it names a tag"),
        (["--ref", "refs/tags/v1"], "is not a branch"),
        (["--webhook-secret-file", "{empty}"], "is empty"),
    ],
)
def test_refusals_before_listening(
    repo: Path, sample: Cli, tmp_path: Path, args: list[str], message: str
) -> None:
    git(repo, "tag", "v1")
    (tmp_path / "tokens").write_text("short\n")
    (tmp_path / "empty").write_text("\n")
    values = {
        "tokens": tmp_path / "tokens",
        "missing": tmp_path / "no-such",
        "empty": tmp_path / "empty",
    }
    done = promptship(repo, "serve", "--port", "0", *(a.format(**values) for a in args))
    assert done.returncode == 1, done.stderr
    assert "error: " in done.stderr and message in done.stderr
    assert "hint: " in done.stderr and "Traceback" not in done.stderr


def test_fetch_every_on_a_local_branch_is_a_usage_error(repo: Path, sample: Cli) -> None:
    done = promptship(repo, "serve", "--port", "0", "--fetch-every", "5")
    assert done.returncode == 2
    assert "nothing to fetch" in done.stderr
