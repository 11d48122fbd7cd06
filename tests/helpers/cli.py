"""promptship's command line in tests: in process through its real exit point, or as a real
subprocess as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    stdout_bytes: bytes
    stderr_bytes: bytes

    @property
    def stdout(self) -> str:
        return self.stdout_bytes.decode()

    @property
    def stderr(self) -> str:
        return self.stderr_bytes.decode()

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@dataclass
class Cli:
    """Runs promptship in process through its real exit point (click's CliRunner isolation)."""

    path: Path

    def __call__(self, *args: str, input: str | None = None) -> Outcome:
        from cli.main import main

        runner = CliRunner()
        with runner.isolation(input=input) as (out, err, _):
            status = main(["--repo", str(self.path), *args])
        return Outcome(status, out.getvalue(), err.getvalue())

    def ok(self, *args: str, input: str | None = None) -> Outcome:
        result = self(*args, input=input)
        assert result.exit_code == 0, result.output
        return result


def run_main(path: Path, *args: str) -> tuple[int, str, str]:
    """Runs the real exit point in process: (status, stdout, stderr)."""
    outcome = Cli(path)(*args)
    return outcome.exit_code, outcome.stdout, outcome.stderr


def promptship(
    cwd: Path, *args: str, input: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Runs promptship as a real subprocess, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        input=input,
        env={**os.environ, **(env or {})},
        check=False,
    )
