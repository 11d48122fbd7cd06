"""Prompt templates: Jinja2 in an immutable sandbox with strict undefined variables.

No template reaches Python objects or the file system; a variable that is used but not given, or
given but not used, is an error that names all of them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jinja2
from jinja2 import meta
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .errors import MissingVariables, RenderError, TemplateSyntaxError, UnknownVariables
from .model import Version

__all__ = [
    "Rendered",
    "check_template",
    "render_version",
    "template_variables",
    "version_variables",
]


def _environment() -> ImmutableSandboxedEnvironment:
    return ImmutableSandboxedEnvironment(
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
    )


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


def template_variables(text: str, *, where: str = "template") -> frozenset[str]:
    try:
        tree = _environment().parse(text)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateSyntaxError(where, exc.message or "invalid syntax", exc.lineno) from None
    return frozenset(meta.find_undeclared_variables(tree))


def version_variables(version: Version) -> tuple[str, ...]:
    """The variables a version's templates use, sorted."""
    found: set[str] = set()
    for where, text in version.templates():
        found |= template_variables(text, where=f"{version.prompt} v{version.version} {where}")
    return tuple(sorted(found))


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


def render_version(version: Version, values: Mapping[str, Any]) -> Rendered:
    expected = version_variables(version)
    missing = sorted(set(expected) - set(values))
    unknown = sorted(set(values) - set(expected))
    if missing:
        raise MissingVariables(missing, unknown, expected)
    if unknown:
        raise UnknownVariables(missing, unknown, expected)
    env = _environment()
    rendered = [(where, _render(env, text, values, where)) for where, text in version.templates()]
    if version.type == "text":
        return Rendered(
            prompt=version.prompt,
            version=version.version,
            type="text",
            content=rendered[0][1],
            messages=None,
        )
    messages = tuple(
        {"role": m.role, "content": text}
        for m, (_, text) in zip(version.messages or (), rendered, strict=True)
    )
    return Rendered(
        prompt=version.prompt, version=version.version, type="chat", content=None, messages=messages
    )


def _render(
    env: ImmutableSandboxedEnvironment, text: str, values: Mapping[str, Any], where: str
) -> str:
    try:
        return env.from_string(text).render(**values)
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
    except (jinja2.TemplateError, TypeError, ValueError, ArithmeticError) as exc:
        raise RenderError(
            f"{where}: the template failed: {exc}", hint="check the template"
        ) from None
