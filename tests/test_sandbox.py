"""The bounded sandbox renders what Jinja2's sandbox renders, and stops where it must.

The limits are hooks on every call, filter, operator, loop item and piece of output; a template
within them must come out byte for byte as Jinja2's own immutable sandbox renders it.
"""

from __future__ import annotations

from typing import Any

import jinja2
import pytest
from jinja2.sandbox import ImmutableSandboxedEnvironment

from helpers.inmemory import text_version
from registry.sandbox import MAX_CALL_DEPTH, RENDER_TEXT, LimitExceeded
from registry.templates import PreparedVersion

ORDINARY = [
    ("Hello {{ name }}!", {"name": "Ada"}),
    ("{% for x in items %}- {{ x|upper }}\n{% endfor %}", {"items": ["a", "b"]}),
    ("{% for x in items %}{{ loop.index }}/{{ loop.length }} {% endfor %}", {"items": "abc"}),
    ("{% if n > 2 %}many{% else %}few{% endif %} {{ n * 3 }} {{ n ** 2 }} {{ n / 4 }}", {"n": 5}),
    (
        "{{ a ~ b ~ 1 }} {{ a + b }} {{ '%s-%d'|format(a, 3) }} {{ '%05.1f' % 2.5 }}",
        {"a": "x", "b": "y"},
    ),
    ("{% macro m(x) %}<{{ x }}>{% endmacro %}{{ m(1) }}{{ m('two') }}", {}),
    ("{% macro m() %}[{{ caller() }}]{% endmacro %}{% call m() %}in{% endcall %}", {}),
    ("{% set t %}block {{ v }}{% endset %}{{ t|trim }}", {"v": 1}),
    ("{% filter upper %}quiet {{ v }}{% endfilter %}", {"v": "x"}),
    ("{% for k, v in d|dictsort %}{{ k }}={{ v }};{% endfor %}", {"d": {"b": 2, "a": 1}}),
    ("{{ words|join(', ') }} {{ words|length }} {{ words|first }}", {"words": ["a", "b"]}),
    (
        "{{ text|wordwrap(10) }}|{{ text|center(30) }}|{{ text|indent(2) }}",
        {"text": "a b c d e f g h i j k"},
    ),
    ("{{ '{:>6}'.format(v) }} {{ v.replace('a', 'bb') }} {{ v.ljust(4, '.') }}", {"v": "aa"}),
    ("{% for x in [1, 2] recursive %}{{ x }}{% endfor %} {{ range(3)|list }}", {}),
    (
        "{% set ns = namespace(s='') %}{% for i in range(3) %}{% set ns.s = ns.s ~ i %}{% endfor %}{{ ns.s }}",
        {},
    ),
    ("{{ x is string }} {{ x is number }} {{ (x * 2)|reverse }}", {"x": "ab"}),
    ("{{ data|tojson }} {{ data.items()|list }}", {"data": {"k": [1, 2]}}),
]


def render(template: str, values: dict[str, Any]) -> str:
    rendered = PreparedVersion(text_version(template)).render(values)
    assert rendered.content is not None
    return rendered.content


@pytest.mark.parametrize(("template", "values"), ORDINARY)
def test_an_ordinary_template_renders_as_in_jinja(template: str, values: dict[str, Any]) -> None:
    plain = ImmutableSandboxedEnvironment(
        undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True
    )
    assert render(template, values) == plain.from_string(template).render(values)


def test_each_limit_is_named() -> None:
    cases = {
        "text": ("{{ x * " + str(RENDER_TEXT + 1) + " }}", {"x": "a"}),
        "number": ("{{ x ** 5000 }}", {"x": 2}),
        "depth": ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}{{ x }}", {"x": 1}),
        "time": (
            "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}{{ x }}",
            {"x": 1},
        ),
    }
    for limit, (template, values) in cases.items():
        with pytest.raises(LimitExceeded) as caught:
            render(template, values)
        assert caught.value.limit == limit
        assert caught.value.message.startswith("p v1 content: ")
        assert str(MAX_CALL_DEPTH) in caught.value.hint


def test_a_render_within_the_text_limit_is_whole() -> None:
    assert render("{{ x * 1000 }}", {"x": "ab"}) == "ab" * 1000
