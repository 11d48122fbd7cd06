"""Every desktop: nothing promptship imports needs a POSIX-only module, its locks go away with
the process that held them, and files are replaced and made durable in the portable way."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pygit2
import pytest

from registry.errors import RepositoryError
from registry.git import folder, lockfile
from registry.git.lockfile import held
from registry.git.worktree import locked

ROOT = Path(__file__).resolve().parent.parent


def test_every_module_imports_without_posix_only_modules() -> None:
    """As on Windows: POSIX-only modules ('fcntl', 'resource', ...) cannot be imported, and
    every module of registry and cli still can (filelock stands in with the lock Windows has)."""
    script = textwrap.dedent(
        """
        import importlib, pkgutil, sys, warnings
        for posix_only in ("fcntl", "resource", "termios", "pwd", "grp"):
            sys.modules[posix_only] = None  # what importing it finds on Windows: nothing
        warnings.simplefilter("ignore")  # filelock warns that Linux without fcntl is odd
        import registry, cli
        names = []
        for package in (registry, cli):
            for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
                if info.name.endswith(".__main__"):  # runs the command line when imported
                    continue
                importlib.import_module(info.name)
                names.append(info.name)
        imported = {m for m in sys.modules if sys.modules[m] is not None}
        assert not {"fcntl", "resource", "termios", "pwd", "grp"} & imported
        print(len(names))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 50


def busy() -> RepositoryError:
    return RepositoryError("busy", hint="wait")


@contextmanager
def holder(tmp_path: Path, holding: str) -> Iterator[subprocess.Popen[bytes]]:
    """Another process that enters the ``with`` statement ``holding`` names and waits there,
    started and (if the test has not) killed; yields once it holds the lock."""
    ready = tmp_path / "ready"
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import pathlib, time, pygit2\n"
            f"from registry.errors import RepositoryError\n"
            f"from registry.git import lockfile, worktree\n"
            f"with {holding}:\n"
            f"    pathlib.Path({str(ready)!r}).write_text('held')\n"
            f"    time.sleep(120)\n",
        ],
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_the_clones_lock_dies_with_the_process_holding_it(repo: Path, tmp_path: Path) -> None:
    holding = f"worktree.locked(pygit2.Repository({str(repo)!r}))"
    with holder(tmp_path, holding) as process:
        lock_file = Path(pygit2.Repository(str(repo)).path) / "promptship.lock"
        with pytest.raises(RepositoryError, match="busy"), held(lock_file, wait=0.2, busy=busy):
            pass
        process.send_signal(signal.SIGKILL if hasattr(signal, "SIGKILL") else signal.SIGTERM)
        process.wait(timeout=30)
        began = time.monotonic()
        with locked(pygit2.Repository(str(repo))):
            waited = time.monotonic() - began
        assert waited < 5, "the lock outlived the process that held it"


@pytest.mark.parametrize("implementation", ["held", "_held_by_filelock"])
def test_each_lock_is_exclusive_and_dies_with_its_process(
    tmp_path: Path, implementation: str
) -> None:
    """The lock of Linux and macOS (flock) and the one Windows uses (filelock, run here too):
    a second holder waits and is told the lock is busy; killing the holder frees it."""
    lock_file = tmp_path / "promptship.lock"
    holding = (
        f"lockfile.{implementation}(pathlib.Path({str(lock_file)!r}), wait=5, busy=RepositoryError)"
    )
    with holder(tmp_path, holding) as process:
        hold = getattr(lockfile, implementation)
        began = time.monotonic()
        with pytest.raises(RepositoryError, match="busy"), hold(lock_file, wait=0.3, busy=busy):
            pass
        assert time.monotonic() - began >= 0.3
        process.kill()
        process.wait(timeout=30)
        # Free now, and it excludes the other implementation too.
        with (
            hold(lock_file, wait=5, busy=busy),
            pytest.raises(RepositoryError, match="busy"),
            held(lock_file, wait=0, busy=busy),
        ):
            pass


def test_write_atomic_fsyncs_the_file_then_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "prompt.yaml"
    target.write_bytes(b"old\n")
    synced: list[str] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        synced.append("folder" if os.path.isdir(f"/proc/self/fd/{fd}") else "file")
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    folder.write_atomic(target, b"new\n")
    assert target.read_bytes() == b"new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["prompt.yaml"]
    if sys.platform.startswith("linux"):
        assert synced == ["file", "folder"]
