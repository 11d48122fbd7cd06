"""Commands that read: list, versions, show, render, diff."""

from __future__ import annotations

from typing import Literal

import click

from ..completion import complete_prompt, complete_selector
from ..inputs import parse_variables
from ..options import json_option, read_ref_option, variables_options
from ..output import echo_json, echo_table
from ..session import Session, pass_session


@click.command("list")
@click.option(
    "--tag",
    "tags",
    multiple=True,
    metavar="TAG",
    help="Only prompts with this tag (all given must match).",
)
@click.option(
    "--search", metavar="TEXT", help="Only prompts whose name or description contains TEXT."
)
@click.option(
    "--production/--no-production",
    "production",
    default=None,
    help="Only prompts with (or without) a production version.",
)
@click.option(
    "--sort",
    type=click.Choice(["name", "created", "changed"]),
    default="name",
    show_default=True,
    help="Order: by name, by creation (oldest first), or by last change (newest first).",
)
@read_ref_option
@json_option
@pass_session
def list_(
    session: Session,
    tags: tuple[str, ...],
    search: str | None,
    production: bool | None,
    sort: Literal["name", "created", "changed"],
    ref: str | None,
    as_json: bool,
) -> None:
    """List prompts with their latest and production versions."""
    from registry.catalog import PromptQuery, list_prompts

    rows = list_prompts(
        session.snapshot(ref),
        PromptQuery(tags=tags, search=search, production=production, sort=sort),
    )
    if as_json:
        echo_json(
            [
                {
                    "name": r.name,
                    "description": r.description,
                    "tags": list(r.tags),
                    "latest_version": r.latest,
                    "production_version": r.production,
                    **(
                        {"created_at": r.created_at, "changed_at": r.changed_at}
                        if sort != "name"
                        else {}
                    ),
                }
                for r in rows
            ]
        )
        return
    if not rows:
        click.echo(
            "no prompts" + (" match" if tags or search or production is not None else " yet"),
            err=True,
        )
        return
    echo_table(
        ["NAME", "LATEST", "PRODUCTION", "TAGS", "DESCRIPTION"],
        [
            (
                r.name,
                f"v{r.latest}" if r.latest else "-",
                f"v{r.production}" if r.production else "-",
                ",".join(r.tags),
                r.description.splitlines()[0] if r.description else "",
            )
            for r in rows
        ],
    )


@click.command()
@click.argument("name", shell_complete=complete_prompt)
@click.option("--include-archived", is_flag=True, help="List archived versions too.")
@read_ref_option
@json_option
@pass_session
def versions(
    session: Session, name: str, include_archived: bool, ref: str | None, as_json: bool
) -> None:
    """List the versions of prompt NAME."""
    from registry.catalog import load_info, load_pointer, load_version, version_numbers

    snap = session.snapshot(ref)
    load_info(snap, name)
    pointer = load_pointer(snap, name)
    shown = [
        v
        for v in (load_version(snap, name, n) for n in version_numbers(snap, name))
        if include_archived or v.status != "archived"
    ]
    if as_json:
        echo_json(
            [
                {
                    "version": v.version,
                    "status": v.status,
                    "created_at": v.created_at,
                    "created_by": v.created_by,
                }
                for v in shown
            ]
        )
        return
    echo_table(
        ["VERSION", "STATUS", "CREATED", "BY"],
        [
            (
                f"v{v.version}",
                v.status + (" (production)" if pointer and pointer.version == v.version else ""),
                v.created_at,
                v.created_by,
            )
            for v in shown
        ],
    )


@click.command()
@click.argument(
    "selector", shell_complete=complete_selector, metavar="NAME[@VERSION|@production|@latest]"
)
@read_ref_option
@json_option
@pass_session
def show(session: Session, selector: str, ref: str | None, as_json: bool) -> None:
    """Show one version of a prompt: production by default, @latest, or @N."""
    from registry.read.versions import SnapshotReader

    version = SnapshotReader(session.snapshot(ref)).get(selector)
    data = version.to_json()
    if as_json:
        echo_json(data)
        return
    state = version.status + (", production" if version.is_production else "")
    click.echo(f"{version.prompt} v{version.version} ({state})")
    click.echo(f"type:      {version.type}")
    click.echo(f"created:   {version.created_at} by {version.created_by}")
    click.echo(f"variables: {', '.join(version.variables) or '(none)'}")
    for key, value in data["metadata"].items():
        click.echo(f"{key + ':':<10} {value}")
    click.echo("")
    _echo_body(version.content, [(m.role, m.content) for m in version.messages or ()])


@click.command()
@click.argument(
    "selector", shell_complete=complete_selector, metavar="NAME[@VERSION|@production|@latest]"
)
@variables_options
@read_ref_option
@json_option
@pass_session
def render(
    session: Session,
    selector: str,
    pairs: tuple[str, ...],
    vars_file: str | None,
    ref: str | None,
    as_json: bool,
) -> None:
    """Fill in a version's variables and print the result."""
    from registry.catalog import resolve
    from registry.names import parse_selector
    from registry.templates import render_version

    chosen = parse_selector(selector)
    values = parse_variables(pairs, vars_file)
    rendered = render_version(resolve(session.snapshot(ref), chosen), values)
    if as_json:
        echo_json(rendered.to_json())
    else:
        messages = [(m["role"], m["content"]) for m in rendered.messages or ()]
        _echo_body(rendered.content, messages)


def _echo_body(content: str | None, messages: list[tuple[str, str]]) -> None:
    """A text prompt's content, or each chat message under its role, ending in one newline."""
    parts = [content] if content is not None else [p for m in messages for p in (f"[{m[0]}]", m[1])]
    for part in parts:
        click.echo(part, nl=not part.endswith("\n"))


@click.command()
@click.argument("name")
@click.argument("old", metavar="A")
@click.argument("new", metavar="B")
@read_ref_option
@json_option
@pass_session
def diff(session: Session, name: str, old: str, new: str, ref: str | None, as_json: bool) -> None:
    """Show what changed from version A to version B of prompt NAME.

    A and B are version numbers (3 or v3), 'production' or 'latest'. The template is compared
    line by line (a chat prompt's messages each under a [role] line), metadata key by key."""
    from registry.catalog import resolve
    from registry.diffs import diff_versions
    from registry.names import check_name, parse_selector

    check_name(name)
    snap = session.snapshot(ref)
    changes = diff_versions(
        resolve(snap, parse_selector(f"{name}@{old}")),
        resolve(snap, parse_selector(f"{name}@{new}")),
    )
    if as_json:
        echo_json(changes.to_json())
    else:
        click.echo(changes.text(), nl=False)


COMMANDS = [list_, versions, show, render, diff]
