"""Shell completion that knows the registry: prompt names, then a prompt's version numbers
(``NAME@3``, ``NAME@latest``, ``NAME@production``), read from the tree of the commit the
command would read. Completion never fails: anything that goes wrong offers nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import click
from click.shell_completion import CompletionItem

if TYPE_CHECKING:
    from registry.git.listing import Listing

__all__ = ["complete_prompt", "complete_selector", "complete_version"]


def _listing(ctx: click.Context) -> Listing:
    from registry.git.listing import Listing

    repo = ctx.find_root().params.get("repo")
    ref = ctx.params.get("ref")
    return Listing(repo, ref if isinstance(ref, str) else None)


def _safely(
    offer: Callable[[click.Context, str], list[CompletionItem]],
) -> Callable[[click.Context, str], list[CompletionItem]]:
    def guarded(ctx: click.Context, incomplete: str) -> list[CompletionItem]:
        try:
            return offer(ctx, incomplete)
        except Exception:  # a broken repository, a bad --repo or --ref: nothing to offer
            return []

    return guarded


@_safely
def _names(ctx: click.Context, incomplete: str) -> list[CompletionItem]:
    return [CompletionItem(n) for n in _listing(ctx).prompt_names() if n.startswith(incomplete)]


@_safely
def _selectors(ctx: click.Context, incomplete: str) -> list[CompletionItem]:
    listing = _listing(ctx)
    if "@" not in incomplete:
        names = [n for n in listing.prompt_names() if n.startswith(incomplete)]
        # One name left: go on to its versions, as a path completes into its folder.
        if len(names) == 1 and names[0] == incomplete:
            incomplete += "@"
        else:
            return [CompletionItem(n) for n in names]
    name, _, partial = incomplete.partition("@")
    numbers, production = listing.versions_and_production(name)
    labels = [str(n) for n in numbers]
    if labels:
        labels.append("latest")
    if production:
        labels.append("production")
    return [CompletionItem(f"{name}@{label}") for label in labels if label.startswith(partial)]


@_safely
def _versions(ctx: click.Context, incomplete: str) -> list[CompletionItem]:
    name = ctx.params.get("name")
    if not isinstance(name, str):
        return []
    numbers = (str(n) for n in _listing(ctx).version_numbers(name))
    return [CompletionItem(n) for n in numbers if n.startswith(incomplete.removeprefix("v"))]


def complete_prompt(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """A prompt's name."""
    return _names(ctx, incomplete)


def complete_selector(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """``NAME[@VERSION|@production|@latest]``."""
    return _selectors(ctx, incomplete)


def complete_version(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """A version number of the prompt named by the command's ``name`` argument."""
    return _versions(ctx, incomplete)
