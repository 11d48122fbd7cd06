"""The server's pure parts, without a process: answers prepared from a snapshot and updated for a
new commit, event frames, the event hub, webhook signatures and binding rules."""

from __future__ import annotations

import asyncio
import json

import pytest

from helpers.inmemory import add_prompt, add_version, promote_version, sound_registry
from registry.check.tree import folder_problems, read_prompt
from registry.errors import InputError
from registry.read.export import export_bundle
from registry.read.versions import SnapshotReader
from registry.snapshot import DictSnapshot
from registry.web.errors import BadSignature
from registry.web.events import RING, EventHub, commit_frame
from registry.web.hosts import check_binding, is_loopback
from registry.web.served import Lazy, PreparedPrompt, Served, prepare_checked, prepare_prompt
from registry.web.webhook import check_signature, pushed_ref


def prepared(snapshot: DictSnapshot) -> dict[str, PreparedPrompt]:
    reader = SnapshotReader(snapshot)
    names = sorted({p.split("/")[1] for p in snapshot.files})
    return {n: prepare_prompt(snapshot, reader, n) for n in names}


def lazy() -> Lazy:
    return Lazy(lambda key: pytest.fail(f"nothing is read lazily here: {key}"))


@pytest.fixture
def registry() -> DictSnapshot:
    snapshot = add_prompt(DictSnapshot(), "greeting", "Hello {{ name }}")
    snapshot = add_prompt(snapshot, "support", [("system", "Help {{ company }}")])
    return add_prompt(snapshot, "draft", "Later", promote=False)


def test_the_prepared_bundle_is_the_export(registry: DictSnapshot) -> None:
    served = Served("a" * 40, prepared(registry), lazy())
    assert served.export.body == export_bundle(registry, "a" * 40)
    assert sorted(served.production) == ["greeting", "support"]
    rows = json.loads(served.listing.body)["prompts"]
    assert [r["name"] for r in rows] == ["draft", "greeting", "support"]


def test_answers_prepared_from_the_checked_files_are_those_read_afresh(
    registry: DictSnapshot,
) -> None:
    # A cold start prepares every prompt from what the check parsed; a later commit prepares
    # the prompts it changes by reading them: both must give the same bytes and ETags.
    snapshot = promote_version(add_version(registry, "greeting", "Hi {{ name }}"), "greeting", 2)
    snapshot = add_version(snapshot, "support", [("system", "Help {{ company }} now")])
    for case in (snapshot, sound_registry()):
        fresh = prepared(case)
        assert fresh
        for name, answers in fresh.items():
            files = read_prompt(case, name)
            assert folder_problems(files) == []
            assert prepare_checked(case, files) == answers


def test_a_promotion_changes_one_etag_and_one_event_item(registry: DictSnapshot) -> None:
    before = Served("a" * 40, prepared(registry), lazy())
    promoted = promote_version(add_version(registry, "greeting", "Hi {{ name }}"), "greeting", 2)
    changed = prepared(promoted)
    after = before.advance("b" * 40, {"greeting": changed["greeting"]}, lazy())

    assert after.production["support"].etag == before.production["support"].etag
    assert after.production["greeting"].etag != before.production["greeting"].etag
    assert after.export.body == export_bundle(promoted, "b" * 40)
    (change,) = before.production_changes(after)
    assert isinstance(change, PreparedPrompt) and change.version == 2

    frame = commit_frame("b" * 40, "a" * 40, [change]).decode()
    lines = frame.split("\n")
    assert lines[:2] == ["id: " + "b" * 40, "event: commit"] and frame.endswith("\n\n")
    data = json.loads(lines[2].removeprefix("data: "))
    assert (data["base"], data["commit"], data["complete"]) == ("a" * 40, "b" * 40, True)
    assert data["changed"][0]["prompt"] == json.loads(changed["greeting"].production.body)  # type: ignore[union-attr]


def test_a_prompt_leaving_production_is_named_with_nulls(registry: DictSnapshot) -> None:
    before = Served("a" * 40, prepared(registry), lazy())
    after = before.advance("b" * 40, {"support": None}, lazy())
    assert before.production_changes(after) == ["support"]
    data = json.loads(commit_frame("b" * 40, "a" * 40, ["support"]).split(b"data: ")[1])
    assert data["changed"] == [{"digest": None, "name": "support", "prompt": None, "version": None}]


def test_lazy_answers_are_kept_within_a_budget() -> None:
    from registry.web.served import Answer

    asked: list[tuple[str, ...]] = []

    def compute(key: tuple[str, ...]) -> Answer:
        asked.append(key)
        return Answer.of(b"x" * (1 << 20))

    answers = Lazy(compute)
    for round_ in range(2):
        for i in range(100):
            answers.get(("version", str(i)))
        assert len(asked) == 100 * (round_ + 1)  # 100 MiB do not fit in the 64 MiB kept
    answers.get(("version", "99"))
    assert len(asked) == 200  # the most recent are kept


def test_the_hub_fans_out_and_lets_a_stalled_client_go() -> None:
    async def scenario() -> tuple[list[bytes], list[bytes]]:
        hub = EventHub()
        fast = hub.stream([b"first"])
        slow = hub.stream(after=hub.position())
        got = [await fast.__anext__()]
        waiting = asyncio.ensure_future(fast.__anext__())
        await asyncio.sleep(0)
        hub.publish(b"one")
        got.append(await waiting)
        # A stream that has not read since it was opened falls behind the whole ring.
        for i in range(RING + 1):
            hub.publish(b"frame %d" % i)
        stalled = [frame async for frame in slow]
        await fast.aclose()
        return got, stalled

    got, stalled = asyncio.run(scenario())
    assert got == [b"first", b"one"]
    assert stalled == []


def test_githubs_example_signature_verifies() -> None:
    # The example of GitHub's documentation on validating webhook deliveries.
    secret, body = b"It's a Secret to Everybody", b"Hello, World!"
    good = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    check_signature(secret, body, good)
    for bad in (None, "", good.replace("7", "8"), good.upper(), "sha1=" + good[7:], good + " x"):
        with pytest.raises(BadSignature):
            check_signature(secret, body, bad)


@pytest.mark.parametrize(
    ("body", "ref"),
    [
        (b'{"ref": "refs/heads/main"}', "refs/heads/main"),
        (b"payload=%7B%22ref%22%3A%22refs%2Fheads%2Fdev%22%7D", "refs/heads/dev"),
        (b'{"zen": "Keep it logically awesome."}', None),
        (b"not json", None),
        (b"[]", None),
    ],
)
def test_the_pushed_ref(body: bytes, ref: str | None) -> None:
    assert pushed_ref(body) == ref


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.5", False),
        ("example.com", False),
    ],
)
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
    if loopback:
        check_binding(host, tokens=False, public=False)
    else:
        with pytest.raises(InputError):
            check_binding(host, tokens=False, public=False)
        check_binding(host, tokens=True, public=False)
        check_binding(host, tokens=False, public=True)
