"""The web page at registry scale: server time of its screens, and of a promotion through it
beside the command line's promotion of the same version.

    .venv/bin/python benchmarks/ui.py [--prompts 10000] [--runs 20]

A real ``promptship ui`` process serves the clone of a registry generated as ``run.py``
generates it (and cached in the same place). Server time is what the page's ``Server-Timing``
header says: from the request's arrival to its answer's first byte, with no browser and no
network. Every figure is a median of ``--runs`` requests: the prompt list's first page (warm),
a search, and the prompt pages of prompts not shown before. The first request of the list builds
its cache of rows (every prompt's files read once); that time is printed separately.

Promotions: each of ``--runs`` drafts is promoted through the page (the Confirm button's POST,
server time and the time the client waited) and then, on the same clone reset to the same
commit, by ``promptship promote NAME N --yes`` as a process (its wall time, start-up included,
as a person or a script waits for it).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import httpx  # noqa: E402
from run import (  # noqa: E402
    OUT,
    PROMPTSHIP,
    Fixture,
    bench_env,
    cached_registry,
    compile_promptship,
    git,
    run_cli,
)

from registry.catalog import load_pointer  # noqa: E402
from registry.git.store import GitStore  # noqa: E402

TARGETS_MS = {"list_first_page": 150.0, "list_search": 150.0, "prompt_page": 100.0}
_ADDRESS = re.compile(r"http://127\.0\.0\.1:(\d+)/\?token=(\S+)")
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Page:
    """A ``promptship ui`` process on the clone, and a client holding its cookie."""

    def __init__(self, clone: Path, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [PROMPTSHIP, "ui", "--no-browser", "--port", "0"],
            cwd=clone,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.process.stdout is not None
        for line in self.process.stdout:
            found = _ADDRESS.search(line)
            if found:
                break
        else:
            raise SystemExit("promptship ui printed no address")
        base = f"http://127.0.0.1:{found.group(1)}"
        answer = httpx.get(f"{base}/?token={found.group(2)}", follow_redirects=False)
        cookie = answer.headers["set-cookie"].split(";")[0]
        self.client = httpx.Client(
            base_url=base, headers={"cookie": cookie}, follow_redirects=False, timeout=120
        )
        self.csrf = ""

    def get(self, path: str) -> float:
        """Server time of one GET, in milliseconds."""
        answer = self.client.get(path)
        assert answer.status_code == 200, (path, answer.status_code, answer.text[:500])
        if not self.csrf:
            found = _CSRF.search(answer.text)
            self.csrf = found.group(1) if found else ""
        return server_ms(answer)

    def promote(self, name: str, number: int, expect: int | None) -> tuple[float, float]:
        """The Confirm button: (server time, time the client waited), in milliseconds."""
        began = time.perf_counter()
        answer = self.client.post(
            f"/prompts/{name}/v/{number}/promote",
            data={
                "csrf": self.csrf,
                "notes": "benchmark",
                "expect": "" if expect is None else str(expect),
            },
        )
        waited = (time.perf_counter() - began) * 1000
        assert answer.status_code == 303, (answer.status_code, answer.text[:2000])
        return server_ms(answer), waited

    def close(self) -> None:
        self.client.close()
        self.process.terminate()
        self.process.wait(timeout=30)


def server_ms(answer: httpx.Response) -> float:
    found = re.search(r"app;dur=([\d.]+)", answer.headers["server-timing"])
    assert found
    return float(found.group(1))


def median(values: list[float]) -> float:
    return round(statistics.median(values), 1)


def measure(fx: Fixture, runs: int, env: dict[str, str]) -> dict[str, float]:
    figures: dict[str, float] = {}
    drafts = list(fx.drafts[: runs * 2])
    shown = [name for name, _ in drafts[runs:]]
    page = Page(fx.clone, env)
    try:
        began = time.perf_counter()
        figures["list_cold_build"] = round(page.get("/"), 1)
        figures["list_cold_wall"] = round((time.perf_counter() - began) * 1000, 1)
        figures["list_first_page"] = median([page.get("/") for _ in range(runs)])
        figures["list_search"] = median([page.get("/?q=support") for _ in range(runs)])
        figures["list_tag_and_production"] = median(
            [page.get("/?tags=support&production=yes&sort=changed") for _ in range(runs)]
        )
        figures["prompt_page"] = median([page.get(f"/prompts/{name}") for name in shown])
        figures["promote_dialog"] = median(
            [page.get(f"/prompts/{name}/v/{number}/promote") for name, number in drafts[:runs]]
        )
        snapshot = GitStore.open(fx.clone).snapshot()
        expected = {}
        for name, _ in drafts[:runs]:
            pointer = load_pointer(snapshot, name)
            expected[name] = pointer.version if pointer else None
        timings = [page.promote(name, n, expected[name]) for name, n in drafts[:runs]]
        figures["promote_page_server"] = median([t[0] for t in timings])
        figures["promote_page_client"] = median([t[1] for t in timings])
        figures["list_after_promotions"] = round(page.get("/"), 1)
    finally:
        page.close()
    _reset(fx, env)
    figures["promote_cli"] = median(
        [
            run_cli(
                [PROMPTSHIP, "promote", name, str(n), "--yes", "--notes", "benchmark"],
                cwd=fx.clone,
                env=env,
            )
            * 1000
            for name, n in drafts[:runs]
        ]
    )
    _reset(fx, env)
    return figures


def _reset(fx: Fixture, env: dict[str, str]) -> None:
    git("reset", "-q", "--hard", fx.commit, cwd=fx.clone, env=env)
    status = git("status", "--porcelain", cwd=fx.clone, env=env)
    assert status == "", status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prompts", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as home:
        env = bench_env(Path(home))
        os.environ.update({k: v for k, v in env.items() if k.startswith("GIT_")})
        compile_promptship(env)
        fx = cached_registry(args.prompts, 0, args.seed, env)
        figures = measure(fx, args.runs, env)
    print(f"promptship ui, {args.prompts:,} prompts, medians of {args.runs} (ms)")
    for key, value in figures.items():
        target = TARGETS_MS.get(key)
        note = (
            f"   target <= {target:g}: {'met' if value <= target else 'MISSED'}" if target else ""
        )
        print(f"  {key:<26} {value:>9.1f}{note}")
    faster = figures["promote_page_client"] <= figures["promote_cli"]
    print(f"  promotion through the page no slower than the CLI: {'met' if faster else 'MISSED'}")
    figures["load_average"] = round(os.getloadavg()[0], 2)
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
