"""Checking templates without rendering them: the shortcut for text with ``{{ name }}``
placeholders never accepts what Jinja's parser refuses."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2.sandbox import ImmutableSandboxedEnvironment

from registry.errors import TemplateSyntaxError
from registry.templates import _plainly_valid, check_template

PIECES = [*"{}%#-+ ab_1.()\n|", "{{", "}}", "{%", "%}", "{#", "#}", "not", "if", "and", "raw"]


def jinja_accepts(text: str) -> bool:
    try:
        ImmutableSandboxedEnvironment().parse(text)
    except Exception:
        return False
    return True


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=30).map("".join))
def test_the_shortcut_accepts_only_what_jinja_parses(text: str) -> None:
    if _plainly_valid(text):
        assert jinja_accepts(text), text


@pytest.mark.parametrize(
    "text",
    [
        "Hello {{ name }}! Welcome to {{app_name}}.",
        "No placeholders at all, just } and { and %.",
        "Ticket: {{ ticket }}\n\nBe brief.\n",
        "{{a}}{{b}}",
    ],
)
def test_common_prompts_take_the_shortcut(text: str) -> None:
    assert _plainly_valid(text)
    check_template(text, where="x")


@pytest.mark.parametrize(
    "text", ["{{ name", "{% if x %}open", "{{ not }}", "{{{ x }}", "{{ x | }}", "{# open"]
)
def test_broken_templates_are_refused(text: str) -> None:
    with pytest.raises(TemplateSyntaxError):
        check_template(text, where="v1 content")
