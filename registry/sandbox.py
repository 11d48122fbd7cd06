"""The template sandbox with limits: what a template from a pull request may cost.

Jinja2's sandbox keeps templates away from Python objects and files, but not from work: a
template can ask for ``9**9**9``, ``'a' * 10**9``, ``'x'|center(10**9)`` or loops inside loops.
Here every such step goes through a hook that keeps to the limits of one render:

- time: a deadline, checked at every call, filter, operator and loop item (no thread is killed,
  the template itself stops at the next step);
- text: every string a render makes or writes counts against one budget of characters, and a
  step that would exceed it is refused before its result is built;
- depth: nested calls (macros, recursive loops, ``caller()``);
- numbers: integers of at most ``MAX_INT_BITS`` bits.

Parsing evaluates nothing: Jinja2 folds constant expressions while compiling (and while finding
variables), so every operator is intercepted and every filter and test takes the render's
context, and neither can be folded (``nodes.Impossible``).
"""

from __future__ import annotations

import functools
import math
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import GeneratorType, MappingProxyType
from typing import Any, cast

import jinja2
from jinja2 import nodes
from jinja2.filters import FILTERS as DEFAULT_FILTERS
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedFormatter
from jinja2.tests import TESTS as DEFAULT_TESTS
from jinja2.utils import _PassArg, pass_context
from jinja2.visitor import NodeTransformer

from .errors import RenderError

__all__ = [
    "MAX_CALL_DEPTH",
    "MAX_HEAVY_INPUT",
    "MAX_INT_BITS",
    "MAX_NESTING",
    "RENDER_SECONDS",
    "RENDER_TEXT",
    "BoundedSandbox",
    "Budget",
    "LimitExceeded",
    "bound_tree",
    "nesting_depth",
    "render",
]

RENDER_SECONDS = 1.0
"""Wall time one render may take."""
RENDER_TEXT = 1 << 20
"""Characters one render may build or write in all (each string counted once, when made)."""
MAX_CALL_DEPTH = 40
"""Calls nested in one another: macros calling macros, recursive loops."""
MAX_INT_BITS = 4096
"""Size of an integer an operator may make (about 1,200 decimal digits)."""
MAX_NESTING = 60
"""Levels of a template's syntax tree (blocks, expressions) a template may have."""

_BUDGET_KEY = "promptship render budget"  # not an identifier: no template can name it
_LOOP = "promptship_loop"
_OUT = "promptship_out"
_CONCAT = "promptship_concat"
_WIDTH = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|[0-9]+)?(?:\.(\*|[0-9]+))?")


class LimitExceeded(RenderError):
    """A render went past one of its limits; ``limit`` names which."""

    def __init__(self, limit: str, message: str) -> None:
        self.limit = limit
        super().__init__(
            message,
            hint="templates have limits: "
            f"{RENDER_SECONDS:g} s, {RENDER_TEXT:,} characters of text, {MAX_CALL_DEPTH} "
            f"nested calls, integers of {MAX_INT_BITS} bits; make the template do less",
        )


class Budget:
    """What one render may still spend."""

    __slots__ = ("deadline", "depth", "text")

    def __init__(self, seconds: float = RENDER_SECONDS, text: int = RENDER_TEXT) -> None:
        self.deadline = time.monotonic() + seconds
        self.text = text
        self.depth = 0

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise LimitExceeded("time", f"the render took longer than {RENDER_SECONDS:g} s")

    def spend(self, characters: int) -> None:
        """Count text about to be made, refusing it when it would exceed the budget."""
        if characters > self.text:
            raise _too_much_text()
        self.text -= characters

    def allow(self, characters: int) -> None:
        """Refuse a step whose result would hold ``characters`` (counted later, when made)."""
        if characters > self.text:
            raise _too_much_text()


def _too_much_text() -> LimitExceeded:
    return LimitExceeded(
        "text", f"the render would make more than {RENDER_TEXT:,} characters of text"
    )


def _budget(context: Context) -> Budget:
    found = context.parent.get(_BUDGET_KEY)
    if isinstance(found, Budget):
        return found
    # A filter run outside a render (never by promptship): a fresh budget still bounds it.
    return Budget()


def _size(value: Any) -> int:
    """Characters (or items) ``value`` holds, for what the budget counts."""
    if isinstance(value, (str, list, tuple)):
        return len(value)
    return 0


def _check_number(value: Any) -> None:
    if type(value) is int and value.bit_length() > MAX_INT_BITS:
        raise LimitExceeded("number", f"an integer of more than {MAX_INT_BITS} bits")


def _check_arguments(budget: Budget, args: Iterable[Any]) -> None:
    """Widths, counts and repetitions passed to a filter or method: none may exceed what the
    render can still make (``center(10**9)``, ``batch(10**9)``)."""
    for arg in args:
        if type(arg) is int and abs(arg) > budget.text:
            raise LimitExceeded(
                "text", f"the number {arg} asks for more than {RENDER_TEXT:,} characters or items"
            )


def _check_percent_format(budget: Budget, template: str) -> None:
    for match in _WIDTH.finditer(template):
        for part in match.groups():
            if part == "*" or (part is not None and int(part) > budget.text):
                raise LimitExceeded("text", "a %-format width or precision beyond the limit")


def _check_growth(budget: Budget, name: str, value: Any, args: tuple[Any, ...]) -> None:
    """Steps whose result can be much larger than their arguments: check the size first."""
    if not isinstance(value, str):
        return
    if name == "replace" and len(args) >= 2 and isinstance(args[0], str):
        old, new = args[0], str(args[1])
        count = len(value) + 1 if old == "" else value.count(old)
        if len(args) > 2 and type(args[2]) is int and args[2] >= 0:
            count = min(count, args[2])
        budget.allow(len(value) + count * max(len(new) - len(old), 0))
    elif name == "indent":
        width = args[0] if args else 4
        per_line = len(width) if isinstance(width, str) else width if type(width) is int else 0
        budget.allow(len(value) + (value.count("\n") + 1) * max(per_line, 0))
    elif name == "wordwrap":
        wrap = args[2] if len(args) > 2 and isinstance(args[2], str) else "\n"
        budget.allow(len(value) * max(len(wrap), 1))
    elif name == "expandtabs":
        size = args[0] if args and type(args[0]) is int else 8
        budget.allow(len(value) + value.count("\t") * max(size, 0))
    elif name == "format":
        _check_percent_format(budget, value)


MAX_HEAVY_INPUT = 20_000
"""Characters or items a filter that does Python work per element (or worse) may be given: it
runs in one step, between two looks at the clock."""
_HEAVY = frozenset(
    {
        "wordwrap",
        "sort",
        "title",
        "wordcount",
        "striptags",
        "urlize",
        "unique",
        "dictsort",
        "groupby",
        "batch",
        "slice",
        "xmlattr",
        "tojson",
        "pprint",
    }
)


def _bounded_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    passed = _PassArg.from_obj(func)
    heavy = name in _HEAVY

    @pass_context
    def bounded(context: Context, value: Any, *args: Any, **kwargs: Any) -> Any:
        budget = _budget(context)
        budget.tick()
        if heavy and isinstance(value, (str, list, tuple, dict)) and len(value) > MAX_HEAVY_INPUT:
            raise LimitExceeded(
                "text",
                f"|{name} was given {len(value):,} characters or items; it takes at most "
                f"{MAX_HEAVY_INPUT:,}",
            )
        if args or kwargs:
            given = (*args, *kwargs.values())
            _check_arguments(budget, given)
            _check_growth(budget, name, value, given)
            if name == "join":
                value = list(value)
                separator = given[0]
                if isinstance(separator, str):
                    budget.allow(len(value) * len(separator))
        if passed is _PassArg.context:
            result = func(context, value, *args, **kwargs)
        elif passed is _PassArg.eval_context:
            result = func(context.eval_ctx, value, *args, **kwargs)
        elif passed is _PassArg.environment:
            result = func(context.environment, value, *args, **kwargs)
        else:
            result = func(value, *args, **kwargs)
        kind = type(result)
        if kind is str or kind is list:
            budget.spend(len(result))
        elif kind is int:
            _check_number(result)
        elif kind is GeneratorType:
            return _counted(budget, result)
        return result

    bounded.__name__ = getattr(func, "__name__", name)
    return bounded


def _counted(budget: Budget, items: Iterator[Any]) -> Iterator[Any]:
    for item in items:
        budget.tick()
        budget.spend(_size(item))
        yield item


@pass_context
def _loop(context: Context, iterable: Any) -> Iterator[Any]:
    """Every ``{% for %}`` iterates through this: each item costs a tick of the clock."""
    budget = _budget(context)
    budget.tick()
    return _ticking(budget, iterable)


def _ticking(budget: Budget, iterable: Any) -> Iterator[Any]:
    for item in iterable:
        budget.tick()
        yield item


@pass_context
def _out(context: Context, value: Any) -> Any:
    """Every piece of output, in templates, macros and blocks alike, counts."""
    budget = _budget(context)
    budget.tick()
    text = str(value)
    budget.spend(len(text))
    return text


@pass_context
def _concat(context: Context, parts: list[Any]) -> str:
    """``a ~ b``: the length is known before the text is joined."""
    budget = _budget(context)
    budget.tick()
    texts = [str(part) for part in parts]
    budget.spend(sum(map(len, texts)))
    return "".join(texts)


@functools.cache  # the same wrappers for every environment: building them takes a millisecond
def _bounded_defaults() -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    filters: dict[str, Any] = {
        name: _bounded_filter(name, f) for name, f in DEFAULT_FILTERS.items()
    }
    filters.update({_LOOP: _loop, _OUT: _out, _CONCAT: _concat})
    tests = {name: _bounded_filter(name, cast(Any, f)) for name, f in DEFAULT_TESTS.items()}
    return MappingProxyType(filters), MappingProxyType(tests)


class _BoundedFormatter(SandboxedFormatter):
    """``str.format`` in the sandbox, with widths and precisions bounded."""

    def __init__(self, env: BoundedSandbox, budget: Budget) -> None:
        super().__init__(env)
        self.budget = budget

    def format_field(self, value: Any, format_spec: str) -> Any:
        for number in re.findall(r"[0-9]+", format_spec):
            if len(number) > 7 or int(number) > self.budget.text:
                raise LimitExceeded("text", "a format width or precision beyond the limit")
        text = super().format_field(value, format_spec)
        self.budget.spend(len(text))
        return text


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox with every operator, filter, call and loop on the budget."""

    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})
    intercepted_unops = frozenset({"+", "-"})

    def __init__(self) -> None:
        super().__init__(
            undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True
        )
        self.globals.pop("lipsum", None)  # paragraphs of filler text, made to any length
        filters, tests = _bounded_defaults()
        self.filters = dict(filters)
        self.tests = dict(tests)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        budget = _budget(context)
        budget.tick()
        if operator == "**" and type(left) is int and type(right) is int and right > 0:
            if left not in (-1, 0, 1) and (
                right > MAX_INT_BITS or left.bit_length() * right > MAX_INT_BITS
            ):
                raise LimitExceeded("number", f"an integer of more than {MAX_INT_BITS} bits")
        elif operator == "*":
            if isinstance(left, (str, list, tuple)) and type(right) is int:
                budget.allow(len(left) * max(right, 0))
            elif isinstance(right, (str, list, tuple)) and type(left) is int:
                budget.allow(len(right) * max(left, 0))
            elif (
                type(left) is int
                and type(right) is int
                and left.bit_length() + right.bit_length() > MAX_INT_BITS
            ):
                raise LimitExceeded("number", f"an integer of more than {MAX_INT_BITS} bits")
        elif operator == "+" and isinstance(left, (str, list, tuple)):
            budget.allow(len(left) + _size(right))
        elif operator == "%" and isinstance(left, str):
            _check_percent_format(budget, left)
        result = super().call_binop(context, operator, left, right)
        budget.spend(_size(result))
        _check_number(result)
        if isinstance(result, float) and not math.isfinite(result) and operator == "**":
            raise LimitExceeded("number", "a power too large for a number")
        return result

    def call_unop(self, context: Context, operator: str, arg: Any) -> Any:
        _budget(context).tick()
        return super().call_unop(context, operator, arg)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        budget = _budget(__context)
        budget.tick()
        _check_arguments(budget, (*args, *kwargs.values()))
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str):
            _check_growth(budget, getattr(__obj, "__name__", ""), owner, args)
        if budget.depth >= MAX_CALL_DEPTH:
            raise LimitExceeded("depth", f"calls nested more than {MAX_CALL_DEPTH} deep")
        budget.depth += 1
        try:
            result = super().call(__context, __obj, *args, **kwargs)
        finally:
            budget.depth -= 1
        budget.spend(_size(result))
        _check_number(result)
        return result

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        template: str = value.__self__
        is_map = value.__name__ == "format_map"
        env = self

        def bounded(*args: Any, **kwargs: Any) -> str:
            # The budget of the render under way is not at hand here (no context): a fresh one
            # bounds this call, and the result is counted where it is used.
            formatter = _BoundedFormatter(env, Budget())
            if is_map:
                if kwargs or len(args) != 1:
                    raise TypeError("format_map() takes exactly one argument")
                return str(formatter.vformat(template, (), args[0]))
            return str(formatter.vformat(template, args, kwargs))

        return bounded


class _Bounding(NodeTransformer):
    """Routes a parsed template's loops and ``~`` through the budget's filters, and the output
    of bodies that are collected into a string before use (macros, ``call`` and ``filter``
    blocks, ``set`` blocks): the render counts what reaches its top level itself."""

    def __init__(self) -> None:
        self.collected = 0

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = nodes.Filter(node.iter, _LOOP, [], [], None, None, lineno=node.lineno)
        return node

    def _collecting(self, node: nodes.Node) -> nodes.Node:
        self.collected += 1
        try:
            self.generic_visit(node)
        finally:
            self.collected -= 1
        return node

    visit_Macro = visit_CallBlock = visit_FilterBlock = visit_AssignBlock = _collecting

    def visit_Output(self, node: nodes.Output) -> nodes.Node:
        self.generic_visit(node)
        if self.collected:
            node.nodes = [
                nodes.Filter(
                    nodes.Const(child.data) if isinstance(child, nodes.TemplateData) else child,
                    _OUT,
                    [],
                    [],
                    None,
                    None,
                    lineno=child.lineno,
                )
                for child in node.nodes
            ]
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        parts = nodes.List(list(node.nodes), lineno=node.lineno)
        return nodes.Filter(parts, _CONCAT, [], [], None, None, lineno=node.lineno)


def bound_tree(tree: nodes.Template) -> nodes.Template:
    """``tree`` (changed in place) with every loop, piece of output and ``~`` on the budget."""
    result = _Bounding().visit(tree)
    assert isinstance(result, nodes.Template)
    return result


def nesting_depth(tree: nodes.Node) -> int:
    """The deepest level of the syntax tree (without recursion: it may be deep)."""
    deepest = 0
    stack: list[tuple[nodes.Node, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in node.iter_child_nodes())
    return deepest


def render(template: jinja2.Template, values: Mapping[str, Any], budget: Budget) -> str:
    """``template`` rendered with ``values`` within ``budget``: the hooks find the budget beside
    the variables (under a name no template can write), and the output is counted as it comes."""
    parts: list[str] = []
    append = parts.append
    context = template.new_context({**values, _BUDGET_KEY: budget})
    # Kept lean: it runs for every piece of every render. Loops and calls tick on their own.
    for count, part in enumerate(template.root_render_func(context)):
        budget.text -= len(part)
        if budget.text < 0:
            raise _too_much_text()
        if not count & 63:
            budget.tick()
        append(part)
    return "".join(parts)
