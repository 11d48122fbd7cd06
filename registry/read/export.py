"""The export bundle: every production version of one commit as one JSON file, and its checks.

The bytes depend only on the commit (keys sorted, prompts by name, no time of export), so a build
cache keyed on the file's hash works. Each entry carries the fields its digest covers, so a
consumer in any language can recompute it (docs/consumers.md gives the algorithm); ``verify_bundle``
does that and more in Python.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from ..errors import InvalidBundle, InvalidRegistry, Problem, PromptshipError
from ..jsonsafe import loads_strict
from ..model import (
    DIGEST,
    TYPES,
    Version,
    digest_of,
    is_timestamp,
    parse_identity,
    version_from_mapping,
)
from ..names import is_valid_name
from ..snapshot import Snapshot
from ..templates import PreparedVersion
from .versions import PromptVersion, SnapshotReader

__all__ = [
    "FORMAT",
    "bundle_bytes",
    "compare_bundle",
    "entry_json",
    "entry_text",
    "entry_version",
    "export_bundle",
    "join_bundle",
    "load_bundle",
    "verify_bundle",
]

FORMAT = "promptship-export/1"
_COMMIT = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?\Z")
_COMMON = (
    "name",
    "version",
    "digest",
    "type",
    "variables",
    "metadata",
    "created_at",
    "created_by",
    "promoted_at",
    "promoted_by",
)


def export_bundle(snapshot: Snapshot, commit: str | None) -> bytes:
    """The bundle of every production version in ``snapshot``, read from ``commit``."""
    versions = SnapshotReader(snapshot).production_versions()
    return join_bundle(commit, [entry_text(entry_json(v)) for v in versions])


def bundle_bytes(bundle: Mapping[str, Any]) -> bytes:
    """The one serialisation: sorted keys, two-space indent, UTF-8 as is, a final newline."""
    text = json.dumps(bundle, sort_keys=True, indent=2, ensure_ascii=False)
    return (text + "\n").encode("utf-8")


def join_bundle(commit: str | None, entries: Sequence[bytes]) -> bytes:
    """``bundle_bytes`` of the bundle of ``commit`` whose prompts are ``entries``, each as
    ``entry_text`` wrote it and in name order: a server keeps each prompt's text and rebuilds
    the bundle of a new commit from the few that changed."""
    head = (
        f'{{\n  "commit": {json.dumps(commit)},\n  "format": {json.dumps(FORMAT)},\n  "prompts": '
    )
    if not entries:
        return (head + "[]\n}\n").encode("utf-8")
    return head.encode("utf-8") + b"[\n" + b",\n".join(entries) + b"\n  ]\n}\n"


def entry_text(entry: Mapping[str, Any]) -> bytes:
    """One prompt of the bundle as ``bundle_bytes`` writes it, indented for its place in the
    ``prompts`` list (a JSON text never holds a raw line break, so lines can be indented)."""
    text = _indented(entry)
    return b"    " + text.replace(b"\n", b"\n    ")


def _indented(entry: Mapping[str, Any]) -> bytes:
    # orjson writes the standard library's layout twenty times faster; the two differ only on
    # some floats (1e-07 against 1e-7) and integers beyond 64 bits, which take the slow path.
    if not _orjson_agrees(entry):
        return json.dumps(entry, sort_keys=True, indent=2, ensure_ascii=False).encode("utf-8")
    return orjson.dumps(entry, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2)


def _orjson_agrees(value: Any) -> bool:
    if isinstance(value, float):
        return orjson.dumps(value) == repr(value).encode()
    if isinstance(value, int) and not isinstance(value, bool):
        return -(1 << 63) <= value < 1 << 64
    if isinstance(value, Mapping):
        return all(_orjson_agrees(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(_orjson_agrees(v) for v in value)
    return True


def entry_json(version: PromptVersion) -> dict[str, Any]:
    """A production version as its entry in the bundle."""
    entry = version.to_json()
    entry["name"] = entry.pop("prompt")
    for key in ("status", "is_production"):  # always published, always production
        del entry[key]
    return entry


def load_bundle(data: bytes, *, source: str = "bundle") -> dict[str, Any]:
    """The parsed bundle, after ``verify_bundle`` found nothing wrong (else ``InvalidBundle``)."""
    problems = verify_bundle(data, source=source)
    if problems:
        raise InvalidBundle(source, problems)
    loaded: dict[str, Any] = json.loads(data)
    return loaded


def verify_bundle(data: bytes, *, source: str = "bundle") -> list[Problem]:
    """Every problem of a bundle on its own: its shape, the order of its prompts, each digest
    recomputed from the entry's fields and each variable list from its templates. An empty list
    means the file is as ``export`` wrote it for some registry; ``compare_bundle`` checks it
    against the repository."""
    problems: list[Problem] = []

    def add(message: str, rule: str = "bundle-format") -> None:
        problems.append(Problem(file=source, rule=rule, message=message))

    try:
        bundle = loads_strict(data.decode("utf-8"))
    except ValueError as exc:  # UnicodeDecodeError is one
        add(f"not a JSON document in UTF-8: {exc}")
        return problems
    if not isinstance(bundle, dict) or set(bundle) != {"format", "commit", "prompts"}:
        add("must be an object with exactly the keys commit, format, prompts")
        return problems
    if bundle["format"] != FORMAT:
        add(f"format is {bundle['format']!r}; this promptship reads {FORMAT!r}")
    commit = bundle["commit"]
    if commit is not None and not (isinstance(commit, str) and _COMMIT.match(commit)):
        add(f"commit must be a commit id (hex) or null, not {commit!r}")
    prompts = bundle["prompts"]
    if not isinstance(prompts, list):
        add("prompts must be a list")
        return problems
    names: list[str] = []
    for index, entry in enumerate(prompts):
        where = f"prompts[{index}]"
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            where += f" ({entry['name']})"
            names.append(entry["name"])
        for rule, message in _entry_problems(entry):
            add(f"{where}: {message}", rule)
    if names != sorted(set(names)):
        add("prompts must be sorted by name, each name once", "order")
    return problems


def _entry_problems(entry: Any) -> list[tuple[str, str]]:
    if not isinstance(entry, dict):
        return [("bundle-format", "must be an object")]
    kind = entry.get("type")
    if kind not in TYPES:
        return [("bundle-format", f"type must be one of {', '.join(TYPES)}, not {kind!r}")]
    body = "content" if kind == "text" else "messages"
    expected = {*_COMMON, body}
    if set(entry) != expected:
        missing = sorted(expected - set(entry))
        extra = sorted(set(entry) - expected)
        text = ", ".join(
            part
            for part in (
                f"missing {', '.join(missing)}" if missing else "",
                f"unexpected {', '.join(extra)}" if extra else "",
            )
            if part
        )
        return [("bundle-format", f"keys do not match a {kind} prompt: {text}")]
    found = _field_problems(entry)
    try:
        version = entry_version(entry)
    except InvalidRegistry as exc:
        return [*found, *(("bundle-format", p.message) for p in exc.problems)]
    if found:
        return found
    if digest_of(version.to_mapping()) != entry["digest"]:
        found.append(("digest", "digest does not match the entry's content: it was changed"))
    try:
        variables = list(PreparedVersion(version).variables)
    except PromptshipError as exc:
        return [*found, ("template", exc.message)]
    if entry["variables"] != variables:
        found.append(("variables", f"variables should be {variables}, not {entry['variables']}"))
    return found


def _field_problems(entry: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The entry's own fields; those of the version go through the version file's schema."""
    checks = [
        (isinstance(entry["name"], str) and is_valid_name(entry["name"]), "name"),
        (isinstance(entry["digest"], str) and bool(DIGEST.match(entry["digest"])), "digest"),
        (
            isinstance(entry["variables"], list)
            and all(isinstance(v, str) for v in entry["variables"]),
            "variables",
        ),
        (is_timestamp(entry["promoted_at"]), "promoted_at"),
        (
            isinstance(entry["promoted_by"], str) and parse_identity(entry["promoted_by"]),
            "promoted_by",
        ),
    ]
    return [
        ("bundle-format", f"{key} is not valid: {entry[key]!r}") for ok, key in checks if not ok
    ]


def entry_version(entry: Mapping[str, Any], *, status: str = "published") -> Version:
    """The version an entry stands for, checked as its version file would be (an entry of the
    bundle is published; an answer of the server says its status)."""
    body = "content" if entry["type"] == "text" else "messages"
    mapping = {
        k: entry[k] for k in ("version", "type", body, "metadata", "created_at", "created_by")
    }
    number = entry["version"] if type(entry["version"]) is int else 0
    return version_from_mapping(
        {**mapping, "status": status},
        text="",
        path="entry",
        prompt=str(entry["name"]),
        number=number,
    )


def compare_bundle(
    data: bytes, snapshot: Snapshot, commit: str | None, *, source: str = "bundle"
) -> list[Problem]:
    """How a bundle ``verify_bundle`` accepted differs from the export of ``commit`` (whose
    files ``snapshot`` holds): an empty list means it is byte for byte what ``export`` writes for
    that commit."""
    expected = export_bundle(snapshot, commit)
    if data == expected:
        return []
    problems: list[Problem] = []
    ours = {e["name"]: e for e in json.loads(expected)["prompts"]}
    bundle = json.loads(data)
    theirs = {e["name"]: e for e in bundle["prompts"]}

    def add(message: str, rule: str = "repository") -> None:
        problems.append(Problem(file=source, rule=rule, message=message))

    if bundle["commit"] != commit:
        add(f"names commit {bundle['commit']}, not {commit}")
    for name in sorted(ours.keys() | theirs.keys()):
        if name not in theirs:
            add(f"{name}: in production at the commit, missing from the bundle")
        elif name not in ours:
            add(f"{name}: in the bundle, but not in production at the commit")
        elif ours[name] != theirs[name]:
            keys = sorted(
                k
                for k in ours[name].keys() | theirs[name].keys()
                if ours[name].get(k) != theirs[name].get(k)
            )
            add(f"{name}: differs from the commit in {', '.join(keys)}")
    if not problems:
        add(
            "same prompts as the commit's export, but not the same bytes: it was re-serialised",
            "bytes",
        )
    return problems
