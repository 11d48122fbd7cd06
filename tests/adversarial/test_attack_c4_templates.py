"""Class 4, templates from a change: parsing evaluates nothing, rendering keeps to its limits.

A promoted version is rendered by the check (its golden cases), by ``render``, ``test`` and the
read API; each attack promotes a template made to cost without bound, with the CLI, and adds a
golden case by hand. The check must refuse it (the case fails with the limit) in bounded time,
and every renderer must stop with an error naming the prompt, the version and the limit.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers.attack import check_base, commit_on, registry_at_base
from helpers.cli import run_main
from helpers.gitrepo import git
from registry import Registry as Reader
from registry.errors import TemplateSyntaxError
from registry.sandbox import LimitExceeded

CASE = "- name: renders\n  variables: {thread: t}\n  expect: {not_contains: zzz}\n"

RENDER_BOMBS = [
    ("power", "{{ 99999 ** 99999 }}{{ thread }}", "number"),
    ("string-times-power", "{{ 'a' * 10 ** 9 }}{{ thread }}", "text"),
    ("string-times-literal", "{{ thread * 1000000000 }}", "text"),
    ("list-times", "{{ ([thread] * 1000000000)|length }}", "text"),
    ("center", "{{ thread|center(1000000000) }}", "text"),
    ("indent", "{{ ((thread ~ '\n') * 100)|indent(100000000) }}", "text"),
    ("wordwrap", "{{ ((thread ~ ' ') * 9000)|wordwrap(1, true, 'x' * 1000) }}", "text"),
    ("join", "{{ range(100000)|join(thread * 100000) }}", "text"),
    ("percent-width", "{{ '%0999999999d' % 1 }}{{ thread }}", "text"),
    ("percent-star", "{{ '%*s' % (999999999, thread) }}", "text"),
    ("format-filter", "{{ '%999999999s'|format(thread) }}", "text"),
    ("format-method", "{{ '{:>999999999}'.format(thread) }}", "text"),
    ("ljust-method", "{{ thread.ljust(1000000000) }}", "text"),
    ("replace-amplifies", "{{ (thread * 1000)|replace('', 'x' * 100000) }}", "text"),
    ("range-huge", "{{ range(10 ** 12)|list|length }}{{ thread }}", "text"),
    ("batch-fill", "{{ [thread]|batch(1000000000, 'x')|list }}", "text"),
    ("slice-many", "{{ [thread]|slice(1000000000)|list }}", "text"),
    ("tojson-indent", "{{ [[[thread]]]|tojson(indent=1000000000) }}", "text"),
    (
        "nested-loops",
        "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}"
        "{{ thread }}",
        "time",
    ),
    (
        "nested-loops-over-text",
        "{% set s = thread * 100000 %}{% for a in s %}{% for b in s %}{% endfor %}{% endfor %}",
        "time",
    ),
    ("recursive-macro", "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(thread) }}", "depth"),
    (
        "exponential-macro",
        "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}"
        "{{ f(30) }}{{ thread }}",
        "time",
    ),
    (
        "recursive-loop",
        "{% for x in [thread] recursive %}{{ loop([x]) }}{% endfor %}",
        "depth",
    ),
    (
        "doubling-namespace",
        "{% set ns = namespace(s=thread) %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}"
        "{% endfor %}{{ ns.s|length }}",
        "text",
    ),
    (
        "squaring-namespace",
        "{% set ns = namespace(x=3) %}{% for i in range(40) %}{% set ns.x = ns.x * ns.x %}"
        "{% endfor %}{{ ns.x }}{{ thread }}",
        "number",
    ),
    (
        "macro-buffers-a-literal",
        "{% macro m() %}{% for i in range(100000) %}" + "x" * 1000 + "{% endfor %}{% endmacro %}"
        "{{ m()|length }}{{ thread }}",
        "text",
    ),
    ("quadratic-striptags", "{{ ('<!---->' * 140000)|striptags }}{{ thread }}", "text"),
    ("sort-a-long-text", "{{ (thread * 900000)|sort|length }}", "text"),
]


def promoted_bomb(repo: Path, cache: Path, template: str) -> None:
    """notes v2 holding ``template``, made and promoted with the CLI on branch 'attack', then a
    golden case added by hand."""
    r = registry_at_base(repo, cache)
    r.git("checkout", "-q", "-b", "attack", "base")
    r.ps("new-version", "notes", "--content", template)
    r.ps("promote", "notes", "2", "--notes", "bomb", "--yes")
    r.git("checkout", "-q", "main")
    commit_on(repo, "attack", {"prompts/notes/tests.yaml": CASE})


@pytest.mark.parametrize(
    ("template", "limit"),
    [(t, lim) for _, t, lim in RENDER_BOMBS],
    ids=[name for name, _, _ in RENDER_BOMBS],
)
def test_a_promoted_template_that_would_run_without_bound(
    repo: Path, tmp_path_factory: pytest.TempPathFactory, template: str, limit: str
) -> None:
    promoted_bomb(repo, tmp_path_factory.getbasetemp(), template)

    verdict = check_base(repo, "base", head="attack")
    assert verdict.status == 1, (verdict.stderr, verdict.report)
    assert verdict.rules == {"golden-tests"}, verdict.report

    with pytest.raises(LimitExceeded) as caught:
        Reader.open(repo, ref="attack").render("notes", {"thread": "t"})
    assert caught.value.limit == limit
    assert caught.value.message.startswith("notes v2 content: ")
    assert caught.value.hint

    status, out, err = run_main(repo, "render", "notes", "--var", "thread=t", "--ref", "attack")
    assert (status, out) == (1, "")
    assert err.startswith("error: notes v2 content: ") and "hint:" in err
    status, out, err = run_main(repo, "test", "notes", "--ref", "attack", "--json")
    assert status == 1 and "Traceback" not in err


PARSE_BOMBS = [
    ("integer-of-5000-digits", "{{ " + "9" * 5000 + " }}"),
    ("parentheses-5000-deep", "{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}"),
    ("blocks-100-deep", "{% if 1 %}" * 100 + "x" + "{% endif %}" * 100),
    ("loops-100-deep", "{% for i in [1] %}" * 100 + "x" + "{% endfor %}" * 100),
    ("lists-3000-deep", "{{ " + "[" * 3000 + "]" * 3000 + " }}"),
    ("filters-2000-long", "{{ 'a'" + "|upper" * 2000 + " }}"),
]


@pytest.mark.parametrize(
    "template", [t for _, t in PARSE_BOMBS], ids=[name for name, _ in PARSE_BOMBS]
)
def test_a_template_the_parser_must_refuse_without_crashing(
    repo: Path, tmp_path_factory: pytest.TempPathFactory, template: str
) -> None:
    """Written by hand as a draft (the CLI refuses it): the check names the template rule."""
    registry_at_base(repo, tmp_path_factory.getbasetemp())
    v1 = git(repo, "show", "base:prompts/notes/versions/1.yaml")
    v2 = v1.replace("version: 1", "version: 2").replace(
        "content: Summarise {{ thread }}.", f"content: {json.dumps(template)}"
    )
    commit_on(repo, "attack", {"prompts/notes/versions/2.yaml": v2})
    verdict = check_base(repo, "base", head="attack")
    assert verdict.status == 1, (verdict.stderr, verdict.report)
    assert verdict.rules == {"template"}, verdict.report
    with pytest.raises(TemplateSyntaxError) as caught:
        Reader.open(repo, ref="attack").get("notes", version=2).render(thread="t")
    assert "notes v2 content" in caught.value.message


FOLDED_AT_PARSE = [
    ("power-tower", "{{ 99999 ** 99999 ** 99 }}"),
    ("constant-center", "{{ 'a'|center(1000000000) }}"),
    ("constant-times", "{{ 'a' * 1000000000 }}"),
    ("constant-format", "{{ '%0999999999d'|format(1) }}"),
    ("constant-test", "{{ ('a' * 1000000000) is string }}"),
]


@pytest.mark.parametrize(
    "template", [t for _, t in FOLDED_AT_PARSE], ids=[name for name, _ in FOLDED_AT_PARSE]
)
def test_constant_expressions_are_not_computed_by_the_check(
    repo: Path, tmp_path_factory: pytest.TempPathFactory, template: str
) -> None:
    """Jinja2 folds constant expressions when compiling and when finding variables; a draft
    holding one is only parsed by the check (which passes it: a draft is never rendered there),
    and a render stops at its limits."""
    r = registry_at_base(repo, tmp_path_factory.getbasetemp())
    r.git("checkout", "-q", "-b", "attack", "base")
    r.ps("new-version", "notes", "--content", template)
    r.git("checkout", "-q", "main")
    verdict = check_base(repo, "base", head="attack")
    assert (verdict.status, verdict.rules) == (0, set()), verdict.report
    version = Reader.open(repo, ref="attack").get("notes", version=2)
    assert version.variables == ()
    with pytest.raises(LimitExceeded):
        version.render()
