"""``promptship serve`` at registry scale, side by side with a bare Starlette endpoint: one command,
a table and a JSON line.

    .venv/bin/python benchmarks/serve.py [--prompts 10000] [--seconds 10] [--rounds 3]
                                         [--promotions 50] [--clients 1000] [--fetch-every 1]

Needs ``wrk`` (Debian: ``apt-get install wrk``) and ``promptship[serve,connect]``. It measures, on
one generated registry (see generate.py; cached under benchmarks/out/ like run.py's):

- start to ready: from starting ``promptship serve`` to ``/readyz`` answering 200 (the first
  commit verified by the full check and its answers prepared), with the CPU seconds it took;
  then restart to ready, the median of the later starts, which find the prompt folders
  verified before in the cache folder and check only what changed (``--starts``);
- ``GET /v1/prompts/{name}`` for random names with keep-alive (wrk, a Lua script, 64
  connections), beside ``baseline_app.py``: one fixed JSON body of the same size from the same
  uvicorn; and the same requests revalidated with ``If-None-Match`` (all ``304``). The three
  alternate for ``--rounds`` rounds and each figure is the median;
- propagation: from ``git push`` of a promotion returning to its event at a connected client,
  p50 and p99 over ``--promotions`` promotions: following the bare repository the push goes to
  (a local ref change), through a mirror fetched on a signed webhook, and through a mirror
  fetched every ``--fetch-every`` seconds only;
- ``--clients`` event streams open at once, all receiving one promotion, and the server's memory.

The machine's load and a CPU calibration (``sum(range(10**6))``) are printed with the figures:
the machine is shared, and a busy neighbour slows every figure here.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import random
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import timeit
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import (  # noqa: E402
    PROMPTSHIP,
    Drafts,
    Fixture,
    bench_env,
    cached_registry,
    compile_promptship,
    git,
    library_promotion,
)

TARGETS = {
    "start_to_ready_s": ("<=", 5.0),
    "restart_to_ready_s": ("<=", 5.0),
    "rps_ratio": (">=", 0.8),
    "p99_ms": ("<=", 10.0),
    "revalidate_ratio": (">=", 1.0),
    "propagation_local_p99_ms": ("<=", 200.0),
    "propagation_webhook_p99_ms": ("<=", 200.0),
    "propagation_polling_p99_ms": ("<=", None),  # the fetch interval + 200 ms, set at run time
    "fanout_all_s": ("<=", 1.0),
    "server_rss_mib": ("<=", 300.0),
}
SECRET = b"benchmark-webhook-secret"
LUA = """
local names, tags = {}, {}
for line in io.lines(os.getenv("PROMPTSHIP_NAMES")) do
  local name, tag = line:match("([^\\t]+)\\t(.*)")
  names[#names + 1] = name
  tags[#tags + 1] = tag
end
local revalidate = os.getenv("PROMPTSHIP_REVALIDATE") == "1"
math.randomseed(os.time())
request = function()
  local i = math.random(#names)
  local headers = {}
  if revalidate then headers["If-None-Match"] = tags[i] end
  return wrk.format("GET", "/v1/prompts/" .. names[i], headers)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"seconds":%f,"socket_errors":%d,"bad_status":%d,' ..
    '"p50_us":%d,"p99_us":%d,"max_us":%d}\\n',
    summary.requests, summary.duration / 1e6, e.connect + e.read + e.write + e.timeout,
    e.status, latency:percentile(50), latency:percentile(99), latency.max))
end
"""


@dataclass
class Server:
    """A ``promptship serve`` (or the baseline) started here and stopped at the end."""

    process: subprocess.Popen[bytes]
    log: Path
    started: float
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_port(self) -> None:
        while not self.port:
            if self.process.poll() is not None:
                raise SystemExit(f"the server exited: {self.log.read_text()[-2000:]}")
            for line in self.log.read_text(errors="replace").splitlines():
                if '"listening"' in line:
                    self.port = json.loads(line)["port"]
            time.sleep(0.01)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class Bench:
    fx: Fixture
    env: dict[str, str]
    work: Path
    figures: dict[str, float] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)
    running: list[Server] = field(default_factory=list)

    def start(self, *args: str, name: str) -> Server:
        log = self.work / f"{name}.log"
        began = time.monotonic()
        with open(log, "wb") as stderr:
            process = subprocess.Popen(
                [PROMPTSHIP, *args, "--port", "0"],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        server = Server(process, log, began)
        self.running.append(server)
        server.wait_port()
        return server

    def stop_all(self) -> None:
        for server in self.running:
            server.stop()


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, dict[str, str]]:
    import httpx

    response = httpx.get(url, headers=headers, timeout=60)
    return response.status_code, response.content, dict(response.headers)


def wait_ready(server: Server) -> float:
    """Seconds from starting the server to ``/readyz`` answering 200."""
    import httpx

    with httpx.Client(timeout=60) as client:
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if client.get(f"{server.url}/readyz").status_code == 200:
                    return time.monotonic() - server.started
            if server.process.poll() is not None:
                raise SystemExit(f"the server exited: {server.log.read_text()[-2000:]}")
            time.sleep(0.01)


def tree_cpu_seconds(root: int) -> float:
    """User and system CPU seconds of ``root`` and every live process below it (the fork
    server and its workers)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += times.get(pid, 0.0)
        todo.extend(p for p, parent in parents.items() if parent == pid)
    return total


def rss_mib(pid: int) -> tuple[float, float]:
    """Resident and peak resident memory of one process, in MiB."""
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    found = {line.split(":")[0]: int(line.split()[1]) for line in status if line.startswith("Vm")}
    return found["VmRSS"] / 1024, found["VmHWM"] / 1024


def calibration() -> float:
    """Milliseconds of ``sum(range(10**6))``: how fast this machine runs Python right now."""
    return min(timeit.repeat("sum(range(10**6))", number=5, repeat=3)) / 5 * 1000


# -- start to ready ------------------------------------------------------------------------


def measure_start(bench: Bench, runs: int) -> Server:
    """Start the server on the bare repository ``runs`` times; the last one is kept running."""
    samples, cpu = [], []
    server: Server | None = None
    for run in range(runs):
        if server is not None:
            server.stop()
        server = bench.start("--repo", str(bench.fx.bare), "serve", name=f"start-{run}")
        samples.append(wait_ready(server))
        cpu.append(tree_cpu_seconds(server.process.pid))
    assert server is not None
    # The first start has an empty cache folder and checks every prompt folder; later ones
    # find the folders verified before and check none (a restart, the common case).
    bench.figures["start_to_ready_s"] = samples[0]
    bench.figures["start_cpu_s"] = cpu[0]
    if len(samples) > 1:
        bench.figures["restart_to_ready_s"] = statistics.median(samples[1:])
    bench.notes["start_samples_s"] = [round(s, 2) for s in samples]
    deadline = time.monotonic() + 10  # /readyz answers as the log line is being written
    served: list[dict[str, Any]] = []
    while not served and time.monotonic() < deadline:
        served = [json.loads(x) for x in server.log.read_text().splitlines() if '"served"' in x]
        time.sleep(0.05)
    bench.notes["last_start_verify_s"] = served[0]["seconds"] if served else None
    return server


# -- throughput ----------------------------------------------------------------------------


def wrk(url: str, script: Path, names: Path, seconds: int, revalidate: bool) -> dict[str, Any]:
    env = {
        **os.environ,
        "PROMPTSHIP_NAMES": str(names),
        "PROMPTSHIP_REVALIDATE": "1" if revalidate else "0",
    }
    done = subprocess.run(
        ["wrk", "-t1", "-c64", f"-d{seconds}s", "--latency", "-s", str(script), url],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    last = [line for line in done.stdout.splitlines() if line.startswith("{")][-1]
    result: dict[str, Any] = json.loads(last)
    result["rps"] = result["requests"] / result["seconds"]
    return result


def measure_throughput(bench: Bench, server: Server, seconds: int, rounds: int) -> None:
    bundle = json.loads(get(f"{server.url}/v1/export")[1])
    production = [entry["name"] for entry in bundle["prompts"]]
    names = random.Random(7).sample(production, min(1000, len(production)))
    sizes, lines = [], []
    for name in names:
        status, body, headers = get(f"{server.url}/v1/prompts/{name}")
        assert status == 200
        sizes.append(len(body))
        lines.append(f"{name}\t{headers['etag']}")
    table = bench.work / "names.tsv"
    table.write_text("\n".join(lines) + "\n")
    baseline_names = bench.work / "baseline-names.tsv"
    baseline_names.write_text("\n".join(f'{n}\t"x"' for n in names) + "\n")
    script = bench.work / "prompts.lua"
    script.write_text(LUA)
    size = int(statistics.median(sizes))
    baseline = Server(
        subprocess.Popen(
            [sys.executable, str(HERE / "baseline_app.py"), str(free_port()), str(size)],
            env=bench.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
        bench.work / "baseline.log",
        time.monotonic(),
    )
    bench.running.append(baseline)
    baseline.port = int(baseline.process.args[2])  # type: ignore[index]
    wait_listening(baseline.port)
    runs: dict[str, list[dict[str, Any]]] = {"baseline": [], "serve": [], "revalidate": []}
    for _ in range(rounds):
        runs["baseline"].append(wrk(baseline.url, script, baseline_names, seconds, False))
        runs["serve"].append(wrk(server.url, script, table, seconds, False))
        runs["revalidate"].append(wrk(server.url, script, table, seconds, True))
    baseline.stop()

    def med(kind: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[kind])

    bench.figures.update(
        {
            "baseline_rps": med("baseline", "rps"),
            "serve_rps": med("serve", "rps"),
            "revalidate_rps": med("revalidate", "rps"),
            "rps_ratio": med("serve", "rps") / med("baseline", "rps"),
            "revalidate_ratio": med("revalidate", "rps") / med("serve", "rps"),
            "baseline_p99_ms": med("baseline", "p99_us") / 1000,
            "p99_ms": med("serve", "p99_us") / 1000,
            "revalidate_p99_ms": med("revalidate", "p99_us") / 1000,
            "p50_ms": med("serve", "p50_us") / 1000,
        }
    )
    bench.notes["answer_bytes_median"] = size
    bench.notes["wrk_errors"] = {
        k: sum(r["socket_errors"] + r["bad_status"] for r in v) for k, v in runs.items()
    }


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_listening(port: int) -> None:
    import socket

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.05)
    raise SystemExit(f"nothing listens on {port}")


# -- propagation ---------------------------------------------------------------------------


class Arrivals:
    """An event-stream client in a thread: when each commit's event arrived."""

    def __init__(self, url: str) -> None:
        self.seen: dict[str, float] = {}
        self.ready = threading.Event()
        self._stop = False
        self._thread = threading.Thread(target=self._run, args=(url,), daemon=True)
        self._thread.start()
        if not self.ready.wait(60):
            raise SystemExit("the event stream did not open")

    def _run(self, url: str) -> None:
        import httpx
        from httpx_sse import EventSource

        with (
            httpx.Client(timeout=httpx.Timeout(60, read=None)) as client,
            client.stream("GET", f"{url}/v1/events") as response,
        ):
            for event in EventSource(response).iter_sse():
                self.seen[event.id] = time.monotonic()
                self.ready.set()
                if self._stop:
                    return

    def wait(self, commit: str, timeout: float = 120) -> float:
        deadline = time.monotonic() + timeout
        while commit not in self.seen:
            if time.monotonic() > deadline:
                raise SystemExit(f"no event for {commit} within {timeout} s")
            time.sleep(0.001)
        return self.seen[commit]

    def close(self) -> None:
        self._stop = True


def push_promotion(bench: Bench, drafts: Drafts) -> tuple[str, float]:
    """Promote a draft in the clone (untimed) and push it; the commit and when the push
    returned."""
    name, number = drafts.next()
    library_promotion(bench.fx.clone, None, name, number)
    commit = git("rev-parse", "HEAD", cwd=bench.fx.clone, env=bench.env).strip()
    git("push", "-q", "origin", "main", cwd=bench.fx.clone, env=bench.env)
    return commit, time.monotonic()


def send_webhook(client: Any, url: str) -> None:
    """Post a push webhook signed as GitHub signs it, on a client opened before the push (as
    GitHub's is: a client's own start-up is not the server's latency)."""
    body = json.dumps({"ref": "refs/heads/main"}).encode()
    signature = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    client.post(
        f"{url}/v1/webhook",
        content=body,
        headers={"X-Hub-Signature-256": signature, "X-GitHub-Event": "push"},
    ).raise_for_status()


def measure_propagation(
    bench: Bench, server: Server, drafts: Drafts, count: int, key: str, webhook: bool = False
) -> None:
    import httpx

    arrivals = Arrivals(server.url)
    delays = []
    try:
        with httpx.Client(timeout=60) as client:
            for _ in range(count):
                commit, pushed = push_promotion(bench, drafts)
                if webhook:
                    send_webhook(client, server.url)
                delays.append((arrivals.wait(commit) - pushed) * 1000)
                time.sleep(0.05)
    finally:
        arrivals.close()
    delays.sort()
    bench.figures[f"{key}_p50_ms"] = statistics.median(delays)
    bench.figures[f"{key}_p99_ms"] = delays[min(len(delays) - 1, round(0.99 * len(delays)))]
    bench.notes[f"{key}_max_ms"] = round(delays[-1], 1)


# -- fan-out -------------------------------------------------------------------------------


async def fan_out(port: int, clients: int, promote: Any) -> tuple[float, float, int]:
    """Open ``clients`` event streams, promote, and return (seconds from the push to the last
    client's event, from the first client's to the last's, clients that got it)."""
    streams = []
    request = b"GET /v1/events HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n"
    for start in range(0, clients, 100):
        batch = await asyncio.gather(
            *(
                asyncio.open_connection("127.0.0.1", port)
                for _ in range(start, min(start + 100, clients))
            )
        )
        for _reader, writer in batch:
            writer.write(request)
        streams.extend(batch)
    await asyncio.gather(*(reader.readuntil(b"\n\n") for reader, _ in streams))
    commit, pushed = await asyncio.to_thread(promote)
    needle = f"id: {commit}".encode()

    async def heard(reader: asyncio.StreamReader) -> float:
        seen = b""
        while needle not in seen:
            seen = seen[-200:] + await reader.read(65536)
        return time.monotonic()

    times = await asyncio.wait_for(
        asyncio.gather(*(heard(reader) for reader, _ in streams)), timeout=120
    )
    for _, writer in streams:
        writer.close()
    return max(times) - pushed, max(times) - min(times), len(times)


def measure_fan_out(bench: Bench, server: Server, drafts: Drafts, clients: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, clients * 2 + 1024)), hard))
    last, spread, count = asyncio.run(
        fan_out(server.port, clients, lambda: push_promotion(bench, drafts))
    )
    rss, peak = rss_mib(server.process.pid)
    bench.figures.update(
        {
            "fanout_all_s": last,
            "fanout_spread_s": spread,
            "server_rss_mib": rss,
            "server_peak_mib": peak,
        }
    )
    bench.notes["fanout_clients"] = count
    children = subprocess.run(
        ["ps", "-o", "rss=", "--ppid", str(server.process.pid)], capture_output=True, text=True
    ).stdout.split()
    bench.notes["fork_server_rss_mib"] = round(sum(int(c) for c in children) / 1024, 1)


# -- the report ----------------------------------------------------------------------------


def verdicts(figures: dict[str, float], fetch_every: float) -> dict[str, bool]:
    met = {}
    for key, (how, limit) in TARGETS.items():
        if key not in figures:
            continue
        if key == "propagation_polling_p99_ms":
            limit = fetch_every * 1000 + 200
        assert limit is not None
        met[key] = figures[key] <= limit if how == "<=" else figures[key] >= limit
    return met


def report(bench: Bench, fetch_every: float) -> None:
    met = verdicts(bench.figures, fetch_every)
    print(f"\npromptship serve, {bench.fx.prompts:,} prompts")
    for key, value in bench.figures.items():
        mark = "" if key not in met else ("  target met" if met[key] else "  TARGET MISSED")
        limit = TARGETS.get(key)
        target = ""
        if limit is not None:
            bound = fetch_every * 1000 + 200 if limit[1] is None else limit[1]
            target = f"  (target {limit[0]} {bound:g})"
        print(f"  {key:<32} {value:>12.3f}{target}{mark}")
    for key, value in bench.notes.items():
        print(f"  {key:<32} {value}")
    print(json.dumps({"figures": bench.figures, "notes": bench.notes, "met": met}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prompts", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="alternating wrk rounds")
    parser.add_argument("--starts", type=int, default=3, help="server starts timed")
    parser.add_argument("--promotions", type=int, default=50)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--fetch-every", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("this benchmark needs wrk: apt-get install wrk")
    with tempfile.TemporaryDirectory(prefix="promptship-serve-bench-") as scratch:
        work = Path(scratch)
        env = bench_env(work / "home")
        (work / "home").mkdir()
        env["XDG_CACHE_HOME"] = str(work / "cache")
        (work / "secret").write_bytes(SECRET)
        compile_promptship(env)
        fx = cached_registry(args.prompts, 0, args.seed, env)
        bench = Bench(fx=fx, env=env, work=work)
        bench.notes["load_before"] = [round(x, 2) for x in os.getloadavg()]
        bench.notes["calibration_ms_before"] = round(calibration(), 1)
        drafts = Drafts(fx)
        try:
            server = measure_start(bench, args.starts)
            print(f"ready in {bench.figures['start_to_ready_s']:.2f} s", file=sys.stderr)
            measure_throughput(bench, server, args.seconds, args.rounds)
            measure_propagation(bench, server, drafts, args.promotions, "propagation_local")
            measure_fan_out(bench, server, drafts, args.clients)
            server.stop()
            mirror = fx.bare.as_uri()
            hooked = bench.start(
                "serve",
                "--from",
                mirror,
                "--fetch-every",
                "3600",
                "--webhook-secret-file",
                str(work / "secret"),
                name="webhook",
            )
            wait_ready(hooked)
            measure_propagation(
                bench, hooked, drafts, args.promotions, "propagation_webhook", webhook=True
            )
            hooked.stop()
            polled = bench.start(
                "serve", "--from", mirror, "--fetch-every", str(args.fetch_every), name="polled"
            )
            wait_ready(polled)
            measure_propagation(bench, polled, drafts, args.promotions, "propagation_polling")
        finally:
            bench.stop_all()
            git("update-ref", "refs/heads/main", fx.commit, cwd=fx.bare, env=env)
        bench.notes["load_after"] = [round(x, 2) for x in os.getloadavg()]
        bench.notes["calibration_ms_after"] = round(calibration(), 1)
        report(bench, args.fetch_every)


if __name__ == "__main__":
    main()
