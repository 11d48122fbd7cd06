"""What the bounded attacks cost ``check --base``: wall time and peak memory, one row each.

    .venv/bin/python benchmarks/attacks.py [--only NAME]

Each attack of tests/adversarial that a limit stops (templates that would run without bound,
templates the parser refuses, fields a backtracking pattern would take hours on, counts past their
limits) is built as its test builds it, on a registry made with the CLI, and checked by
``promptship check --base base`` as a real process, as CI runs it. The table gives the exit status,
the rules reported, the seconds and the peak resident memory of that process (its VmHWM).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE.parent / "tests" / "adversarial"))

from test_attack_c4_templates import (  # noqa: E402
    FOLDED_AT_PARSE,
    PARSE_BOMBS,
    RENDER_BOMBS,
    promoted_bomb,
)

from helpers.attack import blob_tree, commit_on, commit_tree, registry_at_base  # noqa: E402
from helpers.gitrepo import git  # noqa: E402
from stress.scenarios import isolated_environment  # noqa: E402

SPACES = "Alice" + " " * 300_000 + "x"
NOTES = "prompts/notes/versions/1.yaml"
Attack = Callable[[Path, Path], None]


def _notes_v2(repo: Path, **changes: str) -> str:
    out = []
    for line in git(repo, "show", f"base:{NOTES}").splitlines():
        key = line.split(":", 1)[0]
        out.append("version: 2" if key == "version" else changes.get(key, line))
    return "\n".join(out) + "\n"


def _draft(template: str) -> Attack:
    def build(repo: Path, cache: Path) -> None:
        registry_at_base(repo, cache)
        v2 = _notes_v2(repo, content=f"content: {json.dumps(template)}")
        commit_on(repo, "attack", {"prompts/notes/versions/2.yaml": v2})

    return build


def _promoted(template: str) -> Attack:
    return lambda repo, cache: promoted_bomb(repo, cache, template)


def _writes(make: Callable[[Path], dict[str, str]]) -> Attack:
    def build(repo: Path, cache: Path) -> None:
        registry_at_base(repo, cache)
        commit_on(repo, "attack", make(repo))

    return build


def _many_versions(repo: Path, cache: Path) -> None:
    registry_at_base(repo, cache)
    text = _notes_v2(repo).encode()
    parent = git(repo, "rev-parse", "base").strip()
    files = {f"prompts/notes/versions/{n}.yaml": text for n in range(2, 10_003)}
    tree = blob_tree(repo, parent, files)
    git(repo, "update-ref", "refs/heads/attack", commit_tree(repo, tree, [parent]))


def _history_line(change: dict[str, object]) -> Callable[[Path], dict[str, str]]:
    record = {
        "version": 3,
        "previous_version": 2,
        "promoted_by": "Alice Example <alice@example.com>",
        "promoted_at": "2099-01-01T00:00:00Z",
        "notes": "n",
        **change,
    }
    path = "prompts/greeting/history.yaml"
    return lambda repo: {path: git(repo, "show", f"base:{path}") + f"- {json.dumps(record)}\n"}


ATTACKS: dict[str, Attack] = {
    **{f"c4 render {name}": _promoted(t) for name, t, _ in RENDER_BOMBS},
    **{f"c4 parse {name}": _draft(t) for name, t in PARSE_BOMBS},
    **{f"c4 fold {name}": _draft(t) for name, t in FOLDED_AT_PARSE},
    "c5 created_by of spaces": _writes(
        lambda r: {
            "prompts/notes/versions/2.yaml": _notes_v2(r, created_by=f"created_by: {SPACES}")
        }
    ),
    "c5 promoted_by of spaces": _writes(
        _history_line({"promoted_by": SPACES + " <a@example.com>"})
    ),
    "c5 10,001 version files": _many_versions,
    "c5 1,001 chat messages": _writes(
        lambda r: {
            "prompts/notes/versions/2.yaml": _notes_v2(
                r,
                type="type: chat",
                content="messages:\n"
                + "".join(f"- {{role: user, content: 'm{i}'}}\n" for i in range(1001)).rstrip(),
            )
        }
    ),
    "c5 metadata of 70,000 characters": _writes(
        lambda r: {
            "prompts/notes/versions/2.yaml": _notes_v2(
                r, metadata="metadata: {blob: " + "x" * 70_000 + "}"
            )
        }
    ),
    "c5 1,001 golden cases": _writes(
        lambda r: {
            "prompts/notes/tests.yaml": "".join(
                f"- {{name: c{i}, expect: {{contains: x}}}}\n" for i in range(1001)
            )
        }
    ),
}


def check(repo: Path) -> tuple[int, set[str], float, float]:
    """``check --base base`` on the attack, as CI runs it: status, rules, seconds, peak MiB."""
    git(repo, "checkout", "-q", "--detach", "attack")
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _MEASURED, "check", "--base", "base", "--format", "json"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    report = json.loads(done.stdout) if done.stdout.strip() else {}
    rules = {v["rule"] for v in report.get("violations", [])}
    peak_kib = int(done.stderr.rsplit("peak-kib:", 1)[1].split()[0])
    return done.returncode, rules, seconds, peak_kib / 1024


# The checker reports its own high-water mark as it exits: ru_maxrss of a child would include the
# image of this (larger) process it was forked from, which Linux carries across exec.
_MEASURED = """
import atexit, runpy, sys
def peak():
    with open("/proc/self/status") as status:
        line = next(l for l in status if l.startswith("VmHWM:"))
    sys.stderr.write("peak-kib: " + line.split()[1] + "\\n")
atexit.register(peak)
sys.argv = ["promptship", *sys.argv[1:]]
runpy.run_module("cli", run_name="__main__", alter_sys=True)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="run the attacks whose name contains this text")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        home = root / "home"
        home.mkdir()
        isolated_environment(home)
        rows = []
        for index, (name, build) in enumerate(ATTACKS.items()):
            if args.only and args.only not in name:
                continue
            repo = root / f"attack-{index}"
            repo.mkdir()
            build(repo, root)
            status, rules, seconds, peak = check(repo)
            rows.append((name, status, ",".join(sorted(rules)) or "-", seconds, peak))
            print(f"{name:45} exit {status}  {seconds:6.2f} s  {peak:7.1f} MiB  {rows[-1][2]}")
        worst = max(rows, key=lambda r: r[3])
        heaviest = max(rows, key=lambda r: r[4])
        print(
            f"\n{len(rows)} attacks; slowest {worst[3]:.2f} s ({worst[0]}), "
            f"largest {heaviest[4]:.1f} MiB ({heaviest[0]})"
        )
        print(
            json.dumps(
                {
                    r[0]: {
                        "exit": r[1],
                        "rules": r[2],
                        "seconds": round(r[3], 3),
                        "peak_mib": round(r[4], 1),
                    }
                    for r in rows
                }
            )
        )


if __name__ == "__main__":
    main()
