"""Reading and writing the registry's YAML safely.

Files may come from an untrusted pull request, so loading is bounded: a size limit, UTF-8 only, no
anchors or aliases (the "billion laughs" expansion), no nesting deeper than ``MAX_DEPTH``, and no
YAML timestamp type (timestamps stay the text that was written). Writing produces the layout the
format documents: keys in a fixed order, multi-line text as literal blocks, timestamps quoted.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from typing import Any, ClassVar

import yaml
from yaml.nodes import MappingNode, ScalarNode

from .errors import InputError, Problem

__all__ = [
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_HISTORY_BYTES",
    "MAX_SAFE_INTEGER",
    "YamlError",
    "dump_mapping",
    "item_lines",
    "key_lines",
    "load_yaml",
    "load_yaml_text",
    "looks_typed",
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
    """``load_yaml``, and the text it decoded.

    Besides the limits, the document must mean one thing to every mainstream reader (PyYAML,
    a YAML 1.2 reader, and JSON once loaded): no duplicate keys, merge keys, tags or directives,
    keys that are text, no plain value that YAML 1.1 and 1.2 read differently (``017``, ``yes``,
    ``1e3``, an unquoted date), numbers JSON keeps exactly, and no characters whose reading
    differs (carriage returns, a byte order mark, tabs outside blocks of text, the line
    separators of YAML 1.1)."""
    if len(data) > max_bytes:
        raise YamlError(
            Problem(
                file=path,
                rule="size",
                message=f"{len(data):,} bytes, over the limit of {max_bytes:,}",
            )
        )
    text = decode_utf8(data, path=path)
    _refuse_odd_characters(text, path)
    # Anchors and aliases need '&' and '*', directives a '%' starting a line; without them,
    # only nesting needs guarding, and libyaml bounds it while parsing, so the event scan (a
    # second parse) is skipped.
    if (
        not _PARSER_BOUNDS_NESTING
        or "&" in text
        or "*" in text
        or text.startswith("%")
        or "\n%" in text
    ):
        _scan(text, path)
    try:
        return _construct(text, path), text
    except RecursionError:
        raise YamlError(_too_deep(path, None)) from None
    except yaml.YAMLError as exc:
        if "maximum nesting depth" in str(exc):
            raise YamlError(_too_deep(path, _mark_line(exc))) from None
        raise YamlError(_problem_of(exc, path)) from None


_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_MERGE = "tag:yaml.org,2002:merge"

MAX_SAFE_INTEGER = 2**53 - 1
"""The largest integer every JSON reader keeps exactly (a JavaScript number loses the rest)."""

# Plain scalars that PyYAML (YAML 1.1, without its timestamp type) reads as text but another
# reader reads as something else: YAML 1.2 numbers (0o17, 1e3, 089, 1_000), YAML 1.1 booleans
# PyYAML leaves out (y, n), and dates and times. Each alternative is linear: no quantified group
# can match the same text two ways.
_OTHERWISE_TYPED = re.compile(
    r"""[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9_]+)?
    |[-+]?\.[0-9_]+(?:[eE][-+]?[0-9_]+)?
    |[-+]?0[oObBxX][0-9a-fA-F_]*
    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?
    |[-+]?\.(?:inf|Inf|INF|nan|NaN|NAN)
    |[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}
     (?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?
        (?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?
    |[yYnN]""",
    re.VERBOSE,
)
_TYPED_START = frozenset("0123456789+-.yYnN")
# The first characters of every plain scalar PyYAML's resolvers give a tag other than text (and
# the empty one, null): a plain scalar starting otherwise is text to every reader.
_RESOLVABLE_START = frozenset(["", *"0123456789+-.yYnNtTfFoO~<="])
_BOOLEANS = {
    "true": True,
    "True": True,
    "TRUE": True,
    "false": False,
    "False": False,
    "FALSE": False,
}
_INTEGER = re.compile(r"[-+]?(?:0|[1-9][0-9]{0,15})\Z")
_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9]*)\.[0-9]+(?:[eE][-+][0-9]+)?\Z")
# Characters YAML 1.1 reads as line breaks and YAML 1.2 as text (NEL, the Unicode separators),
# C1 controls, and byte order marks and non-characters that readers refuse or drop.
_ODD_CHARACTER = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def looks_typed(value: str) -> bool:
    """Whether the text ``value``, written as a plain scalar, would be read as something other
    than that text by some YAML reader: such text must be quoted.

    >>> [looks_typed(v) for v in ("gpt-4o", "0o17", "1e3", "y", "2026-11-29", "1:20")]
    [False, True, True, True, True, True]
    """
    if _plain_tag(value) != _STR if len(value) <= 64 else _find_plain_tag(value) != _STR:
        return True
    return value[:1] in _TYPED_START and _OTHERWISE_TYPED.fullmatch(value) is not None


def _refuse_odd_characters(text: str, path: str) -> None:
    def refuse(at: int, message: str) -> None:
        raise YamlError(
            Problem(
                file=path,
                line=text.count("\n", 0, at) + 1,
                rule="yaml-ambiguous",
                message=message,
                hint="save the file as UTF-8 with LF line ends; write such characters as "
                'escapes in a double-quoted string ("\\u2028")',
            )
        )

    if text.startswith("\ufeff"):
        refuse(0, "starts with a byte order mark, which some readers keep as text")
    at = text.find("\r")
    if at >= 0:
        refuse(at, "has a carriage return; files use LF line ends")
    if not text.isascii():
        odd = _ODD_CHARACTER.search(text)
        if odd is not None:
            refuse(
                odd.start(),
                f"has the character U+{ord(odd.group()):04X}, which YAML readers read "
                "differently (as a line break, or not at all)",
            )


def _construct(text: str, path: str) -> Any:
    """The document's value: composed by the (C) parser, built by ``_Builder``, which gives
    what PyYAML's safe constructor gives for the plain shapes registry files have (at a quarter
    of its cost) and refuses everything else."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        builder = _Builder(loader, path, text)
        value = builder.build(node, 1)
        if "\t" in text:
            builder.check_tabs()
        return value
    finally:
        loader.dispose()


class _Builder:
    """Builds a document's value from its nodes, refusing what readers could read two ways."""

    def __init__(self, loader: Any, path: str, text: str) -> None:
        self.loader = loader
        self.path = path
        self.text = text
        self.blocks: list[tuple[int, int]] = []

    def refusal(self, node: Any, message: str, hint: str) -> YamlError:
        line = int(node.start_mark.line) + 1 if node.start_mark is not None else None
        return YamlError(
            Problem(file=self.path, line=line, rule="yaml-ambiguous", message=message, hint=hint)
        )

    def build(self, node: Any, depth: int) -> Any:
        kind = type(node)  # the composer makes exactly these three node classes
        if kind is ScalarNode:
            return self.scalar(node)
        if depth > MAX_DEPTH:
            raise YamlError(_too_deep(self.path, int(node.start_mark.line) + 1))
        if kind is MappingNode:
            if node.tag != _MAP:
                raise self.refusal(node, f"has the tag {node.tag}", _NO_TAGS)
            mapping: dict[str, Any] = {}
            for key_node, value_node in node.value:
                # Plain text that no resolver could take for anything else is most of every
                # file: taken here, without a call.
                if (
                    type(key_node) is ScalarNode
                    and not key_node.style
                    and key_node.tag == _STR
                    and key_node.value[:1] not in _RESOLVABLE_START
                ):
                    key = key_node.value
                else:
                    key = self.key(key_node)
                if key in mapping:
                    raise self.refusal(
                        key_node,
                        f"the key {key!r} appears twice in one mapping; readers keep the first, "
                        "the last, or refuse the file",
                        "write each key once",
                    )
                if type(value_node) is not ScalarNode:
                    mapping[key] = self.build(value_node, depth + 1)
                elif (
                    not value_node.style
                    and value_node.tag == _STR
                    and value_node.value[:1] not in _RESOLVABLE_START
                ):
                    mapping[key] = value_node.value
                else:
                    mapping[key] = self.scalar(value_node)
            return mapping
        if node.tag != _SEQ:
            raise self.refusal(node, f"has the tag {node.tag}", _NO_TAGS)
        return [self.build(item, depth + 1) for item in node.value]

    def key(self, node: Any) -> str:
        if isinstance(node, yaml.ScalarNode):
            if node.tag == _MERGE:
                raise self.refusal(
                    node,
                    "merge keys (<<) are not allowed: YAML 1.2 readers read them as a key '<<'",
                    "write the merged keys out",
                )
            key = self.scalar(node)
            if isinstance(key, str):
                return key
        raise self.refusal(
            node,
            "a key that is not text (a number, true/false, null, a list or a mapping)",
            "keys are text: quote the key, e.g. '1': ...",
        )

    def scalar(self, node: Any) -> Any:
        tag, value, style = node.tag, node.value, node.style
        if style:  # quoted or a block; a plain scalar's style is None (or '' from libyaml)
            line = self.line_at(node.start_mark)
            if tag != _STR or line[:1] != style:
                # A scalar starts at its tag when it has one (even !!str, which the tag alone
                # does not show): its first character is then not its quote or indicator.
                raise self.refusal(node, f"has the tag {tag}", _NO_TAGS)
            if style in "|>":
                self.blocks.append((int(node.start_mark.line), int(node.end_mark.line)))
                self.check_block_header(node, line)
            elif style == '"' and _SURROGATE.search(value):
                raise self.refusal(
                    node,
                    "has a lone surrogate escape (\\ud800-\\udfff), which is not text",
                    "write the character itself, or its pair of surrogates",
                )
            return value
        if tag != _plain_tag(value):
            raise self.refusal(node, f"has the tag {tag}", _NO_TAGS)
        if tag == _STR:
            if value and value[0] in _TYPED_START and _OTHERWISE_TYPED.fullmatch(value):
                raise self.refusal(
                    node,
                    f"the plain value {_short(value)} is text to some YAML readers and a "
                    "number, a boolean or a date to others",
                    f'quote it ("{_short(value, quoted=False)}") if it is text',
                )
            return value
        if tag == _NULL:
            return None
        if tag == _BOOL:
            if value in _BOOLEANS:
                return _BOOLEANS[value]
            raise self.refusal(
                node,
                f"the plain value {value!r} is true or false to YAML 1.1 readers and text to "
                "YAML 1.2 readers",
                f'write true or false, or quote it ("{value}") if it is text',
            )
        if tag == _INT:
            if _INTEGER.match(value) and abs(int(value)) <= MAX_SAFE_INTEGER:
                return int(value)
            raise self.refusal(
                node,
                f"the number {_short(value)} is read differently by different readers (leading "
                "zeros, underscores, other bases, base 60, or beyond the 2**53 JSON keeps exact)",
                "write a decimal integer of at most 15 digits, or quote it if it is text",
            )
        if tag == _FLOAT and _DECIMAL.match(value):
            number = float(value)
            if math.isfinite(number):
                return number
        raise self.refusal(
            node,
            f"the plain value {_short(value)} is read differently by different readers, or "
            "is not a JSON value",
            "write a decimal like 0.25 or 1.5e+3, or quote it if it is text",
        )

    @functools.cached_property
    def lines(self) -> list[str]:
        return self.text.split("\n")

    def line_at(self, mark: Any) -> str:
        """The rest of the line from ``mark`` (libyaml counts columns in characters)."""
        row = int(mark.line)
        return self.lines[row][int(mark.column) :] if row < len(self.lines) else ""

    def check_block_header(self, node: Any, line: str) -> None:
        """A comment after ``|`` or ``>`` must be parted from it by a space: libyaml reads
        ``|#`` as a block and a comment, YAML 1.2 readers refuse the file."""
        if line[1:4].lstrip("+-123456789").startswith("#"):
            raise self.refusal(
                node,
                "a comment right after the block indicator (|# or >#): some readers read a "
                "block of text, others refuse the file",
                "put a space before the comment (| #note), or remove it",
            )

    def check_tabs(self) -> None:
        """Tabs only inside blocks of text (| and >): elsewhere libyaml reads them as space
        and other readers refuse the file."""
        for number, row in enumerate(self.lines):
            if "\t" not in row:
                continue
            if any(start < number <= end for start, end in self.blocks):
                continue
            raise YamlError(
                Problem(
                    file=self.path,
                    line=number + 1,
                    rule="yaml-ambiguous",
                    message="has a tab outside a block of text; some readers refuse it",
                    hint="indent and separate with spaces; write a tab in text as \\t in "
                    "double quotes, or inside a | block",
                )
            )


_NO_TAGS = "tags (!!int, !!str, !foo, ...) are not allowed: write the value plainly, quoted if text"


def _short(value: str, *, quoted: bool = True, limit: int = 40) -> str:
    text = value if len(value) <= limit else value[:limit] + "..."
    return repr(text) if quoted else text


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
            if isinstance(event, yaml.DocumentStartEvent) and (event.version or event.tags):
                raise YamlError(
                    Problem(
                        file=path,
                        line=_line(event),
                        rule="yaml-ambiguous",
                        message="YAML directives (%YAML, %TAG) are not allowed: they change "
                        "how some readers read the file",
                        hint="remove the directive lines",
                    )
                )
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
    """The safe dumper, quoting every text that some reader would read as another type."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        tag = super().resolve(kind, value, implicit)
        if tag == _STR and kind is yaml.ScalarNode and implicit[0] and looks_typed(value):
            # Not the tag a plain scalar would get, so the emitter quotes the text.
            return _QUOTE_ME
        return tag


_QUOTE_ME = "tag:promptship,2026:quoted"


class _Quoted(str):
    """A string written in double quotes (timestamps, so every reader sees text)."""


def _represent_str(dumper: Any, value: str) -> Any:
    if value.isascii() or not _ODD_CHARACTER.search(value):
        if "\n" in value:
            return dumper.represent_scalar(_STR, value, style="|")
        return dumper.represent_scalar(_STR, value)
    # Written raw, these characters would make the file one its readers disagree on: in double
    # quotes the emitter writes them as escapes.
    return dumper.represent_scalar(_STR, value, style='"')


def _represent_quoted(dumper: Any, value: str) -> Any:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style='"')


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(_Quoted, _represent_quoted)


def dump_mapping(mapping: Mapping[str, Any], *, quoted: frozenset[str] = frozenset()) -> bytes:
    """YAML for ``mapping`` in its own key order; the top-level keys in ``quoted`` in quotes."""
    data = {k: _Quoted(v) if k in quoted and isinstance(v, str) else v for k, v in mapping.items()}
    try:
        text: str = yaml.dump(
            data,
            Dumper=_Dumper,
            sort_keys=False,
            allow_unicode=True,
            default_flow_style=False,
            width=1_000_000,
        )
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(
            "the text given is not valid Unicode (it holds a lone surrogate)",
            hint="give text as UTF-8",
        ) from None
