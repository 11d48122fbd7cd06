"""The examples in the guides (consumers, the library, golden tests) run, and print what they
say."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from registry.goldens import parse_cases

DOCS = Path(__file__).resolve().parent.parent / "docs"


def blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def run_shell(shell: str, cwd: Path) -> None:
    """A guide's shell block, with this Python's scripts (``promptship``) on the PATH."""
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ["PATH"]}
    setup = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", shell],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert setup.returncode == 0, setup.stderr


def run_python(python: str, script: Path, cwd: Path) -> None:
    """A guide's Python block, run as a script in ``cwd``: it must print what the comments of
    its ``print(...)  # ...`` lines say."""
    script.parent.mkdir(exist_ok=True)
    script.write_text(python)
    done = subprocess.run(
        [sys.executable, str(script)], cwd=cwd, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    expected = [
        line.split("  # ", 1)[1]
        for line in python.splitlines()
        if line.strip().startswith("print(") and "  # " in line
    ]
    assert done.stdout.splitlines() == expected


def test_the_python_example_runs_and_prints_its_comments(tmp_path: Path) -> None:
    guide = (DOCS / "consumers.md").read_text()
    run_shell(blocks(guide, "sh")[0], tmp_path)
    run_python(blocks(guide, "python")[0], tmp_path / "example" / "example.py", tmp_path / "shop")


def test_the_library_guide_writes_and_reads_as_it_says(tmp_path: Path) -> None:
    """docs/library.md: its shell block makes a clone, then each Python block runs in it."""
    guide = (DOCS / "library.md").read_text()
    run_shell(blocks(guide, "sh")[0], tmp_path)
    clone = tmp_path / "registry"
    examples = [b for b in blocks(guide, "python") if "print(" in b]
    assert len(examples) == 2
    for number, python in enumerate(examples):
        run_python(python, tmp_path / "example" / f"example{number}.py", clone)
    log = subprocess.run(
        ["git", "log", "--format=%s", "origin/promote/greeting-v3"],
        cwd=clone,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert log[:2] == ["promote(greeting): v2 -> v3", "new-version(greeting): v3"]
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True, check=True
    )
    assert status.stdout == ""


def test_the_documented_tests_files_are_valid() -> None:
    guide = (DOCS / "golden-tests.md").read_text()
    examples = [b for b in blocks(guide, "yaml") if b.startswith("# prompts/")]
    assert len(examples) == 2
    for example in examples:
        assert parse_cases(example.encode(), path="tests.yaml")


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")
def test_the_javascript_digest_matches_promptship(tmp_path: Path) -> None:
    """A consumer in another language, following the guide, gets the digests promptship wrote."""
    from helpers.inmemory import add_prompt
    from registry.read.export import export_bundle
    from registry.snapshot import DictSnapshot

    snapshot = add_prompt(
        DictSnapshot(),
        "greeting",
        'Grüß dich, {{ name }} — "quoted" \\ back\tslash\n',
        metadata={
            "model": "gpt-4o",
            "max_tokens": 200,
            "stop": ["\n", "é"],
            "nested": {"b": 1, "a": None},
        },
    )
    snapshot = add_prompt(
        snapshot,
        "support",
        [("system", "Vous êtes 🤖 {{ company }}"), ("user", "{{ question }}\u0001")],
        metadata={"temperature": 0.2},
    )
    bundle = tmp_path / "bundle.json"
    bundle.write_bytes(export_bundle(snapshot, "a" * 40))
    (js,) = blocks((DOCS / "consumers.md").read_text(), "js")
    script = tmp_path / "verify.js"
    script.write_text(
        js + "\nconst bundle = JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8'));\n"
        "for (const e of bundle.prompts) console.log(e.name, digest(e) === e.digest);\n"
    )
    done = subprocess.run(
        ["node", str(script), str(bundle)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["greeting true", "support true"]
