"""The distributions a release publishes: the sdist and the wheel build without deprecation
warnings, pass the package index's metadata check, carry the license, install in a fresh
virtual environment where promptship runs, and the sdist holds what its own tests read."""

from __future__ import annotations

import email
import shutil
import subprocess
import sys
import tarfile
import zipfile
from email.message import Message
from pathlib import Path

import pytest

from helpers.dists import ROOT, Dists, fresh_venv, path_with, run

pytestmark = pytest.mark.packaging

# Tracked files a user of the sdist has no use for: CI's entry point and git's own settings.
NOT_IN_SDIST = {".ci/run", ".gitignore"}


def metadata_of(wheel: Path) -> Message:
    with zipfile.ZipFile(wheel) as archive:
        [name] = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return email.message_from_bytes(archive.read(name))


def test_the_build_prints_no_deprecation_and_twine_passes_both(dists: Dists) -> None:
    assert "deprecat" not in dists.log.lower(), dists.log
    assert "would be ignored" not in dists.log.lower(), dists.log
    done = run(
        [sys.executable, "-m", "twine", "check", "--strict", str(dists.sdist), str(dists.wheel)],
        cwd=dists.wheel.parent,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("PASSED") == 2


def test_the_wheel_carries_the_license_and_the_project_metadata(dists: Dists) -> None:
    license_text = (ROOT / "LICENSE").read_text()
    assert license_text.startswith("MIT License\n\nCopyright (c) 2026 the promptship authors\n")
    with zipfile.ZipFile(dists.wheel) as archive:
        [name] = [n for n in archive.namelist() if n.endswith(".dist-info/licenses/LICENSE")]
        assert archive.read(name).decode() == license_text
    meta = metadata_of(dists.wheel)
    assert meta["License-Expression"] == "MIT"
    assert meta.get_all("License-File") == ["LICENSE"]
    urls = dict(url.split(", ", 1) for url in meta.get_all("Project-URL") or [])
    assert {"Homepage", "Source", "Issues", "Documentation"} <= set(urls)
    classifiers = meta.get_all("Classifier") or []
    assert "Typing :: Typed" in classifiers
    assert "Programming Language :: Python :: 3.13" in classifiers
    # PEP 639: a license expression replaces the license classifiers.
    assert not [c for c in classifiers if c.startswith("License ::")]


def test_the_sdist_holds_every_tracked_file_its_tests_read(dists: Dists) -> None:
    with tarfile.open(dists.sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
        top = dists.sdist.name.removesuffix(".tar.gz")
        license_file = archive.extractfile(f"{top}/LICENSE")
        assert license_file is not None
        assert license_file.read() == (ROOT / "LICENSE").read_bytes()
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout (an unpacked sdist): no list of tracked files to compare")
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    missing = set(tracked) - NOT_IN_SDIST - names
    assert missing == set(), "add them to MANIFEST.in"


def test_the_wheel_installs_in_a_fresh_venv_and_runs_the_demo(dists: Dists, tmp_path: Path) -> None:
    scripts = fresh_venv(tmp_path / "venv")
    env = path_with(scripts)
    installed = run(["python", "-m", "pip", "install", str(dists.wheel)], cwd=tmp_path, env=env)
    assert installed.returncode == 0, installed.stderr
    where = run(
        ["python", "-c", "import registry, cli; print(registry.__file__); print(cli.__file__)"],
        cwd=tmp_path,
        env=env,
    )
    assert all(Path(line).is_relative_to(tmp_path / "venv") for line in where.stdout.split())
    helped = run(["promptship", "--help"], cwd=tmp_path, env=env)
    assert helped.returncode == 0, helped.stderr
    assert "A Git-backed registry of prompt versions." in helped.stdout
    demo = run(["promptship", "demo", str(tmp_path / "demo")], cwd=tmp_path, env=env)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "Done. Look around:" in demo.stdout
    log = run(["git", "log", "--format=%s"], cwd=tmp_path / "demo", env=env).stdout.splitlines()
    assert log[0] == "promote(welcome-email): v2 -> v1"
    # The files init writes come from the package's data, which the wheel must carry.
    init = run(["promptship", "init"], cwd=tmp_path / "demo", env=env)
    assert init.returncode == 0, init.stderr
    assert (tmp_path / "demo/.yamllint").is_file()
    assert (tmp_path / "demo/.promptship/schemas/version.schema.json").is_file()


def test_the_tests_that_read_the_repository_pass_from_the_unpacked_sdist(
    dists: Dists, tmp_path: Path
) -> None:
    with tarfile.open(dists.sdist) as archive:
        archive.extractall(tmp_path, filter="data")
    [unpacked] = tmp_path.iterdir()
    assert not (unpacked / ".git").exists()
    # 'python -m pytest' puts the unpacked folder first on sys.path: its own registry is tested.
    done = run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-m",
            "not packaging",
            "tests/test_ci_workflow.py",
            "tests/test_docs_examples.py",
            "tests/test_init_and_schemas.py",
        ],
        cwd=unpacked,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert " passed" in done.stdout.splitlines()[-1]
    shutil.rmtree(unpacked)
