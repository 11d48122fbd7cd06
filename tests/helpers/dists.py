"""promptship as its users get it: the sdist and the wheel built from this checkout, and fresh
virtual environments to install them in."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Dists:
    sdist: Path
    wheel: Path
    log: str
    """What the build printed, warnings included."""


def build_dists(out: Path, source: Path = ROOT) -> Dists:
    """``python -m build`` of ``source``: the sdist, then the wheel built from that sdist, each
    in an isolated environment, as a release is built."""
    done = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    [sdist] = out.glob("*.tar.gz")
    [wheel] = out.glob("*.whl")
    return Dists(sdist=sdist, wheel=wheel, log=done.stdout + done.stderr)


def fresh_venv(path: Path) -> Path:
    """A new virtual environment with pip and nothing else; returns its scripts folder."""
    venv.EnvBuilder(with_pip=True).create(path)
    return path / ("Scripts" if os.name == "nt" else "bin")


def path_with(scripts: Path) -> dict[str, str]:
    """The environment with ``scripts`` first on the PATH, and no virtual environment active."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = f"{scripts}{os.pathsep}{env['PATH']}"
    return env


def run(
    args: list[str], *, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
