"""Every file promptship writes means the same to every mainstream reader.

Files are read back with PyYAML's C loader (YAML 1.1), ruamel.yaml in YAML 1.2 mode (pure
Python), promptship's own loader, and, for history lines, a JSON parser per line; the data must
be identical, and so must the digest each reader's version mapping gives, which must be the one
production.yaml records. Metadata and content come from hypothesis: text that looks like numbers,
booleans, dates or null, unicode, newlines, and JSON values of every kind.

A second property goes the other way: for any text promptship's loader accepts, the two YAML
readers agree with it.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from helpers.cli import Cli
from helpers.gitrepo import git
from helpers.inmemory import ACTOR, NOW
from registry.lifecycle import Body, create_prompt, parse_metadata
from registry.model import Message, digest_of
from registry.promotion import plan_promotion
from registry.snapshot import DictSnapshot, apply_changes
from registry.yamlsafe import MAX_SAFE_INTEGER, YamlError, dump_mapping, load_yaml

LOOKALIKES = [
    "017",
    "0o17",
    "0x1F",
    "0b1",
    "1e3",
    "1.5e3",
    "1_000",
    "+1",
    "-0",
    ".5",
    "1.",
    "089",
    "yes",
    "No",
    "ON",
    "off",
    "y",
    "N",
    "true",
    "False",
    "null",
    "Null",
    "~",
    "",
    "1:20",
    "12:30:00",
    ".inf",
    "-.Inf",
    ".nan",
    "2026-11-29",
    "2026-11-29T10:00:00Z",
    "2026-11-29 10:00:00",
    "<<",
    "=",
    "- x",
    "a: b",
    "#c",
    "'q'",
    '"d"',
    "&a",
    "*a",
    "!t",
    "%YAML",
    "@x",
    "`x",
    "|",
    ">",
    "{a: 1}",
    "[1]",
    " lead",
    "trail ",
    "tab\there",
    "line\nbreak",
    "nel\x85",
    "ls\u2028",
    "ps\u2029",
    "bom\ufeff",
    "del\x7f",
    "c1\x9b",
    "ümlaut ✓",
    "emoji 😀",
    "\\u0041",
]
texts = st.sampled_from(LOOKALIKES) | st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30
)
keys = st.sampled_from([k for k in LOOKALIKES if k]) | st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12
)
numbers = st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER) | st.floats(
    allow_nan=False, allow_infinity=False
)
json_values = st.recursive(
    st.none() | st.booleans() | numbers | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=8,
)
contents = texts | st.lists(texts, max_size=4).map("\n".join)
# Keys as KEY=VALUE options can carry them: no '=', no white space around.
option_keys = keys.filter(lambda k: k.strip() == k and "=" not in k and k != "")
notes = texts


def readers(data: bytes) -> dict[str, Any]:
    """What each reader makes of one file."""
    ruamel = YAML(typ="safe", pure=True)
    ruamel.version = (1, 2)
    return {
        "pyyaml": yaml.load(data, Loader=yaml.CSafeLoader),
        "ruamel-1.2": ruamel.load(io.BytesIO(data)),
        "promptship": load_yaml(data, path="f", max_bytes=1 << 30),
    }


def assert_read_alike(files: dict[str, bytes]) -> None:
    digests: dict[str, set[str]] = {}
    for path, data in sorted(files.items()):
        seen = readers(data)
        first = seen["promptship"]
        for name, value in seen.items():
            assert value == first, (path, name, value, first)
            assert json.dumps(value, sort_keys=True) == json.dumps(first, sort_keys=True)
        if "/versions/" in path:
            digests[path] = {digest_of(v) for v in seen.values()}
            assert len(digests[path]) == 1, (path, digests[path])
        if path.endswith("history.yaml"):
            lines = [json.loads(line[2:]) for line in data.decode().splitlines()]
            assert lines == first, (path, lines, first)
        if path.endswith("production.yaml"):
            version = f"{path.rsplit('/', 1)[0]}/versions/{first['version']}.yaml"
            assert {digest_of(v) for v in readers(files[version]).values()} == {first["digest"]}


def written(
    text_meta: dict[str, str], json_meta: dict[str, Any], content: str | list[str], note: str
) -> dict[str, bytes]:
    """The files the CLI's core writes for a prompt made with that metadata and content, and
    promoted with that note."""
    texts_given = [f"{k}={v}" for k, v in text_meta.items()]
    jsons_given = [f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in json_meta.items()]
    metadata = parse_metadata(texts_given, jsons_given)
    if isinstance(content, str):
        body = Body(content=content)
    else:
        body = Body(messages=tuple(Message(role="user", content=c) for c in content or [""]))
    snap = DictSnapshot()
    snap = apply_changes(
        snap,
        create_prompt(
            snap, "p", body=body, type=body.type, metadata=metadata, actor=ACTOR, now=NOW
        ),
    )
    snap = apply_changes(snap, plan_promotion(snap, "p", 1, notes=note, actor=ACTOR, now=NOW))
    return dict(snap.files)


@settings(max_examples=100, deadline=None)
@given(
    text_meta=st.dictionaries(option_keys, texts, max_size=4),
    json_meta=st.dictionaries(option_keys, json_values, max_size=4),
    content=contents | st.lists(contents, max_size=3),
    note=notes,
)
def test_files_promptship_writes_read_alike_in_every_reader(
    text_meta: dict[str, str], json_meta: dict[str, Any], content: str | list[str], note: str
) -> None:
    files = written(text_meta, json_meta, content, note)
    assert_read_alike(files)
    version = readers(files["prompts/p/versions/1.yaml"])["ruamel-1.2"]
    for key, value in text_meta.items():
        if key not in json_meta:
            assert version["metadata"][key] == value  # text stays text, as typed


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    meta=st.dictionaries(
        st.sampled_from(["model", "code", "flag", "when", "n"]), texts, max_size=3
    ),
    meta_json=st.dictionaries(st.sampled_from(["temperature", "stop", "seed"]), json_values),
    content=contents,
    messages=st.lists(contents, min_size=1, max_size=3),
    note=notes,
)
def test_files_the_cli_writes_read_alike_in_every_reader(
    tmp_path_factory: pytest.TempPathFactory,
    meta: dict[str, str],
    meta_json: dict[str, Any],
    content: str,
    messages: list[str],
    note: str,
) -> None:
    """The real command line, in a real repository: create, new-version, edit, promote."""
    path = tmp_path_factory.mktemp("cli")
    git(path, "init", "-q", "-b", "main")
    cli = Cli(path)
    options = [x for k, v in meta.items() for x in ("--meta", f"{k}={v}")]
    options += [x for k, v in meta_json.items() for x in ("--meta-json", f"{k}={json.dumps(v)}")]
    content = content.replace("\x00", "") or "x"
    cli.ok("create", "t", "--content", content, *options)
    cli.ok("promote", "t", "1", "--notes", note.replace("\x00", ""), "--yes")
    chat = dump_mapping({"messages": [{"role": "user", "content": m} for m in messages]})
    cli.ok("create", "c", "--type", "chat", "--content", chat.decode(), *options)
    cli.ok("new-version", "c", "--unset-meta", "code", "--meta", "extra=017")
    cli.ok("promote", "c", "2", "--yes")
    files = {str(p.relative_to(path)): p.read_bytes() for p in (path / "prompts").rglob("*.yaml")}
    assert_read_alike(files)
    shown = json.loads(cli.ok("show", "t@1", "--json").stdout)
    assert shown["metadata"] == {**meta, **meta_json}


YAMLISH = st.lists(
    st.sampled_from(
        [*"ab1:-[]{},'\"\n #!|>?<=&*~.%\t", "  ", "\ufeff", "\u2028", "\r", *LOOKALIKES[:30]]
    ),
    max_size=30,
).map("".join)


@settings(max_examples=1000, deadline=None)
@given(text=YAMLISH)
def test_what_promptship_accepts_the_yaml_readers_read_alike(text: str) -> None:
    data = text.encode("utf-8")
    try:
        accepted = load_yaml(data, path="x")
    except YamlError:
        return
    seen = readers(data)
    assert seen["pyyaml"] == accepted, text
    assert seen["ruamel-1.2"] == accepted, text


@pytest.mark.parametrize(
    "value",
    [v for v in LOOKALIKES if v.strip() == v and "\n" not in v],
)
def test_a_lookalike_text_is_written_quoted_and_read_back_as_text(
    tmp_path: Path, value: str
) -> None:
    files = written({"k": value}, {}, value, value)
    assert_read_alike(files)
    data = files["prompts/p/versions/1.yaml"]
    assert readers(data)["ruamel-1.2"]["metadata"] == {"k": value}
