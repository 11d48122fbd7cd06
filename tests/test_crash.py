"""A bug (exit 3) leaves evidence: a crash log with the traceback and the versions of
promptship, Python, pygit2, libgit2 and git, named in the message; on stderr too with
PROMPTSHIP_TRACEBACK=1."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.cli import Cli


def _break_show(monkeypatch: pytest.MonkeyPatch) -> None:
    """An unexpected error inside a command, as a bug would raise it."""

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the reader lost its place")

    monkeypatch.setattr("registry.read.versions.SnapshotReader.get", broken)


def _log() -> Path:
    import os

    return Path(os.environ["XDG_CACHE_HOME"]) / "promptship" / "crash.log"


def test_an_unexpected_error_writes_a_crash_log_it_names(
    sample: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    _break_show(monkeypatch)
    monkeypatch.delenv("PROMPTSHIP_TRACEBACK", raising=False)
    outcome = sample("show", "greeting")
    assert outcome.exit_code == 3
    assert outcome.stdout == ""
    log = _log()
    assert outcome.stderr.splitlines() == [
        "internal error: RuntimeError: the reader lost its place",
        "This is a bug in promptship; please report it with the command you ran and the crash "
        f"log (traceback and versions): {log}",
    ]
    text = log.read_text()
    assert f"command: promptship --repo {sample.path} show greeting" in text
    for name in ("promptship", "python", "pygit2", "libgit2"):
        assert f"\n{name}: " in text
    assert "\ngit: git version " in text
    assert "Traceback (most recent call last):" in text
    assert text.rstrip().endswith("RuntimeError: the reader lost its place")


def test_promptship_traceback_prints_the_report_on_stderr(
    sample: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    _break_show(monkeypatch)
    monkeypatch.setenv("PROMPTSHIP_TRACEBACK", "1")
    outcome = sample("show", "greeting")
    assert outcome.exit_code == 3
    assert "Traceback (most recent call last):" in outcome.stderr
    assert "\nlibgit2: " in outcome.stderr
    assert outcome.stderr.index("Traceback") < outcome.stderr.index("internal error:")
    assert _log().read_text() in outcome.stderr


def test_a_crash_log_that_cannot_be_written_says_why(
    sample: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _break_show(monkeypatch)
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    outcome = sample("show", "greeting")
    assert outcome.exit_code == 3
    assert f"crash log (traceback and versions): could not be written to {blocked}" in (
        outcome.stderr
    )
