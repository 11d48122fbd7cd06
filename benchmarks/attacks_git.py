"""The bounded attacks of the git side of a hostile pull request, each run as CI runs the check
(``promptship check --base base --format json`` as a real process), with its exit status, wall
time and peak memory: each must end in seconds with a clear error naming its bound.

    python benchmarks/attacks_git.py [--big]

``--big`` adds the attack on the byte bound at its default (over 1 GiB of distinct history
versions: slow to build, a few GB of disk).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from helpers.attack import Verdict, check_base, commit_chain  # noqa: E402
from helpers.gitrepo import git  # noqa: E402
from helpers.registry_repo import Registry, build_base  # noqa: E402

DRAFT = "prompts/notes/versions/1.yaml"


def edits(repo: Path, count: int) -> list[dict[str, str | None]]:
    text = git(repo, "show", f"base:{DRAFT}")
    return [{DRAFT: text.replace("Summarise", f"Summarise ({n})")} for n in range(count)]


def commits(count: int) -> Callable[[Path], Verdict]:
    def attack(repo: Path) -> Verdict:
        head = commit_chain(repo, "attack", edits(repo, count))
        return check_base(repo, "base", head=head)

    return attack


def files(count: int) -> Callable[[Path], Verdict]:
    def attack(repo: Path) -> Verdict:
        text = git(repo, "show", f"base:{DRAFT}")
        writes: dict[str, str | None] = {
            f"prompts/notes/versions/{n}.yaml": text.replace("version: 1", f"version: {n}")
            for n in range(2, count + 2)
        }
        head = commit_chain(repo, "attack", [writes])
        return check_base(repo, "base", head=head)

    return attack


def history_rewrites(count: int, size: int) -> Callable[[Path], Verdict]:
    """``count`` commits each appending to a history of ``size`` bytes: distinct large blobs."""

    def build(repo: Path) -> str:
        history = git(repo, "show", "base:prompts/greeting/history.yaml")
        line = history.splitlines(keepends=True)[-1]
        grown = history + line * (size // len(line))
        steps: list[dict[str, str | None]] = [
            {"prompts/greeting/history.yaml": grown + line * n} for n in range(count)
        ]
        return commit_chain(repo, "attack", steps)

    def attack(repo: Path) -> Verdict:
        # Built in its own frame, so its gigabyte of text is freed before the check starts: a
        # process forked from a large one reports the parent's size as its peak (Linux keeps
        # the high-water mark across exec).
        head = build(repo)
        return check_base(repo, "base", head=head)

    return attack


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--big", action="store_true", help="add the 1 GiB byte-bound attack")
    args = parser.parse_args()
    cases: list[tuple[str, Callable[[Path], Verdict]]] = [
        ("1,001 commits, one file each", commits(1_001)),
        ("10,000 commits, one file each", commits(10_000)),
        ("100,000 commits, one file each", commits(100_000)),
        ("20,001 files in one commit", files(20_001)),
        ("20 commits on a 50 MB history", history_rewrites(20, 50 << 20)),
    ]
    if args.big:
        cases.append(("40 commits on a 60 MB history", history_rewrites(40, 60 << 20)))
    home = tempfile.mkdtemp(prefix="attacks-home-")
    os.environ.update(
        HOME=home,
        GIT_CONFIG_GLOBAL=str(Path(home) / ".gitconfig"),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Alice Example",
        GIT_AUTHOR_EMAIL="alice@example.com",
        GIT_COMMITTER_NAME="Alice Example",
        GIT_COMMITTER_EMAIL="alice@example.com",
    )
    print(f"{'attack':<34} {'exit':>4} {'seconds':>8} {'peak MiB':>9}  error")
    for name, attack in cases:
        with tempfile.TemporaryDirectory(prefix="attack-") as folder:
            repo = Path(folder)
            subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
            build_base(Registry(repo))
            git(repo, "branch", "attack", "base")
            verdict = attack(repo)
        error = verdict.stderr.splitlines()[0] if verdict.stderr else "(none)"
        print(
            f"{name:<34} {verdict.status:>4} {verdict.seconds:>8.2f} {verdict.peak_mib:>9.1f}  "
            f"{error[:110]}"
        )


if __name__ == "__main__":
    main()
