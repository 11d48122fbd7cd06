"""Measure ``promptship check``: the full tree, a one-prompt change against its base, and how
fast the safety refusals are. Run on demand, not by the test suite:

    .venv/bin/python benchmarks/check.py [--prompts 10000] [--small 10] [--runs 5]

Registries are generated with ``benchmarks/generate.py`` into benchmarks/out/ (kept between runs
with --keep). Every figure is the median of --runs runs of the real command line in a fresh
process, so start-up is included. Targets: full check of 100,000 version files <= 5 s; check
--base of a one-prompt change on 10,000 prompts <= 0.5 s and <= 1.5x the same on 10 prompts.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import LONG_HISTORY_PROMPT, generate_registry

from registry.check import check_tree
from registry.gitstore import GitStore
from registry.identity import Identity
from registry.lifecycle import unarchive_version
from registry.promotion import plan_promotion
from registry.snapshot import DictSnapshot
from registry.yamlsafe import MAX_FILE_BYTES, MAX_HISTORY_BYTES

OUT = Path(__file__).resolve().parent / "out"
PROMPTSHIP = [sys.executable, "-m", "cli"]
BENCH = Identity(name="Bench Example", email="bench@example.com")


def timed(args: list[str], runs: int, expect: int = 0) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(args, capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - start)
        if done.returncode != expect:
            raise SystemExit(
                f"{' '.join(args)} exited {done.returncode}: {done.stdout}{done.stderr}"
            )
    return times


def registry(prompts: int, keep: bool, work_tree: bool = False) -> Path:
    path = OUT / f"registry-{prompts}{'-wt' if work_tree else ''}"
    if path.exists() and keep:
        return path
    shutil.rmtree(path, ignore_errors=True)
    if work_tree:
        bare = registry(prompts, keep)
        subprocess.run(["git", "clone", "-q", str(bare), str(path)], check=True)
        return path
    generate_registry(path, prompts=prompts, versions=10, seed=prompts)
    return path


def one_prompt_change(path: Path, names: tuple[str, ...] = ()) -> str:
    """Promote a draft of one prompt in one commit (the library's own promotion); returns the
    commit the change starts from."""
    store = GitStore.open(path, ref="refs/heads/main")
    snapshot = store.snapshot()
    base = snapshot.commit_id
    assert base is not None
    for name in names or ("support-reply-00000", "ticket-triage-00001", "release-notes-00002"):
        for number in range(10, 0, -1):
            data = snapshot.read(f"prompts/{name}/versions/{number}.yaml") or b""
            if b"status: draft" in data or (names and b"status: archived" in data):
                if b"status: archived" in data:
                    store.write(
                        lambda snap, now, n=name, v=number: unarchive_version(
                            snap, n, v, actor=str(BENCH), now=now
                        ),
                        identity=BENCH,
                    )
                store.write(
                    lambda snap, now, n=name, v=number: plan_promotion(
                        snap, n, v, notes="bench", actor=str(BENCH), now=now
                    ),
                    identity=BENCH,
                )
                return base
    raise SystemExit("no draft to promote")


def peak_memory(path: Path, jobs: int | None) -> dict[str, float]:
    """Peak resident memory of the checking process and of its largest worker, in MiB."""
    script = (
        "import json, resource, sys\n"
        "from registry.checkpool import TreeSource, check_registry\n"
        "from registry.gitstore import GitStore\n"
        "store = GitStore.open(sys.argv[1], ref='refs/heads/main')\n"
        "jobs = int(sys.argv[2]) if sys.argv[2] != 'None' else None\n"
        "outcome = check_registry(TreeSource(repository=sys.argv[1], "
        "commit=store.snapshot().commit_id), jobs=jobs)\n"
        "assert outcome.ok, outcome.problems[:3]\n"
        "# VmHWM, not ru_maxrss: a process started by fork and exec inherits its parent's peak\n"
        "status = open('/proc/self/status').read().split('VmHWM:')[1].split()[0]\n"
        "print(json.dumps([int(status), "
        "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path), str(jobs)],
        capture_output=True,
        text=True,
        check=True,
    )
    main, worker = json.loads(done.stdout)
    return {"main_mib": main / 1024, "largest_worker_mib": worker / 1024}


def refusal_times() -> dict[str, float]:
    """Milliseconds the tree check takes to refuse each hostile file (median of 5)."""
    prompt = b"name: p\n"
    bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n' + "".join(
        f"{k}: &{k} [{','.join(['*' + p] * 9)}]\n"
        for p, k in zip("abcdefgh", "bcdefghi", strict=True)
    )
    cases = {
        "yaml bomb (9^9 aliases)": {"prompts/p/versions/1.yaml": bomb.encode()},
        "deep nesting (500,000 [)": {"prompts/p/versions/1.yaml": b"[" * 500_000},
        "deep block nesting (100,000 -)": {"prompts/p/versions/1.yaml": b"- " * 100_000 + b"x"},
        "version file of 1 MiB + 1": {"prompts/p/versions/1.yaml": b"#" * (MAX_FILE_BYTES + 1)},
        "history of 64 MiB + 1": {"prompts/p/history.yaml": b"#" * (MAX_HISTORY_BYTES + 1)},
    }
    results = {}
    for label, files in cases.items():
        snapshot = DictSnapshot({"prompts/p/prompt.yaml": prompt, **files})
        times = []
        for _ in range(5):
            start = time.perf_counter()
            problems = check_tree(snapshot)
            times.append(time.perf_counter() - start)
            assert problems, label
        results[label] = statistics.median(times) * 1000
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prompts", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="reuse registries already generated")
    parser.add_argument("--no-work-tree", action="store_true", help="skip the checked-out tree")
    parser.add_argument(
        "--long-history",
        type=int,
        default=100_000,
        help="records of the prompt whose promotion is checked last (0: skip)",
    )
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    report: dict[str, object] = {"load_before": os.getloadavg()[0]}

    large = registry(args.prompts, args.keep)
    small = registry(args.small, args.keep)
    full = timed([*PROMPTSHIP, "--repo", str(large), "check", "--ref", "main"], args.runs)
    one = timed([*PROMPTSHIP, "--repo", str(large), "check", "--ref", "main", "--jobs", "1"], 1)
    report["full_check_git_tree_s"] = statistics.median(full)
    report["full_check_git_tree_one_process_s"] = one[0]
    if not args.no_work_tree:
        tree = registry(args.prompts, args.keep, work_tree=True)
        worktree = timed([*PROMPTSHIP, "--repo", str(tree), "check"], args.runs)
        report["full_check_work_tree_s"] = statistics.median(worktree)
    report["full_check_peak_memory"] = peak_memory(large, None)

    for label, path in (("large", large), ("small", small)):
        copy = OUT / f"change-{label}"
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(path, copy)
        base = one_prompt_change(copy)
        times = timed(
            [*PROMPTSHIP, "--repo", str(copy), "check", "--base", base], max(args.runs, 7)
        )
        report[f"check_base_one_prompt_{label}_s"] = statistics.median(times)
    report["check_base_large_over_small"] = (
        report["check_base_one_prompt_large_s"] / report["check_base_one_prompt_small_s"]  # type: ignore[operator]
    )
    if args.long_history:
        long = OUT / f"long-{args.long_history}"
        if not (long.exists() and args.keep):
            shutil.rmtree(long, ignore_errors=True)
            generate_registry(long, prompts=args.small, long_history=args.long_history)
        copy = OUT / "change-long"
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(long, copy)
        base = one_prompt_change(copy, (LONG_HISTORY_PROMPT,))
        times = timed([*PROMPTSHIP, "--repo", str(copy), "check", "--base", base], args.runs)
        report[f"check_base_rollback_of_{args.long_history}_record_prompt_s"] = statistics.median(
            times
        )
    startup = timed([*PROMPTSHIP, "--help"], args.runs)
    report["cli_startup_s"] = statistics.median(startup)
    report["refusal_ms"] = refusal_times()
    report["load_after"] = os.getloadavg()[0]
    report["version_files"] = args.prompts * 10
    for key, value in report.items():
        if isinstance(value, dict):
            for sub, figure in value.items():
                print(f"{key:40} {sub:34} {figure:10.2f}")
        else:
            print(
                f"{key:40} {'':34} {value:10.3f}"
                if isinstance(value, float)
                else f"{key:40} {'':34} {value!s:>10}"
            )
    print(json.dumps(report))


if __name__ == "__main__":
    main()
