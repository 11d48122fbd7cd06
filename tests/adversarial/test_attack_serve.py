"""Attacks on a running ``promptship serve``: hostile commits pushed to the followed branch, a
tag that shadows the branch, request bodies sent a byte at a time or far too large, and templates
built to run away when rendered. In every case nothing bad is served and the server keeps
answering."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from helpers.attack import commit_on, push_commit_on
from helpers.cli import Cli
from helpers.gitrepo import git
from helpers.remotes import clone, remote_tip, seeded_remote
from helpers.server import Server, Servers, eventually

pytestmark = pytest.mark.timeout(900)

DRAFT = "prompts/farewell/versions/1.yaml"


def assert_still_serving(server: Server, commit: str) -> None:
    ready = server.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["commit"] == commit
    answer = server.client.get("/v1/prompts/greeting")
    assert answer.status_code == 200 and answer.headers["x-promptship-commit"] == commit
    assert answer.json()["content"] == "Hello {{ name }}"
    assert server.process.poll() is None


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    return seeded_remote(tmp_path)


@pytest.fixture
def work(remote: Path, tmp_path: Path) -> Path:
    return clone(remote, tmp_path / "work")


def test_a_tag_named_like_the_branch_is_not_followed(
    servers: Servers, remote: Path, work: Path
) -> None:
    published = (work / "prompts/greeting/versions/1.yaml").read_text()
    branch = remote_tip(remote)
    evil = commit_on(
        work, "evil", {"prompts/greeting/versions/1.yaml": published.replace("Hello", "Pwned")}
    )
    git(work, "push", "-q", "origin", f"{evil}:refs/tags/main")
    # The short name now means two refs: refused, as by every other reader.
    refused = Cli(remote)("serve", "--port", "0", "--ref", "main")
    assert refused.exit_code == 1 and refused.stdout == ""
    assert "ambiguous" in refused.stderr and "refs/tags/main" in refused.stderr
    server = servers.start("--ref", "refs/heads/main", repo=remote)
    assert server.readiness()["commit"] == branch
    assert server.client.get("/v1/prompts/greeting").json()["content"] == "Hello {{ name }}"
    mirrored = servers.start("--from", remote.as_uri(), "--ref", "main")
    assert mirrored.readiness()["commit"] == branch


@pytest.mark.parametrize(
    ("writes", "mode", "what"),
    [
        ({DRAFT: b"version: 1\nstatus: \xff\xfe draft\n"}, "100644", "not UTF-8"),
        ({DRAFT: "content: " + "[" * 5000 + "]" * 5000 + "\n"}, "100644", "nesting"),
        (
            {
                DRAFT: 'a: &a ["x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: [*b,*b,*b,*b,*b,*b]\n'
            },
            "100644",
            "aliases",
        ),
        ({"prompts/farewell/versions/" + "9" * 5000 + ".yaml": "version: 1\n"}, "100644", "digits"),
        ({"prompts/farewell/history.yaml": "- " + "[" * 100000 + "\n"}, "100644", "history"),
        ({"prompts/farewell/prompt.yaml": "../../../etc/passwd"}, "120000", "symlink"),
        ({"prompts/farewell/versions/2.yaml": "x" * (2 << 20)}, "100644", "size"),
    ],
)
def test_a_commit_built_to_break_the_reader_is_not_served(
    servers: Servers,
    remote: Path,
    work: Path,
    writes: dict[str, str | bytes | None],
    mode: str,
    what: str,
) -> None:
    server = servers.start(repo=remote)
    good = remote_tip(remote)
    bad = push_commit_on(work, writes, mode=mode)
    degraded = eventually(lambda: server.readiness()["degraded"], what=f"the refusal ({what})")
    assert degraded["tip"] == bad and degraded["reason"]
    assert_still_serving(server, good)
    assert not [e for e in server.log() if e.get("event") == "error"]


def test_a_body_sent_a_byte_at_a_time_is_cut_off(servers: Servers, remote: Path) -> None:
    server = servers.start(repo=remote)
    with socket.create_connection(("127.0.0.1", server.port), timeout=120) as slow:
        slow.sendall(
            b"POST /v1/prompts/greeting/render HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"
        )
        sent = 0
        slow.settimeout(1)
        answer = b""
        while b"\r\n\r\n" not in answer and sent < 300:
            try:
                answer += slow.recv(4096)
            except TimeoutError:
                slow.sendall(b" ")
                sent += 1
                # Meanwhile everyone else is answered.
                assert server.client.get("/v1/prompts/greeting").status_code == 200
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert b'"RequestTimeout"' in answer or b"\r\n\r\n" in answer


@pytest.mark.parametrize("size", [2 << 20, 64 << 20])
def test_huge_bodies_are_refused_without_reading_them_whole(
    servers: Servers, remote: Path, size: int
) -> None:
    server = servers.start(repo=remote)

    def chunks() -> object:
        piece = b"x" * (1 << 16)
        yield b'{"variables": {"name": "'
        for _ in range(size // len(piece)):
            yield piece
        yield b'"}}'

    response = server.client.post(
        "/v1/prompts/greeting/render",
        content=chunks(),  # type: ignore[arg-type]
    )
    assert response.status_code == 413
    assert response.json()["error"]["type"] == "PayloadTooLarge"


@pytest.mark.parametrize(
    ("template", "values", "status"),
    [
        (
            "{% for i in range(100000) %}{% for j in range(100000) %}{{ x }}{% endfor %}{% endfor %}",
            {"x": "y"},
            422,
        ),
        ("{{ x * 2000000000 }}", {"x": "y"}, 422),
        ("{{ x }}{{ x }}", {"x": "y" * 900_000}, 422),
        ("{{ x }}", {"x": "y" * 900_000}, 200),
        (
            "{% for a in x %}{% for b in x %}{% for c in x %}{{ a }}{% endfor %}{% endfor %}"
            "{% endfor %}",
            {"x": list(range(2000))},
            422,
        ),
        ("{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(x) }}", {"x": 1}, 422),
    ],
)
def test_a_render_built_to_run_away_is_stopped(
    servers: Servers,
    remote: Path,
    work: Path,
    template: str,
    values: dict[str, object],
    status: int,
) -> None:
    cli = Cli(work)
    cli.ok("create", "bomb", "--content", template)
    cli.ok("promote", "bomb", "1", "--yes", "--skip-tests")
    git(work, "push", "-q", "origin", "main")
    server = servers.start(repo=remote)
    response = server.client.post(
        "/v1/prompts/bomb/render", json={"variables": values}, timeout=120
    )
    assert response.status_code == status, response.text[:300]
    if status == 422:
        # The template's own limits answer first (LimitExceeded); the worker's deadline backs them.
        assert response.json()["error"]["type"] in {"RenderError", "LimitExceeded"}
    again = server.client.post("/v1/prompts/greeting/render", json={"variables": {"name": "Ada"}})
    assert again.json()["content"] == "Hello Ada"
    assert server.process.poll() is None


def test_hostile_headers_get_json_errors(servers: Servers, remote: Path, tmp_path: Path) -> None:
    tokens = tmp_path / "tokens"
    tokens.write_text("reader-token-0123456789\n")
    server = servers.start(
        "--token-file", str(tokens), repo=remote, token="reader-token-0123456789"
    )
    huge = server.client.get("/v1/events", headers={"Last-Event-ID": "f" * 8000})
    assert huge.status_code == 400 and huge.json()["error"]["type"] == "InputError"
    many = server.client.get(
        "/v1/prompts/greeting", headers={"If-None-Match": ", ".join(['"x"'] * 2000)}
    )
    assert many.status_code == 200
    for bearer in (b"Bearer \xe9\xe9\xe9", b"Bearer " + b"r" * 100_000, b"Basic x", b"Bearer"):
        refused = httpx.get(f"{server.url}/v1/prompts/greeting", headers={"Authorization": bearer})
        assert refused.status_code in (401, 431), bearer[:20]
        if refused.status_code == 401:
            assert refused.json()["error"]["type"] == "Unauthorized"
    assert server.client.get("/v1/prompts/greeting").status_code == 200
