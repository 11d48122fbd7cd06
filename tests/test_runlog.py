"""The run log's format and the side-by-side layout, with no network."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal

import pytest

from cli.columns import side_by_side, wrap_cell
from registry.errors import ProviderError, RunNotFound
from registry.names import Selector
from registry.panel.plan import Outcome, RunSpec
from registry.panel.providers import Reply, Target, Usage
from registry.panel.runlog import (
    Failure,
    ModelResult,
    RunRecord,
    find_run,
    make_record,
    parse_log,
    rerun_spec,
    run_log_line,
)

USAGE = Usage(prompt_tokens=5, completion_tokens=7, total_tokens=12)
FAILED = ProviderError(
    provider="local",
    model="b",
    kind="rate-limited",
    detail="rate limited (HTTP 429); retry after 7 s: slow down",
    hint="wait",
    status=429,
    retry_after=7.0,
)


def record(run_id: str = "0123abcd") -> RunRecord:
    return make_record(
        run_id=run_id,
        at="2026-11-29T12:00:00Z",
        prompt="greeting",
        version=2,
        digest="sha256:" + "0" * 64,
        commit="f" * 40,
        spec=RunSpec(
            selector=Selector(prompt="greeting", version=2),
            variables={"name": "Ada", "n": 3},
            models=("a", "local:b"),
            overrides={"seed": 1},
        ),
        parameters={"temperature": 0.2, "seed": 1},
        resolved={"type": "text", "content": "Hi Ada"},
        outcomes=[
            Outcome(
                target=Target(provider="local", model="a"),
                reply=Reply(text="Hello", finish_reason="stop", usage=USAGE),
                error=None,
                latency_ms=41,
                cost=Decimal("0.0000825"),
            ),
            Outcome(
                target=Target(provider="local", model="b"),
                reply=None,
                error=FAILED,
                latency_ms=3,
                cost=None,
            ),
        ],
    )


def test_a_record_is_one_line_and_reads_back_the_same() -> None:
    line = run_log_line(record())
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    [back], unreadable = parse_log(line)
    assert unreadable == 0
    assert back == record()
    assert back.results[1].error == Failure(
        kind="rate-limited",
        message="provider 'local', model 'b': rate limited (HTTP 429); retry after 7 s: slow down",
        detail="rate limited (HTTP 429); retry after 7 s: slow down",
        hint="wait",
        status=429,
        retry_after=7.0,
    )
    assert [r.label for r in back.results] == ["local:a", "local:b"]
    assert back.failed == (back.results[1],)


def test_the_line_is_json_with_the_documented_keys() -> None:
    data = json.loads(run_log_line(record()))
    assert list(data) == [
        "id",
        "at",
        "prompt",
        "version",
        "digest",
        "commit",
        "rerun_of",
        "variables",
        "overrides",
        "parameters",
        "resolved",
        "results",
    ]
    assert list(data["results"][0]) == [
        "provider",
        "model",
        "response",
        "finish_reason",
        "usage",
        "latency_ms",
        "cost_usd",
        "error",
    ]
    assert data["results"][0]["cost_usd"] == 0.0000825


def test_keys_from_a_later_version_survive_a_read() -> None:
    data = json.loads(run_log_line(record()))
    data["golden"] = {"passed": 3}
    data["results"][0]["usage"]["cached_tokens"] = 2
    [back], _ = parse_log(json.dumps(data).encode())
    assert json.loads(run_log_line(back))["golden"] == {"passed": 3}
    assert back.results[0].usage == USAGE


def test_values_json_cannot_hold_become_text() -> None:
    odd = replace(record(), variables={"raw": b"\x00\x01"})
    [back], _ = parse_log(run_log_line(odd))
    assert back.variables == {"raw": "b'\\x00\\x01'"}


def test_unreadable_lines_are_counted_and_skipped() -> None:
    good = run_log_line(record("aaaa0000")) + run_log_line(record("bbbb0000"))
    data = good + b'{"id": "cut' + b"\n\n[1, 2]\n" + b'{"id": "x"}\n' + b"\xff\n"
    records, unreadable = parse_log(data)
    assert [r.id for r in records] == ["aaaa0000", "bbbb0000"]
    assert unreadable == 4


def test_numbers_out_of_range_make_a_line_unreadable_not_a_crash() -> None:
    good = run_log_line(record("aaaa0000"))
    huge = good.replace(b'"latency_ms":', b'"latency_ms":1e999,"x":', 1)
    assert huge != good
    records, unreadable = parse_log(good + huge)
    assert [r.id for r in records] == ["aaaa0000"]
    assert unreadable == 1


@pytest.mark.parametrize(
    ("wanted", "found"),
    [("aaaa0000", "aaaa0000"), ("aaaa1", "aaaa1111"), ("abcd", "abcd9999"), ("bbbb", "bbbb")],
)
def test_find_run(wanted: str, found: str) -> None:
    records = [record(i) for i in ("aaaa0000", "aaaa1111", "abcd9999", "bbbb", "bbbb1234")]
    assert find_run(records, wanted).id == found


@pytest.mark.parametrize(
    ("wanted", "matches"),
    [("aaaa", ("aaaa0000", "aaaa1111")), ("aaa", ()), ("zzzz", ()), ("", ())],
)
def test_find_run_refusals(wanted: str, matches: tuple[str, ...]) -> None:
    records = [record(i) for i in ("aaaa0000", "aaaa1111")]
    with pytest.raises(RunNotFound) as caught:
        find_run(records, wanted)
    assert caught.value.matches == matches


def test_rerun_repeats_variables_models_and_overrides() -> None:
    spec = rerun_spec(record(), 3, timeout=2.0)
    assert spec.selector == Selector(prompt="greeting", version=3)
    assert spec.variables == {"name": "Ada", "n": 3}
    assert spec.models == (
        Target(provider="local", model="a"),
        Target(provider="local", model="b"),
    )
    assert spec.overrides == {"seed": 1}
    assert (spec.timeout, spec.rerun_of) == (2.0, "0123abcd")
    assert rerun_spec(record(), None, timeout=None).selector.version == 2


def test_results_hold_what_the_json_shows() -> None:
    result = ModelResult(provider="p", model="m")
    assert result.to_json()["usage"] is None and result.to_json()["cost_usd"] is None


# --- side by side -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "width", "lines"),
    [
        ("", 10, [""]),
        ("short", 10, ["short"]),
        ("one two three four", 9, ["one two", "three", "four"]),
        ("abcdefghij", 4, ["abcd", "efgh", "ij"]),
        ("a\n\nb", 10, ["a", "", "b"]),
    ],
)
def test_wrap_cell(text: str, width: int, lines: list[str]) -> None:
    assert wrap_cell(text, width) == lines


def test_columns_at_their_natural_width_when_they_fit() -> None:
    lines = side_by_side(
        ["a:x", "b:y"], [("response", ["hi", "hello"]), ("cost", ["-", "$1"])], width=80
    )
    assert lines == [
        "          a:x | b:y",
        "          --- | -----",
        "response  hi  | hello",
        "cost      -   | $1",
    ]


def test_long_cells_wrap_inside_equal_columns() -> None:
    words = "word " * 30
    lines = side_by_side(["a", "b"], [("response", [words, "short"])], width=70)
    assert lines is not None
    assert all(len(line) <= 70 for line in lines)
    assert lines[2].startswith("response  word") and lines[2].endswith("| short")
    assert lines[3].startswith("          word")


def test_too_narrow_gives_none() -> None:
    assert side_by_side(["a", "b", "c"], [("response", ["x" * 50] * 3)], width=60) is None
