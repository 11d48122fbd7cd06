"""The answers of one served commit, prepared once: bytes and a strong ETag per prompt, the
listing and the export bundle; a new commit's answers are the old ones with the prompts it
changed prepared again.

An ETag is a hash of the answer's bytes, so it changes exactly when the answer does, on every
replica alike: a promotion of one prompt leaves every other prompt's ETag as it was. Answers
that only some requests ask for (a version by number, ``latest``, a history) are read on first
request and kept for the commit, within a memory budget.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from ..catalog import load_info, version_numbers
from ..check.tree import PromptFiles
from ..errors import PromptshipError
from ..model import PromptInfo
from ..names import pointer_path, prompt_dir
from ..read.export import entry_json, entry_text, join_bundle
from ..read.versions import PromptVersion, SnapshotReader, prompt_version
from ..snapshot import Tree
from .errors import error_body, status_of

__all__ = [
    "Answer",
    "Lazy",
    "PreparedPrompt",
    "Served",
    "answer_json",
    "prepare_checked",
    "prepare_prompt",
    "version_answer",
]

_LAZY_BUDGET = 64 << 20
_ANSWER = orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE
"""Answers are JSON with sorted keys and a final line break, which a terminal shows whole."""


JSON_TYPE = (b"content-type", b"application/json")


@dataclass(frozen=True, slots=True)
class Answer:
    """A response body with its strong ETag, its status, and its headers ready to send."""

    body: bytes
    etag: str
    status: int = 200
    headers: tuple[tuple[bytes, bytes], ...] = ()

    @classmethod
    def of(cls, body: bytes, status: int = 200, etag: str | None = None) -> Answer:
        etag = etag or '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'
        headers = ((b"etag", etag.encode()), JSON_TYPE, (b"content-length", b"%d" % len(body)))
        return cls(body, etag, status, headers)

    @classmethod
    def refusal(cls, error: PromptshipError) -> Answer:
        return cls.of(error_body(error), status_of(error))


def answer_json(version: PromptVersion) -> dict[str, Any]:
    """A version as the server answers it: the export bundle's fields, and its status."""
    data = version.to_json()
    data["name"] = data.pop("prompt")
    return data


def version_answer(version: PromptVersion) -> Answer:
    return Answer.of(orjson.dumps(answer_json(version), option=_ANSWER))


@dataclass(frozen=True, kw_only=True, slots=True)
class PreparedPrompt:
    """One prompt's part of the answers: its row of the listing, its production answer and its
    text in the export bundle (``None`` without a production version), and the id of its
    ``production.yaml`` (the same id, the same production answer) and of its folder."""

    name: str
    row: bytes
    production: Answer | None
    export: bytes | None
    pointer: str | None
    version: int | None
    digest: str | None
    folder: str | None = None
    """The tree id of the prompt's folder: the same id, the same files, the same answers."""


def prepare_prompt(snapshot: Tree, reader: SnapshotReader, name: str) -> PreparedPrompt:
    """``name``'s answers in ``snapshot`` (read through ``reader``, which remembers)."""
    pointer = snapshot.object_id(pointer_path(name))
    return _prepared(
        snapshot,
        name,
        load_info(snapshot, name),
        version_numbers(snapshot, name),
        reader.get(name) if pointer is not None else None,
    )


def prepare_checked(snapshot: Tree, files: PromptFiles) -> PreparedPrompt:
    """The answers of a prompt folder that passed the tree rules, from the files the check
    read and parsed (none is read again). The rules guarantee what ``prepare_prompt`` would
    otherwise check: ``prompt.yaml`` read, every version readable, and the production version
    the pointer names published and holding what was promoted."""
    assert files.info is not None and not files.problems
    pointer = files.pointer
    version = files.versions.get(pointer.version) if pointer is not None else None
    assert pointer is None or version is not None
    return _prepared(
        snapshot,
        files.name,
        files.info,
        sorted(files.versions),
        prompt_version(version, pointer) if version is not None else None,
    )


def _prepared(
    snapshot: Tree,
    name: str,
    info: PromptInfo,
    numbers: list[int],
    production: PromptVersion | None,
) -> PreparedPrompt:
    row = {
        "name": name,
        "description": info.description,
        "tags": list(info.tags),
        "latest_version": numbers[-1] if numbers else None,
        "production_version": production.version if production else None,
        "production_digest": production.digest if production else None,
    }
    return PreparedPrompt(
        name=name,
        row=orjson.dumps(row, option=orjson.OPT_SORT_KEYS),
        production=version_answer(production) if production else None,
        export=entry_text(entry_json(production)) if production else None,
        pointer=snapshot.object_id(pointer_path(name)),
        version=production.version if production else None,
        digest=production.digest if production else None,
        folder=snapshot.object_id(prompt_dir(name)),
    )


class Lazy:
    """Answers computed on first request and kept for one commit, the least recently used
    dropped past a byte budget. Computing may read git: callers run it off the event loop."""

    def __init__(self, compute: Callable[[tuple[str, ...]], Answer]) -> None:
        self._compute = compute
        self._kept: OrderedDict[tuple[str, ...], Answer] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def cached(self, key: tuple[str, ...]) -> Answer | None:
        with self._lock:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
            return found

    def get(self, key: tuple[str, ...]) -> Answer:
        found = self.cached(key)
        if found is not None:
            return found
        answer = self._compute(key)
        with self._lock:
            if key not in self._kept and len(answer.body) <= _LAZY_BUDGET // 4:
                self._kept[key] = answer
                self._size += len(answer.body)
                while self._size > _LAZY_BUDGET:
                    _, dropped = self._kept.popitem(last=False)
                    self._size -= len(dropped.body)
        return answer


class Served:
    """Everything answered for one commit. Immutable once built: a new commit gets a new one,
    swapped in one step, so a request sees one commit from start to end."""

    def __init__(
        self,
        commit: str,
        prompts: Mapping[str, PreparedPrompt],
        lazy: Lazy,
    ) -> None:
        self.commit = commit
        self.commit_header = (b"x-promptship-commit", commit.encode())
        self.prompts = prompts
        self.lazy = lazy
        self.production: dict[str, Answer] = {
            n: p.production for n, p in prompts.items() if p.production is not None
        }
        self._whole: tuple[Answer, Answer] | None = None
        self._whole_lock = threading.Lock()

    @property
    def listing(self) -> Answer:
        """Every prompt's row, by name."""
        return self._answers_of_all()[0]

    @property
    def export(self) -> Answer:
        """The export bundle."""
        return self._answers_of_all()[1]

    @property
    def warmed(self) -> bool:
        return self._whole is not None

    def warm(self) -> None:
        """Build the answers about every prompt now, off the event loop: they are joined from
        every prompt's part, which takes tens of milliseconds at 10,000 prompts, so a new
        commit's event goes out first and they are built while it travels."""
        self._answers_of_all()

    def _answers_of_all(self) -> tuple[Answer, Answer]:
        with self._whole_lock:
            if self._whole is None:
                ordered = [self.prompts[n] for n in sorted(self.prompts)]
                listing = Answer.of(b'{"prompts":[' + b",".join(p.row for p in ordered) + b"]}\n")
                # The bundle names its commit: one commit, one bundle, so the commit is its ETag.
                bundle = join_bundle(
                    self.commit, [p.export for p in ordered if p.export is not None]
                )
                self._whole = (listing, Answer.of(bundle, etag=f'"{self.commit}"'))
            return self._whole

    def advance(
        self,
        commit: str,
        changes: Mapping[str, PreparedPrompt | None],
        lazy: Lazy,
    ) -> Served:
        """The answers of ``commit``, which changed (or removed: ``None``) ``changes``."""
        prompts = dict(self.prompts)
        for name, prepared in changes.items():
            if prepared is None:
                prompts.pop(name, None)
            else:
                prompts[name] = prepared
        return Served(commit, prompts, lazy)

    def production_changes(
        self, after: Served, names: Iterable[str] | None = None
    ) -> list[PreparedPrompt | str]:
        """The prompts (among ``names``, default all) whose production answer differs in
        ``after``: the prepared prompt, or its name when it left production or the registry."""
        changed: list[PreparedPrompt | str] = []
        for name in sorted(
            names if names is not None else self.prompts.keys() | after.prompts.keys()
        ):
            old, new = self.prompts.get(name), after.prompts.get(name)
            if (old.pointer if old else None) == (new.pointer if new else None):
                continue
            changed.append(new if new is not None and new.production is not None else name)
        return changed


def event_items(changes: Iterable[PreparedPrompt | str], *, with_answers: bool) -> bytes:
    """The ``changed`` list of a commit event as JSON: name, version and digest of each prompt
    whose production changed (``null`` when it has none now), and with ``with_answers`` its new
    answer under ``prompt``, so a client needs no second request."""
    parts = []
    for change in changes:
        if isinstance(change, str):
            item = {"name": change, "version": None, "digest": None}
            if with_answers:
                item["prompt"] = None
            parts.append(orjson.dumps(item, option=orjson.OPT_SORT_KEYS))
            continue
        head = orjson.dumps(
            {"digest": change.digest, "name": change.name}, option=orjson.OPT_SORT_KEYS
        )[:-1]
        tail = b',"version":' + orjson.dumps(change.version) + b"}"
        # An event's data is one line: the answer without its final line break.
        answer = change.production.body.rstrip(b"\n") if change.production else b"null"
        parts.append(head + (b',"prompt":' + answer if with_answers else b"") + tail)
    return b"[" + b",".join(parts) + b"]"
