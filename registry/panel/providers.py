"""Model providers: the providers file, ``provider:model`` names, and the OpenAI-compatible
chat-completions exchange as plain values.

Everything here is pure: a request is built from values, an answer (status, headers, bytes) is read
into a ``Reply`` or a ``ProviderError`` that names the provider and the model. The HTTP call
itself lives in ``runner``.
"""

from __future__ import annotations

import email.utils
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..errors import InvalidConfig, Problem, ProviderError, ProviderFailure
from ..names import is_valid_name
from ..yamlsafe import YamlError, load_yaml

__all__ = [
    "ECHO",
    "MAX_REPLY_BYTES",
    "ChatRequest",
    "Price",
    "Provider",
    "Providers",
    "Reply",
    "Target",
    "Usage",
    "build_request",
    "echo_reply",
    "estimate_cost",
    "label_of",
    "malformed",
    "parse_providers",
    "parse_retry_after",
    "parse_target",
    "price_of",
    "read_reply",
    "timed_out",
    "unreachable",
    "with_env",
]

ECHO = "echo"
ENV_PROVIDER = "openai"
OPENAI_URL = "https://api.openai.com/v1"
DEFAULT_TIMEOUT = 60.0
MAX_REPLY_BYTES = 8 << 20
_MILLION = Decimal(1_000_000)
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_FILE_HINT = "fix the providers file (docs/run.md describes it) and run the command again"


@dataclass(frozen=True, kw_only=True, slots=True)
class Price:
    """US dollars per million tokens."""

    input: Decimal
    output: Decimal


@dataclass(frozen=True, kw_only=True, slots=True)
class Provider:
    """An OpenAI-compatible endpoint. The key is a literal or, better, an environment variable;
    ``require_key`` says whether a request without one is refused before it is sent."""

    name: str
    base_url: str
    api_key: str | None = field(default=None, repr=False)
    api_key_env: str | None = None
    require_key: bool = False
    timeout: float | None = None
    prices: Mapping[str, Price] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True, slots=True)
class Providers:
    """The providers a run may use, and which one serves a model named without ``provider:``."""

    providers: Mapping[str, Provider] = field(default_factory=dict)
    default: str | None = None
    source: str | None = None

    @property
    def default_name(self) -> str:
        if self.default is not None:
            return self.default
        if ENV_PROVIDER not in self.providers and len(self.providers) == 1:
            return next(iter(self.providers))
        return ENV_PROVIDER


@dataclass(frozen=True, kw_only=True, slots=True)
class Target:
    """One model at one provider."""

    provider: str
    model: str

    def __str__(self) -> str:
        return label_of(self.provider, self.model)


def label_of(provider: str, model: str) -> str:
    """``provider:model``; plain ``echo`` for the echo provider asked for by that name."""
    return ECHO if provider == model == ECHO else f"{provider}:{model}"


@dataclass(frozen=True, kw_only=True, slots=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int

    def to_json(self) -> dict[str, int]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class Reply:
    """A model's answer; ``usage`` is ``None`` when the server does not report it."""

    text: str
    finish_reason: str | None = None
    usage: Usage | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ChatRequest:
    target: Target
    url: str
    headers: Mapping[str, str] = field(repr=False)
    body: Mapping[str, Any]
    timeout: float
    key_sent: bool


# --- the providers file -------------------------------------------------------------------------


def parse_providers(data: bytes, *, path: str) -> Providers:
    """Read the providers file, collecting every problem before refusing it."""
    try:
        loaded = load_yaml(data, path=path)
    except YamlError as exc:
        raise InvalidConfig([exc.problem], hint=_FILE_HINT) from None
    problems: list[str] = []
    if loaded is None:
        loaded = {}
    if not isinstance(loaded, dict):
        problems.append("the file must hold a mapping with 'providers' (and optionally 'default')")
        loaded = {}
    for key in loaded:
        if key not in ("default", "providers"):
            problems.append(f"unknown key {key!r} (allowed: default, providers)")
    raw = loaded.get("providers", {})
    if not isinstance(raw, dict):
        problems.append("'providers' must map provider names to their settings")
        raw = {}
    providers = {}
    for name, settings in raw.items():
        provider = _parse_provider(str(name), settings, problems)
        if provider is not None:
            providers[provider.name] = provider
    default = loaded.get("default")
    if default is not None and not isinstance(default, str):
        problems.append("'default' must be the name of a provider")
        default = None
    if problems:
        raise InvalidConfig(
            [Problem(file=path, rule="providers", message=m) for m in problems], hint=_FILE_HINT
        )
    return Providers(providers=providers, default=default, source=path)


def _parse_provider(name: str, settings: Any, problems: list[str]) -> Provider | None:
    where = f"providers.{name}"
    before = len(problems)
    if not is_valid_name(name) or name == ECHO:
        problems.append(
            f"{where}: a provider name uses a-z, 0-9 and single '-', '_' or '.' between them, "
            f"and '{ECHO}' is built in"
        )
    if not isinstance(settings, dict):
        problems.append(f"{where}: must be a mapping with at least base_url")
        return None
    allowed = ("base_url", "api_key", "api_key_env", "timeout", "prices")
    problems.extend(
        f"{where}: unknown key {key!r} (allowed: {', '.join(allowed)})"
        for key in settings
        if key not in allowed
    )
    base_url = settings.get("base_url")
    if not (isinstance(base_url, str) and re.match(r"https?://[^\s/]+", base_url)):
        problems.append(f"{where}.base_url: must be an http:// or https:// address")
    key, key_env = settings.get("api_key"), settings.get("api_key_env")
    if key is not None and key_env is not None:
        problems.append(f"{where}: give api_key or api_key_env, not both")
    if key is not None and not (isinstance(key, str) and key):
        problems.append(f"{where}.api_key: must be text")
    if key_env is not None and not (isinstance(key_env, str) and _ENV_NAME.match(key_env)):
        problems.append(f"{where}.api_key_env: must be the name of an environment variable")
    timeout = settings.get("timeout")
    if timeout is not None and not (_is_number(timeout) and timeout > 0):
        problems.append(f"{where}.timeout: must be a number of seconds above 0")
    prices = _parse_prices(where, settings.get("prices", {}), problems)
    if len(problems) > before:
        return None
    return Provider(
        name=name,
        base_url=str(base_url).rstrip("/"),
        api_key=key,
        api_key_env=key_env,
        require_key=key is not None or key_env is not None,
        timeout=float(timeout) if timeout is not None else None,
        prices=prices,
    )


def _parse_prices(where: str, raw: Any, problems: list[str]) -> dict[str, Price]:
    if not isinstance(raw, dict):
        problems.append(f"{where}.prices: must map model names to {{input, output}}")
        return {}
    prices = {}
    for model, price in raw.items():
        if (
            isinstance(price, dict)
            and set(price) == {"input", "output"}
            and all(_is_number(v) and v >= 0 for v in price.values())
        ):
            prices[str(model)] = Price(
                input=Decimal(str(price["input"])), output=Decimal(str(price["output"]))
            )
        else:
            problems.append(
                f"{where}.prices.{model}: must be {{input: N, output: N}}, "
                "US dollars per million tokens, 0 or more"
            )
    return prices


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value


def provider_from_env(env: Mapping[str, str]) -> Provider | None:
    """The ``openai`` provider that ``OPENAI_BASE_URL`` / ``OPENAI_API_KEY`` describe. A base URL
    of one's own (a local server) may need no key; OpenAI itself always does."""
    base_url = env.get("OPENAI_BASE_URL", "").strip()
    if not base_url and not env.get("OPENAI_API_KEY"):
        return None
    return Provider(
        name=ENV_PROVIDER,
        base_url=(base_url or OPENAI_URL).rstrip("/"),
        api_key_env="OPENAI_API_KEY",
        require_key=not base_url,
    )


def with_env(providers: Providers, env: Mapping[str, str]) -> Providers:
    """The file's providers plus the one from the environment, unless the file names its own
    ``openai``; a ``default`` that names no provider is refused."""
    found = dict(providers.providers)
    from_env = provider_from_env(env)
    if from_env is not None and ENV_PROVIDER not in found:
        found[ENV_PROVIDER] = from_env
    default = providers.default
    if default is not None and default not in found and default != ECHO:
        raise InvalidConfig(
            [
                Problem(
                    file=providers.source or "providers file",
                    rule="providers",
                    message=f"'default' names {default!r}, which is not a provider here",
                )
            ],
            hint=_FILE_HINT,
        )
    return Providers(providers=found, default=default, source=providers.source)


def parse_target(spec: str, providers: Providers) -> Target:
    """``provider:model``, or a model of the default provider. The part before ':' is a provider
    only when one of that name exists, so ``llama3:8b`` stays a model name."""
    prefix, sep, rest = spec.partition(":")
    if sep and rest and (prefix in providers.providers or prefix == ECHO):
        return Target(provider=prefix, model=rest)
    if spec == ECHO:
        return Target(provider=ECHO, model=ECHO)
    return Target(provider=providers.default_name, model=spec)


def price_of(providers: Providers, target: Target) -> Price | None:
    if target.provider == ECHO:
        return Price(input=Decimal(0), output=Decimal(0))
    provider = providers.providers.get(target.provider)
    return provider.prices.get(target.model) if provider is not None else None


def estimate_cost(usage: Usage | None, price: Price | None) -> Decimal | None:
    """US dollars, or ``None`` when the tokens or the price are not known."""
    if usage is None or price is None:
        return None
    return (usage.prompt_tokens * price.input + usage.completion_tokens * price.output) / _MILLION


# --- the exchange -------------------------------------------------------------------------------


def build_request(
    target: Target,
    messages: Sequence[Mapping[str, str]],
    parameters: Mapping[str, Any],
    *,
    providers: Providers,
    env: Mapping[str, str],
    timeout: float | None = None,
) -> ChatRequest:
    """The POST a chat completion takes, or ``ProviderError`` when it cannot be sent at all."""
    provider = providers.providers.get(target.provider)
    if provider is None:
        where = f" in {providers.source}" if providers.source else ""
        raise _failure(
            target,
            "not-configured",
            "no such provider is configured",
            f"set OPENAI_BASE_URL and/or OPENAI_API_KEY, or describe the provider{where}; "
            f"name one as PROVIDER:MODEL; '{ECHO}' answers offline",
        )
    key = provider.api_key
    if key is None and provider.api_key_env is not None:
        key = env.get(provider.api_key_env) or None
    if key is None and provider.require_key:
        raise _failure(
            target,
            "no-key",
            f"no API key: the environment variable {provider.api_key_env} is not set",
            f"export {provider.api_key_env}=... with the key the provider gave you",
        )
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    return ChatRequest(
        target=target,
        url=provider.base_url + "/chat/completions",
        headers=headers,
        body={"model": target.model, "messages": [dict(m) for m in messages], **parameters},
        timeout=timeout or provider.timeout or DEFAULT_TIMEOUT,
        key_sent=key is not None,
    )


def read_reply(
    request: ChatRequest, status: int, headers: Mapping[str, str], body: bytes, *, now: datetime
) -> Reply:
    """The answer to ``request``; ``headers`` with lower-case names. Raises ``ProviderError``
    for an error status or an answer that is not a chat completion."""
    if status == 429:
        raise _rate_limited(request, headers, body, now)
    if not 200 <= status < 300:
        raise _refused(request, status, body)
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise malformed(request, "the answer is not JSON: " + _excerpt(body)) from None
    if isinstance(data, dict) and "error" in data and "choices" not in data:
        raise _refused(request, status, body)
    try:
        choice = data["choices"][0]
        text = choice["message"]["content"]
        finish = choice.get("finish_reason")
    except (KeyError, IndexError, TypeError, AttributeError):
        raise malformed(
            request, "the answer is not a chat completion (no choices[0].message.content)"
        ) from None
    if not isinstance(text, (str, type(None))) or not isinstance(finish, (str, type(None))):
        raise malformed(request, "choices[0].message.content is not text")
    return Reply(text=text or "", finish_reason=finish, usage=_usage(request, data.get("usage")))


def _usage(request: ChatRequest, raw: Any) -> Usage | None:
    if raw is None:
        return None
    keys = ("prompt_tokens", "completion_tokens", "total_tokens")
    prompt, completion, total = (raw.get(k) if isinstance(raw, dict) else None for k in keys)
    if not (type(prompt) is int and type(completion) is int and min(prompt, completion) >= 0):
        raise malformed(request, f"'usage' does not hold token counts: {_excerpt(raw)}")
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=total if type(total) is int else prompt + completion,
    )


def _failure(
    target: Target,
    kind: ProviderFailure,
    detail: str,
    hint: str,
    *,
    status: int | None = None,
    retry_after: float | None = None,
) -> ProviderError:
    return ProviderError(
        provider=target.provider,
        model=target.model,
        kind=kind,
        detail=detail,
        hint=hint,
        status=status,
        retry_after=retry_after,
    )


def malformed(request: ChatRequest, detail: str) -> ProviderError:
    """An answer that is not a chat completion."""
    return _failure(
        request.target,
        "malformed",
        detail,
        f"{request.url} does not answer like the OpenAI chat-completions API; "
        "check the provider's base_url (it usually ends in /v1)",
    )


def timed_out(request: ChatRequest) -> ProviderError:
    return _failure(
        request.target,
        "timeout",
        f"no complete answer within {request.timeout:g} s",
        "try again, or allow longer with --timeout SECONDS (or timeout: in the providers file)",
    )


def unreachable(request: ChatRequest, reason: str) -> ProviderError:
    return _failure(
        request.target,
        "connection",
        f"cannot reach {request.url}: {reason}",
        "check the provider's base_url (or OPENAI_BASE_URL) and that the server is running",
    )


def _rate_limited(
    request: ChatRequest, headers: Mapping[str, str], body: bytes, now: datetime
) -> ProviderError:
    wait = parse_retry_after(headers.get("retry-after"), now)
    if wait is None and headers.get("retry-after-ms", "").isdigit():
        wait = int(headers["retry-after-ms"]) / 1000
    after = f"; retry after {wait:g} s" if wait is not None else ""
    return _failure(
        request.target,
        "rate-limited",
        f"rate limited (HTTP 429){after}: {_server_message(body)}",
        "wait and run again; run fewer models at once, or check the account's quota",
        status=429,
        retry_after=wait,
    )


def _refused(request: ChatRequest, status: int, body: bytes) -> ProviderError:
    what = f"(HTTP {status}): {_server_message(body)}"
    if status in (401, 403):
        sent = "the API key was refused" if request.key_sent else "no API key was sent"
        return _failure(
            request.target,
            "unauthorized",
            f"{sent} {what}",
            "check the key: OPENAI_API_KEY, or api_key_env / api_key in the providers file",
            status=status,
        )
    if status >= 500:
        return _failure(
            request.target,
            "server-error",
            f"the server failed {what}",
            "the fault is on the provider's side; try again later",
            status=status,
        )
    return _failure(
        request.target,
        "http-error",
        f"the request was refused {what}",
        "check the model name and the parameters (--param, the version's metadata)",
        status=status,
    )


def _server_message(body: bytes) -> str:
    """What the server said, briefly: OpenAI-style ``{"error": {"message": ...}}`` or text."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return _excerpt(body)
    error = data.get("error", data) if isinstance(data, dict) else data
    message = error.get("message") if isinstance(error, dict) else error
    return _excerpt(message if isinstance(message, str) else data)


def _excerpt(value: object, limit: int = 200) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    text = " ".join(str(value).split()) or "(empty)"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: a number of seconds or an HTTP date."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            return None
        seconds = (when - now).total_seconds()
    return max(seconds, 0.0) if seconds == seconds else None


def echo_reply(messages: Sequence[Mapping[str, str]]) -> Reply:
    """What the ``echo`` provider answers: the resolved prompt itself, words counted as tokens."""
    if len(messages) == 1 and messages[0]["role"] == "user":
        text = messages[0]["content"]
    else:
        text = "\n\n".join(f"[{m['role']}]\n{m['content']}" for m in messages)
    prompt_words = sum(len(m["content"].split()) for m in messages)
    answer_words = len(text.split())
    return Reply(
        text=text,
        finish_reason="stop",
        usage=Usage(
            prompt_tokens=prompt_words,
            completion_tokens=answer_words,
            total_tokens=prompt_words + answer_words,
        ),
    )
