"""The gate before production: a version is promoted only when its golden test cases pass.

The commit says how it went in a ``Golden-Tests:`` trailer (``3 passed``). Skipping them is
possible, and recorded: the history record carries ``"tests_skipped": true`` and the trailer reads
``skipped``, so the audit trail shows every promotion that went out untested.
"""

from __future__ import annotations

from dataclasses import replace

from .catalog import load_version
from .errors import GoldenTestsFailed
from .names import tests_path
from .promotion import plan_promotion
from .snapshot import ChangeSet, Snapshot

__all__ = [
    "SKIPPED_KEY",
    "plan_tested_promotion",
]

SKIPPED_KEY = "tests_skipped"


def plan_tested_promotion(
    snapshot: Snapshot,
    name: str,
    number: int,
    *,
    notes: str = "",
    actor: str,
    now: str,
    skip_tests: bool = False,
) -> ChangeSet:
    """``plan_promotion``, refused with ``GoldenTestsFailed`` when a case of the version fails;
    with ``skip_tests`` the cases are not run and the records say so."""
    if skip_tests:
        plan = plan_promotion(
            snapshot, name, number, notes=notes, actor=actor, now=now, extra={SKIPPED_KEY: True}
        )
        return replace(plan, trailers=(*plan.trailers, ("Golden-Tests", "skipped")))
    plan = plan_promotion(snapshot, name, number, notes=notes, actor=actor, now=now)
    passed = require_passing(snapshot, name, number)
    if not passed:
        return plan
    return replace(plan, trailers=(*plan.trailers, ("Golden-Tests", f"{passed} passed")))


def require_passing(snapshot: Snapshot, name: str, number: int) -> int:
    """How many cases of ``name`` v``number`` ran and passed; ``GoldenTestsFailed`` naming
    every failing case when one did not."""
    data = snapshot.read(tests_path(name))
    if data is None:
        return 0
    # Loaded only for prompts with cases: RE2 and the case parser cost a promotion 30 ms.
    from .goldens import parse_cases, run_cases

    report = run_cases(
        load_version(snapshot, name, number), parse_cases(data, path=tests_path(name))
    )
    if report.ok:
        return len(report.ran)
    raise GoldenTestsFailed(
        name,
        number,
        [r.name for r in report.failed],
        len(report.ran),
        hint=f"see why (promptship test {name}@{number}); fix the draft or {tests_path(name)} "
        "and commit, or promote without the tests (--skip-tests; the history records that "
        "tests were skipped)",
    )
