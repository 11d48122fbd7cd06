"""Rendering for the server, bounded: templates run in a worker process with a deadline, an
address-space limit and a cap on the output, so no template or value can stall the server,
exhaust its memory or flood a client.

Values come from a request: at most ``MAX_VARIABLES`` names, each a JSON value, in a body the
server already bounded in size.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from ..errors import InputError, PromptshipError, RenderError
from ..model import Version
from ..templates import PreparedVersion
from .errors import error_body, status_of
from .workers import TaskTimeout, WorkerFailed, Workers

__all__ = [
    "MAX_OUTPUT_BYTES",
    "MAX_VARIABLES",
    "RENDER_SECONDS",
    "Renderer",
    "render_answer",
    "variables_of",
]

RENDER_SECONDS = 2.0
MAX_OUTPUT_BYTES = 1 << 20
MAX_VARIABLES = 1000
WORKER_MEMORY = 1 << 30


def variables_of(body: bytes) -> dict[str, Any]:
    """The ``variables`` of a render request's JSON body (``InputError`` when it is not
    ``{"variables": {name: value, ...}}`` within the limits)."""
    hint = 'send {"variables": {"name": "Ada"}} as application/json'
    try:
        data = orjson.loads(body) if body.strip() else {}
    except orjson.JSONDecodeError as exc:
        raise InputError(f"the body is not JSON: {exc}", hint=hint) from None
    if not isinstance(data, dict) or not set(data) <= {"variables"}:
        raise InputError("the body must be an object with one key, 'variables'", hint=hint)
    variables = data.get("variables", {})
    if not isinstance(variables, dict):
        raise InputError("'variables' must be an object of names to values", hint=hint)
    if len(variables) > MAX_VARIABLES:
        raise InputError(
            f"{len(variables):,} variables; at most {MAX_VARIABLES:,} are accepted",
            hint="a template uses far fewer: send only the ones it needs",
        )
    return variables


def render_answer(version: Version, variables: Mapping[str, Any]) -> tuple[int, bytes]:
    """Render in a worker: the status and body of the answer (never raises)."""
    try:
        rendered = PreparedVersion(version).render(variables)
        texts = [rendered.content] if rendered.content is not None else []
        texts += [m["content"] for m in rendered.messages or ()]
        if sum(len(t) for t in texts) > MAX_OUTPUT_BYTES:
            raise RenderError(
                f"the rendered text is longer than {MAX_OUTPUT_BYTES:,} characters",
                hint="check the template and the values: a loop or a repeat may run away",
            )
        return 200, orjson.dumps(
            rendered.to_json(), option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE
        )
    except PromptshipError as exc:
        return status_of(exc), error_body(exc)
    except MemoryError:
        error = RenderError(
            "rendering needed more memory than a render may use",
            hint="check the template and the values: a loop or a repeat may run away",
        )
        return status_of(error), error_body(error)
    except RecursionError:
        error = RenderError("rendering nested too deeply", hint="check the template and the values")
        return status_of(error), error_body(error)


class Renderer:
    """Renders in its own worker process, ``seconds`` at most per render."""

    def __init__(self, seconds: float = RENDER_SECONDS) -> None:
        self.seconds = seconds
        self.workers = Workers(1, memory=WORKER_MEMORY, name="render")

    async def render(self, version: Version, variables: Mapping[str, Any]) -> tuple[int, bytes]:
        try:
            return await self.workers.run(self.seconds, render_answer, version, dict(variables))
        except TaskTimeout:
            error = RenderError(
                f"rendering took longer than {self.seconds:g} s and was stopped",
                hint="check the template and the values: a loop may run away",
            )
        except WorkerFailed:
            error = RenderError(
                "rendering failed: the process rendering it stopped",
                hint="check the template and the values; the server's log has the details",
            )
        return status_of(error), error_body(error)

    def close(self) -> None:
        self.workers.close()
