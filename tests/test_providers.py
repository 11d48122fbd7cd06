"""The test panel's pure core: the providers file, model names, requests and answers, cost and
parameters, with no network and no disk."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import pytest

from registry.errors import InputError, InvalidConfig, ProviderError
from registry.panel.plan import model_parameters, models_to_run, plan_calls
from registry.panel.providers import (
    ChatRequest,
    Price,
    Provider,
    Providers,
    Target,
    Usage,
    build_request,
    echo_reply,
    estimate_cost,
    parse_providers,
    parse_retry_after,
    parse_target,
    read_reply,
    with_env,
)

NOW = datetime(2026, 11, 29, 12, 0, 0, tzinfo=timezone.utc)
LOCAL = Provider(name="local", base_url="http://127.0.0.1:9/v1")
KEYED = Provider(name="keyed", base_url="https://llm.example/v1", api_key_env="K", require_key=True)
PROVIDERS = Providers(providers={"local": LOCAL, "keyed": KEYED}, default="local")
REQUEST = ChatRequest(
    target=Target(provider="local", model="m"),
    url="http://127.0.0.1:9/v1/chat/completions",
    headers={},
    body={},
    timeout=1.0,
    key_sent=True,
)
USER = [{"role": "user", "content": "Say hi"}]


# --- the providers file -------------------------------------------------------------------------


def test_a_full_providers_file() -> None:
    data = b"""\
default: local
providers:
  local:
    base_url: http://127.0.0.1:8000/v1/
    timeout: 5
  openai:
    base_url: https://api.openai.com/v1
    api_key_env: OPENAI_API_KEY
    prices:
      gpt-4o: {input: 2.50, output: 10}
"""
    found = parse_providers(data, path="providers.yaml")
    assert found.default == "local"
    assert found.providers["local"].base_url == "http://127.0.0.1:8000/v1"
    assert found.providers["local"].timeout == 5.0
    assert not found.providers["local"].require_key
    openai = found.providers["openai"]
    assert openai.require_key and openai.api_key_env == "OPENAI_API_KEY"
    assert openai.prices == {"gpt-4o": Price(input=Decimal("2.5"), output=Decimal("10"))}


def test_an_empty_file_has_no_providers() -> None:
    assert parse_providers(b"", path="p").providers == {}


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        ("- a\n", ["the file must hold a mapping"]),
        ("providers: []\n", ["'providers' must map provider names"]),
        ("provider: {}\n", ["unknown key 'provider'"]),
        ("providers:\n  Bad Name:\n    base_url: http://x\n", ["a provider name uses a-z"]),
        ("providers:\n  echo:\n    base_url: http://x\n", ["'echo' is built in"]),
        ("providers:\n  a: http://x\n", ["providers.a: must be a mapping"]),
        ("providers:\n  a: {}\n", ["providers.a.base_url: must be an http:// or https://"]),
        (
            "providers:\n  a: {base_url: 'http://x', api_key: k, api_key_env: K}\n",
            ["give api_key or api_key_env, not both"],
        ),
        (
            "providers:\n  a: {base_url: 'http://x', api_key_env: 'not a name', timeout: 0}\n",
            ["api_key_env: must be the name", "timeout: must be a number of seconds above 0"],
        ),
        (
            "providers:\n  a: {base_url: 'http://x', prices: {m: {input: -1, output: 1}, q: 3}}\n",
            ["providers.a.prices.m: must be", "providers.a.prices.q: must be"],
        ),
        ("default: 3\nproviders: {}\n", ["'default' must be the name of a provider"]),
        ("providers: {a: &x {base_url: 'http://x'}, b: *x}\n", ["anchors and aliases"]),
    ],
)
def test_every_problem_of_the_file_is_named(text: str, problems: list[str]) -> None:
    with pytest.raises(InvalidConfig) as caught:
        parse_providers(text.encode(), path="providers.yaml")
    messages = [p.message for p in caught.value.problems]
    assert len(messages) == len(problems), messages
    for message, want in zip(messages, problems, strict=True):
        assert want in message
    assert all(p.file == "providers.yaml" for p in caught.value.problems)


@pytest.mark.parametrize(
    ("env", "base_url", "require_key"),
    [
        ({}, None, None),
        ({"OPENAI_API_KEY": "sk"}, "https://api.openai.com/v1", True),
        ({"OPENAI_BASE_URL": "http://127.0.0.1:8000/v1/"}, "http://127.0.0.1:8000/v1", False),
        ({"OPENAI_BASE_URL": "http://h/v1", "OPENAI_API_KEY": "sk"}, "http://h/v1", False),
    ],
)
def test_environment_provider(
    env: dict[str, str], base_url: str | None, require_key: bool | None
) -> None:
    found = with_env(Providers(), env).providers.get("openai")
    assert (found and found.base_url, found and found.require_key) == (
        base_url,
        require_key,
    )


def test_the_file_own_openai_wins_over_the_environment() -> None:
    own = Provider(name="openai", base_url="http://gateway/v1")
    merged = with_env(Providers(providers={"openai": own}), {"OPENAI_API_KEY": "sk"})
    assert merged.providers["openai"] is own


def test_a_default_that_names_no_provider_is_refused() -> None:
    with pytest.raises(InvalidConfig, match="'default' names 'nope'"):
        with_env(Providers(default="nope", source="p.yaml"), {})


# --- model names --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "providers", "target"),
    [
        ("keyed:m", PROVIDERS, ("keyed", "m")),
        ("m", PROVIDERS, ("local", "m")),
        ("llama3:8b", PROVIDERS, ("local", "llama3:8b")),
        ("local:llama3:8b", PROVIDERS, ("local", "llama3:8b")),
        ("echo", PROVIDERS, ("echo", "echo")),
        ("echo:anything", PROVIDERS, ("echo", "anything")),
        ("m", Providers(providers={"keyed": KEYED}), ("keyed", "m")),
        ("m", Providers(providers={"local": LOCAL, "keyed": KEYED}), ("openai", "m")),
        ("m", Providers(), ("openai", "m")),
    ],
)
def test_model_names(spec: str, providers: Providers, target: tuple[str, str]) -> None:
    found = parse_target(spec, providers)
    assert (found.provider, found.model) == target


@pytest.mark.parametrize(
    ("target", "label"),
    [(("echo", "echo"), "echo"), (("echo", "x"), "echo:x"), (("a", "b"), "a:b")],
)
def test_labels(target: tuple[str, str], label: str) -> None:
    assert str(Target(provider=target[0], model=target[1])) == label


# --- requests -----------------------------------------------------------------------------------


def test_request_for_a_provider_with_a_key() -> None:
    request = build_request(
        Target(provider="keyed", model="m"),
        USER,
        {"temperature": 0.5},
        providers=PROVIDERS,
        env={"K": "secret"},
    )
    assert request.url == "https://llm.example/v1/chat/completions"
    assert request.headers["Authorization"] == "Bearer secret"
    assert request.body == {"model": "m", "messages": USER, "temperature": 0.5}
    assert request.timeout == 60.0
    assert "secret" not in repr(request)


def test_timeout_comes_from_the_option_then_the_provider() -> None:
    slow = Provider(name="slow", base_url="http://x", timeout=9.0)
    providers = Providers(providers={"slow": slow})
    target = Target(provider="slow", model="m")
    assert build_request(target, USER, {}, providers=providers, env={}).timeout == 9.0
    assert build_request(target, USER, {}, providers=providers, env={}, timeout=2).timeout == 2


@pytest.mark.parametrize(
    ("target", "kind", "detail"),
    [
        (("keyed", "m"), "no-key", "the environment variable K is not set"),
        (("gone", "m"), "not-configured", "no such provider is configured"),
    ],
)
def test_requests_that_cannot_be_sent(target: tuple[str, str], kind: str, detail: str) -> None:
    with pytest.raises(ProviderError) as caught:
        build_request(
            Target(provider=target[0], model=target[1]), USER, {}, providers=PROVIDERS, env={}
        )
    assert caught.value.kind == kind
    assert caught.value.message.startswith(f"provider {target[0]!r}, model 'm': ")
    assert caught.value.message.endswith(detail)


def test_a_call_that_cannot_be_sent_does_not_stop_the_others() -> None:
    calls = plan_calls(["keyed:m", "m", "echo"], USER, {}, providers=PROVIDERS, env={})
    assert [c.error.kind if c.error else None for c in calls] == ["no-key", None, None]
    assert calls[1].request is not None
    assert calls[2].reply is not None and calls[2].reply.text == "Say hi"


# --- answers ------------------------------------------------------------------------------------


def completion(content: Any = "Hi", usage: Any = None, **extra: Any) -> bytes:
    data: dict[str, Any] = {
        "choices": [{"message": {"role": "assistant", "content": content}, "finish_reason": "stop"}]
    }
    if usage is not None:
        data["usage"] = usage
    return json.dumps({**data, **extra}).encode()


def test_a_completion_with_usage() -> None:
    usage = {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}
    reply = read_reply(REQUEST, 200, {}, completion(usage=usage), now=NOW)
    assert reply.text == "Hi" and reply.finish_reason == "stop"
    assert reply.usage == Usage(prompt_tokens=3, completion_tokens=4, total_tokens=7)


def test_usage_may_be_absent_and_a_total_is_computed() -> None:
    assert read_reply(REQUEST, 200, {}, completion(), now=NOW).usage is None
    usage = {"prompt_tokens": 3, "completion_tokens": 4}
    found = read_reply(REQUEST, 200, {}, completion(usage=usage), now=NOW).usage
    assert found is not None and found.total_tokens == 7


def test_null_content_is_an_empty_answer() -> None:
    assert read_reply(REQUEST, 200, {}, completion(content=None), now=NOW).text == ""


@pytest.mark.parametrize(
    ("status", "headers", "body", "kind", "detail"),
    [
        (401, {}, b'{"error": {"message": "bad key"}}', "unauthorized", "the API key was refused (HTTP 401): bad key"),
        (403, {}, b'{"error": "no access"}', "unauthorized", "(HTTP 403): no access"),
        (429, {"retry-after": "12"}, b"{}", "rate-limited", "rate limited (HTTP 429); retry after 12 s: {}"),
        (429, {"retry-after-ms": "1500"}, b"", "rate-limited", "retry after 1.5 s: (empty)"),
        (429, {}, b"slow down", "rate-limited", "rate limited (HTTP 429): slow down"),
        (500, {}, b'{"error": {"message": "boom"}}', "server-error", "the server failed (HTTP 500): boom"),
        (503, {}, b"x" * 500, "server-error", "x" * 197 + "..."),
        (400, {}, b'{"error": {"message": "bad temperature"}}', "http-error", "refused (HTTP 400): bad temperature"),
        (200, {}, b'{"error": {"message": "quota"}}', "http-error", "refused (HTTP 200): quota"),
        (200, {}, b"\xff\xfe", "malformed", "the answer is not JSON"),
        (200, {}, b"[]", "malformed", "not a chat completion"),
        (200, {}, b'{"choices": []}', "malformed", "not a chat completion"),
        (200, {}, b'{"choices": [{"text": "old API"}]}', "malformed", "not a chat completion"),
        (200, {}, completion(content=["parts"]), "malformed", "content is not text"),
        (200, {}, completion(usage={"prompt_tokens": -1, "completion_tokens": 2}), "malformed", "'usage' does not hold token counts"),
        (200, {}, completion(usage=[1, 2]), "malformed", "'usage' does not hold token counts"),
    ],
)  # fmt: skip
def test_answers_that_are_failures(
    status: int, headers: dict[str, str], body: bytes, kind: str, detail: str
) -> None:
    with pytest.raises(ProviderError) as caught:
        read_reply(REQUEST, status, headers, body, now=NOW)
    assert caught.value.kind == kind
    assert caught.value.message.startswith("provider 'local', model 'm': ")
    assert detail in caught.value.message
    assert caught.value.hint


def test_no_key_sent_is_said_so() -> None:
    anonymous = ChatRequest(
        target=REQUEST.target, url=REQUEST.url, headers={}, body={}, timeout=1, key_sent=False
    )
    with pytest.raises(ProviderError, match=r"no API key was sent \(HTTP 401\)"):
        read_reply(anonymous, 401, {}, b"", now=NOW)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (None, None),
        ("", None),
        ("30", 30.0),
        ("0.5", 0.5),
        ("-3", 0.0),
        ("Sun, 29 Nov 2026 12:01:30 GMT", 90.0),
        ("Sun, 29 Nov 2026 11:00:00 GMT", 0.0),
        ("soon", None),
        ("nan", None),
    ],
)
def test_retry_after(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, NOW) == seconds


# --- cost and echo ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "completion_tokens", "price", "cost"),
    [
        (1000, 500, ("2.5", "10"), Decimal("0.0075")),
        (1, 1, ("0.15", "0.6"), Decimal("0.00000075")),
        (0, 0, ("2.5", "10"), Decimal(0)),
        (1_000_000, 1_000_000, ("3", "15"), Decimal(18)),
    ],
)
def test_cost_is_exact(
    prompt: int, completion_tokens: int, price: tuple[str, str], cost: Decimal
) -> None:
    usage = Usage(
        prompt_tokens=prompt,
        completion_tokens=completion_tokens,
        total_tokens=prompt + completion_tokens,
    )
    found = estimate_cost(usage, Price(input=Decimal(price[0]), output=Decimal(price[1])))
    assert found == cost


def test_cost_is_unknown_without_tokens_or_price() -> None:
    usage = Usage(prompt_tokens=1, completion_tokens=1, total_tokens=2)
    assert estimate_cost(usage, None) is None
    assert estimate_cost(None, Price(input=Decimal(1), output=Decimal(1))) is None


def test_echo_returns_the_resolved_prompt() -> None:
    assert echo_reply(USER).text == "Say hi"
    chat = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi there"}]
    reply = echo_reply(chat)
    assert reply.text == "[system]\nBe brief.\n\n[user]\nHi there"
    assert reply.usage == Usage(prompt_tokens=4, completion_tokens=6, total_tokens=10)


# --- parameters and models ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metadata", "overrides", "found"),
    [
        ({}, {}, {}),
        ({"model": "m", "owner": "team", "temperature": 0.2}, {}, {"temperature": 0.2}),
        ({"temperature": 0.2, "max_tokens": 9}, {"temperature": 1}, {"temperature": 1, "max_tokens": 9}),
        ({"temperature": 0.2}, {"temperature": None}, {}),
        ({}, {"stop": "END", "logit_bias": "x"}, {"stop": "END", "logit_bias": "x"}),
        ({"stop": ["a", "b"], "seed": 4}, {}, {"stop": ["a", "b"], "seed": 4}),
    ],
)  # fmt: skip
def test_parameters(
    metadata: dict[str, Any], overrides: dict[str, Any], found: dict[str, Any]
) -> None:
    assert model_parameters(metadata, overrides) == found


def test_bad_parameters_are_all_named() -> None:
    with pytest.raises(InputError) as caught:
        model_parameters(
            {"temperature": "warm", "max_tokens": 1.5, "stop": [1]},
            {"n": 2, "top_p": -1, "seed": "x", "presence_penalty": True},
        )
    lines = caught.value.message.splitlines()[1:]
    assert [line.split(":")[0].strip() for line in lines] == [
        "metadata temperature",
        "metadata max_tokens",
        "metadata stop",
        "--param n",
        "--param top_p",
        "--param seed",
        "--param presence_penalty",
    ]


@pytest.mark.parametrize(
    ("models", "metadata", "found"),
    [
        (("a", "b"), {"model": "m"}, ("a", "b")),
        ((), {"model": "m"}, ("m",)),
    ],
)
def test_models_to_run(
    models: tuple[str, ...], metadata: dict[str, Any], found: tuple[str, ...]
) -> None:
    assert models_to_run(models, metadata) == found


@pytest.mark.parametrize(
    ("models", "metadata", "message"),
    [
        ((), {}, "no model to run"),
        ((), {"model": 4}, "no model to run"),
        (tuple(f"m{i}" for i in range(11)), {}, "11 models given"),
    ],
)
def test_models_to_run_refusals(
    models: tuple[str, ...], metadata: dict[str, Any], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        models_to_run(models, metadata)
