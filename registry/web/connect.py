"""The registry a ``promptship serve`` serves, held in memory: ``Registry.connect(url)``.

Production versions are answered from memory: the export bundle read when connecting (or the
fallback bundle, when the server cannot be reached), kept up to date by the server's event stream
in a background thread. Each ``commit`` event is applied only on top of the commit it was made
from, and swaps in the new prompts in one step; an event from another base, or one that does not
carry its prompts, makes the client read the whole bundle again. Through an outage the last known
prompts stay, and the stream is retried with jittered backoff, sending ``Last-Event-ID`` so the
server answers with what changed meanwhile. A ``Last-Event-ID`` the server does not know (a
replica that has not fetched it yet, or another repository) is answered ``409 UnknownCommit``:
the client retries a few times, then reads the whole bundle again.

Other versions (``label="latest"``, ``version=N``) are asked of the server on first use and kept
until the next commit. No git, no disk: it needs only ``promptship[connect]`` (httpx, httpx-sse).
"""

from __future__ import annotations

import json
import logging
import os
import random
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import (
    InputError,
    InvalidBundle,
    InvalidName,
    MissingExtra,
    NoProductionVersion,
    Problem,
    PromptNotFound,
    PromptshipError,
    ServerUnreachable,
    VersionNotFound,
)
from ..model import Pointer, digest_of
from ..read.export import entry_version, load_bundle
from ..read.versions import PromptVersion, prompt_version, selector

if TYPE_CHECKING:
    import httpx

    from ..templates import Rendered

__all__ = ["ConnectedRegistry"]

_log = logging.getLogger(__name__)

BACKOFF_SECONDS = 0.5
BACKOFF_CAP = 30.0
STREAM_IDLE_SECONDS = 60.0
"""The server pings every 15 s; a stream silent this long is taken as dead and reconnected."""
UNKNOWN_RETRIES = 3
"""Reconnections with an unknown Last-Event-ID before reading the whole bundle again."""

OnChange = Callable[[str, Sequence[str]], None]


@dataclass(frozen=True, kw_only=True, slots=True)
class _State:
    """The prompts of one commit: production entries as served (turned into ``PromptVersion``
    on first use), and other answers asked for since."""

    commit: str | None
    entries: Mapping[str, Mapping[str, Any]]
    versions: dict[str, PromptVersion] = field(default_factory=dict)
    others: dict[tuple[str, str, str], PromptVersion | PromptshipError] = field(
        default_factory=dict
    )


class ConnectedRegistry:
    """The same ``get`` and ``render`` as ``Registry``, answered from memory and following a
    server. Safe to share between threads; call ``close()`` (or use ``with``) when done."""

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        fallback: str | os.PathLike[str] | None = None,
        on_change: OnChange | None = None,
        timeout: float = 10.0,
    ) -> None:
        try:
            import httpx
            import httpx_sse  # noqa: F401  (checked here, used by the follower)
        except ImportError:
            raise MissingExtra("httpx-sse", "connect", "Registry.connect") from None
        self.url = url.rstrip("/")
        self.on_change = on_change
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client = httpx.Client(
            base_url=self.url,
            headers=headers,
            timeout=httpx.Timeout(timeout, read=STREAM_IDLE_SECONDS),
        )
        self._stop = threading.Event()
        self._connected = threading.Event()
        self.source = "server"
        try:
            self._state = self._read_bundle()
        except ServerUnreachable:
            if fallback is None:
                self._client.close()
                raise
            self._state = _fallback(fallback)
            self.source = "fallback"
        self._thread = threading.Thread(target=self._follow, name="promptship-connect", daemon=True)
        self._thread.start()

    # -- reading ---------------------------------------------------------------------------

    @property
    def commit(self) -> str | None:
        """The commit every answer currently comes from."""
        return self._state.commit

    @property
    def connected(self) -> bool:
        """Whether the event stream is open right now (answers come from memory either way)."""
        return self._connected.is_set()

    def get(
        self, name: str, *, label: str | None = None, version: int | str | None = None
    ) -> PromptVersion:
        """The production version of ``name`` (from memory); ``label="latest"`` or
        ``version=N`` as ``Registry.get`` (asked of the server on first use)."""
        state = self._state
        chosen = selector(name, label, version)
        if chosen.version is None and chosen.label == "production":
            found = state.versions.get(chosen.prompt)
            if found is not None:
                return found
            entry = state.entries.get(chosen.prompt)
            if entry is not None:
                found = state.versions[chosen.prompt] = _version_of(entry)
                return found
        key = (
            chosen.prompt,
            "latest" if chosen.label == "latest" else "",
            str(chosen.version or ""),
        )
        answer = state.others.get(key)
        if answer is None:
            answer = state.others[key] = self._ask(*key)
        if isinstance(answer, PromptshipError):
            raise answer
        return answer

    def render(
        self,
        name: str,
        variables: Mapping[str, Any] | None = None,
        *,
        label: str | None = None,
        version: int | str | None = None,
    ) -> Rendered:
        """``get(name, ...)`` with its variables filled in, rendered here."""
        return self.get(name, label=label, version=version).render(**(variables or {}))

    def names(self) -> list[str]:
        """The prompts with a production version, sorted."""
        return sorted(self._state.entries)

    def production_versions(self) -> list[PromptVersion]:
        return [self.get(name) for name in self.names()]

    def close(self) -> None:
        """Stop following the server."""
        self._stop.set()
        self._client.close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ConnectedRegistry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Registry.connect({self.url!r}, commit={self.commit!r})"

    # -- talking to the server -------------------------------------------------------------

    def _read_bundle(self) -> _State:
        response = self._request("/v1/export")
        bundle = load_bundle(response.content, source=f"{self.url}/v1/export")
        entries = {e["name"]: e for e in bundle["prompts"]}
        return _State(commit=bundle["commit"], entries=entries)

    def _request(self, path: str, params: Mapping[str, str] | None = None) -> httpx.Response:
        import httpx

        try:
            response = self._client.get(path, params=params)
        except httpx.HTTPError as exc:
            raise ServerUnreachable(self.url, str(exc) or type(exc).__name__) from None
        if response.status_code >= 500 or response.status_code in (401, 403):
            raise ServerUnreachable(self.url, _said(response))
        return response

    def _ask(self, name: str, label: str, version: str) -> PromptVersion | PromptshipError:
        params = {k: v for k, v in (("label", label), ("version", version)) if v}
        response = self._request(f"/v1/prompts/{name}", params)
        if response.status_code != 200:
            return _error_of(response)
        return _version_of(response.json())

    def _follow(self) -> None:
        """Read the event stream until closed, reconnecting with jittered backoff."""
        import httpx
        from httpx_sse import connect_sse

        attempt = 0
        unknown = 0
        while not self._stop.is_set():
            commit = self._state.commit
            headers = {"Last-Event-ID": commit} if commit and unknown <= UNKNOWN_RETRIES else {}
            try:
                with connect_sse(self._client, "GET", "/v1/events", headers=headers) as source:
                    status = source.response.status_code
                    if status == 409:
                        unknown += 1
                        if unknown > UNKNOWN_RETRIES:
                            self._resync()
                            unknown = 0
                        raise _Retry
                    if status != 200:
                        raise _Retry
                    self._connected.set()
                    attempt = 0
                    for event in source.iter_sse():
                        if self._stop.is_set():
                            return
                        if event.event == "commit":
                            unknown = 0
                            self._apply(json.loads(event.data))
            except (_Retry, httpx.HTTPError, PromptshipError, ValueError):
                pass
            except Exception:  # a bug must not end the thread: the prompts would go stale
                _log.exception("following %s failed", self.url)
            self._connected.clear()
            attempt += 1
            self._stop.wait(random.uniform(0, min(BACKOFF_CAP, BACKOFF_SECONDS * 2**attempt)))

    def _apply(self, event: Mapping[str, Any]) -> None:
        state = self._state
        commit = event.get("commit")
        if not isinstance(commit, str) or commit == state.commit:
            return
        changed = event.get("changed") or []
        if event.get("base") != state.commit or not event.get("complete", False):
            self._resync()
            return
        entries = dict(state.entries)
        for item in changed:
            answer = item.get("prompt")
            if answer is None:
                entries.pop(item["name"], None)
            else:
                _version_of(answer)  # refuse the event before swapping, not on first use
                entries[item["name"]] = answer
        self._swap(_State(commit=commit, entries=entries), [item["name"] for item in changed])

    def _resync(self) -> None:
        old = self._state
        new = self._read_bundle()
        if new.commit == old.commit:
            return
        names = sorted(
            n
            for n in old.entries.keys() | new.entries.keys()
            if old.entries.get(n) != new.entries.get(n)
        )
        self._swap(new, names)

    def _swap(self, state: _State, names: Sequence[str]) -> None:
        self._state = state
        self.source = "server"
        if self.on_change is not None and state.commit is not None:
            try:
                self.on_change(state.commit, list(names))
            except Exception:
                _log.exception("on_change raised")


class _Retry(Exception):
    pass


def _fallback(path: str | os.PathLike[str]) -> _State:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise InputError(
            f"cannot read the fallback bundle {os.fspath(path)}: {exc.strerror}",
            hint="give the path of a file written by 'promptship export --out FILE'",
        ) from None
    bundle = load_bundle(data, source=os.fspath(path))
    return _State(commit=bundle["commit"], entries={e["name"]: e for e in bundle["prompts"]})


def _version_of(answer: Mapping[str, Any]) -> PromptVersion:
    """A version as the server answered it (or as the bundle holds it), checked as its file
    would be and against its digest."""
    name = str(answer.get("name"))
    status = str(answer.get("status", "published"))
    try:
        version = entry_version(answer, status=status)
    except PromptshipError as exc:
        raise _bad(name, "bundle-format", exc.message) from None
    if digest_of(version.to_mapping()) != answer.get("digest"):
        raise _bad(name, "digest", "the digest does not match the content: it was changed")
    pointer = None
    if answer.get("promoted_at") is not None or status == "published":
        pointer = Pointer(
            prompt=name,
            version=version.version,
            digest=version.digest,
            promoted_at=str(answer.get("promoted_at")),
            promoted_by=str(answer.get("promoted_by")),
        )
    return prompt_version(version, pointer if answer.get("is_production", True) else None)


def _bad(name: str, rule: str, message: str) -> InvalidBundle:
    """A server's answer that does not verify, refused as a bundle entry would be."""
    return InvalidBundle("the server's answer", [Problem(file=name, rule=rule, message=message)])


def _said(response: httpx.Response) -> str:
    try:
        error = response.json()["error"]
        return f"{response.status_code} {error['type']}: {error['message']}"
    except (ValueError, KeyError, TypeError):
        return f"{response.status_code} {response.reason_phrase}"


def _error_of(response: httpx.Response) -> PromptshipError:
    """The typed error a refusal of the server names."""
    try:
        error = response.json()["error"]
        kind, message, hint = error["type"], error["message"], error.get("hint", "")
    except (ValueError, KeyError, TypeError):
        return PromptshipError(f"the server answered {response.status_code}", hint="")
    prompt = error.get("prompt", "")
    if kind == "PromptNotFound":
        return PromptNotFound(prompt)
    if kind == "NoProductionVersion":
        return NoProductionVersion(prompt)
    if kind == "VersionNotFound":
        return VersionNotFound(prompt, int(error.get("version", 0)))
    if kind == "InvalidName":
        return InvalidName(error.get("name", prompt), error.get("reason", message))
    if kind == "InputError":
        return InputError(message, hint=hint)
    return PromptshipError(message, hint=hint)
