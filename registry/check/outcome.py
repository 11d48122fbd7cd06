"""What a check found: the problems, and the promotions a change makes (for the reports)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import Problem
from ..history import HistoryRecord

__all__ = ["CheckOutcome", "Promotion"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Promotion:
    """One promotion a change makes: a history record the change appends."""

    prompt: str
    previous: int | None
    version: int
    by: str
    at: str
    notes: str
    tests_skipped: bool = False

    @classmethod
    def of(cls, record: HistoryRecord) -> Promotion:
        return cls(
            prompt=record.prompt,
            previous=record.previous_version,
            version=record.version,
            by=record.promoted_by,
            at=record.promoted_at,
            notes=record.notes,
            tests_skipped=record.extra.get("tests_skipped") is True,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "prompt": self.prompt,
            "from": self.previous,
            "to": self.version,
            "by": self.by,
            "at": self.at,
            "notes": self.notes,
            "tests_skipped": self.tests_skipped,
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class CheckOutcome:
    """The result of ``check``: of a whole tree (``base`` is ``None``) or of a change.

    ``prompts`` counts the prompt folders checked; ``base`` is the commit compared with (the
    merge base of the base named and the head), ``commits`` how many commits lie between, and
    ``touched`` names the entries of ``prompts/`` that differ between the two (changed, added or
    gone)."""

    problems: tuple[Problem, ...]
    prompts: int
    promotions: tuple[Promotion, ...] = ()
    retired: tuple[str, ...] = ()
    base: str | None = None
    head: str | None = None
    commits: int = 0
    touched: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems
