"""Checking templates without rendering them: the shortcut for text with ``{{ name }}``
placeholders never accepts what Jinja's parser refuses, and finds the variables Jinja finds."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2 import meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

from registry.errors import TemplateSyntaxError
from registry.templates import _plain_variables, check_template, template_variables

PIECES = [*"{}%#-+ ab_1.()\n|", "{{", "}}", "{%", "%}", "{#", "#}", "not", "if", "and", "raw"]
NAMES = ["name", "a_b", "true", "None", "range", "self", "loop", "in", "dict", "x1"]


def jinja_accepts(text: str) -> bool:
    try:
        ImmutableSandboxedEnvironment().parse(text)
    except Exception:
        return False
    return True


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=30).map("".join))
def test_the_shortcut_accepts_only_what_jinja_parses(text: str) -> None:
    if _plain_variables(text) is not None:
        assert jinja_accepts(text), text


@settings(max_examples=1000, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(["Hi ", "{", "}", " ", "\n"]),
            st.builds(
                "{{{{{}{}{}}}}}".format,
                st.sampled_from(["", " "]),
                st.sampled_from(NAMES),
                st.sampled_from(["", " "]),
            ),
        ),
        max_size=12,
    ).map("".join)
)
def test_the_shortcut_finds_the_variables_jinja_finds(text: str) -> None:
    plain = _plain_variables(text)
    if plain is not None:
        tree = ImmutableSandboxedEnvironment().parse(text)
        assert plain == meta.find_undeclared_variables(tree), text
        assert plain == template_variables(text), text


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
    assert _plain_variables(text) is not None
    check_template(text, where="x")


@pytest.mark.parametrize(
    "text", ["{{ name", "{% if x %}open", "{{ not }}", "{{{ x }}", "{{ x | }}", "{# open"]
)
def test_broken_templates_are_refused(text: str) -> None:
    with pytest.raises(TemplateSyntaxError):
        check_template(text, where="v1 content")
