"""The test panel's plan: the messages, the model parameters and one call per model of a run.

Pure: the calls are values that ``runner`` sends; a model that cannot be called at all (no such
provider, no key) becomes a call that already holds its error, so the other models still run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..errors import InputError, ProviderError
from ..lifecycle import merge_metadata
from ..model import json_compatible
from ..names import Selector
from ..templates import Rendered
from .providers import (
    ECHO,
    ChatRequest,
    Price,
    Providers,
    Reply,
    Target,
    build_request,
    echo_reply,
    estimate_cost,
    parse_target,
    price_of,
)

__all__ = [
    "MAX_MODELS",
    "Call",
    "Outcome",
    "RunSpec",
    "chat_messages",
    "model_parameters",
    "models_to_run",
    "outcome_of",
    "plan_calls",
]

MAX_MODELS = 10
METADATA_PARAMETERS = (
    "temperature",
    "max_tokens",
    "top_p",
    "frequency_penalty",
    "presence_penalty",
    "stop",
    "seed",
)
# The panel sends one prompt and reads one whole answer; these would change that.
_RESERVED = ("model", "messages", "stream", "n")


@dataclass(frozen=True, kw_only=True, slots=True)
class RunSpec:
    """What a run was asked for, before the registry is read; a re-run repeats one."""

    selector: Selector
    variables: Mapping[str, Any] = field(default_factory=dict)
    models: tuple[str | Target, ...] = ()
    overrides: Mapping[str, Any] = field(default_factory=dict)
    timeout: float | None = None
    rerun_of: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Call:
    """One model of a run: a request to send, or already its reply (echo) or its error."""

    target: Target
    price: Price | None
    request: ChatRequest | None = None
    reply: Reply | None = None
    error: ProviderError | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Outcome:
    target: Target
    reply: Reply | None
    error: ProviderError | None
    latency_ms: int
    cost: Decimal | None


def chat_messages(rendered: Rendered) -> tuple[dict[str, str], ...]:
    """A text prompt is one user message; a chat prompt's messages go as they are."""
    if rendered.messages is None:
        return ({"role": "user", "content": rendered.content or ""},)
    return tuple(dict(m) for m in rendered.messages)


def models_to_run(
    models: Sequence[str | Target], metadata: Mapping[str, Any]
) -> tuple[str | Target, ...]:
    """The models asked for, else the one the version's metadata names."""
    if not models:
        model = metadata.get("model")
        if not isinstance(model, str) or not model:
            raise InputError(
                "no model to run: this version's metadata names none",
                hint="give --model MODEL (or PROVIDER:MODEL; 'echo' answers offline)",
            )
        models = (model,)
    if len(models) > MAX_MODELS:
        raise InputError(
            f"{len(models)} models given; a run compares at most {MAX_MODELS}",
            hint="split them over several runs",
        )
    return tuple(models)


def model_parameters(metadata: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The version's metadata parameters, then ``overrides`` over them (``None`` drops one).
    Every unusable value is named in one error."""
    problems = [f"metadata {k}: {p}" for k, p in _problems(metadata, METADATA_PARAMETERS)]
    problems += [f"--param {k}: {p}" for k, p in _problems(overrides, tuple(overrides))]
    if problems:
        raise InputError(
            "unusable model parameters:\n  " + "\n  ".join(problems),
            hint="fix the version's metadata (promptship new-version) or pass --param KEY=VALUE",
        )
    return merge_metadata({k: metadata[k] for k in METADATA_PARAMETERS if k in metadata}, overrides)


def _problems(values: Mapping[str, Any], keys: Sequence[str]) -> list[tuple[str, str]]:
    found = []
    for key in keys:
        if key not in values or values[key] is None:
            continue
        if key in _RESERVED:
            found.append((key, "set by promptship itself; use --model to choose the model"))
            continue
        fault = _fault(key, values[key])
        if fault:
            found.append((key, fault))
    return found


def _fault(key: str, value: Any) -> str | None:
    if not json_compatible(value):  # the request body is JSON, which has no NaN or infinity
        return f"must be a JSON value without NaN or infinity, not {value!r}"
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if key in ("temperature", "top_p") and not (number and value >= 0):
        return f"must be a number from 0, not {value!r}"
    if key in ("frequency_penalty", "presence_penalty") and not number:
        return f"must be a number, not {value!r}"
    if key == "max_tokens" and not (type(value) is int and value >= 1):
        return f"must be a whole number from 1, not {value!r}"
    if key == "seed" and type(value) is not int:
        return f"must be a whole number, not {value!r}"
    if key == "stop" and not (
        isinstance(value, str)
        or (isinstance(value, list) and all(isinstance(s, str) for s in value))
    ):
        return f"must be text or a list of texts, not {value!r}"
    return None


def plan_calls(
    models: Sequence[str | Target],
    messages: Sequence[Mapping[str, str]],
    parameters: Mapping[str, Any],
    *,
    providers: Providers,
    env: Mapping[str, str],
    timeout: float | None = None,
) -> tuple[Call, ...]:
    """One call per model; a ``Target`` (a re-run's) is taken as it is, a name is parsed."""
    calls = []
    for model in models:
        target = model if isinstance(model, Target) else parse_target(model, providers)
        price = price_of(providers, target)
        if target.provider == ECHO:
            calls.append(Call(target=target, price=price, reply=echo_reply(messages)))
            continue
        try:
            request = build_request(
                target, messages, parameters, providers=providers, env=env, timeout=timeout
            )
        except ProviderError as exc:
            calls.append(Call(target=target, price=price, error=exc))
            continue
        calls.append(Call(target=target, price=price, request=request))
    return tuple(calls)


def outcome_of(call: Call, answer: Reply | ProviderError, latency_ms: int) -> Outcome:
    if isinstance(answer, ProviderError):
        return Outcome(
            target=call.target, reply=None, error=answer, latency_ms=latency_ms, cost=None
        )
    return Outcome(
        target=call.target,
        reply=answer,
        error=None,
        latency_ms=latency_ms,
        cost=estimate_cost(answer.usage, call.price),
    )
