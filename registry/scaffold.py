"""What ``promptship init`` adds to a registry repository, as one change set."""

from __future__ import annotations

import re
from collections.abc import Sequence
from importlib import metadata, resources

from .errors import InputError, PromptshipError
from .snapshot import ChangeSet, Snapshot

__all__ = ["SCAFFOLD", "SCHEMAS", "codeowners_text", "scaffold_changes", "workflow_text"]

WORKFLOW_PATH = ".github/workflows/prompts.yml"
SCHEMAS = ("version", "prompt", "pointer", "history")
SCAFFOLD = (
    WORKFLOW_PATH,
    ".gitattributes",
    ".github/CODEOWNERS",
    *(f".promptship/schemas/{kind}.schema.json" for kind in SCHEMAS),
)
_OWNER = re.compile(r"@[A-Za-z0-9](?:[A-Za-z0-9-]*)(?:/[A-Za-z0-9._-]+)?\Z|[^@\s]+@[^@\s]+\Z")
_GUARDED = "prompts/*/production.yaml"


def _source(name: str) -> bytes:
    return (resources.files("registry") / "scaffold_files" / name).read_bytes()


def workflow_text(requirement: str | None = None) -> str:
    """The CI workflow, installing ``requirement`` (default: this version of promptship)."""
    if requirement is None:
        requirement = f'"promptship=={metadata.version("promptship")}"'
    return _source("prompts.yml").decode("utf-8").replace("@REQUIREMENT@", requirement)


def codeowners_text(owners: Sequence[str] = ()) -> str:
    for owner in owners:
        if not _OWNER.match(owner):
            raise InputError(
                f"{owner!r} is not a code owner",
                hint="give a user (@alice), a team (@acme/prompt-owners) or an email address",
            )
    line = (
        f"{_GUARDED} {' '.join(owners)}"
        if owners
        else f"# {_GUARDED} @your-org/prompt-owners   <- name your owners and uncomment"
    )
    return _source("CODEOWNERS").decode("utf-8").replace("@OWNERS_LINE@", line)


def scaffold_changes(
    snapshot: Snapshot, *, force: bool = False, owners: Sequence[str] = ()
) -> ChangeSet:
    """The CI workflow, ``.gitattributes``, a CODEOWNERS file and the JSON Schemas of the files;
    existing files are kept unless ``force``."""
    existing = [path for path in SCAFFOLD if snapshot.read(path) is not None]
    if existing and not force:
        raise PromptshipError(
            "already present: " + ", ".join(existing),
            hint="replace them with promptship's versions by force (--force), or keep them",
        )
    schemas = resources.files("registry") / "schemas"
    writes: dict[str, bytes | None] = {
        WORKFLOW_PATH: workflow_text().encode("utf-8"),
        ".gitattributes": _source("gitattributes"),
        ".github/CODEOWNERS": codeowners_text(owners).encode("utf-8"),
    }
    for kind in SCHEMAS:
        name = f"{kind}.schema.json"
        writes[f".promptship/schemas/{name}"] = (schemas / name).read_bytes()
    guard = (
        f"{_GUARDED} is owned by {', '.join(owners)}: turn on 'Require review from Code Owners' "
        "for the main branch to make each promotion need their approval."
        if owners
        else "Name the owners in .github/CODEOWNERS to require review of every promotion."
    )
    return ChangeSet(
        prompt=None,
        writes=writes,
        subject="init: prompt registry check, .gitattributes, CODEOWNERS, file schemas",
        body="The workflow checks every pull request against the registry's rules and its base, "
        f"and the whole registry after each push to main. {guard} The JSON Schemas in "
        ".promptship/schemas let editors validate registry files as you type.",
    )
