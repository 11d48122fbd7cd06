"""What ``promptship init`` adds to a registry repository, as one change set."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata, resources
from urllib.parse import urlsplit

from .errors import InputError, PromptshipError
from .snapshot import ChangeSet, Snapshot

__all__ = [
    "SCAFFOLD",
    "SCHEMAS",
    "YAMLLINT_CONFIGS",
    "YAMLLINT_IGNORED",
    "Install",
    "codeowners_text",
    "parse_install",
    "scaffold_changes",
    "workflow_text",
    "yamllint_text",
]

WORKFLOW_PATH = ".github/workflows/prompts.yml"
SCHEMAS = ("version", "prompt", "pointer", "history")
SCAFFOLD = (
    WORKFLOW_PATH,
    ".gitattributes",
    ".github/CODEOWNERS",
    *(f".promptship/schemas/{kind}.schema.json" for kind in SCHEMAS),
)
YAMLLINT_CONFIGS = (".yamllint", ".yamllint.yaml", ".yamllint.yml")
"""The files yamllint reads its settings from, in the order it looks for them."""
YAMLLINT_IGNORED = (
    "/prompts/*/prompt.yaml",
    "/prompts/*/production.yaml",
    "/prompts/*/history.yaml",
    "/prompts/*/versions/*.yaml",
)
"""The files promptship writes byte for byte, as yamllint's ``ignore`` patterns (those of
``.gitignore``). A prompt's ``tests.yaml`` is written by people, and stays linted."""
_OWNER = re.compile(r"@[A-Za-z0-9](?:[A-Za-z0-9-]*)(?:/[A-Za-z0-9._-]+)?\Z|[^@\s]+@[^@\s]+\Z")
_GUARDED = "prompts/*/production.yaml"


def _source(name: str) -> bytes:
    return (resources.files("registry") / "scaffold_files" / name).read_bytes()


@dataclass(frozen=True, kw_only=True, slots=True)
class Install:
    """What the workflow ``init`` writes installs: a pip requirement that names one release of
    promptship for good, and the package index it comes from (``None``: the public one)."""

    requirement: str
    index_url: str | None = None


_VERSION = re.compile(r"v?(\d+(?:\.\d+)*(?:(?:a|b|rc)\d+)?(?:\.post\d+)?(?:\.dev\d+)?)\Z")
_PINNED = re.compile(r"promptship\s*==\s*(\S+)\Z", re.IGNORECASE)
_VCS = re.compile(r"git\+(?:https|ssh|file)://", re.IGNORECASE)
# What a URL, a path or a version may hold here: no spaces, quotes, '$' or control characters,
# so the value reads the same to YAML, to the shell and to GitHub's expressions.
_PLAIN = re.compile(r"[A-Za-z0-9._~:/?#\[\]@!&()*+,;=%-]+\Z")
_MOVING_REFS = {"head", "main", "master", "trunk", "develop"}
_FORMS = (
    "give a version (1.2.0), a git URL with a tag or commit "
    "(git+https://github.com/acme/promptship@v1.2.0), or a wheel or folder in the repository "
    "(./ci/promptship-1.2.0-py3-none-any.whl)"
)


def parse_install(spec: str | None = None, *, index_url: str | None = None) -> Install:
    """What ``init --install SPEC [--index-url URL]`` asks for, pinned; ``None``: this release.

    >>> parse_install("1.2.0")
    Install(requirement='promptship==1.2.0', index_url=None)
    >>> parse_install("git+https://example.com/acme/promptship@v1.2.0").requirement
    'promptship @ git+https://example.com/acme/promptship@v1.2.0'
    """
    if index_url is not None:
        _check_url(index_url, "--index-url", schemes=("https", "file"))
    if spec is None:
        spec = metadata.version("promptship")
    pinned = _PINNED.match(spec)
    version = _VERSION.match(pinned.group(1) if pinned else spec)
    if version:
        return Install(requirement=f"promptship=={version.group(1)}", index_url=index_url)
    if spec.lower().startswith("promptship"):
        raise InputError(
            f"--install {spec!r} does not pin one release",
            hint="give an exact version (1.2.0), so every run checks with the same rules",
        )
    if not _PLAIN.match(spec):
        raise InputError(f"--install {spec!r} is not a version, a URL or a path", hint=_FORMS)
    if _VCS.match(spec):
        _check_url(spec, "--install", schemes=("git+https", "git+ssh", "git+file"))
        _check_pinned_ref(spec)
        return Install(requirement=f"promptship @ {spec}", index_url=index_url)
    if spec == "." or spec.startswith("./"):
        if ".." in spec.split("/"):
            raise InputError(
                f"--install {spec!r} leaves the repository", hint="give a path inside it"
            )
        return Install(requirement=spec, index_url=index_url)
    raise InputError(f"--install {spec!r} is not a version, a git URL or a path", hint=_FORMS)


def _check_url(url: str, option: str, *, schemes: Sequence[str]) -> None:
    parts = urlsplit(url)
    if parts.scheme.lower() not in schemes or not (parts.netloc or parts.scheme == "file"):
        raise InputError(
            f"{option} {url!r} is not a URL promptship writes into the workflow",
            hint="use one of: " + ", ".join(f"{s}://..." for s in schemes),
        )
    if parts.password is not None or (parts.username and parts.scheme.endswith("https")):
        raise InputError(
            f"{option} {url!r} carries credentials",
            hint="the workflow file is readable by everyone who can read the repository: give "
            "the URL without them, and let the runner authenticate (a .netrc, or PIP_INDEX_URL "
            "set from a repository secret)",
        )
    if not _PLAIN.match(url):
        raise InputError(f"{option} {url!r} is not a plain URL", hint=_FORMS)


def _check_pinned_ref(url: str) -> None:
    path = urlsplit(url.split("#", 1)[0]).path
    _, at, ref = path.rpartition("@")
    if not at or not ref or ref.lower() in _MOVING_REFS:
        raise InputError(
            f"--install {url!r} does not name a tag or a commit",
            hint="end the URL with @TAG or @COMMIT (…/promptship@v1.2.0), so every run checks "
            "with the same release",
        )


def workflow_text(install: Install | None = None) -> str:
    """The CI workflow, installing ``install`` (default: this release of promptship)."""
    chosen = install if install is not None else parse_install()
    env = {"PROMPTSHIP": chosen.requirement}
    if chosen.index_url is not None:
        env["PIP_INDEX_URL"] = chosen.index_url
    # A JSON string is a YAML double-quoted scalar: the value is read back exactly.
    lines = "\n".join(f"          {key}: {json.dumps(value)}" for key, value in env.items())
    return _source("prompts.yml").decode("utf-8").replace("@INSTALL_ENV@", lines)


def yamllint_text() -> str:
    """A ``.yamllint`` that keeps yamllint's default rules and leaves promptship's files alone."""
    ignored = "\n".join(f"  {pattern}" for pattern in YAMLLINT_IGNORED)
    return _source("yamllint").decode("utf-8").replace("@IGNORED@", ignored)


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
    snapshot: Snapshot,
    *,
    force: bool = False,
    owners: Sequence[str] = (),
    install: Install | None = None,
) -> ChangeSet:
    """The CI workflow (installing ``install``), ``.gitattributes``, a CODEOWNERS file, the JSON
    Schemas of the files, and a ``.yamllint`` unless the repository has yamllint settings
    already (they are the team's; ``force`` does not replace them). Existing files are kept
    unless ``force``."""
    existing = [path for path in SCAFFOLD if snapshot.read(path) is not None]
    if existing and not force:
        raise PromptshipError(
            "already present: " + ", ".join(existing),
            hint="replace them with promptship's versions by force (--force), or keep them",
        )
    schemas = resources.files("registry") / "schemas"
    writes: dict[str, bytes | None] = {
        WORKFLOW_PATH: workflow_text(install).encode("utf-8"),
        ".gitattributes": _source("gitattributes"),
        ".github/CODEOWNERS": codeowners_text(owners).encode("utf-8"),
    }
    for kind in SCHEMAS:
        name = f"{kind}.schema.json"
        writes[f".promptship/schemas/{name}"] = (schemas / name).read_bytes()
    if not any(snapshot.read(path) is not None for path in YAMLLINT_CONFIGS):
        writes[YAMLLINT_CONFIGS[0]] = yamllint_text().encode("utf-8")
    guard = (
        f"{_GUARDED} is owned by {', '.join(owners)}: turn on 'Require review from Code Owners' "
        "for the main branch to make each promotion need their approval."
        if owners
        else "Name the owners in .github/CODEOWNERS to require review of every promotion."
    )
    lint = (
        " .yamllint keeps yamllint's default rules off the files promptship writes."
        if YAMLLINT_CONFIGS[0] in writes
        else ""
    )
    return ChangeSet(
        prompt=None,
        writes=writes,
        subject="init: prompt registry check, .gitattributes, CODEOWNERS, file schemas",
        body="The workflow checks every pull request against the registry's rules and its base, "
        f"and the whole registry after each push to main. {guard} The JSON Schemas in "
        f".promptship/schemas let editors validate registry files as you type.{lint}",
    )
