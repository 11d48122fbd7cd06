"""Shell completion at registry scale: the time from Tab to the offered words, as bash asks.

    .venv/bin/python benchmarks/completion.py [--sizes 10,1000,10000] [--runs 7]

Uses the registries run.py generates and caches in benchmarks/out/. Each figure is the median of
``--runs`` runs of the installed ``promptship`` script with click's completion variables, start-up
included, in the clone: every prompt name (``show <Tab>``), one prompt's versions
(``show NAME@<Tab>``), and ``promptship --help`` for the start-up alone. Prints a table, then
one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

from run import PROMPTSHIP, bench_env, cached_registry, compile_promptship, run_cli


def complete(line: str, cwd: Path, env: dict[str, str]) -> float:
    words = line.split(" ")
    asked = {
        **env,
        "_PROMPTSHIP_COMPLETE": "bash_complete",
        "COMP_WORDS": line,
        "COMP_CWORD": str(len(words) - 1),
    }
    return run_cli([PROMPTSHIP], cwd=cwd, env=asked)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,1000,10000")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    figures: dict[str, dict[int, float]] = {}
    with tempfile.TemporaryDirectory() as home:
        env = bench_env(Path(home))
        compile_promptship(env)
        for size in sizes:
            fx = cached_registry(size, 0, 0, env)
            name = fx.names[len(fx.names) // 2]
            rows = {
                "promptship --help": None,
                "show <Tab> (every name)": "promptship show ",
                "show NAME@<Tab> (versions)": f"promptship show {name}@",
            }
            for row, line in rows.items():
                samples = [
                    complete(line, fx.clone, env)
                    if line is not None
                    else run_cli([PROMPTSHIP, "--help"], cwd=fx.clone, env=env)
                    for _ in range(args.runs)
                ]
                figures.setdefault(row, {})[size] = statistics.median(samples) * 1000
    width = max(map(len, figures))
    print(f"{'median ms':<{width}}  " + "  ".join(f"{s:>8,}" for s in sizes))
    for row, by_size in figures.items():
        print(f"{row:<{width}}  " + "  ".join(f"{by_size[s]:>8.0f}" for s in sizes))
    print(json.dumps({"completion_ms": figures}))


if __name__ == "__main__":
    main()
