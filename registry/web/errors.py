"""Errors as HTTP answers: ``{"error": {"type", "message", "hint", ...}}`` named after the Python
error, with the status that fits it. Plain bytes, no web framework: the worker processes that
render templates build their refusals here too."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from ..errors import (
    InputError,
    InvalidName,
    InvalidRegistry,
    NoProductionVersion,
    PromptNotFound,
    PromptshipError,
    RenderError,
    VersionNotFound,
)

__all__ = [
    "BadSignature",
    "HttpError",
    "NotReady",
    "PayloadTooLarge",
    "RequestTimeout",
    "Unauthorized",
    "UnknownCommit",
    "error_body",
    "status_of",
]


class HttpError(PromptshipError):
    """A refusal that only exists over HTTP; ``status`` is its answer's status."""

    status = 400

    def __init__(self, message: str, *, hint: str = "", status: int | None = None) -> None:
        super().__init__(message, hint=hint)
        if status is not None:
            self.status = status


class Unauthorized(HttpError):
    status = 401


class BadSignature(HttpError):
    status = 401


class NotReady(HttpError):
    status = 503


class PayloadTooLarge(HttpError):
    status = 413


class RequestTimeout(HttpError):
    status = 408


class UnknownCommit(HttpError):
    """A ``Last-Event-ID`` this server cannot continue from."""

    status = 409


_STATUS: tuple[tuple[type[PromptshipError], int], ...] = (
    (PromptNotFound, 404),
    (NoProductionVersion, 404),
    (VersionNotFound, 404),
    (RenderError, 422),
    (InvalidName, 400),
    (InputError, 400),
    (InvalidRegistry, 500),
)
_FIELDS = ("prompt", "version", "missing", "unknown", "expected", "name", "reason")


def status_of(error: PromptshipError) -> int:
    if isinstance(error, HttpError):
        return error.status
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return 500


def error_body(error: PromptshipError | None = None, **plain: str) -> bytes:
    """The JSON of ``error`` (its type, message, hint and the fields a program reads: prompt,
    version, missing variables...), or of ``plain`` ``type``/``message``/``hint`` values."""
    data: dict[str, Any]
    if error is None:
        data = {"type": "Error", "message": "", "hint": "", **plain}
    else:
        data = {"type": type(error).__name__, "message": error.message, "hint": error.hint}
        data.update(_fields(error))
    return orjson.dumps({"error": data}, option=orjson.OPT_APPEND_NEWLINE)


def _fields(error: PromptshipError) -> Mapping[str, Any]:
    found: dict[str, Any] = {}
    for key in _FIELDS:
        value = getattr(error, key, None)
        if isinstance(value, tuple):
            value = list(value)
        if isinstance(value, (str, int, list)) and not isinstance(value, bool):
            found[key] = value
    return found
