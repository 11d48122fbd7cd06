"""Refusals that keep one meaning per file, and the proofs that the fast paths beside a parser
decide exactly as the parser does.

- ``--meta`` is text, ``--meta-json`` a JSON value, ``--unset-meta`` removes; refusals write
  nothing;
- identities are read in linear time and accept what the former pattern accepted;
- the whole-file history parse accepts exactly the lines the strict line parse accepts, with the
  same records;
- a template the plain-text fast path passes is one the Jinja2 parser passes.
"""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.cli import Cli
from helpers.gitrepo import files_under, head
from registry.errors import InvalidRegistry, TemplateSyntaxError
from registry.history import HistoryRecord, parse_history, parse_history_lines, record_line
from registry.jsonsafe import loads_strict
from registry.model import parse_identity
from registry.templates import _plain_variables, template_variables

# -- metadata on the command line ---------------------------------------------------------------


def test_meta_is_text_meta_json_a_value_and_unset_meta_removes(cli: Cli) -> None:
    cli.ok(
        "create",
        "p",
        "--content",
        "x",
        *(
            "--meta",
            "code=017",
            "--meta",
            "flag=yes",
            "--meta",
            "empty=",
            "--meta",
            "when=2026-11-29",
        ),
        *("--meta-json", "temperature=0.2", "--meta-json", "stop=null", "--meta-json", 'n="017"'),
    )
    shown = json.loads(cli.ok("show", "p@1", "--json").stdout)
    assert shown["metadata"] == {
        "code": "017",
        "flag": "yes",
        "empty": "",
        "when": "2026-11-29",
        "temperature": 0.2,
        "stop": None,
        "n": "017",
    }
    text = (cli.path / "prompts/p/versions/1.yaml").read_text()
    assert "code: '017'" in text and "flag: 'yes'" in text and "when: '2026-11-29'" in text
    cli.ok("edit", "p", "1", "--unset-meta", "code", "--unset-meta", "stop")
    shown = json.loads(cli.ok("show", "p@1", "--json").stdout)
    assert "code" not in shown["metadata"] and "stop" not in shown["metadata"]


@pytest.mark.parametrize(
    ("args", "wanted"),
    [
        (("--meta", "novalue"), "is not KEY=VALUE"),
        (("--meta-json", "n=017"), "is not a JSON value"),
        (("--meta-json", "n=NaN"), "NaN is not JSON"),
        (("--meta-json", "n=1e400"), "metadata"),
        (("--meta-json", "n=12345678901234567"), "beyond 2**53"),
        (("--meta-json", 'n={"a": 1, "a": 2}'), "appears twice"),
        (("--meta-json", "n=" + "[" * 11 + "]" * 11), "nested deeper than 10"),
        (("--meta", "n=" + "x" * 70_000), "more than 65,536 characters"),
    ],
    ids=[
        "no-value",
        "octal-looking",
        "nan",
        "overflow",
        "beyond-2-53",
        "duplicate-key",
        "too-deep",
        "too-much-text",
    ],
)
def test_unusable_metadata_is_refused_and_nothing_is_written(
    cli: Cli, args: tuple[str, str], wanted: str
) -> None:
    cli.ok("create", "p", "--content", "x")
    before, files = head(cli.path), files_under(cli.path)
    for command in (("create", "q", "--content", "x"), ("edit", "p", "1"), ("new-version", "p")):
        result = cli(*command, *args)
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith("error: ") and "\nhint: " in result.stderr
        assert wanted in result.stderr, result.stderr
        assert "Traceback" not in result.output
        assert head(cli.path) == before and files_under(cli.path) == files


def test_text_that_is_not_unicode_is_refused_not_crashed(cli: Cli) -> None:
    cli.ok("create", "p", "--content", "x")
    before = head(cli.path)
    result = cli("promote", "p", "1", "--notes", "bad \udcff", "--yes")
    assert result.exit_code == 1 and "hint: " in result.stderr, result.output
    assert head(cli.path) == before


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        ('{"a": 1, "a": 2}', "appears twice"),
        ("[NaN]", "NaN is not JSON"),
        ("-Infinity", "Infinity is not JSON"),
        ("9007199254740992", "beyond 2**53"),
        ('"\\udfff"', "lone surrogate"),
        ('{"\\ud800": 1}', "lone surrogate"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ],
)
def test_strict_json_refuses_what_readers_read_differently(text: str, wanted: str) -> None:
    with pytest.raises(ValueError, match=re.escape(wanted)):
        loads_strict(text)


def test_strict_json_keeps_what_every_reader_reads_alike() -> None:
    assert loads_strict('{"\\u0076ersion": 9007199254740991, "x": [1.5, "\\ud83d\\ude00"]}') == {
        "version": 9007199254740991,
        "x": [1.5, "😀"],
    }
    with pytest.raises(ValueError, match="fraction"):
        loads_strict("[1.5]", fractions=False)


# -- identities ---------------------------------------------------------------------------------

_FORMER = re.compile(r"([^<>\n]*?)\s*<([^<>\s]+)>\Z")


def former(text: str) -> tuple[str, str] | None:
    match = _FORMER.match(text.strip())
    if not match or not match.group(1):
        return None
    return match.group(1), match.group(2)


@settings(max_examples=1000, deadline=None)
@given(
    st.lists(
        st.sampled_from(["Al", "ice", " ", "  ", "<", ">", "a@b", "x.y", "\t", "é", "<>", "Ö"]),
        max_size=12,
    ).map("".join)
)
def test_the_linear_identity_reader_accepts_what_the_former_pattern_accepted(text: str) -> None:
    """Same answers, except that control characters (tabs here) are no longer part of a name."""
    found = parse_identity(text)
    if "\t" in text.strip():
        assert found is None or found == former(text)
    else:
        assert found == former(text)


@pytest.mark.timeout(10)
def test_an_identity_of_spaces_is_read_at_once() -> None:
    assert parse_identity("a" + " " * 1_000_000 + "x") is None
    assert parse_identity("a" + " " * 400 + "<a@b>") is None  # over 320 characters


# -- history: the whole-file fast path and the strict line parse --------------------------------

RECORD = {
    "version": 2,
    "previous_version": 1,
    "promoted_by": "Alice Example <alice@example.com>",
    "promoted_at": "2026-11-29T15:10:42Z",
    "notes": "n",
}
PIECES = [
    '"version": 2, ',
    '"version": 3, ',
    '"\\u0076ersion": 2, ',
    '"previous_version": 1, ',
    '"previous_version": null, ',
    '"promoted_by": "Alice Example <alice@example.com>", ',
    '"promoted_at": "2026-11-29T15:10:42Z", ',
    '"notes": "n"',
    '"notes": "a\\"b"',
    '"notes": "a\\u2028b"',
    '"notes": "ünï"',
    '"x": 1e5, ',
    '"x": 1.0, ',
    '"x": [1, {"y": "z"}], ',
    '"x": "q", ',
    '"x": 9007199254740993, ',
    '"x": -0, ',
    "\t",
    " ",
]


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.lists(st.sampled_from(PIECES), min_size=4, max_size=9), min_size=1, max_size=3))
def test_the_fast_history_parse_decides_as_the_strict_line_parse(
    lines: list[list[str]],
) -> None:
    data = "".join("- {" + "".join(pieces).rstrip(", ") + "}\n" for pieces in lines).encode()
    try:
        fast = parse_history(data, path="h", prompt="p")
    except InvalidRegistry:
        fast = None
    strict = []
    for number, line in enumerate(data.split(b"\n")[:-1]):
        try:
            strict.append(parse_history_lines(line + b"\n", path="h", prompt="p")[0])
        except InvalidRegistry:
            strict = None
            break
        strict[-1] = strict[-1]._replace(position=number)
    assert fast == strict


def test_written_records_read_alike_whatever_the_notes() -> None:
    for notes in ["a\x7fb", "a\x85b", "a\u2028b", "\ufeff", "\x00", "😀", '"\\']:
        line = record_line(
            HistoryRecord("p", notes=notes, **{k: v for k, v in RECORD.items() if k != "notes"})
        )
        assert line.isascii() or not re.search("[\x7f-\x9f\u2028\u2029\ufeff]", line.decode())
        (record,) = parse_history(line, path="h", prompt="p")
        assert record.notes == notes


# -- templates: the plain-text fast path ----------------------------------------------------------

TEMPLATE_PIECES = [
    "{{ name }}",
    "{{name}}",
    "{{ if }}",
    "{{ for }}",
    "{{ true }}",
    "{{ none }}",
    "{{ _x }}",
    "{{ x }",
    "{{",
    "}}",
    "{",
    "}",
    "{%",
    "%}",
    "{#",
    "#}",
    "{{ a.b }}",
    "{{{ x }}}",
    " ",
    "text",
    "\n",
    "{{ x  }}",
    "{{ 1x }}",
]


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(TEMPLATE_PIECES), max_size=8).map("".join))
def test_the_template_fast_path_passes_only_what_jinja_parses(text: str) -> None:
    try:
        template_variables(text)
    except TemplateSyntaxError:
        assert _plain_variables(text) is None, text


def test_parsing_a_template_evaluates_nothing() -> None:
    assert template_variables("{{ 99999 ** 99999 ** 99 }}{{ 'a' * 10 ** 9 }}{{ x }}") == {"x"}
    assert (
        template_variables("{{ 'a'|center(1000000000) }}{{ ('a' * 10 ** 9) is string }}") == set()
    )
    with pytest.raises(TemplateSyntaxError):
        template_variables("{{ " + "9" * 5000 + " }}")
