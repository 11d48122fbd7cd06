"""Options several commands share, declared once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

__all__ = [
    "by_option",
    "content_options",
    "json_option",
    "meta_option",
    "read_ref_option",
    "variables_options",
    "write_ref_option",
]


def write_ref_option(f: F) -> F:
    return click.option(
        "--ref",
        metavar="REF",
        help="Commit to this branch (refs/heads/<branch>) instead of the checked-out one; "
        "required in a bare repository.",
    )(f)


def read_ref_option(f: F) -> F:
    return click.option(
        "--ref",
        metavar="REV",
        help="Read the registry as of this branch, tag or commit instead of HEAD.",
    )(f)


def by_option(f: F) -> F:
    return click.option(
        "--by",
        metavar='"NAME <EMAIL>"',
        help="Who to record as the author. Default: GIT_AUTHOR_NAME/GIT_AUTHOR_EMAIL, else git "
        "config user.name/user.email.",
    )(f)


def json_option(f: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for programs.")(f)


def content_options(f: F) -> F:
    f = click.option(
        "--file",
        metavar="FILE",
        help="Read the content from FILE ('-' for standard input). For a chat prompt: a YAML "
        "list of {role, content} messages.",
    )(f)
    return click.option("--content", metavar="TEXT", help="The template text (text prompts).")(f)


def meta_option(f: F) -> F:
    return click.option(
        "--meta",
        "meta",
        multiple=True,
        metavar="KEY=VALUE",
        help="Set a metadata field (model=gpt-4o, temperature=0.2); KEY= removes it. Repeatable.",
    )(f)


def variables_options(f: F) -> F:
    """``--var`` and ``--vars-file``, read with ``inputs.parse_variables``."""
    f = click.option(
        "--vars-file",
        metavar="FILE",
        help="Variables from a YAML or JSON mapping; --var overrides.",
    )(f)
    return click.option(
        "--var", "pairs", multiple=True, metavar="KEY=VALUE", help="A variable's value. Repeatable."
    )(f)
