"""Options several commands share, declared once."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar

import click

from .session import Session

if TYPE_CHECKING:
    from registry.editor import Editor

F = TypeVar("F", bound=Callable[..., Any])

__all__ = [
    "Published",
    "Writing",
    "branch_options",
    "by_option",
    "changing_options",
    "content_options",
    "json_option",
    "meta_option",
    "read_ref_option",
    "unset_meta_option",
    "variables_options",
    "write_ref_option",
]


class Published(TypedDict):
    """Where a commit goes besides the local branch, as the write API takes it."""

    push: bool
    remote: str | None


@dataclass(frozen=True, kw_only=True, slots=True)
class Writing:
    """What a changing command was told about its commit: the branch (``--ref``), the author
    (``--by``), and where the commit goes besides (``--push``/``--remote``; ``promote``'s
    ``--branch``/``--from``). ``editor`` opens the write API when the command first asks."""

    session: Session
    ref: str | None = None
    by: str | None = None
    push: bool = False
    remote: str | None = None
    branch: str | None = None
    start: str | None = None

    @property
    def editor(self) -> Editor:
        return self.session.editor(self.ref, self.by)

    @property
    def publish(self) -> Published:
        return {"push": self.push, "remote": self.remote}


def changing_options(f: F) -> F:
    """What every command that commits takes: the branch (``--ref``), the author (``--by``)
    and pushing (``--push``, ``--remote``), handed to the command as one ``writing`` argument
    (with ``--branch``/``--from`` when ``branch_options`` sits above)."""

    @functools.wraps(f)
    def command(*args: Any, **kwargs: Any) -> Any:
        writing = Writing(
            session=click.get_current_context().find_object(Session) or Session(None),
            ref=kwargs.pop("ref"),
            by=kwargs.pop("by"),
            push=kwargs.pop("push"),
            remote=kwargs.pop("remote"),
            branch=kwargs.pop("branch", None),
            start=kwargs.pop("start", None),
        )
        if writing.remote is not None and not writing.push and writing.branch is None:
            raise click.UsageError("--remote names where --push pushes; add --push")
        if writing.start is not None and writing.branch is None:
            raise click.UsageError("--from names where a --branch starts; add --branch NAME")
        if writing.branch is not None and writing.ref is not None:
            raise click.UsageError("--branch makes a new branch; --ref does not go with it")
        return f(*args, writing=writing, **kwargs)

    command = click.option(
        "--remote",
        metavar="NAME",
        help="Push to this remote instead of the branch's upstream one.",
    )(command)
    command = click.option(
        "--push",
        is_flag=True,
        help="Push the commit to the branch's upstream remote. If someone pushed first, the "
        "change is rebuilt on their commits; it stops instead if they changed what it decided "
        "on. On any failure nothing changes here.",
    )(command)
    return write_ref_option(by_option(command))  # type: ignore[return-value]


def branch_options(f: F) -> F:
    """``--branch`` and ``--from``: commit on a new branch for a pull request (place it above
    ``changing_options``)."""
    f = click.option(
        "--from",
        "start",
        metavar="REF",
        help="Start the new branch from REF. Default: the remote's main branch (origin/HEAD).",
    )(f)
    return click.option(
        "--branch",
        metavar="NAME",
        help="Commit on a new branch NAME, for a pull request; the current checkout is left "
        "untouched. With --push, push the branch too.",
    )(f)


def write_ref_option(f: F) -> F:
    return click.option(
        "--ref",
        metavar="REF",
        help="Commit to this branch (refs/heads/<branch>) instead of the checked-out one (in a "
        "bare repository: the branch its HEAD names).",
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
    """``--meta KEY=TEXT`` and ``--meta-json KEY=JSON``, handed to the command as one
    ``metadata`` argument: the keys to set and their values."""

    @functools.wraps(f)
    def command(*args: Any, **kwargs: Any) -> Any:
        from registry.lifecycle import parse_metadata

        metadata = parse_metadata(kwargs.pop("meta"), kwargs.pop("meta_json"))
        return f(*args, metadata=metadata, **kwargs)

    command = click.option(
        "--meta-json",
        "meta_json",
        multiple=True,
        metavar="KEY=JSON",
        help="Set a metadata field to a JSON value: a number (temperature=0.2, max_tokens=100), "
        'true, false, null, "text in quotes", a [list] or an {object}. Repeatable.',
    )(command)
    return click.option(  # type: ignore[return-value]
        "--meta",
        "meta",
        multiple=True,
        metavar="KEY=TEXT",
        help="Set a metadata field to text, exactly as written (model=gpt-4o; 017 and yes stay "
        "text). Repeatable.",
    )(command)


def unset_meta_option(f: F) -> F:
    return click.option(
        "--unset-meta",
        "unset_meta",
        multiple=True,
        metavar="KEY",
        help="Remove a metadata field. Repeatable.",
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
