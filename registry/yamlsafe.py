"""Reading and writing the registry's YAML safely.

Files may come from an untrusted pull request, so loading is bounded: a size limit, UTF-8 only, no
anchors or aliases (the "billion laughs" expansion), no nesting deeper than ``MAX_DEPTH``, and no
YAML timestamp type (timestamps stay the text that was written). Writing produces the layout the
format documents: keys in a fixed order, multi-line text as literal blocks, timestamps quoted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import yaml

from .errors import Problem

__all__ = [
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_HISTORY_BYTES",
    "YamlError",
    "decode_utf8",
    "dump_mapping",
    "key_line",
    "load_yaml",
]

MAX_FILE_BYTES = 1 << 20
MAX_HISTORY_BYTES = 64 << 20
MAX_DEPTH = 20

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BaseDumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Loader(_BaseLoader):  # type: ignore[misc]
    """The safe loader without the timestamp type: "2026-11-29T14:02:11Z" stays a string."""

    yaml_implicit_resolvers: ClassVar[dict[str, list[tuple[str, Any]]]] = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
    }


class YamlError(Exception):
    """A file that is not safe, well-formed YAML; carries the ``Problem`` to report."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def decode_utf8(data: bytes, *, path: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise YamlError(
            Problem(
                file=path,
                line=line,
                rule="utf-8",
                message=f"not UTF-8 text (byte {exc.start}); registry files are UTF-8",
            )
        ) from None


def load_yaml(data: bytes, *, path: str, max_bytes: int = MAX_FILE_BYTES) -> Any:
    """Parse one YAML document from ``data`` within the safety limits, or raise ``YamlError``."""
    if len(data) > max_bytes:
        raise YamlError(
            Problem(
                file=path,
                rule="size",
                message=f"{len(data):,} bytes, over the limit of {max_bytes:,}",
            )
        )
    text = decode_utf8(data, path=path)
    _scan(text, path)
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise YamlError(_problem_of(exc, path)) from None


def _scan(text: str, path: str) -> None:
    """Refuse anchors, aliases and deep nesting before anything is built from the events."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise YamlError(
                    Problem(
                        file=path,
                        line=_line(event),
                        rule="yaml-safety",
                        message="YAML anchors and aliases (& and *) are not allowed; "
                        "write the value out",
                    )
                )
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    raise YamlError(
                        Problem(
                            file=path,
                            line=_line(event),
                            rule="yaml-safety",
                            message=f"nested deeper than {MAX_DEPTH} levels",
                        )
                    )
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except yaml.YAMLError as exc:
        raise YamlError(_problem_of(exc, path)) from None


def _line(event: yaml.Event) -> int | None:
    return event.start_mark.line + 1 if event.start_mark is not None else None


def _problem_of(exc: yaml.YAMLError, path: str) -> Problem:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    message = f"malformed YAML: {context + ', ' if context else ''}{problem}"
    if "expected a single document" in str(exc):
        message = "malformed YAML: a file holds exactly one document (no second '---')"
    return Problem(
        file=path, line=mark.line + 1 if mark else None, rule="yaml-syntax", message=message
    )


def key_line(text: str, key: str) -> int | None:
    """The line of a top-level ``key`` in a well-formed document, for pointing at a schema error."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    if not isinstance(node, yaml.MappingNode):
        return None
    for key_node, _ in node.value:
        if key_node.value == key:
            return int(key_node.start_mark.line) + 1
    return None


class _Dumper(_BaseDumper):  # type: ignore[misc]
    pass


class _Quoted(str):
    """A string written in double quotes (timestamps, so every reader sees text)."""


def _represent_str(dumper: Any, value: str) -> Any:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


def _represent_quoted(dumper: Any, value: str) -> Any:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style='"')


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(_Quoted, _represent_quoted)


def dump_mapping(mapping: Mapping[str, Any], *, quoted: frozenset[str] = frozenset()) -> bytes:
    """YAML for ``mapping`` in its own key order; the top-level keys in ``quoted`` in quotes."""
    data = {k: _Quoted(v) if k in quoted and isinstance(v, str) else v for k, v in mapping.items()}
    text: str = yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=1_000_000,
    )
    return text.encode("utf-8")
