"""Following a branch: promotions pushed to the followed remote reach running clients with no
call from the application; commits that break the rules, and rewinds, are not served; replicas
converge; clients ride out a restart; SIGTERM ends open streams cleanly.

Real servers, real bare remotes and clones that promote through the command line and push, real
event-stream clients. Propagation is awaited by polling, never timed."""

from __future__ import annotations

import json
import queue
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from helpers.attack import commit_tree, push_commit_on, tree_with
from helpers.cli import promptship
from helpers.gitrepo import git
from helpers.remotes import clone, remote_tip, seeded_remote
from helpers.server import Servers, eventually, push_event, sign, sse_events
from registry import Registry

pytestmark = pytest.mark.timeout(900)


def promote(work: Path, name: str, version: str) -> str:
    """Promote in the clone and push, as a person does; the pushed commit."""
    done = promptship(work, "promote", name, version, "--yes", "--push")
    assert done.returncode == 0, done.stderr
    return git(work, "rev-parse", "HEAD").strip()


class Listener:
    """A raw event-stream client in a thread, collecting ``(event, data)`` pairs."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.received: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        self.status: int | None = None
        self.error: Exception | None = None
        self.ended = threading.Event()
        self._client = httpx.Client(timeout=httpx.Timeout(30, read=None))
        self._thread = threading.Thread(target=self._run, args=(url, headers or {}), daemon=True)
        self._thread.start()

    def _run(self, url: str, headers: dict[str, str]) -> None:
        try:
            with self._client.stream("GET", f"{url}/v1/events", headers=headers) as response:
                self.status = response.status_code
                for item in sse_events(response):
                    self.received.put(item)
        except Exception as exc:  # the stream ended: closed here, or the server went away
            self.error = exc
        finally:
            self.ended.set()

    def next(self, event: str = "commit") -> dict[str, Any]:
        def probe() -> dict[str, Any] | None:
            try:
                kind, data = self.received.get(timeout=0.5)
            except queue.Empty:
                return None
            return data if kind == event else None

        return eventually(probe, what=f"a {event} event")

    def until(self, commit: str) -> dict[str, Any]:
        return eventually(
            lambda: (lambda d: d if d["commit"] == commit else None)(self.next()),
            what=f"the event of {commit[:10]}",
        )

    def close(self) -> None:
        self._client.close()
        self._thread.join(timeout=30)


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    return seeded_remote(tmp_path)


@pytest.fixture
def work(remote: Path, tmp_path: Path) -> Path:
    return clone(remote, tmp_path / "work")


@pytest.fixture
def listeners() -> Iterator[list[Listener]]:
    opened: list[Listener] = []
    yield opened
    for listener in opened:
        listener.close()


def test_a_pushed_promotion_reaches_connected_clients_by_itself(
    servers: Servers, remote: Path, work: Path, listeners: list[Listener]
) -> None:
    server = servers.start(repo=remote)
    changes: list[tuple[str, list[str]]] = []
    prompts = Registry.connect(
        server.url, on_change=lambda c, names: changes.append((c, list(names)))
    )
    listener = Listener(server.url)
    listeners.append(listener)
    try:
        first = listener.next()
        assert first["commit"] == remote_tip(remote) and first["base"] is None
        assert prompts.get("greeting").version == 1

        pushed = promote(work, "greeting", "2")

        event = listener.until(pushed)
        assert event["base"] == first["commit"]
        (change,) = event["changed"]
        assert (change["name"], change["version"]) == ("greeting", 2)
        assert change["prompt"]["content"] == "Hi {{ name }}"
        eventually(lambda: prompts.get("greeting").version == 2, what="the client to swap")
        assert prompts.commit == pushed
        assert prompts.render("greeting", {"name": "Ada"}).content == "Hi Ada"
        assert changes[-1] == (pushed, ["greeting"])
    finally:
        prompts.close()


def test_promoting_another_prompt_leaves_an_etag_as_it_was(
    servers: Servers, remote: Path, work: Path
) -> None:
    promptship(work, "promote", "farewell", "1", "--yes", "--push")
    server = servers.start(repo=remote)
    before = server.client.get("/v1/prompts/greeting")
    farewell = server.client.get("/v1/prompts/farewell").headers["etag"]

    pushed = promote(work, "greeting", "3")
    server.wait_commit(pushed)

    unchanged = server.client.get("/v1/prompts/farewell", headers={"If-None-Match": farewell})
    assert unchanged.status_code == 304
    assert unchanged.headers["x-promptship-commit"] == pushed
    changed = server.client.get(
        "/v1/prompts/greeting", headers={"If-None-Match": before.headers["etag"]}
    )
    assert changed.status_code == 200 and changed.json()["version"] == 3


def test_a_commit_that_breaks_the_rules_is_not_served_and_the_next_good_one_is(
    servers: Servers, remote: Path, work: Path
) -> None:
    server = servers.start(repo=remote)
    good = remote_tip(remote)
    draft = (work / "prompts/farewell/versions/1.yaml").read_text()
    bad = push_commit_on(
        work,
        {"prompts/farewell/versions/1.yaml": draft.replace("status: draft", "status: shipped")},
        message="break farewell's draft",
    )

    degraded = eventually(lambda: server.readiness()["degraded"], what="the refusal")
    assert degraded["tip"] == bad
    assert "farewell/versions/1.yaml" in degraded["reason"]
    ready = server.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["commit"] == good
    assert server.client.get("/v1/prompts/greeting").headers["x-promptship-commit"] == good
    assert "promptship_degraded 1" in server.client.get("/metrics").text.splitlines()
    (refused,) = server.events("refused")
    assert refused["commit"] == bad

    fixed = push_commit_on(
        work, {"prompts/farewell/versions/1.yaml": draft}, message="restore the draft"
    )
    server.wait_commit(fixed)
    assert server.readiness()["degraded"] is None


def test_editing_published_content_is_never_served(
    servers: Servers, remote: Path, work: Path
) -> None:
    server = servers.start(repo=remote)
    good = remote_tip(remote)
    published = (work / "prompts/greeting/versions/1.yaml").read_text()
    bad = push_commit_on(
        work,
        {"prompts/greeting/versions/1.yaml": published.replace("Hello", "Yo")},
        message="rewrite what production serves",
    )
    degraded = eventually(lambda: server.readiness()["degraded"], what="the refusal")
    assert degraded["tip"] == bad and "frozen" in degraded["reason"]
    assert server.client.get("/v1/prompts/greeting").json()["content"] == "Hello {{ name }}"
    assert server.readiness()["commit"] == good


def test_a_force_push_that_rewinds_is_not_served(
    servers: Servers, remote: Path, work: Path
) -> None:
    old = remote_tip(remote)
    promoted = promote(work, "greeting", "2")
    server = servers.start(repo=remote)
    assert server.readiness()["commit"] == promoted

    git(work, "push", "-q", "--force", "origin", f"{old}:refs/heads/main")

    degraded = eventually(lambda: server.readiness()["degraded"], what="the refusal")
    assert degraded["tip"] == old and "does not descend" in degraded["reason"]
    assert server.client.get("/v1/prompts/greeting").json()["version"] == 2
    assert server.readiness()["commit"] == promoted


def test_three_replicas_of_one_remote_converge(servers: Servers, remote: Path, work: Path) -> None:
    url = remote.as_uri()
    replicas = [servers.start("--from", url, "--fetch-every", "0.2") for _ in range(3)]
    for version in ("2", "3"):
        pushed = promote(work, "greeting", version)
        for replica in replicas:
            replica.wait_commit(pushed)
    answers = {replica.client.get("/v1/prompts/greeting").content for replica in replicas}
    assert len(answers) == 1
    etags = {replica.client.get("/v1/prompts/greeting").headers["etag"] for replica in replicas}
    assert len(etags) == 1


def test_clients_reconnect_after_a_restart_and_catch_up(
    servers: Servers, remote: Path, work: Path, listeners: list[Listener]
) -> None:
    server = servers.start(repo=remote)
    prompts = Registry.connect(server.url)
    try:
        listener = Listener(server.url)
        listeners.append(listener)
        first = listener.next()
        eventually(lambda: prompts.connected, what="the client's stream")

        assert server.stop(signal.SIGKILL) == -signal.SIGKILL
        eventually(lambda: listener.ended.is_set(), what="the raw stream to end")
        pushed = promote(work, "greeting", "2")
        assert prompts.get("greeting").version == 1  # the last known prompts, through the outage

        restarted = servers.start("--port", str(server.port), repo=remote)
        assert restarted.port == server.port
        eventually(lambda: prompts.get("greeting").version == 2, what="the client to catch up")
        assert prompts.commit == pushed

        again = Listener(server.url, headers={"Last-Event-ID": first["commit"]})
        listeners.append(again)
        caught = again.next()
        assert (caught["base"], caught["commit"]) == (first["commit"], pushed)
        assert [c["name"] for c in caught["changed"]] == ["greeting"]
    finally:
        prompts.close()


def test_sigterm_ends_open_streams_and_exits_0(
    servers: Servers, remote: Path, listeners: list[Listener]
) -> None:
    server = servers.start(repo=remote)
    opened = [Listener(server.url) for _ in range(3)]
    listeners.extend(opened)
    for listener in opened:
        listener.next()
    assert server.stop(signal.SIGTERM) == 0
    for listener in opened:
        assert listener.ended.wait(30)
    assert server.events("stopped")


def test_a_signed_webhook_fetches_at_once(
    servers: Servers, remote: Path, work: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "secret"
    secret.write_text("s3cret-shared-with-github\n")
    server = servers.start(
        "--from", remote.as_uri(), "--fetch-every", "3600", "--webhook-secret-file", str(secret)
    )
    pushed = promote(work, "greeting", "2")
    body = push_event()
    hook = server.client.post(
        "/v1/webhook",
        content=body,
        headers={
            "X-Hub-Signature-256": sign(b"s3cret-shared-with-github", body),
            "X-GitHub-Event": "push",
            "Content-Type": "application/json",
        },
    )
    assert hook.status_code == 202 and hook.json()["fetch"] is True
    server.wait_commit(pushed)


def test_a_badly_signed_webhook_is_refused_and_fetches_nothing(
    servers: Servers, remote: Path, work: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "secret"
    secret.write_text("s3cret-shared-with-github\n")
    server = servers.start(
        "--from", remote.as_uri(), "--fetch-every", "3600", "--webhook-secret-file", str(secret)
    )
    served = server.readiness()["commit"]
    promote(work, "greeting", "2")
    body = push_event()
    for signature in (sign(b"wrong secret", body), "sha256=", None, "sha1=" + "0" * 40):
        headers = {"X-GitHub-Event": "push"}
        if signature is not None:
            headers["X-Hub-Signature-256"] = signature
        refused = server.client.post("/v1/webhook", content=body, headers=headers)
        assert refused.status_code == 401
        assert refused.json()["error"]["type"] == "BadSignature"
    metrics = server.client.get("/metrics").text.splitlines()
    assert "promptship_fetches_total 1" in metrics  # the one at start, none since
    assert server.readiness()["commit"] == served


def test_a_webhook_for_another_branch_fetches_nothing(
    servers: Servers, remote: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "secret"
    secret.write_text("s3cret-shared-with-github")
    server = servers.start(
        "--from", remote.as_uri(), "--fetch-every", "3600", "--webhook-secret-file", str(secret)
    )
    body = push_event("refs/heads/feature")
    answer = server.client.post(
        "/v1/webhook",
        content=body,
        headers={"X-Hub-Signature-256": sign(b"s3cret-shared-with-github", body)},
    )
    assert answer.status_code == 202 and answer.json()["fetch"] is False


def test_a_clone_follows_its_remote_tracking_branch(
    servers: Servers, remote: Path, work: Path, tmp_path: Path
) -> None:
    follower = clone(remote, tmp_path / "follower")
    server = servers.start("--ref", "origin/main", "--fetch-every", "0.2", repo=follower)
    pushed = promote(work, "greeting", "2")
    server.wait_commit(pushed)
    assert git(follower, "rev-parse", "refs/remotes/origin/main").strip() == pushed
    assert git(follower, "rev-parse", "HEAD").strip() != pushed  # the checkout is left alone


@pytest.mark.parametrize(
    ("last", "status", "kind"),
    [
        ("0123456789" * 4, 409, "UnknownCommit"),
        ("not a commit", 400, "InputError"),
    ],
)
def test_a_foreign_last_event_id_gets_a_json_error(
    servers: Servers, remote: Path, last: str, status: int, kind: str
) -> None:
    server = servers.start(repo=remote)
    response = server.client.get("/v1/events", headers={"Last-Event-ID": last})
    assert response.status_code == status
    assert response.json()["error"]["type"] == kind


def test_a_last_event_id_of_another_history_gets_409(
    servers: Servers, remote: Path, work: Path
) -> None:
    server = servers.start(repo=remote)
    other = commit_tree(work, tree_with(work, None, {"README": "unrelated"}), [], "another root")
    git(work, "push", "-q", "origin", f"{other}:refs/heads/elsewhere")
    response = server.client.get("/v1/events", headers={"Last-Event-ID": other})
    assert response.status_code == 409
    assert "not a commit of the history" in response.json()["error"]["message"]


def test_an_unborn_branch_is_served_from_its_first_commit(
    servers: Servers, tmp_path: Path, remote: Path
) -> None:
    empty = tmp_path / "empty.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(empty))
    server = servers.start(repo=empty, wait=False)
    waiting = server.client.get("/readyz")
    assert waiting.status_code == 503 and waiting.json() == {
        "commit": None,
        "degraded": None,
        "fetch_error": None,
    }
    git(tmp_path, "--git-dir", str(remote), "push", "-q", str(empty), "main")
    server.wait_commit(remote_tip(remote))


def test_not_ready_answers_503(servers: Servers, remote: Path, work: Path) -> None:
    draft = (work / "prompts/farewell/versions/1.yaml").read_text()
    push_commit_on(
        work, {"prompts/farewell/versions/1.yaml": draft.replace("draft", "shipped")}, message="bad"
    )
    server = servers.start(repo=remote, wait=False)
    degraded = eventually(
        lambda: server.client.get("/readyz").json()["degraded"], what="the first refusal"
    )
    assert "farewell" in degraded["reason"]
    ready = server.client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["commit"] is None
    answer = server.client.get("/v1/prompts/greeting")
    assert answer.status_code == 503 and answer.json()["error"]["type"] == "NotReady"
    assert json.loads(server.client.get("/v1/events").content)["error"]["type"] == "NotReady"


def test_a_restart_checks_only_the_folders_that_changed(
    servers: Servers, remote: Path, work: Path
) -> None:
    first = servers.start(repo=remote)
    assert first.events("checked")[0]["folders"] == 2
    assert first.stop() == 0
    pushed = promote(work, "greeting", "2")

    again = servers.start(repo=remote)
    again.wait_commit(pushed)
    (checked,) = again.events("checked")
    assert (checked["folders"], checked["remembered"]) == (1, 1)  # greeting changed
    assert again.client.get("/v1/prompts/greeting").json()["version"] == 2
    farewell = again.client.get("/v1/prompts/farewell", params={"version": "1"})
    assert farewell.json()["status"] == "draft"


def test_verdicts_remembered_by_other_code_are_not_reused(
    servers: Servers, remote: Path, tmp_path: Path
) -> None:
    assert servers.start(repo=remote).stop() == 0
    (remembered,) = (tmp_path / "cache" / "promptship" / "verified").iterdir()
    data = json.loads(remembered.read_text())
    data["code"] = "0" * 64
    remembered.write_text(json.dumps(data))
    again = servers.start(repo=remote)
    assert again.events("checked")[0]["folders"] == 2
