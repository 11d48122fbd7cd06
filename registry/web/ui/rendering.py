"""What every page shares: the app's state, the page templates, refusals shown as pages, and the
one-time notices a write leaves for the page it redirects to."""

from __future__ import annotations

import secrets
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from ...errors import PromptshipError
from ..errors import status_of
from .security import CSRF_FIELD, Secrets
from .views import record_change, shown_value
from .workspace import Workspace

__all__ = [
    "Flash",
    "UiState",
    "page_templates",
    "redirect_done",
    "render",
    "state_of",
]


@dataclass(frozen=True, kw_only=True, slots=True)
class Flash:
    """A notice for the next page: what was done, and a link to follow (a pull request's)."""

    message: str
    commit: str | None = None
    link: str | None = None
    link_text: str | None = None


class Flashes:
    """Notices by a random id carried in the redirect's address; each shown once."""

    def __init__(self, keep: int = 100) -> None:
        self._kept: OrderedDict[str, Flash] = OrderedDict()
        self._keep = keep

    def add(self, flash: Flash) -> str:
        key = secrets.token_urlsafe(8)
        self._kept[key] = flash
        while len(self._kept) > self._keep:
            self._kept.popitem(last=False)
        return key

    def take(self, key: str | None) -> Flash | None:
        return self._kept.pop(key, None) if key else None


@dataclass(kw_only=True)
class UiState:
    """Everything a request handler needs, held by the app (``app.state.ui``)."""

    workspace: Workspace
    keys: Secrets
    templates: Jinja2Templates
    providers_file: Path
    env: Mapping[str, str]
    flashes: Flashes = field(default_factory=Flashes)


def state_of(request: Request) -> UiState:
    state: UiState = request.app.state.ui
    return state


def page_templates() -> Jinja2Templates:
    """The page's own templates, always autoescaped. Prompt templates never pass through this
    environment: they are data here, shown as text; they render only in the sandbox of
    ``registry.templates`` (the test panel, golden cases)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("registry.web.ui", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["shown"] = shown_value
    env.filters["change"] = record_change
    return Jinja2Templates(env=env)


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any],
    *,
    status: int = 200,
    error: PromptshipError | None = None,
) -> Response:
    ui = state_of(request)
    author = ui.workspace.author()
    base = {
        "csrf_field": CSRF_FIELD,
        "csrf": ui.keys.csrf,
        "shown": ui.workspace.shown,
        "writable": ui.workspace.writable,
        "author": author if isinstance(author, str) else None,
        "author_problem": author if isinstance(author, PromptshipError) else None,
        "flash": ui.flashes.take(request.query_params.get("done")),
        "error": error,
        "nav": None,
    }
    return ui.templates.TemplateResponse(
        request,
        template,
        {**base, **context},
        status_code=status if error is None else status_of(error),
    )


def redirect_done(request: Request, path: str, flash: Flash) -> Response:
    """After a write, the page to show, with its notice (303: the browser GETs it)."""
    key = state_of(request).flashes.add(flash)
    joiner = "&" if "?" in path else "?"
    return RedirectResponse(f"{path}{joiner}done={key}", status_code=303)
