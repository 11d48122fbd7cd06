"""Commands that create and change drafts: create, new-version, edit, archive, unarchive,
update, delete. Each parses its options, makes one call of the write API and prints."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import click

from ..completion import complete_prompt, complete_version
from ..inputs import read_content
from ..options import Writing, changing_options, content_options, meta_option, unset_meta_option
from ..output import done

if TYPE_CHECKING:
    from registry.lifecycle import Text


def _given(content: str | None, file: str | None) -> Text | None:
    """The content given, read once (a retry after a lost race must not read stdin again), and
    read as the version's type asks: plain text, or YAML messages for a chat prompt."""
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
def create(
    writing: Writing,
    name: str,
    content: str | None,
    file: str | None,
    kind: Literal["text", "chat"],
    description: str,
    tags: tuple[str, ...],
    metadata: dict[str, Any],
) -> None:
    """Create prompt NAME with version 1 as a draft (blank unless content is given)."""
    from registry.names import check_name

    check_name(name)
    result = writing.editor.create(
        name,
        content=_given(content, file),
        type=kind,
        description=description,
        tags=tags,
        metadata=metadata,
        **writing.publish,
    )
    done(f"created {name} v1 (draft)", result)


@click.command("new-version")
@click.argument("name", shell_complete=complete_prompt)
@click.option("--from", "source", metavar="N", help="Copy version N (any status) as the start.")
@content_options
@meta_option
@unset_meta_option
@changing_options
def new_version(
    writing: Writing,
    name: str,
    source: str | None,
    content: str | None,
    file: str | None,
    metadata: dict[str, Any],
    unset_meta: tuple[str, ...],
) -> None:
    """Add the next version of NAME as a draft: blank, a copy (--from N), or the content given.

    Metadata is copied from --from N, else from the latest version; --meta, --meta-json and
    --unset-meta change it."""
    from registry.names import parse_version_number

    copy_of = parse_version_number(source) if source is not None else None
    result = writing.editor.new_version(
        name,
        copy_of=copy_of,
        content=_given(content, file),
        metadata=metadata,
        unset_metadata=unset_meta,
        **writing.publish,
    )
    done(f"created {name} v{result.version} (draft)", result)


@click.command()
@click.argument("name", shell_complete=complete_prompt)
@click.argument("version", shell_complete=complete_version)
@content_options
@meta_option
@unset_meta_option
@changing_options
def edit(
    writing: Writing,
    name: str,
    version: str,
    content: str | None,
    file: str | None,
    metadata: dict[str, Any],
    unset_meta: tuple[str, ...],
) -> None:
    """Change the content or metadata of draft VERSION of NAME (never-published drafts only)."""
    from registry.names import parse_version_number

    number = parse_version_number(version)
    if content is None and file is None and not metadata and not unset_meta:
        raise click.UsageError("give --content, --file, --meta, --meta-json or --unset-meta")
    result = writing.editor.edit(
        name,
        number,
        content=_given(content, file),
        metadata=metadata,
        unset_metadata=unset_meta,
        **writing.publish,
    )
    done(f"edited {name} v{number}", result)


@click.command()
@click.argument("name", shell_complete=complete_prompt)
@click.argument("version", shell_complete=complete_version)
@changing_options
def archive(writing: Writing, name: str, version: str) -> None:
    """Archive draft VERSION of NAME (the production version is archived by promoting another)."""
    result = writing.editor.archive(name, version, **writing.publish)
    done(f"archived {name} v{result.version}", result)


@click.command()
@click.argument("name", shell_complete=complete_prompt)
@click.argument("version", shell_complete=complete_version)
@changing_options
def unarchive(writing: Writing, name: str, version: str) -> None:
    """Make archived VERSION of NAME a draft again, so it can be promoted (a rollback)."""
    result = writing.editor.unarchive(name, version, **writing.publish)
    done(f"unarchived {name} v{result.version}: it is a draft again", result)


@click.command()
@click.argument("name", shell_complete=complete_prompt)
@click.option("--description", default=None, help="A new description.")
@click.option("--tag", "add_tags", multiple=True, metavar="TAG", help="Add a tag. Repeatable.")
@click.option(
    "--untag", "remove_tags", multiple=True, metavar="TAG", help="Remove a tag. Repeatable."
)
@changing_options
def update(
    writing: Writing,
    name: str,
    description: str | None,
    add_tags: tuple[str, ...],
    remove_tags: tuple[str, ...],
) -> None:
    """Change NAME's description or tags (no new version)."""
    if description is None and not add_tags and not remove_tags:
        raise click.UsageError("give --description, --tag or --untag")
    result = writing.editor.update(
        name,
        description=description,
        add_tags=add_tags,
        remove_tags=remove_tags,
        **writing.publish,
    )
    done(f"updated {name}", result)


@click.command()
@click.argument("name", shell_complete=complete_prompt)
@click.option("--force", is_flag=True, help="Delete it even though it has a production version.")
@changing_options
def delete(writing: Writing, name: str, force: bool) -> None:
    """Delete prompt NAME with all its versions and history, in one commit."""
    result = writing.editor.delete(name, force=force, **writing.publish)
    done(f"deleted {name}", result)


COMMANDS = [create, new_version, edit, archive, unarchive, update, delete]
