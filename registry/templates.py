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
    if not _plainly_valid(text):
        template_variables(text, where=where)


_OPENER = re.compile(r"\{[{%#]")
_SIMPLE_VARIABLE = re.compile(r"\{\{ ?([A-Za-z_][A-Za-z0-9_]*) ?\}\}")
# Words the expression parser treats as operators; a template using them takes the full parse.
_OPERATORS = frozenset({"and", "or", "not", "in", "is", "if", "else"})


def _plainly_valid(text: str) -> bool:
    """Whether ``text`` is text and ``{{ name }}`` placeholders only, which always parse.

    Most prompts are, and recognising them is a hundred times cheaper than Jinja's parser, which
    matters when a check reads 100,000 versions. Anything else gets the full parse."""
    position = 0
    while True:
        opener = _OPENER.search(text, position)
        if opener is None:
            return True
        variable = _SIMPLE_VARIABLE.match(text, opener.start())
        if variable is None or variable.group(1) in _OPERATORS:
            return False
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
        self._trees = [
            (where, _parse(self._env, text, f"{self._label} {where}"))
            for where, text in version.templates()
        ]
        found: set[str] = set()
        for where, tree in self._trees:
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


def _compile(env: BoundedSandbox, tree: nodes.Template, where: str) -> jinja2.Template:
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
