"""Reading and writing the registry's YAML safely.

Files may come from an untrusted pull request, so loading is bounded: a size limit, UTF-8 only, no
anchors or aliases (the "billion laughs" expansion), no nesting deeper than ``MAX_DEPTH``, and no
YAML timestamp type (timestamps stay the text that was written). Writing produces the layout the
format documents: keys in a fixed order, multi-line text as literal blocks, timestamps quoted.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, ClassVar

import yaml

from .errors import Problem

__all__ = [
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_HISTORY_BYTES",
    "YamlError",
    "dump_mapping",
    "item_lines",
    "key_lines",
    "load_yaml",
    "load_yaml_text",
]

MAX_FILE_BYTES = 1 << 20
MAX_HISTORY_BYTES = 64 << 20
MAX_DEPTH = 20

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BaseDumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Loader(_BaseLoader):  # type: ignore[misc]
    """The safe loader without the timestamp type: "2026-11-29T14:02:11Z" stays a string."""

    yaml_implicit_resolvers: ClassVar[dict[str | None, list[tuple[str, Any]]]] = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
    }

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        # Resolver.resolve without path resolvers (this loader has none), and with the tags of
        # short plain scalars remembered: the parser calls it for every node.
        if kind is yaml.ScalarNode:
            if implicit[0]:
                return _plain_tag(value) if len(value) <= 64 else _find_plain_tag(value)
            return self.DEFAULT_SCALAR_TAG
        return self.DEFAULT_MAPPING_TAG if kind is yaml.MappingNode else self.DEFAULT_SEQUENCE_TAG


def _find_plain_tag(value: str) -> str:
    """The tag of a plain scalar, found as ``Resolver.resolve`` finds it (no path resolvers)."""
    resolvers = _Loader.yaml_implicit_resolvers
    for tag, pattern in [*resolvers.get(value[:1], []), *resolvers.get(None, [])]:
        if pattern.match(value):
            return tag
    return str(_Loader.DEFAULT_SCALAR_TAG)


# Keys and short values repeat in every file; remembering their tags saves a third of a parse.
_plain_tag = functools.lru_cache(maxsize=4096)(_find_plain_tag)


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
    return load_yaml_text(data, path=path, max_bytes=max_bytes)[0]


def load_yaml_text(data: bytes, *, path: str, max_bytes: int = MAX_FILE_BYTES) -> tuple[Any, str]:
    """``load_yaml``, and the text it decoded."""
    if len(data) > max_bytes:
        raise YamlError(
            Problem(
                file=path,
                rule="size",
                message=f"{len(data):,} bytes, over the limit of {max_bytes:,}",
            )
        )
    text = decode_utf8(data, path=path)
    # Anchors and aliases need '&' and '*'; without either, only nesting needs guarding, and
    # libyaml bounds it while parsing, so the event scan (a second parse) is skipped.
    if not _PARSER_BOUNDS_NESTING or "&" in text or "*" in text:
        _scan(text, path)
    try:
        return _construct(text, path), text
    except RecursionError:
        raise YamlError(_too_deep(path, None)) from None
    except yaml.YAMLError as exc:
        if "maximum nesting depth" in str(exc):
            raise YamlError(_too_deep(path, _mark_line(exc))) from None
        raise YamlError(_problem_of(exc, path)) from None
    except (ValueError, TypeError, LookupError, AttributeError, ArithmeticError):
        # PyYAML's constructors fail this way on a value that does not fit its explicit tag
        # ("!!int a", "!!bool maybe").
        raise YamlError(
            Problem(
                file=path,
                rule="yaml-syntax",
                message="malformed YAML: a value does not fit its explicit tag (!!int, !!bool, ...)",
            )
        ) from None


_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_SPECIAL_KEYS = ("tag:yaml.org,2002:merge", "tag:yaml.org,2002:value")
# Tags whose constructors return a value (those of collections are generators).
_SCALAR_TAGS = frozenset(
    f"tag:yaml.org,2002:{kind}" for kind in ("null", "bool", "int", "float", "binary", "timestamp")
)


class _Unusual(Exception):
    """A node the plain builder leaves to PyYAML's constructor (merge keys, !!set, ...)."""


def _construct(text: str, path: str) -> Any:
    """The document's value: composed by the (C) parser, built by ``_build`` for the plain
    shapes registry files have, which gives what PyYAML's safe constructor gives at a quarter
    of its cost, and by that constructor for anything else."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        try:
            return _build(loader, node, 1)
        except _Unusual:
            if _deeper_than(node, MAX_DEPTH):
                raise YamlError(_too_deep(path, None)) from None
            return loader.construct_document(node)
        except _TooDeep as exc:
            raise YamlError(_too_deep(path, exc.line)) from None
    finally:
        loader.dispose()


class _TooDeep(Exception):
    def __init__(self, line: int) -> None:
        self.line = line


def _build(loader: Any, node: Any, depth: int) -> Any:
    if isinstance(node, yaml.ScalarNode):
        if node.tag == _STR:
            return node.value
        if node.tag not in _SCALAR_TAGS:
            raise _Unusual
        return loader.yaml_constructors[node.tag](loader, node)
    if depth > MAX_DEPTH:
        raise _TooDeep(int(node.start_mark.line) + 1)
    if isinstance(node, yaml.MappingNode):
        if node.tag != _MAP:
            raise _Unusual
        mapping = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag in _SPECIAL_KEYS:
                raise _Unusual
            mapping[_build(loader, key_node, depth)] = _build(loader, value_node, depth + 1)
        return mapping
    if node.tag != _SEQ:
        raise _Unusual
    return [_build(loader, item, depth + 1) for item in node.value]


def _deeper_than(node: Any, limit: int) -> bool:
    """Whether collections nest deeper than ``limit`` (iteratively: the tree may be deep)."""
    stack: list[tuple[Any, int]] = [(node, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, yaml.MappingNode):
            children = [child for pair in item.value for child in pair]
        elif isinstance(item, yaml.SequenceNode):
            children = item.value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _libyaml_version() -> tuple[int, ...]:
    try:
        from yaml import _yaml

        return tuple(_yaml.get_version())
    except (ImportError, AttributeError):
        return ()


# libyaml refuses nesting past 1000 levels from 0.2.5 on; older parsers and the pure-Python
# one would recurse as deep as the file goes.
_PARSER_BOUNDS_NESTING = bool(getattr(yaml, "__with_libyaml__", False)) and (
    _libyaml_version() >= (0, 2, 5)
)


def _too_deep(path: str, line: int | None) -> Problem:
    return Problem(
        file=path, line=line, rule="yaml-safety", message=f"nested deeper than {MAX_DEPTH} levels"
    )


def _mark_line(exc: yaml.YAMLError) -> int | None:
    mark = getattr(exc, "problem_mark", None)
    return mark.line + 1 if mark is not None else None


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
                    raise YamlError(_too_deep(path, _line(event)))
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except yaml.YAMLError as exc:
        if "maximum nesting depth" in str(exc):
            raise YamlError(_too_deep(path, _mark_line(exc))) from None
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


def key_lines(text: str) -> dict[str, int]:
    """The line of each top-level key of a well-formed document, for pointing at schema errors
    (the C parser, once per file: a file with many problems must not be parsed once each)."""
    node = _composed(text, yaml.MappingNode)
    lines: dict[str, int] = {}
    for key_node, _ in node.value if node is not None else ():
        if isinstance(key_node.value, str):
            lines.setdefault(key_node.value, int(key_node.start_mark.line) + 1)
    return lines


def item_lines(text: str) -> list[int]:
    """The line each top-level item of a well-formed list starts on, as ``key_lines``."""
    node = _composed(text, yaml.SequenceNode)
    return [int(item.start_mark.line) + 1 for item in node.value] if node is not None else []


def _composed(text: str, kind: type[yaml.Node]) -> Any:
    try:
        node = yaml.compose(text, Loader=_BaseLoader)
    except yaml.YAMLError:
        return None
    return node if isinstance(node, kind) else None


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
