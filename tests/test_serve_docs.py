"""The examples of docs/serve.md run against a real server: the curl commands, and the
JavaScript client on Node.js (where Node is installed) hearing of a promotion by itself."""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from helpers.cli import Cli, promptship
from helpers.server import Servers, eventually

pytestmark = pytest.mark.timeout(600)

GUIDE = (Path(__file__).resolve().parent.parent / "docs" / "serve.md").read_text()


def block(language: str, first_line: str = "") -> str:
    found = [
        b
        for b in re.findall(rf"```{language}\n(.*?)```", GUIDE, flags=re.S)
        if b.startswith(first_line)
    ]
    assert found, (language, first_line)
    return found[0]


@pytest.fixture
def shop(cli: Cli) -> Cli:
    cli.ok("create", "greeting", "--content", "Hello, {{ name }}! Welcome to {{ app_name }}.")
    cli.ok("promote", "greeting", "1", "--yes")
    cli.ok(
        "new-version", "greeting", "--from", "1", "--content", "Hi {{ name }} of {{ app_name }}!"
    )
    return cli


def test_the_curl_examples_run(shop: Cli, repo: Path, servers: Servers, tmp_path: Path) -> None:
    server = servers.start(repo=repo)
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block("sh", "# try it")],
        cwd=tmp_path,
        env={**os.environ, "URL": server.url},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert '"content":"Hello, {{ name }}! Welcome to {{ app_name }}."' in out
    assert '"content":"Hi {{ name }} of {{ app_name }}!"' in out
    assert '"content":"Hello, Ada! Welcome to Acme."' in out
    assert "\n304\n" in out
    assert json.loads(out.splitlines()[-1])["commit"] == server.readiness()["commit"]
    assert (tmp_path / "prompts.json").read_bytes() == promptship(repo, "export").stdout.encode()


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")
def test_the_javascript_client_hears_a_promotion(
    shop: Cli, repo: Path, servers: Servers, tmp_path: Path
) -> None:
    server = servers.start(repo=repo)
    script = tmp_path / "follow.mjs"
    script.write_text(block("js"))
    node = subprocess.Popen(
        ["node", str(script)],
        env={**os.environ, "PROMPTSHIP_URL": server.url},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(x.strip()) for x in node.stdout or ()])
    reader.start()
    try:
        assert eventually(lambda: _line(lines), what="node's first line") == "greeting v1"
        eventually(
            lambda: server.client.get("/metrics").text.count("event_clients 1"),
            what="node's stream",
        )
        shop.ok("promote", "greeting", "2", "--yes")
        commit = Cli(repo).ok("show", "greeting", "--json")  # the promotion is committed
        assert json.loads(commit.stdout)["version"] == 2
        heard = eventually(lambda: _line(lines), what="the promotion at node")
        assert heard.startswith("greeting v2 (commit ")
    finally:
        node.terminate()
        node.wait(timeout=30)
        reader.join(timeout=30)
        if node.stdout is not None:
            node.stdout.close()


def _line(lines: queue.Queue[str]) -> str | None:
    try:
        return lines.get(timeout=0.5)
    except queue.Empty:
        return None
