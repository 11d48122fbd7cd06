"""Loading YAML: the fast builder gives exactly what PyYAML's safe loader gives or refuses the
file, and every refusal (anchors, aliases, nesting, size, encoding, values readers read two
ways) is a reported problem, never a crash."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.yamlsafe import MAX_DEPTH, YamlError, _Loader, load_yaml


def reference(text: str) -> Any:
    """What PyYAML's own safe loader (without timestamps) makes of ``text``."""
    return yaml.load(text, Loader=_Loader)


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(
        [
            "yes",
            "no",
            "on",
            "off",
            "~",
            "0x1F",
            "0o17",
            "1_000",
            "1e3",
            ".inf",
            "2026-11-29T10:00:00Z",
            "=",
            "<<",
            "null",
            "NULL",
            "True",
            "-",
            "12:30:00",
        ]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8) | st.integers(), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(value=values, flow=st.sampled_from([None, True, False]), width=st.sampled_from([20, 80]))
def test_dumped_values_load_as_with_pyyaml(value: Any, flow: bool | None, width: int) -> None:
    text = yaml.safe_dump(
        {"value": value}, default_flow_style=flow, width=width, allow_unicode=True
    )
    try:
        got = load_yaml(text.encode("utf-8"), path="x")
    except YamlError as exc:  # PyYAML writes 1.1 forms (.inf, keys that are numbers) plainly
        assert exc.problem.rule == "yaml-ambiguous", exc.problem
        return
    assert got == reference(text)


TOKENS = [*"ab1:-[]{},'\"\n #!|>?<=&*~.", "  ", "!!set ", "!!binary ", "!!int ", "!!str ", "<<: "]
YAMLISH = st.lists(st.sampled_from(TOKENS), max_size=40).map("".join)


@settings(max_examples=1000, deadline=None)
@given(text=YAMLISH)
def test_any_text_loads_as_with_pyyaml_or_is_refused(text: str) -> None:
    try:
        expected = reference(text)
    except Exception:  # PyYAML fails on some explicit tags with ValueError, IndexError, ...
        with pytest.raises(YamlError):
            load_yaml(text.encode("utf-8"), path="x")
        return
    try:
        got = load_yaml(text.encode("utf-8"), path="x")
    except YamlError as exc:
        # anchors, aliases, depth; what readers read two ways
        assert exc.problem.rule in ("yaml-safety", "yaml-ambiguous"), exc.problem
        return
    assert got == expected


@pytest.mark.parametrize("text", ["a: 1\nb: [1, 2]\n", "", "# only a comment\n", "s: !!str x\n"])
def test_plain_documents_load_as_with_pyyaml(text: str) -> None:
    assert load_yaml(text.encode(), path="x") == reference(text)


@pytest.mark.parametrize(
    "text",
    [
        "<<: {a: 1}\nb: 2\n",
        "s: !!set {a, b}\n",
        "b: !!binary aGVsbG8=\n",
        "i: !!int '3'\n",
        "s: !!str 3\n",
        "= : 1\n",
        "a: 1\na: 2\n",
        "? [1, 2]\n: x\n",
        "t: 2026-11-29T10:00:00Z\n",
        "x: !!timestamp 2026-11-29\n",
        "o: !!omap [a: 1, b: 2]\n",
        "a: !!int a\n",
        "a: !!int\n",
        "a: !!bool maybe\n",
        "a: !!float x\n",
        "a: !!timestamp no\n",
        "x: !!python/object/apply:os.system ['true']\n",
        "c: |#\n  text\n",
        "c: >-#note\n  text\n",
        "c: |2#\n  text\n",
        "|#",
        "c: !!str |#\n  text\n",
        "c: !!str\n  >-#\n  text\n",
        "c: ! |#\n  text\n",
        "c: !!str 'text'\n",
        'c: !<tag:yaml.org,2002:str> "text"\n',
    ],
)
def test_unusual_documents_are_refused(text: str) -> None:
    with pytest.raises(YamlError) as caught:
        load_yaml(text.encode(), path="v.yaml")
    assert caught.value.problem.rule == "yaml-ambiguous"
    assert caught.value.problem.line == (2 if text.startswith("a: 1\n") else 1)


def test_timestamps_stay_text_and_must_be_quoted() -> None:
    assert load_yaml(b'b: "2026-11-29T10:00:00Z"\n', path="x") == {"b": "2026-11-29T10:00:00Z"}
    with pytest.raises(YamlError) as caught:
        load_yaml(b"a: 2026-11-29T10:00:00Z\n", path="x")
    assert caught.value.problem.rule == "yaml-ambiguous"


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (b"a: &x 1\nb: *x\n", 1),
        (b"a: 1\nb: [1, *x]\n", 2),
        (b"x: " + b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), 1),
        (b"x: {a: '*'}\ny: " + b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), 2),
    ],
)
def test_refusals_name_the_line(data: bytes, line: int) -> None:
    with pytest.raises(YamlError) as caught:
        load_yaml(data, path="v.yaml")
    assert caught.value.problem.rule == "yaml-safety"
    assert caught.value.problem.line == line


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    "data",
    [
        b"[" * 500_000,
        b"- " * 500_000 + b"x",
        b"{a: " * 200_000,
        b"a: &a [" + b"*a, " * 200_000 + b"]",
    ],
    ids=["flow", "block", "mappings", "aliases"],
)
def test_pathological_documents_are_refused_not_crashed(data: bytes) -> None:
    with pytest.raises(YamlError) as caught:
        load_yaml(data, path="v.yaml")
    assert caught.value.problem.rule in {"yaml-safety", "yaml-syntax"}
