"""The buttons: each POST reads its form (refused without the page's CSRF token), makes one call
of the write API (``registry.Editor``) and redirects to the page that shows the result; a refusal
shows the same form again, with what was typed, the message and the hint.

Nothing here decides anything: the rules, the commit and the refusals are the Editor's, so a button
makes the commit the command line makes. Each write opens the repository anew, as the command line
does, so no repository handle is shared with the requests that read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import anyio.to_thread
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from ...catalog import load_info
from ...editor import Editor, WriteResult
from ...errors import InputError, PromptshipError
from ...jsonsafe import loads_strict
from ...lifecycle import parse_parameters
from ...model import CHAT_ROLES, PromptType
from ...names import Selector, check_name, parse_version_number
from ...panel.plan import RunSpec
from ...panel.runlog import find_run, rerun_spec
from ...panel.runner import run_logged
from ...pullrequest import compare_url
from ..errors import HttpError
from .pages import logged_runs, panel_context, promote_context
from .rendering import Flash, redirect_done, render, state_of
from .security import read_form
from .views import shown_value

__all__ = [
    "archive",
    "create",
    "delete",
    "edit",
    "metadata_changes",
    "new_version",
    "promote",
    "rerun",
    "run",
    "unarchive",
    "update",
]


async def _form(request: Request) -> FormData:
    return await read_form(request, state_of(request).keys)


def _text(form: FormData, key: str) -> str:
    """A text field as typed, with the CRLF line ends every browser sends made LF."""
    value = form.get(key, "")
    return value.replace("\r\n", "\n") if isinstance(value, str) else ""


def _editor(request: Request) -> Editor:
    """The write API on the branch the page shows, as the author git's configuration names."""
    workspace = state_of(request).workspace
    branch = workspace.branch
    if branch is None:
        # A conflict with what the page was started on, not a bad request.
        raise HttpError(
            f"this page shows {workspace.shown}, which is not a branch: nothing can be changed here",
            hint="start 'promptship ui' without --ref to work on the checked-out branch, or with "
            "--ref naming a branch",
            status=409,
        )
    return Editor.open(workspace.path, ref=branch)


def _commit(done: WriteResult) -> str:
    return done.commit[:10]


def _version_path(name: str, number: int) -> str:
    return f"/prompts/{name}/v/{number}"


def _words(text: str) -> list[str]:
    return [w for w in text.replace(",", " ").split() if w]


def metadata_changes(before: Mapping[str, Any], text: str) -> tuple[dict[str, Any], list[str]]:
    """The metadata update the edit form's ``KEY=VALUE`` lines ask for: the keys whose line is
    new or changed, with their values, and the keys whose line is gone. A line left as it was
    shown changes nothing, so a value kept as it is never changes type. A changed value that JSON
    reads (``0.2``, ``true``, ``null``, ``["a"]``, ``"017"``) is that value, as ``--meta-json``
    takes it; anything else is text, as ``--meta`` takes it."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    given: dict[str, str] = {}
    for line in lines:
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise InputError(
                f"metadata line {line!r} is not KEY=VALUE",
                hint="one KEY=VALUE a line, e.g. model=gpt-4o",
            )
        given[key.strip()] = value.strip()
    changed = {
        k: _typed(v) for k, v in given.items() if k not in before or shown_value(before[k]) != v
    }
    return changed, [k for k in before if k not in given]


def _typed(value: str) -> Any:
    try:
        return loads_strict(value)
    except ValueError:
        return value


async def create(request: Request) -> Response:
    form = await _form(request)
    name = _text(form, "name").strip()
    kind: PromptType = "chat" if form.get("type") == "chat" else "text"
    fields = {
        "name": name,
        "description": _text(form, "description").strip(),
        "tags": _text(form, "tags"),
        "type": kind,
        "content": _text(form, "content"),
    }
    try:
        done = _editor(request).create(
            name,
            content=fields["content"] if kind == "text" else None,
            type=kind,
            description=fields["description"],
            tags=_words(fields["tags"]),
        )
    except PromptshipError as exc:
        return render(request, "new.html", {"nav": "new", "form": fields}, error=exc)
    # A chat prompt starts as a blank system and user message: the next step is to write them.
    path = f"/prompts/{name}/v/1" + ("/edit" if kind == "chat" else "")
    return redirect_done(
        request, path, Flash(message=f"Created {name} with v1 as a draft.", commit=_commit(done))
    )


async def update(request: Request) -> Response:
    form = await _form(request)
    name = request.path_params["name"]
    description = _text(form, "description").strip()
    tags_text = _text(form, "tags")
    try:
        info = load_info(state_of(request).workspace.snapshot(), name)
        wanted = list(dict.fromkeys(_words(tags_text)))
        done = _editor(request).update(
            name,
            description=description,
            add_tags=[t for t in wanted if t not in info.tags],
            remove_tags=[t for t in info.tags if t not in wanted],
        )
    except PromptshipError as exc:
        return _again(
            request, "details.html", name, exc, description=description, tags_text=tags_text
        )
    return redirect_done(
        request, f"/prompts/{name}", Flash(message=f"Updated {name}.", commit=_commit(done))
    )


def _again(
    request: Request, template: str, name: str, error: PromptshipError, **extra: Any
) -> Response:
    from .pages import prompt_context

    try:
        context = prompt_context(request, name, extra.pop("number", None))
    except PromptshipError:
        return render(request, "refusal.html", {}, error=error)
    return render(request, template, {**context, **extra}, error=error)


async def delete(request: Request) -> Response:
    form = await _form(request)
    name = request.path_params["name"]
    try:
        done = _editor(request).delete(name, force=form.get("force") == "on")
    except PromptshipError as exc:
        return _again(request, "delete.html", name, exc)
    return redirect_done(request, "/", Flash(message=f"Deleted {name}.", commit=_commit(done)))


async def new_version(request: Request) -> Response:
    form = await _form(request)
    name = request.path_params["name"]
    copy_of = form.get("copy_of")
    source = None
    try:
        source = parse_version_number(copy_of) if isinstance(copy_of, str) and copy_of else None
        done = _editor(request).new_version(name, copy_of=source)
    except PromptshipError as exc:
        return _again(request, "prompt.html", name, exc, number=source)
    made = f"v{done.version}" + (f" from v{source}" if source else "")
    return redirect_done(
        request,
        f"{_version_path(name, done.version or 1)}/edit",
        Flash(message=f"Created {made} as a draft.", commit=_commit(done)),
    )


async def _status_change(request: Request, verb: str) -> Response:
    await _form(request)
    name = request.path_params["name"]
    number = request.path_params["number"]
    try:
        editor = _editor(request)
        done = (editor.archive if verb == "archive" else editor.unarchive)(name, number)
    except PromptshipError as exc:
        return _again(request, "prompt.html", name, exc, number=number)
    said = "Archived" if verb == "archive" else "Unarchived"
    after = "" if verb == "archive" else ": it is a draft again and can be promoted"
    return redirect_done(
        request,
        _version_path(name, number),
        Flash(message=f"{said} {name} v{number}{after}.", commit=_commit(done)),
    )


async def archive(request: Request) -> Response:
    return await _status_change(request, "archive")


async def unarchive(request: Request) -> Response:
    return await _status_change(request, "unarchive")


def _messages(form: FormData) -> list[dict[str, str]]:
    roles = [r if isinstance(r, str) else "" for r in form.getlist("role")]
    contents = [
        c.replace("\r\n", "\n") if isinstance(c, str) else "" for c in form.getlist("content")
    ]
    return [{"role": r, "content": c} for r, c in zip(roles, contents, strict=False)]


def _rearranged(messages: list[dict[str, str]], action: str) -> list[dict[str, str]] | None:
    """The messages after an add, remove or move button; ``None`` for any other action."""
    if action == "add":
        return [*messages, {"role": "user", "content": ""}]
    verb, _, where = action.partition(":")
    if verb not in ("remove", "up", "down") or not where.isdigit():
        return None
    i = int(where)
    moved = list(messages)
    if not 0 <= i < len(moved):
        return moved
    if verb == "remove":
        del moved[i]
    else:
        j = i - 1 if verb == "up" else i + 1
        if 0 <= j < len(moved):
            moved[i], moved[j] = moved[j], moved[i]
    return moved


async def edit(request: Request) -> Response:
    """Save a draft, or (chat) add, remove or move a message in the form without saving."""
    form = await _form(request)
    name = request.path_params["name"]
    number = request.path_params["number"]
    action = form.get("action", "save")
    action = action if isinstance(action, str) else "save"
    content = _text(form, "content")
    messages = _messages(form)
    meta_text = _text(form, "metadata")
    typed = {"content": content, "messages": messages, "meta_text": meta_text}
    if action != "save":
        rearranged = _rearranged(messages, action)
        if rearranged is not None:
            return _again_edit(request, name, number, None, {**typed, "messages": rearranged})
    try:
        snapshot = state_of(request).workspace.snapshot()
        version = state_of(request).workspace.versions.get(snapshot, name, number)
        metadata, unset = metadata_changes(version.metadata, meta_text)
        done = _editor(request).edit(
            name,
            number,
            content=content if version.type == "text" else None,
            messages=messages if version.type == "chat" else None,
            metadata=metadata,
            unset_metadata=unset,
        )
    except PromptshipError as exc:
        return _again_edit(request, name, number, exc, typed)
    return redirect_done(
        request,
        _version_path(name, number),
        Flash(message=f"Saved {name} v{number}.", commit=_commit(done)),
    )


def _again_edit(
    request: Request, name: str, number: int, error: PromptshipError | None, typed: dict[str, Any]
) -> Response:
    from .pages import prompt_context

    try:
        context = prompt_context(request, name, number)
    except PromptshipError as exc:
        return render(request, "refusal.html", {}, error=error or exc)
    return render(request, "edit.html", {**context, **typed, "roles": CHAT_ROLES}, error=error)


async def promote(request: Request) -> Response:
    """Promote, deciding on the production version the dialog showed: if anyone promoted
    meanwhile, the write API refuses it as superseded and nothing is written."""
    form = await _form(request)
    name = request.path_params["name"]
    number = request.path_params["number"]
    notes = _text(form, "notes").strip()
    expect = form.get("expect")
    proposal = form.get("pr") == "on"
    branch = _text(form, "branch").strip() if proposal else ""
    push = form.get("push") == "on"
    typed = {"notes": notes, "proposal": proposal, "branch": branch or None, "push": push}
    try:
        if not isinstance(expect, str) or not (expect == "" or expect.isdigit()):
            raise InputError(
                "the form does not say which version was in production when it was shown",
                hint="open the Promote dialog from the prompt's page and confirm there",
            )
        if proposal and not branch:
            raise InputError("a pull request needs the name of its new branch", hint="type one")
        done = _editor(request).promote(
            name,
            number,
            notes=notes,
            expect_production=parse_version_number(expect) if expect else None,
            skip_tests=form.get("skip_tests") == "on",
            branch=branch or None,
            push=proposal and push,
        )
    except PromptshipError as exc:
        try:
            context = promote_context(request, name, number, **typed)
        except PromptshipError:
            return render(request, "refusal.html", {}, error=exc)
        return render(request, "prompt.html", context, error=exc)
    if done.new_branch is not None:
        return redirect_done(
            request, _version_path(name, number), _proposed(request, name, number, done)
        )
    return redirect_done(
        request,
        _version_path(name, number),
        Flash(message=f"Promoted {name} v{number} to production.", commit=_commit(done)),
    )


def _proposed(request: Request, name: str, number: int, done: WriteResult) -> Flash:
    from ...git.store import config_value

    proposed = done.new_branch
    assert proposed is not None
    where = f"new branch {proposed.name}"
    pushed = f", pushed to {done.pushed_to}" if done.pushed_to else " (not pushed)"
    link = None
    if done.pushed_to and proposed.remote and proposed.target:
        url = config_value(state_of(request).workspace.store.repo, f"remote.{proposed.remote}.url")
        link = compare_url(url, proposed.target, proposed.name) if url else None
    return Flash(
        message=f"Committed the promotion of {name} v{number} on {where}{pushed}; "
        "production changes when the pull request is merged.",
        commit=_commit(done),
        link=link,
        link_text="Open a pull request" if link else None,
    )


def _variables(form: FormData) -> dict[str, str]:
    """The variables' fields; one left blank counts as not given, so the run is refused naming
    it rather than sent with an empty value nobody meant."""
    return {
        key.removeprefix("var."): value.replace("\r\n", "\n")
        for key, value in form.multi_items()
        if key.startswith("var.") and isinstance(value, str) and value != ""
    }


async def run(request: Request) -> Response:
    """The test panel: the version on each model named, side by side, logged as ``run`` logs."""
    form = await _form(request)
    name = request.path_params["name"]
    version = form.get("version")
    number = int(version) if isinstance(version, str) and version.isdigit() else None
    values = _variables(form)
    models = _text(form, "models")
    params_text = _text(form, "params")
    typed = {"values": values, "models": models, "params_text": params_text}
    try:
        check_name(name)
        if number is None:
            raise InputError("choose the version to run", hint="pick one in the Version list")
        spec = RunSpec(
            selector=Selector(prompt=name, version=number),
            variables=values,
            models=tuple(_words(models)),
            overrides=parse_parameters(
                [line for line in params_text.splitlines() if line.strip()], option="parameter"
            ),
        )
        record = await _execute(request, spec)
    except PromptshipError as exc:
        return _again_panel(request, name, number, exc, typed)
    return redirect_done(request, f"/prompts/{name}/panel/runs/{record}", _ran(request))


async def rerun(request: Request) -> Response:
    """A past run again, with its variables, models and parameters, on the version chosen."""
    form = await _form(request)
    name = request.path_params["name"]
    version = form.get("version")
    number = int(version) if isinstance(version, str) and version.isdigit() else None
    run_id = form.get("run")
    try:
        old = find_run(logged_runs(request, name), run_id if isinstance(run_id, str) else "")
        record = await _execute(request, rerun_spec(old, number, timeout=None))
    except PromptshipError as exc:
        return _again_panel(request, name, number, exc, {})
    return redirect_done(request, f"/prompts/{name}/panel/runs/{record}", _ran(request))


async def _execute(request: Request, spec: RunSpec) -> str:
    """Run in a worker thread (the models answer in seconds; other pages go on meanwhile),
    through a repository handle of its own."""
    ui = state_of(request)

    def work() -> tuple[str, tuple[str, ...]]:
        record, warnings = run_logged(
            spec, ui.workspace.own_snapshot(), providers_file=ui.providers_file, env=ui.env
        )
        return record.id, warnings

    run_id, warnings = await anyio.to_thread.run_sync(work)
    request.state.warnings = warnings
    return run_id


def _ran(request: Request) -> Flash:
    warnings = getattr(request.state, "warnings", ())
    said = "The run is in this clone's run log." if not warnings else ""
    return Flash(message=" ".join([said, *[f"Warning: {w}." for w in warnings]]).strip())


def _again_panel(
    request: Request, name: str, number: int | None, error: PromptshipError, typed: dict[str, Any]
) -> Response:
    try:
        context = panel_context(request, name, number, **typed)
    except PromptshipError:
        return render(request, "refusal.html", {}, error=error)
    return render(request, "panel.html", context, error=error)
