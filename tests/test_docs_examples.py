"""The examples in the consumer and golden-test guides run, and print what they say."""

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


def test_the_python_example_runs_and_prints_its_comments(tmp_path: Path) -> None:
    guide = (DOCS / "consumers.md").read_text()
    shell, python = blocks(guide, "sh")[0], blocks(guide, "python")[0]
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ["PATH"]}
    setup = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", shell],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert setup.returncode == 0, setup.stderr
    script = tmp_path / "example" / "example.py"
    script.parent.mkdir()
    script.write_text(python)
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path / "shop",
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    expected = [
        line.split("  # ", 1)[1]
        for line in python.splitlines()
        if line.strip().startswith("print(") and "  # " in line
    ]
    assert done.stdout.splitlines() == expected


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
