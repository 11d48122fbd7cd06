"""The test panel's shell: the providers file, the HTTP calls of a run (all models at once), and
the run log in the clone's git directory.

httpx is imported only when a model is really called, so the core install and every other
command work without the ``run`` extra.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from ..catalog import resolve
from ..errors import InputError, MissingExtra, ProviderError, RepositoryError
from ..git.lockfile import held
from ..git.store import GitSnapshot, common_dir, utc_now
from ..snapshot import Snapshot
from ..templates import render_version
from ..yamlsafe import MAX_FILE_BYTES
from .plan import (
    Call,
    Outcome,
    RunSpec,
    chat_messages,
    model_parameters,
    models_to_run,
    outcome_of,
    plan_calls,
)
from .providers import (
    MAX_REPLY_BYTES,
    ChatRequest,
    Providers,
    Reply,
    malformed,
    parse_providers,
    read_reply,
    timed_out,
    unreachable,
    with_env,
)
from .runlog import RunRecord, make_record, parse_log, run_log_line

if TYPE_CHECKING:
    import httpx
    import pygit2

__all__ = [
    "append_run",
    "execute",
    "load_providers",
    "read_runs",
    "run_log_path",
    "run_logged",
]

_LOG_LOCK_SECONDS = 60.0


def load_providers(path: Path, env: Mapping[str, str]) -> tuple[Providers, tuple[str, ...]]:
    """The providers file at ``path`` (if there is one) with the environment's provider, and
    warnings for the user."""
    if not path.is_file():
        return with_env(Providers(source=str(path)), env), ()
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
        mode = path.stat().st_mode
    except OSError as exc:
        raise InputError(
            f"cannot read {path}: {exc.strerror}", hint="fix its permissions"
        ) from None
    providers = parse_providers(data, path=str(path))
    warnings = []
    if mode & 0o077 and any(p.api_key for p in providers.providers.values()):
        warnings.append(
            f"{path} holds an API key and other users can read it; run chmod 600 on it, "
            "or name an environment variable with api_key_env instead"
        )
    return with_env(providers, env), tuple(warnings)


def execute(
    spec: RunSpec,
    snapshot: Snapshot,
    *,
    commit: str | None,
    providers: Providers,
    env: Mapping[str, str],
) -> RunRecord:
    """Render the version, run it on every model at once, and return the record to log."""
    version = resolve(snapshot, spec.selector)
    rendered = render_version(version, spec.variables)
    models = models_to_run(spec.models, version.metadata)
    parameters = model_parameters(version.metadata, spec.overrides)
    calls = plan_calls(
        models,
        chat_messages(rendered),
        parameters,
        providers=providers,
        env=env,
        timeout=spec.timeout,
    )
    outcomes = send_calls(calls)
    resolved = {k: v for k, v in rendered.to_json().items() if k not in ("prompt", "version")}
    return make_record(
        run_id=secrets.token_hex(4),
        at=utc_now(),
        prompt=version.prompt,
        version=version.version,
        digest=version.digest,
        commit=commit,
        spec=spec,
        parameters=parameters,
        resolved=resolved,
        outcomes=outcomes,
    )


def run_logged(
    spec: RunSpec,
    snapshot: GitSnapshot,
    *,
    providers_file: Path,
    env: Mapping[str, str],
) -> tuple[RunRecord, tuple[str, ...]]:
    """A run as ``promptship run`` and the web page's test panel make it: the providers of
    ``providers_file`` and ``env``, ``execute``, and the record appended to the clone's run log.
    Returns the record and warnings for the user (a run that could not be logged is one)."""
    providers, warnings = load_providers(providers_file, env)
    record = execute(spec, snapshot, commit=snapshot.commit_id, providers=providers, env=env)
    try:
        append_run(run_log_path(snapshot.repo), record)
    except RepositoryError as exc:
        warnings = (*warnings, f"{exc.message} (the run is not logged)")
    return record, warnings


def send_calls(calls: Sequence[Call]) -> list[Outcome]:
    """Every call at once (a run has at most ``MAX_MODELS``), outcomes in the calls' order.

    Daemon threads rather than a pool: on Ctrl-C the command ends at once instead of waiting
    for the slowest model."""
    client = _client() if any(c.request is not None for c in calls) else None
    outcomes: list[Outcome | BaseException | None] = [None] * len(calls)

    def answer(index: int) -> None:
        try:
            outcomes[index] = _answer(client, calls[index])
        except BaseException as exc:  # a bug: raised again in the caller's thread
            outcomes[index] = exc

    threads = [threading.Thread(target=answer, args=(i,), daemon=True) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if client is not None:
        client.close()
    found = []
    for outcome in outcomes:
        if not isinstance(outcome, Outcome):
            raise outcome or RuntimeError("a call ended without an outcome")
        found.append(outcome)
    return found


def _client() -> httpx.Client:
    try:
        import httpx
    except ImportError:
        raise MissingExtra("httpx", "run", "sending prompts to models") from None
    return httpx.Client(follow_redirects=False)


def _answer(client: httpx.Client | None, call: Call) -> Outcome:
    if call.error is not None:
        return outcome_of(call, call.error, 0)
    if call.reply is not None:
        return outcome_of(call, call.reply, 0)
    assert call.request is not None and client is not None, "a call holds a request to send"
    start = time.monotonic()
    answer: Reply | ProviderError
    try:
        answer = _post(client, call.request)
    except ProviderError as exc:
        answer = exc
    return outcome_of(call, answer, round((time.monotonic() - start) * 1000))


def _post(client: httpx.Client, request: ChatRequest) -> Reply:
    import httpx

    # httpx's timeout bounds each wait; the deadline bounds a server that trickles bytes.
    deadline = time.monotonic() + request.timeout
    try:
        with client.stream(
            "POST",
            request.url,
            headers=dict(request.headers),
            json=dict(request.body),
            timeout=request.timeout,
        ) as response:
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_REPLY_BYTES:
                    raise malformed(request, f"the answer is larger than {MAX_REPLY_BYTES:,} bytes")
                if time.monotonic() > deadline:
                    raise timed_out(request)
            status = response.status_code
            headers = {k.lower(): v for k, v in response.headers.items()}
    except httpx.TimeoutException:
        raise timed_out(request) from None
    except (httpx.TransportError, httpx.InvalidURL) as exc:
        raise unreachable(request, str(exc) or type(exc).__name__) from None
    return read_reply(request, status, headers, bytes(body), now=datetime.now(timezone.utc))


# --- the run log --------------------------------------------------------------------------------


def run_log_path(repo: pygit2.Repository) -> Path:
    """``promptship/runs.jsonl`` in the clone's git directory: git never tracks, pushes or clones
    what is there, and linked worktrees share it."""
    return common_dir(repo) / "promptship" / "runs.jsonl"


def append_run(path: Path, record: RunRecord) -> None:
    """Add one line under an exclusive lock, so concurrent runs never interleave; the file is
    private to its owner, as prompts and answers may be."""
    try:
        path.parent.mkdir(exist_ok=True)
        with _log_locked(path):
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "ab") as handle:
                handle.write(run_log_line(record))
    except OSError as exc:
        raise RepositoryError(
            f"cannot write the run log {path}: {exc.strerror}",
            hint="check the permissions of the repository's .git folder",
        ) from None


def _log_locked(path: Path) -> AbstractContextManager[None]:
    """The run log's lock (a file beside it): a reader never sees half of an appended run."""
    return held(
        path.with_name(path.name + ".lock"),
        wait=_LOG_LOCK_SECONDS,
        busy=lambda: RepositoryError(
            f"another promptship command has held the run log {path} for over "
            f"{_LOG_LOCK_SECONDS:.0f} s",
            hint="wait for it to finish; the lock goes away with its process",
        ),
    )


def read_runs(path: Path) -> tuple[list[RunRecord], int]:
    """Every logged run, oldest first, and the number of lines that could not be read."""
    try:
        if not path.exists():
            return [], 0
        with _log_locked(path), path.open("rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return [], 0
    except OSError as exc:
        raise RepositoryError(
            f"cannot read the run log {path}: {exc.strerror}",
            hint="check the permissions of the repository's .git folder",
        ) from None
    return parse_log(data)
