"""``Registry.connect``: the read API of ``Registry.open`` answered from memory, from a real
server or from a fallback bundle when there is none."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from helpers.cli import promptship
from helpers.remotes import clone, remote_tip, seeded_remote
from helpers.server import Servers, eventually
from registry import (
    MissingVariables,
    NoProductionVersion,
    PromptNotFound,
    Registry,
    VersionNotFound,
)
from registry.errors import InvalidBundle, ServerUnreachable

pytestmark = pytest.mark.timeout(600)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_connected_answers_match_a_registry_opened_on_git(servers: Servers, tmp_path: Path) -> None:
    remote = seeded_remote(tmp_path)
    server = servers.start(repo=remote)
    opened = Registry.open(remote, ref="main")
    with Registry.connect(server.url) as connected:
        assert connected.commit == opened.commit
        for label, version in ((None, None), ("latest", None), (None, 2), (None, "v1")):
            want = opened.get("greeting", label=label, version=version)
            got = connected.get("greeting", label=label, version=version)
            assert got == want, (label, version)
        assert connected.get("greeting@3") == opened.get("greeting@3")
        assert connected.render("greeting", {"name": "Ada"}).content == "Hello Ada"
        assert connected.names() == ["greeting"]
        with pytest.raises(MissingVariables) as missing:
            connected.render("greeting")
        assert missing.value.missing == ("name",)


@pytest.mark.parametrize(
    ("name", "options", "error"),
    [
        ("nope", {}, PromptNotFound),
        ("farewell", {}, NoProductionVersion),
        ("greeting", {"version": 9}, VersionNotFound),
    ],
)
def test_refusals_are_the_same_typed_errors(
    servers: Servers, tmp_path: Path, name: str, options: dict[str, object], error: type[Exception]
) -> None:
    remote = seeded_remote(tmp_path)
    server = servers.start(repo=remote)
    with Registry.connect(server.url) as connected:
        with pytest.raises(error) as caught:
            connected.get(name, **options)  # type: ignore[arg-type]
        with pytest.raises(error):
            Registry.open(remote, ref="main").get(name, **options)  # type: ignore[arg-type]
        assert caught.value.prompt == name  # type: ignore[attr-defined]


def test_no_server_and_no_fallback_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ServerUnreachable) as caught:
        Registry.connect(f"http://127.0.0.1:{free_port()}", timeout=2)
    assert "cannot reach" in caught.value.message and "fallback" in caught.value.hint


def test_a_fallback_bundle_serves_until_the_server_comes(servers: Servers, tmp_path: Path) -> None:
    remote = seeded_remote(tmp_path)
    bundle = tmp_path / "prompts.json"
    assert promptship(remote, "export", "--out", str(bundle)).returncode == 0
    work = clone(remote, tmp_path / "work")
    assert promptship(work, "promote", "greeting", "2", "--yes", "--push").returncode == 0
    port = free_port()
    changes: list[str] = []

    prompts = Registry.connect(
        f"http://127.0.0.1:{port}",
        fallback=bundle,
        on_change=lambda commit, names: changes.append(commit),
        timeout=2,
    )
    try:
        assert prompts.source == "fallback"
        assert prompts.get("greeting").version == 1
        assert not prompts.connected

        servers.start("--port", str(port), repo=remote)
        eventually(lambda: prompts.get("greeting").version == 2, what="the server's prompts")
        assert prompts.commit == remote_tip(remote) and changes == [remote_tip(remote)]
        assert prompts.source == "server"
    finally:
        prompts.close()


def test_a_tampered_fallback_is_refused(tmp_path: Path) -> None:
    remote = seeded_remote(tmp_path)
    bundle = tmp_path / "prompts.json"
    promptship(remote, "export", "--out", str(bundle))
    bundle.write_text(bundle.read_text().replace("Hello", "Goodbye"))
    with pytest.raises(InvalidBundle):
        Registry.connect(f"http://127.0.0.1:{free_port()}", fallback=bundle, timeout=2)


def test_a_token_is_sent(servers: Servers, tmp_path: Path) -> None:
    remote = seeded_remote(tmp_path)
    tokens = tmp_path / "tokens"
    tokens.write_text("reader-token-0123456789\n")
    server = servers.start("--token-file", str(tokens), repo=remote)
    with pytest.raises(ServerUnreachable) as refused:
        Registry.connect(server.url, token="wrong-token-0123456789")
    assert "401 Unauthorized" in refused.value.message
    with Registry.connect(server.url, token="reader-token-0123456789") as prompts:
        assert prompts.get("greeting").version == 1
        eventually(lambda: prompts.connected, what="the event stream")
