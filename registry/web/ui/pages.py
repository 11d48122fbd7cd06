"""The screens: each GET reads one snapshot and renders one template; nothing here writes."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ...catalog import PromptQuery, SortKey
from ...diffs import diff_versions
from ...errors import InputError, PromptshipError
from ...git.history_order import query_history
from ...git.store import GitSnapshot
from ...history import parse_time_bound
from ...model import CHAT_ROLES
from ...names import check_name
from ...panel.runlog import RunRecord, find_run
from ...panel.runner import read_runs, run_log_path
from .rendering import render, state_of
from .views import meta_lines, metadata_rows, page_of, promotion_view, prompt_view

__all__ = [
    "compare",
    "delete_page",
    "details_page",
    "edit_page",
    "history_all",
    "history_of_prompt",
    "new_prompt_page",
    "panel_page",
    "promote_page",
    "prompt_context",
    "prompt_list",
    "prompt_page",
    "run_page",
]

Handler = Callable[[Request], Awaitable[Response]]
_SORTS: tuple[SortKey, ...] = ("name", "created", "changed")
HISTORY_PAGE = 100


def refusals_shown(handler: Handler) -> Handler:
    """A refusal while reading (no such prompt, a broken file) becomes a page with its message
    and hint, answered with the status the refusal calls for."""

    @functools.wraps(handler)
    async def shown(request: Request) -> Response:
        try:
            return await handler(request)
        except PromptshipError as exc:
            return render(request, "refusal.html", {}, error=exc)

    return shown


def _number(text: str | None, default: int = 1) -> int:
    return int(text) if text is not None and text.isdigit() and len(text) < 10 else default


def tags_given(request: Request) -> tuple[str, ...]:
    """``tag=`` repeated, and the Tags field's words (commas or spaces between them)."""
    params = request.query_params
    words = [*params.getlist("tag"), *params.get("tags", "").replace(",", " ").split()]
    return tuple(dict.fromkeys(w.strip() for w in words if w.strip()))


@refusals_shown
async def prompt_list(request: Request) -> Response:
    ui = state_of(request)
    params = request.query_params
    sort = params.get("sort", "name")
    production = {"yes": True, "no": False}.get(params.get("production", ""))
    query = PromptQuery(
        tags=tags_given(request),
        search=params.get("q", "").strip() or None,
        production=production,
        sort=next((s for s in _SORTS if s == sort), "name"),
    )
    snapshot = ui.workspace.snapshot()
    broken, chosen = ui.workspace.index.select(snapshot, query)
    page = page_of(chosen, _number(params.get("page")))
    return render(
        request,
        "list.html",
        {
            "nav": "prompts",
            "commit": snapshot.commit_id,
            "query": query,
            "tags_text": " ".join(query.tags),
            "production": params.get("production", ""),
            "page": page,
            "broken": broken,
            "kept": _kept(request),
        },
    )


def prompt_context(
    request: Request,
    name: str,
    selected: int | None,
    snapshot: GitSnapshot | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """What every tab of a prompt shows, read from ``snapshot`` (default: read now)."""
    ui = state_of(request)
    snapshot = snapshot or ui.workspace.snapshot()
    archived = request.query_params.get("archived") == "1"
    view = prompt_view(snapshot, ui.workspace.versions, name, selected=selected, archived=archived)
    return {
        "nav": "prompts",
        "tab": "versions",
        "commit": snapshot.commit_id,
        "name": name,
        "view": view,
        "archived": archived,
        "metadata": metadata_rows(view.selected.metadata) if view.selected else [],
        "promotion": None,
        **extra,
    }


@refusals_shown
async def prompt_page(request: Request) -> Response:
    name = request.path_params["name"]
    number = request.path_params.get("number")
    return render(request, "prompt.html", prompt_context(request, name, number))


@refusals_shown
async def promote_page(request: Request) -> Response:
    """The prompt page with the Promote dialog open (without JavaScript, the dialog is part of
    the page; with it, modal)."""
    name = request.path_params["name"]
    number = request.path_params["number"]
    return render(request, "prompt.html", promote_context(request, name, number, notes=""))


def promote_context(request: Request, name: str, number: int, **extra: Any) -> dict[str, Any]:
    snapshot = state_of(request).workspace.snapshot()
    context = prompt_context(request, name, number, snapshot)
    context["promotion"] = promotion_view(snapshot, name, number, context["view"].pointer)
    context.update(extra)
    return context


@refusals_shown
async def edit_page(request: Request) -> Response:
    name = request.path_params["name"]
    number = request.path_params["number"]
    context = prompt_context(request, name, number)
    version = context["view"].selected
    messages = [{"role": m.role, "content": m.content} for m in version.messages or ()]
    return render(
        request,
        "edit.html",
        {
            **context,
            "content": version.content or "",
            "messages": messages,
            "meta_text": meta_lines(version.metadata),
            "roles": CHAT_ROLES,
        },
    )


@refusals_shown
async def compare(request: Request) -> Response:
    name = request.path_params["name"]
    ui = state_of(request)
    snapshot = ui.workspace.snapshot()
    context = prompt_context(request, name, None, snapshot, tab="compare")
    view = context["view"]
    if not view.numbers:
        return render(request, "compare.html", {**context, "diff": None, "a": None, "b": None})
    params = request.query_params
    a = _number(params.get("a"), view.production or view.numbers[0])
    b = _number(params.get("b"), view.numbers[-1])
    versions = ui.workspace.versions
    diff = diff_versions(versions.get(snapshot, name, a), versions.get(snapshot, name, b))
    return render(request, "compare.html", {**context, "diff": diff, "a": a, "b": b})


def _history_filters(request: Request) -> tuple[dict[str, str], dict[str, Any]]:
    params = request.query_params
    given = {k: params.get(k, "").strip() for k in ("user", "since", "until")}
    bounds: dict[str, Any] = {
        "user": given["user"] or None,
        "since": parse_time_bound(given["since"], end_of_day=False) if given["since"] else None,
        "until": parse_time_bound(given["until"], end_of_day=True) if given["until"] else None,
    }
    return given, bounds


async def history_of_prompt(request: Request) -> Response:
    return _history(request, request.path_params["name"])


async def history_all(request: Request) -> Response:
    return _history(request, None)


def _history(request: Request, name: str | None) -> Response:
    """Promotion records newest first, of one prompt or all; a filter that is not a date is
    refused on the page, which then lists every record."""
    try:
        given, bounds = _history_filters(request)
        error = None
    except InputError as exc:
        given, bounds, error = dict(request.query_params), {}, exc
    snapshot = state_of(request).workspace.snapshot()
    try:
        context = (
            prompt_context(request, name, None, snapshot, tab="history")
            if name is not None
            else {"nav": "history", "commit": snapshot.commit_id}
        )
        records = query_history(snapshot, name, **bounds)
    except PromptshipError as exc:
        return render(request, "refusal.html", {}, error=exc)
    page = page_of(records, _number(request.query_params.get("page")), HISTORY_PAGE)
    return render(
        request,
        "history.html",
        {**context, "filters": given, "page": page, "all": name is None, "kept": _kept(request)},
        error=error,
    )


def _kept(request: Request) -> list[tuple[str, str]]:
    return [(k, v) for k, v in request.query_params.multi_items() if k not in ("page", "done")]


@refusals_shown
async def new_prompt_page(request: Request) -> Response:
    return render(
        request,
        "new.html",
        {"nav": "new", "form": {"name": "", "description": "", "tags": "", "type": "text"}},
    )


@refusals_shown
async def details_page(request: Request) -> Response:
    name = request.path_params["name"]
    context = prompt_context(request, name, None)
    info = context["view"].info
    return render(
        request,
        "details.html",
        {**context, "description": info.description, "tags_text": " ".join(info.tags)},
    )


@refusals_shown
async def delete_page(request: Request) -> Response:
    name = request.path_params["name"]
    return render(request, "delete.html", prompt_context(request, name, None))


def logged_runs(request: Request, name: str) -> list[RunRecord]:
    """This prompt's runs in the clone's run log, newest first."""
    ui = state_of(request)
    records, _ = read_runs(run_log_path(ui.workspace.store.repo))
    return [r for r in reversed(records) if r.prompt == name]


def panel_context(request: Request, name: str, number: int | None, **extra: Any) -> dict[str, Any]:
    context = prompt_context(request, name, number, tab="panel")
    version = context["view"].selected
    model = version.metadata.get("model") if version is not None else None
    context.update(
        runs=logged_runs(request, name)[:20],
        values={},
        models=model if isinstance(model, str) else "echo",
        params_text="",
        run=None,
        old=None,
    )
    context.update(extra)
    return context


@refusals_shown
async def panel_page(request: Request) -> Response:
    name = request.path_params["name"]
    check_name(name)
    number = request.query_params.get("v")
    selected = _number(number) if number else None
    return render(request, "panel.html", panel_context(request, name, selected))


@refusals_shown
async def run_page(request: Request) -> Response:
    name = request.path_params["name"]
    runs = logged_runs(request, name)
    run = find_run(runs, request.path_params["run_id"])
    # The run repeated may be gone from the log (edited by hand): show the new one alone.
    old = next((r for r in runs if r.id == run.rerun_of), None) if run.rerun_of else None
    context = panel_context(
        request,
        name,
        run.version,
        run=run,
        old=old,
        values={k: str(v) for k, v in run.variables.items()},
        models=", ".join(r.label for r in run.results),
    )
    return render(request, "panel.html", context)
