"""The check's reports, as text: for people, for programs (JSON), and for GitHub Actions
(``::error`` annotations and a Markdown job summary).

Paths, notes and messages may come from an untrusted pull request, so every report escapes what
its reader would otherwise interpret: control characters for terminals and logs, workflow
commands for GitHub, Markdown and HTML for the job summary.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from ..errors import Problem
from .outcome import CheckOutcome, Promotion
from .rules import rule_for

__all__ = ["github_report", "json_report", "markdown_summary", "text_report"]


def text_report(outcome: CheckOutcome) -> str:
    """One line per problem (file, what is wrong, the rule, what to do), then a summary line."""
    lines = [
        f"{_where(p)}: {_printable(p.message)} (rule: {rule_for(p.rule).words}) "
        f"— to fix: {_printable(_fix(p, outcome))}"
        for p in outcome.problems
    ]
    lines.append(summary_line(outcome))
    return "\n".join(lines) + "\n"


def json_report(outcome: CheckOutcome) -> str:
    data = {
        "ok": outcome.ok,
        "base": outcome.base,
        "head": outcome.head,
        "commits": outcome.commits,
        "prompts_checked": outcome.prompts,
        "violations": [
            {
                "file": p.file,
                "line": p.line,
                "rule": p.rule,
                "rule_text": rule_for(p.rule).words,
                "message": p.message,
                "hint": _fix(p, outcome),
            }
            for p in outcome.problems
        ],
        "promotions": [promotion.to_json() for promotion in outcome.promotions],
        "retired": list(outcome.retired),
    }
    # ASCII only: a file name that is not UTF-8 still makes valid JSON (as a \udcxx escape).
    return json.dumps(data, indent=2) + "\n"


def github_report(outcome: CheckOutcome) -> str:
    """An ``::error`` workflow command per problem (GitHub shows each on the file and line of the
    pull request), then the summary line."""
    lines = []
    for p in outcome.problems:
        where = f"file={_property(p.file)}"
        if p.line:
            where += f",line={p.line}"
        title = _property(rule_for(p.rule).words)
        body = _data(f"{p.message} — to fix: {_fix(p, outcome)}")
        lines.append(f"::error {where},title={title}::{body}")
    lines.append(summary_line(outcome))
    return "\n".join(lines) + "\n"


def markdown_summary(outcome: CheckOutcome) -> str:
    """The job summary: the verdict, the promotions the change makes, and the problems."""
    parts = [
        "## promptship check",
        "",
        f"**{'Passed' if outcome.ok else 'Failed'}**: {_markdown(summary_line(outcome))}",
        "",
    ]
    if outcome.promotions:
        parts += [
            "### Promotions",
            "",
            "| Prompt | From | To | By | At | Notes |",
            "|---|---|---|---|---|---|",
        ]
        parts += [_promotion_row(p) for p in outcome.promotions]
        parts.append("")
    if outcome.retired:
        parts += ["### Retired prompts", ""]
        parts += [f"- {_markdown(name)}" for name in outcome.retired]
        parts.append("")
    if outcome.problems:
        parts += ["### Problems", "", "| File | Problem | Rule | To fix |", "|---|---|---|---|"]
        parts += [
            f"| {_markdown(_where(p))} | {_markdown(p.message)} | "
            f"{_markdown(rule_for(p.rule).words)} | {_markdown(_fix(p, outcome))} |"
            for p in outcome.problems
        ]
        parts.append("")
    return "\n".join(parts) + "\n"


def summary_line(outcome: CheckOutcome) -> str:
    if outcome.base is None:
        scope = f"{_count(outcome.prompts, 'prompt')} checked"
    else:
        scope = (
            f"{_count(outcome.prompts, 'changed prompt')} in "
            f"{_count(outcome.commits, 'commit')} since {outcome.base[:10]}"
        )
        if outcome.promotions or outcome.retired:
            scope += f"; {_moves(outcome.promotions, outcome.retired)}"
    if outcome.ok:
        return f"ok: {scope}, no problems"
    files = len({p.file for p in outcome.problems})
    return f"{_count(len(outcome.problems), 'problem')} in {_count(files, 'file')} ({scope})"


def _moves(promotions: Sequence[Promotion], retired: Sequence[str]) -> str:
    moves = [
        f"{p.prompt} {'v' + str(p.previous) if p.previous else '(none)'} -> v{p.version}"
        for p in promotions
    ]
    moves += [f"{name} retired" for name in retired]
    shown = ", ".join(_printable(m) for m in moves[:5])
    return shown + (f" and {len(moves) - 5} more" if len(moves) > 5 else "")


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _where(problem: Problem) -> str:
    path = _printable(problem.file)
    return f"{path}:{problem.line}" if problem.line else path


def _fix(problem: Problem, outcome: CheckOutcome) -> str:
    text = problem.hint or rule_for(problem.rule).fix
    text = text.replace("<file>", problem.file)
    return text.replace("<base>", outcome.base[:10]) if outcome.base else text


def _promotion_row(p: Promotion) -> str:
    cells = [
        p.prompt,
        f"v{p.previous}" if p.previous is not None else "(none)",
        f"v{p.version}",
        p.by,
        p.at,
        p.notes + (" (golden tests skipped)" if p.tests_skipped else ""),
    ]
    return "| " + " | ".join(_markdown(cell) for cell in cells) + " |"


def _printable(text: str) -> str:
    """``text`` with control and other invisible characters shown as escapes, so a file name
    cannot move the cursor, start a log command or reorder what a terminal shows."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text)


def _data(text: str) -> str:
    """A workflow command's message: '%', CR and LF escaped so no line can start a command, and
    other invisible characters shown as escapes."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return _printable(text)


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


_MARKDOWN_SPECIAL = set("\\`*_{}[]()#+-.!|~>")


def _markdown(text: str) -> str:
    """Text as inert Markdown inside a table cell: no links, images, emphasis or HTML."""
    text = _printable(" ".join(text.split()))
    out = []
    for char in text:
        if char == "<":
            out.append("&lt;")
        elif char == "&":
            out.append("&amp;")
        elif char in _MARKDOWN_SPECIAL:
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)
