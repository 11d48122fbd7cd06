"""Random lifecycle sequences through the library, checked against the rules after every step
(500 sequences in tests/stress/run.py)."""

from __future__ import annotations

from stress.machine import run_sequences


def test_random_lifecycle_sequences() -> None:
    figures = run_sequences(25, steps=20)
    assert figures["operations accepted"] > 0
    assert figures["operations refused (nothing changed)"] > 0
