"""``serve``: the read API and event stream for running applications."""

from __future__ import annotations

import importlib.util

import click

from ..session import Session, pass_session

DEFAULT_PORT = 8765
DEFAULT_FETCH_EVERY = 10.0


@click.command()
@click.option(
    "--ref",
    metavar="BRANCH",
    help="The branch to follow: main, origin/main, refs/heads/main (never a tag). Default: the "
    "branch HEAD names; with --from, the remote's default branch.",
)
@click.option(
    "--from",
    "url",
    metavar="URL",
    help="Follow a branch of this remote repository instead, through a bare mirror kept in "
    "--cache-dir.",
)
@click.option(
    "--cache-dir",
    metavar="DIR",
    type=click.Path(file_okay=False),
    help="Where to keep the mirror of --from and the prompt folders already verified (so a "
    "restart checks only what changed). Default: $XDG_CACHE_HOME/promptship.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=DEFAULT_PORT,
    show_default=True,
    help="The port to listen on (0: any free port; the log's 'listening' line names it).",
)
@click.option(
    "--token-file",
    metavar="FILE",
    help="Require 'Authorization: Bearer TOKEN' with one of the tokens in FILE (one a line).",
)
@click.option(
    "--webhook-secret-file",
    metavar="FILE",
    help="Accept GitHub push webhooks at POST /v1/webhook signed with the secret in FILE (or "
    "in PROMPTSHIP_WEBHOOK_SECRET); a verified push makes the server fetch at once.",
)
@click.option(
    "--fetch-every",
    type=click.FloatRange(min=0.1),
    metavar="SECONDS",
    help=f"Fetch the followed branch from its remote this often (default {DEFAULT_FETCH_EVERY:g}; "
    "for a remote-tracking branch or --from).",
)
@click.option(
    "--public",
    is_flag=True,
    help="Allow listening on an address other machines reach without --token-file: anyone who "
    "reaches it reads every prompt.",
)
@pass_session
def serve(
    session: Session,
    ref: str | None,
    url: str | None,
    cache_dir: str | None,
    host: str,
    port: int,
    token_file: str | None,
    webhook_secret_file: str | None,
    fetch_every: float | None,
    public: bool,
) -> None:
    """Serve the production prompts of one branch over HTTP, verified commit by commit.

    Follows a branch of the registry (a clone, a bare repository, or --from URL): each new commit
    is checked against the one served before it, as 'check --base' checks a pull request, and
    served only when it passes. Applications read GET /v1/prompts/NAME, render with POST
    /v1/prompts/NAME/render and hear of each promotion on GET /v1/events. Logs one JSON line per
    request on standard error; SIGTERM stops it cleanly. docs/serve.md describes it all."""
    from pathlib import Path

    from registry.errors import MissingExtra
    from registry.git import tracking
    from registry.web.access import load_tokens
    from registry.web.hosts import check_binding
    from registry.web.webhook import load_secret

    for module, package in (("uvicorn", "uvicorn"), ("sse_starlette", "sse-starlette")):
        if importlib.util.find_spec(module) is None:
            raise MissingExtra(package, "serve", "promptship serve")
    if url is not None and session.repo is not None:
        raise click.UsageError("--from URL follows a remote repository; leave out --repo")
    tokens = load_tokens(token_file) if token_file else ()
    check_binding(host, tokens=bool(tokens), public=public)
    secret = load_secret(webhook_secret_file)
    cache = Path(cache_dir) if cache_dir else tracking.default_cache_dir()
    if url is not None:
        followed = tracking.open_mirror(url, ref, cache)
    else:
        followed = tracking.track_ref(session.repo, ref)
    if fetch_every is not None and not followed.fetches:
        raise click.UsageError(
            f"{followed.ref} is a local branch: there is nothing to fetch (it moves when commits "
            "are pushed into this repository); --fetch-every is for origin/main or --from URL"
        )

    from registry.web.api import ApiOptions
    from registry.web.server import ServeOptions, bind, run

    options = ServeOptions(
        tracking=followed,
        host=host,
        port=port,
        api=ApiOptions(tokens=tokens, webhook_secret=secret),
        fetch_every=(fetch_every or DEFAULT_FETCH_EVERY) if followed.fetches else None,
        cache=cache,
    )
    run(options, bind(host, port))


COMMANDS = [serve]
