"""The stress run at full size; prints each scenario's figures as JSON.

python tests/stress/run.py [local|remote|kill|stateful|all] ...
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stress import scenarios


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("which", nargs="*", default=["all"])
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--promotions", type=int, default=25)
    parser.add_argument("--clones", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--sequences", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    which = set(args.which)
    run_all = "all" in which
    failed = False
    with tempfile.TemporaryDirectory(prefix="promptship-stress-") as scratch:
        root = Path(scratch)
        scenarios.isolated_environment(root / "home")
        jobs = []
        if run_all or "local" in which:
            jobs.append(
                lambda r: scenarios.local_race(
                    r, processes=args.processes, promotions=args.promotions
                )
            )
            jobs.append(
                lambda r: scenarios.local_race(
                    r, processes=args.processes, promotions=args.promotions, bare=True
                )
            )
        if run_all or "remote" in which:
            jobs.append(lambda r: scenarios.remote_race(r, clones=args.clones, rounds=args.rounds))
            jobs.append(
                lambda r: scenarios.remote_race(
                    r, clones=args.clones, rounds=args.rounds, daemon=True
                )
            )
        if run_all or "kill" in which:
            jobs.append(lambda r: scenarios.kill_runs(r, runs=args.kills, seed=args.seed))
        if run_all or "stateful" in which:
            from stress.machine import run_sequences

            jobs.append(lambda r: run_sequences(args.sequences))
        for number, job in enumerate(jobs):
            folder = root / f"scenario{number}"
            folder.mkdir()
            started = time.perf_counter()
            figures = job(folder)
            figures.setdefault("seconds", round(time.perf_counter() - started, 2))
            failed |= bool(figures["problems"])
            print(json.dumps(figures, indent=2), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
