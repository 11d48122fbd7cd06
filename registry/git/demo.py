"""A scratch repository seeded with the example registry, for ``promptship demo``."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import pygit2

from ..errors import PromptshipError
from ..identity import Identity
from ..names import PROMPTS_DIR
from ..snapshot import ChangeSet
from .publish import write_change
from .store import GitStore

if TYPE_CHECKING:
    from importlib.abc import Traversable

__all__ = ["DEMO_IDENTITY", "create_demo_repository", "example_files"]

DEMO_IDENTITY = Identity(name="Ada Example", email="ada@example.com")


def example_files() -> dict[str, bytes]:
    """The example registry shipped with promptship: ``prompts/...`` path -> bytes."""
    try:
        root: Traversable = resources.files("registry.examples")
    except ModuleNotFoundError:
        # Running from a source checkout without installing: the examples are the repository's.
        root = Path(__file__).resolve().parents[2] / PROMPTS_DIR
    files: dict[str, bytes] = {}

    def walk(node: Traversable, prefix: str) -> None:
        for child in node.iterdir():
            if child.is_dir():
                walk(child, f"{prefix}/{child.name}")
            elif child.name.endswith(".yaml"):
                files[f"{prefix}/{child.name}"] = child.read_bytes()

    walk(root, PROMPTS_DIR)
    return files


def create_demo_repository(directory: Path) -> GitStore:
    """A new git repository in ``directory`` (which must be empty) whose first commit holds the
    example registry; its local git identity is the demo's, so commands work there as they are."""
    if directory.exists() and any(directory.iterdir()):
        raise PromptshipError(
            f"{directory} is not empty",
            hint="give a new or empty folder, or none for a temporary one",
        )
    created = not directory.exists()
    directory.mkdir(parents=True, exist_ok=True)
    try:
        repo = pygit2.init_repository(str(directory), initial_head="main")
        repo.config["user.name"] = DEMO_IDENTITY.name
        repo.config["user.email"] = DEMO_IDENTITY.email
        store = GitStore(repo)
        files = example_files()
        write_change(
            store,
            lambda snap, now: ChangeSet(
                prompt=None,
                writes=dict(files),
                subject="import: the example registry",
                body="Prompts, versions and promotion histories copied from promptship's examples.",
            ),
            identity=DEMO_IDENTITY,
        )
    except BaseException:
        # The folder was empty or new: leave it so, not half a repository the next try refuses.
        if created:
            shutil.rmtree(directory, ignore_errors=True)
        else:
            for entry in directory.iterdir():
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)
        raise
    return store
