"""How runs are shown: answers side by side for people, one object per model for programs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from .columns import side_by_side, terminal_width
from .output import echo_error, echo_table

if TYPE_CHECKING:
    from registry.panel.runlog import ModelResult, RunRecord

__all__ = ["report_failures", "run_json", "show_rerun", "show_run", "show_runs"]


def run_json(record: RunRecord) -> list[dict[str, Any]]:
    """One object per model: the answer with everything needed to read it alone."""
    return [
        {
            "run_id": record.id,
            "at": record.at,
            "prompt": record.prompt,
            "version": record.version,
            "rerun_of": record.rerun_of,
            "variables": dict(record.variables),
            "parameters": dict(record.parameters),
            "resolved": dict(record.resolved),
            **result.to_json(),
        }
        for result in record.results
    ]


def show_run(record: RunRecord) -> None:
    click.echo(f"{record.prompt} v{record.version} · run {record.id} · {record.at}")
    _settings(record)
    click.echo("")
    click.echo(_resolved_text(record))
    click.echo("")
    _compare([r.label for r in record.results], [_cells(r) for r in record.results])


def show_rerun(old: RunRecord, new: RunRecord) -> None:
    """Each model's old and new answer side by side, under the prompts that produced them."""
    click.echo(
        f"{new.prompt}: run {old.id} (v{old.version}) again on v{new.version} · run {new.id}"
    )
    _settings(new)
    headers = [f"before: v{old.version} · {old.id}", f"now: v{new.version} · {new.id}"]
    prompts = [_resolved_text(old), _resolved_text(new)]
    for before, now in zip(old.results, new.results, strict=True):
        click.echo("")
        click.echo(f"== {now.label} ==")
        _compare(headers, [_cells(before), _cells(now)], prompts)


def _settings(record: RunRecord) -> None:
    variables = ", ".join(f"{k}={v}" for k, v in record.variables.items()) or "(none)"
    parameters = ", ".join(f"{k}={v}" for k, v in record.parameters.items()) or "(defaults)"
    click.echo(f"variables:  {variables}")
    click.echo(f"parameters: {parameters}")


def _resolved_text(record: RunRecord) -> str:
    if record.resolved.get("type") == "chat":
        return "\n".join(
            f"[{m['role']}]\n{m['content']}".rstrip("\n") for m in record.resolved["messages"]
        )
    return str(record.resolved.get("content", "")).rstrip("\n")


_LABELS = ("response", "finish", "tokens", "latency", "cost")


def _cells(result: ModelResult) -> list[str]:
    if result.error is not None:
        response = f"FAILED: {result.error.detail or result.error.message}"
    else:
        response = result.response or "(empty)"
    usage = result.usage
    tokens = (
        f"{usage.total_tokens} ({usage.prompt_tokens} in, {usage.completion_tokens} out)"
        if usage
        else "-"
    )
    cost = f"${result.cost_usd:.6f}" if result.cost_usd is not None else "-"
    latency = f"{result.latency_ms} ms" if result.error is None or result.latency_ms else "-"
    return [response, result.finish_reason or "-", tokens, latency, cost]


def _compare(
    headers: Sequence[str], columns: Sequence[list[str]], prompts: Sequence[str] = ()
) -> None:
    """Columns side by side when they fit the terminal, else one block after another."""
    labels = ["prompt", *_LABELS] if prompts else list(_LABELS)
    columns = [[p, *c] for p, c in zip(prompts, columns, strict=True)] if prompts else columns
    rows = [(label, [c[i] for c in columns]) for i, label in enumerate(labels)]
    lines = side_by_side(headers, rows, width=terminal_width())
    if lines is not None:
        for line in lines:
            click.echo(line)
        return
    for header, column in zip(headers, columns, strict=True):
        click.echo(f"-- {header} --")
        for label, cell in zip(labels, column, strict=True):
            if "\n" in cell or label in ("prompt", "response"):
                click.echo(f"{label}:")
                click.echo(cell)
            else:
                click.echo(f"{label}: {cell}")


def report_failures(record: RunRecord) -> None:
    for result in record.failed:
        if result.error is not None:
            echo_error(result.error.message, result.error.hint)


def show_runs(records: Sequence[RunRecord]) -> None:
    echo_table(
        ["ID", "WHEN", "PROMPT", "MODELS", "TOKENS", "COST", "RESULT"],
        [
            (
                r.id,
                r.at,
                f"{r.prompt} v{r.version}",
                ", ".join(x.label for x in r.results),
                sum(x.usage.total_tokens for x in r.results if x.usage) or "-",
                _total_cost(r),
                f"{len(r.failed)} of {len(r.results)} failed" if r.failed else "ok",
            )
            for r in records
        ],
    )


def _total_cost(record: RunRecord) -> str:
    costs = [r.cost_usd for r in record.results if r.cost_usd is not None]
    return f"${sum(costs):.6f}" if costs else "-"
