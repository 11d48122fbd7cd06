"""Real concurrent processes: many writers on one repository, clones racing through one remote
(file:// and git daemon). The full-size runs are in tests/stress/run.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from stress.scenarios import local_race, remote_race


@pytest.mark.parametrize("bare", [False, True], ids=["clone", "bare"])
def test_writers_on_one_repository_lose_no_update(tmp_path: Path, bare: bool) -> None:
    figures = local_race(tmp_path, processes=4, promotions=4, bare=bare)
    assert figures["problems"] == []
    assert figures["promotions"] == 16
    assert figures["lost updates"] == 0


@pytest.mark.parametrize("daemon", [False, True], ids=["file", "git-daemon"])
def test_clones_racing_through_one_remote(tmp_path: Path, daemon: bool) -> None:
    figures = remote_race(tmp_path, clones=4, rounds=2, daemon=daemon)
    assert figures["problems"] == []
    assert figures["merge commits on the remote"] == 0
    assert figures["lost updates"] == 0
    assert (
        figures["refusals leaving the clone unchanged"]
        == figures["commands"] - figures["succeeded"]
    )
