"""The page as an ASGI application: its routes, its static files and its guard."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from . import forms, pages
from .rendering import UiState, page_templates
from .security import Guard, Secrets
from .workspace import Workspace

__all__ = ["ROUTES", "create_app"]

_PROMPT = "/prompts/{name}"
_VERSION = _PROMPT + "/v/{number:int}"

ROUTES = [
    Route("/", pages.prompt_list),
    Route("/history", pages.history_all),
    Route("/new", pages.new_prompt_page),
    Route("/prompts", forms.create, methods=["POST"]),
    Route(_PROMPT, pages.prompt_page),
    Route(_PROMPT + "/details", pages.details_page),
    Route(_PROMPT + "/details", forms.update, methods=["POST"]),
    Route(_PROMPT + "/delete", pages.delete_page),
    Route(_PROMPT + "/delete", forms.delete, methods=["POST"]),
    Route(_PROMPT + "/versions", forms.new_version, methods=["POST"]),
    Route(_PROMPT + "/diff", pages.compare),
    Route(_PROMPT + "/history", pages.history_of_prompt),
    Route(_PROMPT + "/panel", pages.panel_page),
    Route(_PROMPT + "/panel", forms.run, methods=["POST"]),
    Route(_PROMPT + "/panel/rerun", forms.rerun, methods=["POST"]),
    Route(_PROMPT + "/panel/runs/{run_id}", pages.run_page),
    Route(_VERSION, pages.prompt_page),
    Route(_VERSION + "/edit", pages.edit_page),
    Route(_VERSION + "/edit", forms.edit, methods=["POST"]),
    Route(_VERSION + "/promote", pages.promote_page),
    Route(_VERSION + "/promote", forms.promote, methods=["POST"]),
    Route(_VERSION + "/archive", forms.archive, methods=["POST"]),
    Route(_VERSION + "/unarchive", forms.unarchive, methods=["POST"]),
    Mount("/static", StaticFiles(packages=[("registry.web.ui", "static")]), name="static"),
]


async def _plain_error(request: Request, exc: Exception) -> Response:
    """HTTP errors (no such page, a refused form) as plain text: no input echoed back."""
    assert isinstance(exc, HTTPException)
    return PlainTextResponse(f"{exc.detail}\n", status_code=exc.status_code)


def create_app(
    workspace: Workspace,
    *,
    keys: Secrets,
    port: int,
    providers_file: Path,
    env: Mapping[str, str],
) -> Guard:
    """The page over ``workspace``, answering only at ``127.0.0.1:port`` to the browser that
    holds ``keys``."""
    app = Starlette(routes=ROUTES, exception_handlers={HTTPException: _plain_error})
    app.state.ui = UiState(
        workspace=workspace,
        keys=keys,
        templates=page_templates(),
        providers_file=providers_file,
        env=env,
    )
    return Guard(app, keys=keys, port=port)
