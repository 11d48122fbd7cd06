"""``/metrics`` in the Prometheus text format: whether the replica serves, what, whether a newer
tip was refused, how fetching goes, and its answers by status.

A dozen gauges and counters that already live in the follower, written out on request: no
metrics library, so counting a request costs one dictionary update."""

from __future__ import annotations

import time

from .follow import Follower

__all__ = ["exposition"]


def exposition(follower: Follower, clients: int, renders_killed: int) -> bytes:
    health = follower.health
    served = follower.served
    degraded = health.degraded
    lines: list[str] = []

    def metric(name: str, kind: str, text: str, *samples: tuple[str, float]) -> None:
        lines.append(f"# HELP promptship_{name} {text}")
        lines.append(f"# TYPE promptship_{name} {kind}")
        for labels, value in samples:
            lines.append(f"promptship_{name}{labels} {_number(value)}")

    metric("ready", "gauge", "1 once a verified commit is served.", ("", served is not None))
    metric(
        "degraded",
        "gauge",
        "1 while a newer tip of the followed ref is refused (the last good commit is served).",
        ("", degraded is not None),
    )
    if served is not None:
        metric(
            "served_commit_info",
            "gauge",
            "The commit served.",
            (f'{{commit="{served.commit}"}}', 1),
        )
        metric("prompts", "gauge", "Prompts in the served commit.", ("", len(served.prompts)))
        metric(
            "production_prompts",
            "gauge",
            "Prompts with a production version in the served commit.",
            ("", len(served.production)),
        )
    if degraded is not None:
        metric(
            "refused_commit_info",
            "gauge",
            "The newer tip that was refused.",
            (f'{{commit="{degraded.tip}"}}', 1),
        )
    metric(
        "commits_served_total",
        "counter",
        "Commits verified and served.",
        ("", health.commits_served),
    )
    metric("commits_refused_total", "counter", "Tips refused.", ("", health.commits_refused))
    metric("fetches_total", "counter", "Fetches from the remote.", ("", health.fetches))
    metric("fetch_failures_total", "counter", "Fetches that failed.", ("", health.fetch_failures))
    if health.last_fetch is not None:
        metric(
            "last_fetch_timestamp_seconds",
            "gauge",
            "When the last fetch succeeded.",
            ("", health.last_fetch),
        )
    if health.last_verify_seconds is not None:
        metric(
            "last_verify_seconds",
            "gauge",
            "How long verifying the last new tip took.",
            ("", health.last_verify_seconds),
        )
    metric("event_clients", "gauge", "Open event streams.", ("", clients))
    metric(
        "workers_killed_total",
        "counter",
        "Worker tasks stopped at their deadline (checks and renders).",
        ("", follower.workers.killed + renders_killed),
    )
    metric(
        "responses_total",
        "counter",
        "Answers by HTTP status.",
        *((f'{{status="{status}"}}', count) for status, count in sorted(health.statuses.items())),
    )
    metric(
        "uptime_seconds",
        "gauge",
        "Seconds since the server started.",
        ("", time.time() - health.started),
    )
    return ("\n".join(lines) + "\n").encode()


def _number(value: float) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    return repr(float(value))
