"""Evidence of a bug: an unexpected error's traceback, with the versions of everything involved,
kept in a crash log a bug report can carry.

The log is ``promptship/crash.log`` in the user's cache folder (``$XDG_CACHE_HOME``, else
``~/.cache``), written anew by each crash, as pre-commit keeps its ``pre-commit.log``: a clone may
be read-only or not there at all when the error happens.
"""

from __future__ import annotations

import os
import platform
import sys
import traceback
from collections.abc import Sequence
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

__all__ = ["crash_log_path", "crash_report", "write_crash_log"]


def crash_log_path() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "promptship" / "crash.log"


def crash_report(exc: BaseException, argv: Sequence[str]) -> str:
    """The traceback of ``exc``, the command that raised it, and the versions in use."""
    from registry.git.diagnostics import git_versions

    try:
        ours = metadata.version("promptship")
    except metadata.PackageNotFoundError:
        ours = "not installed (running from a source tree)"
    versions = {
        "promptship": ours,
        "python": sys.version.replace("\n", " "),
        "platform": platform.platform(),
        **git_versions(),
    }
    lines = [
        f"promptship crash report, {datetime.now(timezone.utc):%Y-%m-%dT%H:%M:%SZ}",
        "command: promptship " + " ".join(argv),
        "",
        *(f"{name}: {value}" for name, value in versions.items()),
        "",
        "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip(),
    ]
    return "\n".join(lines) + "\n"


def write_crash_log(report: str) -> Path | str:
    """Write ``report`` to the crash log: its path, or why it could not be written."""
    path = crash_log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(report, encoding="utf-8")
    except OSError as exc:
        return f"could not be written to {path}: {exc.strerror or exc}"
    return path
