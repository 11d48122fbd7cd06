"""Commands that create and change drafts: create, new-version, edit, archive, unarchive,
update, delete."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import click

from registry.names import parse_version

from ..inputs import read_content
from ..options import Publish, changing_options, content_options, meta_option, unset_meta_option
from ..output import done
from ..session import Session, pass_session

if TYPE_CHECKING:
    from registry.lifecycle import Text


def _given(content: str | None, file: str | None) -> Text | None:
    """The content given, read once (a retry after a lost race must not read stdin again)."""
    from registry.lifecycle import Text

    text = read_content(content, file)
    return None if text is None else Text(text=text, source=file or "--content")


@click.command()
@click.argument("name")
@content_options
@click.option(
    "--type", "kind", type=click.Choice(["text", "chat"]), default="text", show_default=True
)
@click.option("--description", default="", help="What the prompt is for.")
@click.option(
    "--tag", "tags", multiple=True, metavar="TAG", help="A tag to find it by. Repeatable."
)
@meta_option
@changing_options
@pass_session
def create(
    session: Session,
    name: str,
    content: str | None,
    file: str | None,
    kind: Literal["text", "chat"],
    description: str,
    tags: tuple[str, ...],
    metadata: dict[str, Any],
    ref: str | None,
    by: str | None,
    publish: Publish,
) -> None:
    """Create prompt NAME with version 1 as a draft (blank unless content is given)."""
    from registry.lifecycle import create_prompt
    from registry.names import check_name

    check_name(name)
    body = _given(content, file)
    result = session.commit(
        lambda snap, actor, now: create_prompt(
            snap,
            name,
            body=body,
            type=kind,
            description=description,
            tags=tags,
            metadata=metadata,
            actor=actor,
            now=now,
        ),
        ref=ref,
        by=by,
        publish=publish,
    )
    done(f"created {name} v1 (draft)", result)


@click.command("new-version")
@click.argument("name")
@click.option("--from", "source", metavar="N", help="Copy version N (any status) as the start.")
@content_options
@meta_option
@unset_meta_option
@changing_options
@pass_session
def new_version(
    session: Session,
    name: str,
    source: str | None,
    content: str | None,
    file: str | None,
    metadata: dict[str, Any],
    unset_meta: tuple[str, ...],
    ref: str | None,
    by: str | None,
    publish: Publish,
) -> None:
    """Add the next version of NAME as a draft: blank, a copy (--from N), or the content given.

    Metadata is copied from --from N, else from the latest version; --meta, --meta-json and
    --unset-meta change it."""
    from registry.lifecycle import new_version as make

    number = parse_version(source) if source is not None else None
    body = _given(content, file)
    result = session.commit(
        lambda snap, actor, now: make(
            snap,
            name,
            source=number,
            body=body,
            metadata=metadata,
            unset_metadata=unset_meta,
            actor=actor,
            now=now,
        ),
        ref=ref,
        by=by,
        publish=publish,
    )
    done(f"created {name} v{result.changes.version} (draft)", result)


@click.command()
@click.argument("name")
@click.argument("version")
@content_options
@meta_option
@unset_meta_option
@changing_options
@pass_session
def edit(
    session: Session,
    name: str,
    version: str,
    content: str | None,
    file: str | None,
    metadata: dict[str, Any],
    unset_meta: tuple[str, ...],
    ref: str | None,
    by: str | None,
    publish: Publish,
) -> None:
    """Change the content or metadata of draft VERSION of NAME (never-published drafts only)."""
    from registry.lifecycle import edit_version

    number = parse_version(version)
    if content is None and file is None and not metadata and not unset_meta:
        raise click.UsageError("give --content, --file, --meta, --meta-json or --unset-meta")
    body = _given(content, file)
    result = session.commit(
        lambda snap, actor, now: edit_version(
            snap,
            name,
            number,
            body=body,
            metadata=metadata,
            unset_metadata=unset_meta,
            actor=actor,
            now=now,
        ),
        ref=ref,
        by=by,
        publish=publish,
    )
    done(f"edited {name} v{number}", result)


@click.command()
@click.argument("name")
@click.argument("version")
@changing_options
@pass_session
def archive(
    session: Session, name: str, version: str, ref: str | None, by: str | None, publish: Publish
) -> None:
    """Archive draft VERSION of NAME (the production version is archived by promoting another)."""
    from registry.lifecycle import archive_version

    number = parse_version(version)
    result = session.commit(
        lambda snap, actor, now: archive_version(snap, name, number, actor=actor, now=now),
        ref=ref,
        by=by,
        publish=publish,
    )
    done(f"archived {name} v{number}", result)


@click.command()
@click.argument("name")
@click.argument("version")
@changing_options
@pass_session
def unarchive(
    session: Session, name: str, version: str, ref: str | None, by: str | None, publish: Publish
) -> None:
    """Make archived VERSION of NAME a draft again, so it can be promoted (a rollback)."""
    from registry.lifecycle import unarchive_version

    number = parse_version(version)
    result = session.commit(
        lambda snap, actor, now: unarchive_version(snap, name, number, actor=actor, now=now),
        ref=ref,
        by=by,
        publish=publish,
    )
    done(f"unarchived {name} v{number}: it is a draft again", result)


@click.command()
@click.argument("name")
@click.option("--description", default=None, help="A new description.")
@click.option("--tag", "add_tags", multiple=True, metavar="TAG", help="Add a tag. Repeatable.")
@click.option(
    "--untag", "remove_tags", multiple=True, metavar="TAG", help="Remove a tag. Repeatable."
)
@changing_options
@pass_session
def update(
    session: Session,
    name: str,
    description: str | None,
    add_tags: tuple[str, ...],
    remove_tags: tuple[str, ...],
    ref: str | None,
    by: str | None,
    publish: Publish,
) -> None:
    """Change NAME's description or tags (no new version)."""
    from registry.lifecycle import update_info

    if description is None and not add_tags and not remove_tags:
        raise click.UsageError("give --description, --tag or --untag")
    result = session.commit(
        lambda snap, actor, now: update_info(
            snap,
            name,
            description=description,
            add_tags=add_tags,
            remove_tags=remove_tags,
            actor=actor,
            now=now,
        ),
        ref=ref,
        by=by,
        publish=publish,
    )
    done(f"updated {name}", result)


@click.command()
@click.argument("name")
@click.option("--force", is_flag=True, help="Delete it even though it has a production version.")
@changing_options
@pass_session
def delete(
    session: Session, name: str, force: bool, ref: str | None, by: str | None, publish: Publish
) -> None:
    """Delete prompt NAME with all its versions and history, in one commit."""
    from registry.lifecycle import delete_prompt

    result = session.commit(
        lambda snap, actor, now: delete_prompt(snap, name, force=force, actor=actor, now=now),
        ref=ref,
        by=by,
        publish=publish,
    )
    done(f"deleted {name}", result)


COMMANDS = [create, new_version, edit, archive, unarchive, update, delete]
