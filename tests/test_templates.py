from __future__ import annotations

import pytest

from helpers.inmemory import text_version
from registry.errors import MissingVariables, RenderError, TemplateSyntaxError, UnknownVariables
from registry.model import Message, Version
from registry.templates import render_version, template_variables, version_variables

text = text_version


def chat(*messages: tuple[str, str]) -> Version:
    return Version(
        prompt="p",
        version=1,
        status="draft",
        type="chat",
        messages=tuple(Message(role=r, content=c) for r, c in messages),
        created_at="2026-11-29T10:00:00Z",
        created_by="A <a@x.io>",
    )


@pytest.mark.parametrize(
    ("template", "variables"),
    [
        ("Hello, {{name}}! Welcome to {{app_name}}.", {"name", "app_name"}),
        ("{% for t in items %}{{ t }} {{ sep }}{% endfor %}", {"items", "sep"}),
        ("{% set x = 1 %}{{ x }}{{ y | upper }}", {"y"}),
        ("{% if vip %}Dear {{ user.name }}{% endif %}", {"vip", "user"}),
        ("no variables", set()),
    ],
)
def test_variables_are_detected(template: str, variables: set[str]) -> None:
    assert template_variables(template) == variables


def test_chat_variables_span_messages() -> None:
    assert version_variables(
        chat(("system", "You help with {{ topic }}."), ("user", "{{ question }}"))
    ) == ("question", "topic")


def test_render_text_and_chat() -> None:
    assert render_version(text("Hello, {{name}}!\n"), {"name": "Ada"}).content == "Hello, Ada!\n"
    rendered = render_version(chat(("system", "Topic: {{ t }}"), ("user", "Q")), {"t": "git"})
    assert rendered.messages == (
        {"role": "system", "content": "Topic: git"},
        {"role": "user", "content": "Q"},
    )


def test_missing_and_unknown_are_all_named() -> None:
    with pytest.raises(MissingVariables) as caught:
        render_version(text("{{ a }} {{ b }} {{ c }}"), {"b": "x", "zz": "y", "yy": "z"})
    assert caught.value.missing == ("a", "c")
    assert caught.value.unknown == ("yy", "zz")
    assert (
        "missing variables: a, c" in caught.value.message
        and "unknown variables: yy, zz" in caught.value.message
    )
    with pytest.raises(UnknownVariables) as unknown:
        render_version(text("{{ a }}"), {"a": "1", "b": "2"})
    assert unknown.value.unknown == ("b",)


@pytest.mark.parametrize(
    "template",
    [
        "{{ x.__class__.__mro__[1].__subclasses__() }}",
        "{{ x.__init__.__globals__ }}",
        "{{ lipsum.__globals__['os'] }}",
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{% set l = [] %}{{ l.append(1) }}",
    ],
)
def test_the_sandbox_holds(template: str) -> None:
    version = text(template)
    values = dict.fromkeys(version_variables(version), "s")
    with pytest.raises(RenderError):
        render_version(version, values)


def test_attribute_of_a_string_variable_is_a_clear_error() -> None:
    with pytest.raises(RenderError, match=r"no attribute .name."):
        render_version(text("{{ user.name }}"), {"user": "Ada"})


def test_syntax_error_names_the_line() -> None:
    with pytest.raises(TemplateSyntaxError) as caught:
        template_variables("line one\n{{ broken", where="p v1 content")
    assert caught.value.line == 2
