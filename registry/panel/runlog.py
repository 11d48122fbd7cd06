"""The run log's format: one JSON object per line, one line per run, appended and never rewritten.

A record holds what is needed to read a run again and to repeat it: the version (number and
digest) and the commit it was read from, the variables, the parameters asked for and those sent,
the resolved prompt, and per model the answer, token counts, latency, cost or the failure.
Secrets never enter it: keys live in the environment or the providers file only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any

from ..errors import ProviderError, RunNotFound
from ..names import Selector
from .plan import Outcome, RunSpec
from .providers import Target, Usage, label_of

__all__ = [
    "Failure",
    "ModelResult",
    "RunRecord",
    "find_run",
    "make_record",
    "parse_log",
    "rerun_spec",
    "run_log_line",
]

MIN_ID_PREFIX = 4


@dataclass(frozen=True, kw_only=True, slots=True)
class Failure:
    kind: str
    message: str
    detail: str = ""
    hint: str = ""
    status: int | None = None
    retry_after: float | None = None

    @classmethod
    def of(cls, error: ProviderError) -> Failure:
        return cls(
            kind=error.kind,
            message=error.message,
            detail=error.detail,
            hint=error.hint,
            status=error.status,
            retry_after=error.retry_after,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "message": self.message,
            "detail": self.detail,
            "hint": self.hint,
            "status": self.status,
            "retry_after": self.retry_after,
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class ModelResult:
    """What one model answered in one run, or how it failed."""

    provider: str
    model: str
    response: str | None = None
    finish_reason: str | None = None
    usage: Usage | None = None
    latency_ms: int = 0
    cost_usd: Decimal | None = None
    error: Failure | None = None

    @property
    def label(self) -> str:
        return label_of(self.provider, self.model)

    def to_json(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "model": self.model,
            "response": self.response,
            "finish_reason": self.finish_reason,
            "usage": self.usage.to_json() if self.usage else None,
            "latency_ms": self.latency_ms,
            "cost_usd": float(self.cost_usd) if self.cost_usd is not None else None,
            "error": self.error.to_json() if self.error else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ModelResult:
        usage, error, cost = data["usage"], data["error"], data["cost_usd"]
        return cls(
            provider=_text(data["provider"]),
            model=_text(data["model"]),
            response=data["response"],
            finish_reason=data["finish_reason"],
            usage=Usage(**_known(Usage, usage)) if usage is not None else None,
            latency_ms=int(data["latency_ms"]),
            cost_usd=Decimal(str(cost)) if cost is not None else None,
            error=Failure(**_known(Failure, error)) if error is not None else None,
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class RunRecord:
    id: str
    at: str
    prompt: str
    version: int
    digest: str
    commit: str | None
    variables: Mapping[str, Any]
    overrides: Mapping[str, Any]
    parameters: Mapping[str, Any]
    resolved: Mapping[str, Any]
    results: tuple[ModelResult, ...]
    rerun_of: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> tuple[ModelResult, ...]:
        return tuple(r for r in self.results if r.error is not None)

    def to_json(self) -> dict[str, Any]:
        return {
            **self.extra,
            "id": self.id,
            "at": self.at,
            "prompt": self.prompt,
            "version": self.version,
            "digest": self.digest,
            "commit": self.commit,
            "rerun_of": self.rerun_of,
            "variables": dict(self.variables),
            "overrides": dict(self.overrides),
            "parameters": dict(self.parameters),
            "resolved": dict(self.resolved),
            "results": [r.to_json() for r in self.results],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunRecord:
        known = set(cls.__dataclass_fields__) - {"extra"}
        version = data["version"]
        if type(version) is not int:
            raise TypeError("version")
        return cls(
            id=_text(data["id"]),
            at=_text(data["at"]),
            prompt=_text(data["prompt"]),
            version=version,
            digest=_text(data["digest"]),
            commit=data["commit"],
            variables=dict(data["variables"]),
            overrides=dict(data["overrides"]),
            parameters=dict(data["parameters"]),
            resolved=dict(data["resolved"]),
            results=tuple(ModelResult.from_json(r) for r in data["results"]),
            rerun_of=data.get("rerun_of"),
            # Keys a later promptship adds survive a read by this one.
            extra={k: v for k, v in data.items() if k not in known},
        )


def _known(cls: type[Usage | Failure], data: Mapping[str, Any]) -> dict[str, Any]:
    """The keys ``cls`` takes; keys a later promptship adds are left out."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {value!r}")
    return value


def make_record(
    *,
    run_id: str,
    at: str,
    prompt: str,
    version: int,
    digest: str,
    commit: str | None,
    spec: RunSpec,
    parameters: Mapping[str, Any],
    resolved: Mapping[str, Any],
    outcomes: Sequence[Outcome],
) -> RunRecord:
    return RunRecord(
        id=run_id,
        at=at,
        prompt=prompt,
        version=version,
        digest=digest,
        commit=commit,
        variables=dict(spec.variables),
        overrides=dict(spec.overrides),
        parameters=dict(parameters),
        resolved=dict(resolved),
        rerun_of=spec.rerun_of,
        results=tuple(
            ModelResult(
                provider=o.target.provider,
                model=o.target.model,
                response=o.reply.text if o.reply else None,
                finish_reason=o.reply.finish_reason if o.reply else None,
                usage=o.reply.usage if o.reply else None,
                latency_ms=o.latency_ms,
                cost_usd=o.cost,
                error=Failure.of(o.error) if o.error else None,
            )
            for o in outcomes
        ),
    )


def run_log_line(record: RunRecord) -> bytes:
    """One line of the log. Values JSON cannot hold (a YAML date in a vars file) become text."""
    text = json.dumps(record.to_json(), ensure_ascii=False, separators=(",", ":"), default=str)
    return (text + "\n").encode("utf-8")


def parse_log(data: bytes) -> tuple[list[RunRecord], int]:
    """The records of a log, oldest first, and how many lines could not be read (a line cut
    short by a crash, say); those are skipped so one bad line never hides the others."""
    records, unreadable = [], 0
    for line in data.splitlines():
        if not line.strip():
            continue
        try:
            records.append(RunRecord.from_json(json.loads(line)))
        except (ValueError, KeyError, TypeError, AttributeError, ArithmeticError):
            unreadable += 1
    return records, unreadable


def find_run(records: Sequence[RunRecord], run_id: str) -> RunRecord:
    """The run with this id, or the only one whose id starts with it (4 characters at least)."""
    exact = [r for r in records if r.id == run_id]
    if exact:
        return exact[-1]
    matches = (
        sorted({r.id for r in records if r.id.startswith(run_id)})
        if len(run_id) >= MIN_ID_PREFIX
        else []
    )
    if len(matches) == 1:
        return next(r for r in records if r.id == matches[0])
    raise RunNotFound(run_id, matches=matches if len(matches) > 1 else ())


def rerun_spec(record: RunRecord, version: int | None, *, timeout: float | None) -> RunSpec:
    """A past run again: the same variables, models and ``--param`` values, against ``version``
    (default: the same one). Parameters from metadata come from the version run now."""
    return RunSpec(
        selector=Selector(prompt=record.prompt, version=version or record.version),
        variables=dict(record.variables),
        models=tuple(Target(provider=r.provider, model=r.model) for r in record.results),
        overrides=dict(record.overrides),
        timeout=timeout,
        rerun_of=record.id,
    )
