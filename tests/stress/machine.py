"""Random sequences of create / new-version / edit / archive / unarchive / promote through the
library on a real clone, against a model of the lifecycle rules: every operation is accepted
exactly when the rules allow it, a refused one changes nothing (branch, files, index), and after
every step the tree rules hold on the branch's tree and on the work tree."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar

import pygit2
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from registry.catalog import load_version, version_numbers
from registry.check.tree import check_tree
from registry.errors import PromptshipError
from registry.git.decision import Operation
from registry.git.folder import FolderSnapshot
from registry.git.publish import write_change
from registry.git.store import GitStore
from registry.identity import Identity
from registry.lifecycle import (
    Body,
    archive_version,
    create_prompt,
    edit_version,
    new_version,
    unarchive_version,
)
from registry.promotion import plan_promotion

__all__ = ["RegistryMachine", "run_sequences"]

ACTOR = Identity(name="Model Example", email="model@example.com")
NAMES = st.sampled_from(["alpha", "beta"])
VERSIONS = st.integers(min_value=1, max_value=5)
TEXTS = st.sampled_from(["Hi {{ name }}", "Hello {{ name }}!", "Plain text", ""])


class RegistryMachine(RuleBasedStateMachine):
    tally: ClassVar[Counter[str]] = Counter()
    """Accepted and refused operations, over every sequence run by this class."""

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="promptship-model-"))
        pygit2.init_repository(str(self.folder), initial_head="main")
        self.store = GitStore.open(self.folder)
        self.status: dict[str, dict[int, str]] = {}
        self.content: dict[str, dict[int, str]] = {}
        self.ever_published: set[tuple[str, int]] = set()
        self.production: dict[str, int] = {}

    def teardown(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def _apply(self, operation: Operation, allowed: bool) -> bool:
        before = self._state()
        try:
            write_change(self.store, operation, identity=ACTOR)
        except PromptshipError:
            assert not allowed, "the rules allow this operation, but it was refused"
            assert self._state() == before, "a refused operation changed the repository"
            self.tally["refused"] += 1
            return False
        assert allowed, "the rules forbid this operation, but it was accepted"
        self.tally["accepted"] += 1
        return True

    def _state(self) -> tuple[Any, ...]:
        tip = self.store.tip()[1]
        files = {
            str(p.relative_to(self.folder)): p.read_bytes()
            for p in sorted((self.folder / "prompts").rglob("*"))
            if p.is_file()
        }
        index = (self.folder / ".git" / "index").read_bytes() if tip is not None else b""
        return (tip.id if tip is not None else None, files, index)

    def _versions(self, name: str) -> dict[int, str]:
        return self.status.get(name, {})

    def _pick(self, data: st.DataObject, name: str) -> int:
        """Mostly a version the prompt has, sometimes any number (one it may not have)."""
        existing = sorted(self._versions(name))
        choices = st.sampled_from(existing) | VERSIONS if existing else VERSIONS
        return data.draw(choices)

    @initialize(text=TEXTS)
    def first_prompt(self, text: str) -> None:
        self.create("alpha", text)

    @rule(name=NAMES, text=TEXTS)
    def create(self, name: str, text: str) -> None:
        allowed = name not in self.status
        if self._apply(
            lambda s, now: create_prompt(
                s, name, body=Body(content=text), actor=str(ACTOR), now=now
            ),
            allowed,
        ):
            self.status[name] = {1: "draft"}
            self.content[name] = {1: text}

    @rule(name=NAMES, copy=st.booleans(), text=st.none() | TEXTS, data=st.data())
    def add_version(self, name: str, copy: bool, text: str | None, data: st.DataObject) -> None:
        versions = self._versions(name)
        source = self._pick(data, name) if copy else None
        allowed = name in self.status and (source is None or source in versions)
        body = Body(content=text) if text is not None else None
        if self._apply(
            lambda s, now: new_version(
                s, name, source=source, body=body, actor=str(ACTOR), now=now
            ),
            allowed,
        ):
            number = max(versions) + 1
            versions[number] = "draft"
            if text is not None:
                self.content[name][number] = text
            else:
                self.content[name][number] = self.content[name][source] if source else ""

    @rule(name=NAMES, text=TEXTS, data=st.data())
    def edit(self, name: str, text: str, data: st.DataObject) -> None:
        number = self._pick(data, name)
        allowed = (
            self._versions(name).get(number) == "draft"
            and (name, number) not in self.ever_published
            and self.content[name][number] != text
        )
        if self._apply(
            lambda s, now: edit_version(
                s, name, number, body=Body(content=text), actor=str(ACTOR), now=now
            ),
            allowed,
        ):
            self.content[name][number] = text

    @rule(name=NAMES, data=st.data())
    def archive(self, name: str, data: st.DataObject) -> None:
        number = self._pick(data, name)
        allowed = self._versions(name).get(number) == "draft"
        if self._apply(
            lambda s, now: archive_version(s, name, number, actor=str(ACTOR), now=now), allowed
        ):
            self.status[name][number] = "archived"

    @rule(name=NAMES, data=st.data())
    def unarchive(self, name: str, data: st.DataObject) -> None:
        number = self._pick(data, name)
        allowed = self._versions(name).get(number) == "archived"
        if self._apply(
            lambda s, now: unarchive_version(s, name, number, actor=str(ACTOR), now=now), allowed
        ):
            self.status[name][number] = "draft"

    @rule(name=NAMES, data=st.data())
    def promote(self, name: str, data: st.DataObject) -> None:
        number = self._pick(data, name)
        allowed = self._versions(name).get(number) == "draft"
        if self._apply(
            lambda s, now: plan_promotion(s, name, number, actor=str(ACTOR), now=now), allowed
        ):
            previous = self.production.get(name)
            if previous is not None:
                self.status[name][previous] = "archived"
            self.status[name][number] = "published"
            self.production[name] = number
            self.ever_published.add((name, number))

    @invariant()
    def tree_rules_hold(self) -> None:
        snapshot = self.store.snapshot()
        assert check_tree(snapshot) == []
        assert check_tree(FolderSnapshot(self.folder)) == []
        for name, versions in self.status.items():
            assert version_numbers(snapshot, name) == sorted(versions)
            for number, status in versions.items():
                assert load_version(snapshot, name, number).status == status

    @invariant()
    def checkout_follows_the_branch(self) -> None:
        if self.store.tip()[1] is None:
            return
        status = subprocess.run(
            ["git", "status", "--porcelain"],
            cwd=self.folder,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert status == ""


def run_sequences(count: int, steps: int = 30) -> dict[str, Any]:
    """``count`` random sequences of up to ``steps`` operations; raises on the first failure."""
    started = time.perf_counter()
    machine = type("Machine", (RegistryMachine,), {"tally": Counter()})
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=count,
            stateful_step_count=steps,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
    return {
        "scenario": f"{count} random sequences of up to {steps} lifecycle operations, "
        "checked after every step",
        "operations accepted": machine.tally["accepted"],
        "operations refused (nothing changed)": machine.tally["refused"],
        "seconds": round(time.perf_counter() - started, 2),
        "problems": [],
    }
