"""Prompt folders already verified, remembered across restarts, so a restarted server checks only
the folders that changed since.

The tree rules judge a prompt folder by its files alone, and a folder's git tree id names its
files exactly: a folder with the same tree id, judged by the same promptship code, gets the same
verdict and the same answers. So the file maps tree ids of folders that passed to their prepared
answers, under a key made from promptship's own source; any other code ignores the file. It lives
in the server's cache folder and is rewritten as JSON (never a pickle: reading it runs no code).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from .served import Answer, PreparedPrompt

__all__ = ["VerifiedFolders", "code_key"]

_FORMAT = "promptship-verified/1"


def code_key() -> str:
    """A hash of promptship's source: verdicts remembered by other code are not reused."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


class VerifiedFolders:
    """The verified folders remembered in ``path`` (``None``: none are remembered)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.key = code_key() if path is not None else ""
        self._known: dict[str, PreparedPrompt] = self._load()

    def __len__(self) -> int:
        return len(self._known)

    def get(self, folder: str) -> PreparedPrompt | None:
        return self._known.get(folder)

    def _load(self) -> dict[str, PreparedPrompt]:
        if self.path is None:
            return {}
        try:
            data = orjson.loads(self.path.read_bytes())
            if data.get("format") != _FORMAT or data.get("code") != self.key:
                return {}
            return {item["folder"]: _prepared(item) for item in data["folders"]}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return {}  # no file yet, or one this code cannot use: verify from scratch

    def save(self, prompts: Mapping[str, PreparedPrompt]) -> None:
        """Remember exactly the folders of ``prompts`` (those of the commit served now)."""
        if self.path is None:
            return
        folders = [_plain(p) for p in prompts.values() if p.folder is not None]
        data = orjson.dumps({"format": _FORMAT, "code": self.key, "folders": folders})
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".verified-")
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(data)
                os.replace(temporary, self.path)
            except OSError:
                Path(temporary).unlink(missing_ok=True)
        self._known = {p.folder: p for p in prompts.values() if p.folder is not None}


def _plain(prompt: PreparedPrompt) -> dict[str, Any]:
    return {
        "folder": prompt.folder,
        "name": prompt.name,
        "row": prompt.row.decode(),
        "production": prompt.production.body.decode() if prompt.production else None,
        "export": prompt.export.decode() if prompt.export is not None else None,
        "pointer": prompt.pointer,
        "version": prompt.version,
        "digest": prompt.digest,
    }


def _prepared(item: Mapping[str, Any]) -> PreparedPrompt:
    production = item["production"]
    export = item["export"]
    return PreparedPrompt(
        name=item["name"],
        row=item["row"].encode(),
        production=Answer.of(production.encode()) if production is not None else None,
        export=export.encode() if export is not None else None,
        pointer=item["pointer"],
        version=item["version"],
        digest=item["digest"],
        folder=item["folder"],
    )
