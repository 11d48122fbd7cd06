"""Prompt templates: Jinja2 in an immutable sandbox with strict undefined variables.

No template reaches Python objects or the file system; a variable that is used but not given, or
given but not used, is an error that names all of them. Parsing evaluates nothing, and a render
keeps to the limits of ``registry.sandbox`` (time, text, depth, numbers).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jinja2
from jinja2 import meta, nodes
from jinja2.exceptions import SecurityError

from .errors import MissingVariables, RenderError, TemplateSyntaxError, UnknownVariables
from .model import Version
from .sandbox import (
    MAX_NESTING,
    BoundedSandbox,
    Budget,
    LimitExceeded,
    bound_tree,
    nesting_depth,
)
from .sandbox import render as bounded_render

__all__ = [
    "PreparedVersion",
    "Rendered",
    "check_template",
    "render_version",
    "template_variables",
    "version_variables",
]


def _environment() -> BoundedSandbox:
    return BoundedSandbox()


def check_template(text: str, *, where: str) -> None:
    """Parse ``text`` (never render it); raise ``TemplateSyntaxError`` if it is not a template."""
    if _plain_variables(text) is None:
        template_variables(text, where=where)


_OPENER = re.compile(r"\{[{%#]")
_SIMPLE_VARIABLE = re.compile(r"\{\{ ?([A-Za-z_][A-Za-z0-9_]*) ?\}\}")
# Words the expression parser reads as operators or constants, and Jinja's globals: a template
# naming one takes the full parse.
_NOT_VARIABLES = frozenset(
    {"and", "or", "not", "in", "is", "if", "else", "self"}
    | {"true", "false", "none", "True", "False", "None"}
    | set(jinja2.defaults.DEFAULT_NAMESPACE)
)


def _plain_variables(text: str) -> frozenset[str] | None:
    """The variables of ``text`` when it is text and ``{{ name }}`` placeholders only, which
    always parse; ``None`` for anything else.

    Most prompts are, and recognising them is a hundred times cheaper than Jinja's parser, which
    matters when a check reads 100,000 versions or a server prepares 10,000 prompts. Anything
    else gets the full parse; a property test holds the two to the same answer."""
    found: set[str] = set()
    position = 0
    while True:
        opener = _OPENER.search(text, position)
        if opener is None:
            return frozenset(found)
        variable = _SIMPLE_VARIABLE.match(text, opener.start())
        if variable is None or variable.group(1) in _NOT_VARIABLES:
            return None
        found.add(variable.group(1))
        position = variable.end()


def _parse(env: BoundedSandbox, text: str, where: str) -> nodes.Template:
    """The syntax tree of ``text``; nothing in it is evaluated (the lexer reads literals only)."""
    try:
        tree = env.parse(text)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateSyntaxError(where, exc.message or "invalid syntax", exc.lineno) from None
    except RecursionError:
        raise TemplateSyntaxError(where, "nested too deeply", None) from None
    except (ValueError, OverflowError, MemoryError) as exc:
        # Python reads integer literals of at most 4,300 digits.
        raise TemplateSyntaxError(where, f"a literal promptship cannot read: {exc}", None) from None
    if nesting_depth(tree) > MAX_NESTING:
        raise TemplateSyntaxError(
            where, f"blocks and expressions nested deeper than {MAX_NESTING} levels", None
        )
    return tree


def _variables(tree: nodes.Template, where: str) -> set[str]:
    try:
        return meta.find_undeclared_variables(tree)
    except RecursionError:
        raise TemplateSyntaxError(where, "nested too deeply", None) from None


def template_variables(text: str, *, where: str = "template") -> frozenset[str]:
    return frozenset(_variables(_parse(_environment(), text, where), where))


def version_variables(version: Version) -> tuple[str, ...]:
    """The variables a version's templates use, sorted."""
    return PreparedVersion(version).variables


@dataclass(frozen=True, kw_only=True, slots=True)
class Rendered:
    """A version with its variables filled in: ``content`` for text, ``messages`` for chat."""

    prompt: str
    version: int
    type: str
    content: str | None
    messages: tuple[dict[str, str], ...] | None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"prompt": self.prompt, "version": self.version, "type": self.type}
        if self.type == "text":
            data["content"] = self.content
        else:
            data["messages"] = [dict(m) for m in self.messages or ()]
        return data


class PreparedVersion:
    """A version's templates parsed once, compiled on the first render and reused after, so a
    long-running reader renders without parsing again."""

    def __init__(self, version: Version) -> None:
        self.version = version
        self._env = _environment()
        self._label = f"{version.prompt} v{version.version}"
        # A template of plain placeholders is parsed only when first rendered: listing its
        # variables needs no parse, and it always parses.
        self._trees: list[tuple[str, nodes.Template | str]] = []
        found: set[str] = set()
        for where, text in version.templates():
            plain = _plain_variables(text)
            if plain is not None:
                self._trees.append((where, text))
                found |= plain
                continue
            tree = _parse(self._env, text, f"{self._label} {where}")
            self._trees.append((where, tree))
            found |= _variables(tree, f"{self._label} {where}")
        self.variables: tuple[str, ...] = tuple(sorted(found))
        self._compiled: list[tuple[str, jinja2.Template]] | None = None

    def render(self, values: Mapping[str, Any]) -> Rendered:
        version = self.version
        missing = sorted(set(self.variables) - set(values))
        unknown = sorted(set(values) - set(self.variables))
        if missing:
            raise MissingVariables(missing, unknown, self.variables)
        if unknown:
            raise UnknownVariables(missing, unknown, self.variables)
        if self._compiled is None:
            self._compiled = [
                (where, _compile(self._env, tree, f"{self._label} {where}"))
                for where, tree in self._trees
            ]
        # One budget for the whole version: a chat prompt's messages share it.
        budget = Budget()
        rendered = [
            _render(template, values, f"{self._label} {where}", budget)
            for where, template in self._compiled
        ]
        if version.type == "text":
            return Rendered(
                prompt=version.prompt,
                version=version.version,
                type="text",
                content=rendered[0],
                messages=None,
            )
        messages = tuple(
            {"role": m.role, "content": text}
            for m, text in zip(version.messages or (), rendered, strict=True)
        )
        return Rendered(
            prompt=version.prompt,
            version=version.version,
            type="chat",
            content=None,
            messages=messages,
        )


def render_version(version: Version, values: Mapping[str, Any]) -> Rendered:
    return PreparedVersion(version).render(values)


def _compile(env: BoundedSandbox, tree: nodes.Template | str, where: str) -> jinja2.Template:
    if isinstance(tree, str):
        tree = _parse(env, tree, where)
    try:
        return env.from_string(bound_tree(tree))
    except (RecursionError, SyntaxError, MemoryError, ValueError, OverflowError) as exc:
        # Python's compiler has limits of its own (nested blocks, parentheses).
        raise RenderError(
            f"{where}: the template cannot be compiled: {exc}",
            hint="nest fewer blocks and expressions",
        ) from None


def _render(
    template: jinja2.Template, values: Mapping[str, Any], where: str, budget: Budget
) -> str:
    try:
        return bounded_render(template, values, budget)
    except LimitExceeded as exc:
        raise LimitExceeded(exc.limit, f"{where}: {exc.message}") from None
    except SecurityError as exc:
        raise RenderError(
            f"{where}: the template tried something the sandbox forbids: {exc}",
            hint="templates may use variables, filters, conditions and loops, nothing more",
        ) from None
    except jinja2.UndefinedError as exc:
        raise RenderError(
            f"{where}: {exc.message}",
            hint="a variable was given but lacks the attribute or item the template reads",
        ) from None
    except RecursionError:
        raise LimitExceeded(
            "depth", f"{where}: calls nested more than Python allows (recursion)"
        ) from None
    except MemoryError:
        raise LimitExceeded("memory", f"{where}: the render ran out of memory") from None
    except Exception as exc:  # the template is code from a pull request: any failure is its own
        raise RenderError(
            f"{where}: the template failed: {type(exc).__name__}: {exc}",
            hint="check the template",
        ) from None
