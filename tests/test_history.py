from __future__ import annotations

import json

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.errors import InputError, InvalidRegistry
from registry.history import (
    HistoryRecord,
    _parse_line,
    _parse_well_formed,
    append_record,
    last_record,
    parse_history,
    parse_time_bound,
    record_line,
    select_records,
    sort_records,
    tied_across_prompts,
)
from registry.yamlsafe import MAX_HISTORY_BYTES

A = "Alice Example <alice@example.com>"
B = "Bob Example <bob@example.com>"


def rec(
    prompt: str, version: int, at: str, by: str = A, index: int = 0, previous: int | None = None
) -> HistoryRecord:
    return HistoryRecord(
        prompt=prompt,
        version=version,
        previous_version=previous,
        promoted_by=by,
        promoted_at=at,
        position=index,
    )


def test_lines_are_json_and_the_file_is_yaml() -> None:
    data = append_record(None, rec("p", 1, "2026-11-28T10:00:00Z"))
    data = append_record(
        data,
        HistoryRecord(
            prompt="p",
            version=3,
            previous_version=1,
            promoted_by=B,
            promoted_at="2026-11-29T15:10:42Z",
            notes='Tone: "warmer" ✓',
        ),
    )
    lines = data.decode().splitlines()
    assert len(lines) == 2
    assert json.loads(lines[1][2:]) == {
        "version": 3,
        "previous_version": 1,
        "promoted_by": B,
        "promoted_at": "2026-11-29T15:10:42Z",
        "notes": 'Tone: "warmer" ✓',
    }
    assert yaml.safe_load(data)[1]["notes"] == 'Tone: "warmer" ✓'
    assert [r.version for r in parse_history(data, path="h", prompt="p")] == [1, 3]


def test_append_adds_a_missing_final_newline() -> None:
    first = record_line(rec("p", 1, "2026-11-28T10:00:00Z")).rstrip(b"\n")
    assert append_record(first, rec("p", 2, "2026-11-28T11:00:00Z")).count(b"\n") == 2


def test_unknown_keys_are_kept_and_ignored() -> None:
    data = b'- {"version": 1, "previous_version": null, "promoted_by": "A <a@x.io>", "promoted_at": "2026-11-28T10:00:00Z", "notes": "", "tests_skipped": true}\n'
    (record,) = parse_history(data, path="h", prompt="p")
    assert record.extra == {"tests_skipped": True}
    assert record.to_json()["tests_skipped"] is True


BAD_LINES = [
    (b"- version: 1", "one record"),
    (b'- {"version": 1}', "missing"),
    (
        b'- {"version": 0, "previous_version": null, "promoted_by": "A <a@x.io>", "promoted_at": "2026-11-28T10:00:00Z", "notes": ""}',
        "'version'",
    ),
    (
        b'- {"version": 1, "previous_version": null, "promoted_by": "nobody", "promoted_at": "2026-11-28T10:00:00Z", "notes": ""}',
        "promoted_by",
    ),
    (
        b'- {"version": 1, "previous_version": null, "promoted_by": "A <a@x.io>", "promoted_at": "yesterday", "notes": ""}',
        "promoted_at",
    ),
    (b"- {not json}", "not a JSON object"),
    (b'- {"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "not a JSON object"),
]


@pytest.mark.parametrize(("line", "message"), BAD_LINES)
def test_bad_lines_are_reported_with_their_line(line: bytes, message: str) -> None:
    good = record_line(rec("p", 1, "2026-11-28T10:00:00Z"))
    with pytest.raises(InvalidRegistry) as caught:
        parse_history(good + line + b"\n", path="prompts/p/history.yaml", prompt="p")
    (problem,) = caught.value.problems
    assert problem.line == 2 and message in problem.message


@pytest.mark.parametrize(("line", "message"), BAD_LINES)
def test_a_bad_last_line_is_reported_by_last_record(line: bytes, message: str) -> None:
    good = record_line(rec("p", 1, "2026-11-28T10:00:00Z"))
    with pytest.raises(InvalidRegistry) as caught:
        last_record(good + good + line + b"\n", path="prompts/p/history.yaml", prompt="p")
    (problem,) = caught.value.problems
    assert problem.line == 3 and message in problem.message


def test_last_record_reads_the_newest_line_only() -> None:
    data = b"".join(
        record_line(rec("p", n, f"2026-11-2{n}T10:00:00Z", previous=n - 1 or None))
        for n in (1, 2, 3)
    )
    assert last_record(data, path="h", prompt="p") == parse_history(data, path="h", prompt="p")[-1]
    assert last_record(data, path="h", prompt="p") == rec(
        "p", 3, "2026-11-23T10:00:00Z", index=2, previous=2
    )
    assert last_record(b"- {not json}\n" + data, path="h", prompt="p") is not None
    assert last_record(b"", path="h", prompt="p") is None


@pytest.mark.parametrize(
    ("data", "rule"),
    [
        (record_line(rec("p", 1, "2026-11-28T10:00:00Z"))[:-1], "history-format"),
        (b"#" * (MAX_HISTORY_BYTES + 1), "size"),
    ],
)
def test_last_record_refuses_a_file_parse_history_refuses(data: bytes, rule: str) -> None:
    for read in (parse_history, last_record):
        with pytest.raises(InvalidRegistry) as caught:
            read(data, path="h", prompt="p")
        assert [p.rule for p in caught.value.problems] == [rule]


RECORDS = [
    rec("a", 1, "2026-11-01T09:00:00Z", A, 0),
    rec("a", 2, "2026-11-02T23:59:59Z", B, 1, 1),
    rec("b", 1, "2026-11-03T00:00:00Z", B, 0),
    rec("b", 2, "2026-11-03T12:00:00Z", A, 1, 1),
]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"user": "BOB"}, [("a", 2), ("b", 1)]),
        ({"user": "example.com"}, [("a", 1), ("a", 2), ("b", 1), ("b", 2)]),
        ({"since": ("2026-11-02", False)}, [("a", 2), ("b", 1), ("b", 2)]),
        ({"until": ("2026-11-02", True)}, [("a", 1), ("a", 2)]),
        (
            {"since": ("2026-11-03T00:00:00Z", False), "until": ("2026-11-03T00:00:00Z", True)},
            [("b", 1)],
        ),
        ({"since": ("2026-11-03T01:00:00+02:00", False)}, [("a", 2), ("b", 1), ("b", 2)]),
        ({"until": ("2026-11-01 09:00", True)}, [("a", 1)]),
    ],
)
def test_filters_include_their_bounds(
    kwargs: dict[str, object], expected: list[tuple[str, int]]
) -> None:
    args: dict[str, object] = {}
    for key, value in kwargs.items():
        if key in ("since", "until"):
            text, end = value  # type: ignore[misc]
            args[key] = parse_time_bound(text, end_of_day=end)
        else:
            args[key] = value
    assert [(r.prompt, r.version) for r in select_records(RECORDS, **args)] == expected  # type: ignore[arg-type]


def test_bad_time_bound() -> None:
    with pytest.raises(InputError):
        parse_time_bound("last tuesday", end_of_day=False)


def test_newest_first_and_ties() -> None:
    same = "2026-11-05T10:00:00Z"
    records = [
        *RECORDS,
        rec("a", 3, same, index=2),
        rec("a", 4, same, index=3),
        rec("b", 3, same, index=2),
    ]
    ordered = sort_records(records)
    assert [(r.prompt, r.version) for r in ordered[:3]] == [("b", 3), ("a", 4), ("a", 3)]
    # commit order beats names across prompts: b's record committed first
    ranked = sort_records(records, commit_rank={("b", 2): -5, ("a", 2): -3, ("a", 3): -2})
    assert [(r.prompt, r.version) for r in ranked[:3]] == [("a", 4), ("a", 3), ("b", 3)]
    oldest = sort_records(records, newest_first=False)
    assert [(r.prompt, r.version) for r in oldest][-3:] == [("a", 3), ("a", 4), ("b", 3)]
    assert {(r.prompt, r.position) for r in tied_across_prompts(records)} == {
        ("a", 2),
        ("a", 3),
        ("b", 2),
    }


def test_a_record_spanning_two_lines_is_refused() -> None:
    first = record_line(rec("p", 1, "2026-11-28T10:00:00Z")).rstrip(b"\n")
    split = first[:-1] + b', "x": [1\n- {"y": 2}]}\n'
    with pytest.raises(InvalidRegistry) as caught:
        parse_history(split, path="h", prompt="p")
    assert {p.line for p in caught.value.problems} == {1, 2}


_GOOD = (
    b'- {"version": 2, "previous_version": 1, "promoted_by": "Al <al@example.com>", '
    b'"promoted_at": "2026-11-29T14:02:11Z", "notes": "why"}'
)
_LINES = [
    _GOOD,
    _GOOD.replace(b'"notes"', b'"tests_skipped": true, "notes"'),
    _GOOD + b"  ",
    _GOOD + b"\r",
    _GOOD.replace(b"- {", b"-  {"),
    _GOOD.replace(b"- {", b"-{"),
    _GOOD.replace(b"- {", b"  {"),
    _GOOD[2:],
    _GOOD.replace(b', "notes": "why"', b""),
    _GOOD.replace(b'"version": 2', b'"version": true'),
    _GOOD.replace(b"2026-11-29T14", b"2026-13-29T14"),
    _GOOD.replace(b"Al <al", b"<al"),
    _GOOD + b", " + _GOOD[2:],
    _GOOD[:40],
    _GOOD[40:],
    b'- {"a": 1,',
    b"- []",
    b"- [1]",
    b"",
    b"-",
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_LINES), max_size=6), st.booleans())
def test_the_whole_file_parse_accepts_exactly_what_the_line_parse_accepts(
    lines: list[bytes], final_newline: bool
) -> None:
    # The whole-file parse runs first for speed; any file it takes must give the very records
    # the line-by-line parse gives, and a file either refuses is refused by the other.
    data = b"\n".join(lines) + (b"\n" if final_newline else b"")
    whole = _parse_well_formed(data, prompt="p", first=0)
    try:
        by_line: list[HistoryRecord] | None = [
            _parse_line(raw, prompt="p", position=i) for i, raw in enumerate(data.split(b"\n")[:-1])
        ]
        if not data.endswith(b"\n") and data:
            by_line = None
    except ValueError:
        by_line = None
    if whole is not None:
        assert whole == by_line
    if by_line is None:
        with pytest.raises(InvalidRegistry):
            parse_history(data, path="h", prompt="p")
    else:
        assert parse_history(data, path="h", prompt="p") == by_line
