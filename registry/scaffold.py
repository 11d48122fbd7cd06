"""What ``promptship init`` adds to a registry repository, as one change set."""

from __future__ import annotations

from importlib import resources

from .errors import PromptshipError
from .snapshot import ChangeSet, Snapshot

__all__ = ["SCAFFOLD", "scaffold_changes"]

SCAFFOLD = {
    ".github/workflows/prompts.yml": "prompts.yml",
    ".gitattributes": "gitattributes",
    ".github/CODEOWNERS": "CODEOWNERS",
}


def scaffold_changes(snapshot: Snapshot, *, force: bool = False) -> ChangeSet:
    """The CI workflow, ``.gitattributes`` and a CODEOWNERS suggestion; existing files are kept
    unless ``force``."""
    source = resources.files("registry") / "scaffold_files"
    existing = [path for path in SCAFFOLD if snapshot.read(path) is not None]
    if existing and not force:
        raise PromptshipError(
            "already present: " + ", ".join(existing),
            hint="pass --force to replace them with promptship's versions",
        )
    return ChangeSet(
        prompt=None,
        writes={path: (source / name).read_bytes() for path, name in SCAFFOLD.items()},
        subject="init: prompt registry check, .gitattributes, CODEOWNERS suggestion",
        body="The workflow checks every pull request that changes prompts/ against the registry's "
        "rules. Uncomment the CODEOWNERS line to require review of every promotion.",
    )
