from __future__ import annotations

import pytest

from registry.yamlsafe import MAX_DEPTH, YamlError, dump_mapping, load_yaml

BOMB = b"""a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def problem(data: bytes, **kwargs: int) -> YamlError:
    with pytest.raises(YamlError) as caught:
        load_yaml(data, path="prompts/x/versions/1.yaml", **kwargs)
    return caught.value


def test_billion_laughs_is_refused() -> None:
    error = problem(BOMB)
    assert error.problem.rule == "yaml-safety"
    assert error.problem.line == 1


def test_a_lone_anchor_is_refused() -> None:
    assert problem(b"content: &x hello\n").problem.rule == "yaml-safety"


@pytest.mark.parametrize(
    "data", [b"[" * 500 + b"]" * 500, b"a:\n" + b"".join(b" " * i + b"b:\n" for i in range(1, 40))]
)
def test_deep_nesting_is_refused(data: bytes) -> None:
    error = problem(data)
    assert error.problem.rule == "yaml-safety"
    assert str(MAX_DEPTH) in error.problem.message


def test_nesting_beyond_the_parser_limit_is_refused_too() -> None:
    assert problem(b"[" * 5000 + b"]" * 5000).problem.rule in ("yaml-safety", "yaml-syntax")


def test_non_utf8_names_the_line() -> None:
    error = problem(b"version: 1\ncontent: caf\xe9\n")
    assert error.problem.rule == "utf-8"
    assert error.problem.line == 2


def test_size_limit() -> None:
    assert problem(b"a: 1\n" * 10, max_bytes=20).problem.rule == "size"


def test_malformed_yaml_has_a_line() -> None:
    error = problem(b"version: 1\nstatus: [draft\ncontent: x\n")
    assert error.problem.rule == "yaml-syntax"
    assert error.problem.line is not None


def test_two_documents_are_refused() -> None:
    assert "one document" in problem(b"a: 1\n---\nb: 2\n").problem.message


@pytest.mark.parametrize(
    "value",
    [
        "plain",
        "line one\nline two\n",
        "trailing space \nx",
        "  leading",
        "a: b",
        "- item",
        "'quoted'",
        "ünïcødé ✓",
        "",
        "{{ name }}",
    ],
)
def test_dump_round_trips(value: str) -> None:
    data = dump_mapping(
        {"content": value, "created_at": "2026-11-29T14:02:11Z"}, quoted=frozenset({"created_at"})
    )
    assert load_yaml(data, path="x") == {"content": value, "created_at": "2026-11-29T14:02:11Z"}
    assert b'created_at: "2026-11-29T14:02:11Z"' in data
