"""Prompt names, version numbers and ``NAME@LABEL`` selectors, and where a prompt's files live."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from .errors import InputError, InvalidName

__all__ = [
    "MAX_NAME_LENGTH",
    "MAX_VERSION",
    "MAX_VERSIONS",
    "PROMPTS_DIR",
    "RETIRE_TRAILER",
    "VERSION_FILE",
    "Selector",
    "check_name",
    "history_path",
    "is_valid_name",
    "is_valid_tag",
    "name_fault",
    "parse_selector",
    "parse_version_number",
    "pointer_path",
    "prompt_dir",
    "prompt_file",
    "tests_path",
    "version_path",
    "versions_dir",
]

PROMPTS_DIR = "prompts"
RETIRE_TRAILER = "Retire-Prompt"
"""The commit trailer that takes a prompt with a production version out of the registry."""
MAX_NAME_LENGTH = 100
MAX_VERSION = 999_999
"""The highest version number: six digits, so a number from a file name or a command line is
read in constant time and means the same in every language."""
MAX_VERSIONS = 10_000
"""Version files in one prompt folder: the check reads each one, so their count is bounded."""
_NAME = re.compile(r"[a-z0-9]+(?:[-_.][a-z0-9]+)*\Z")
VERSION_FILE = re.compile(r"([1-9][0-9]{0,5})\.yaml\Z")
"""A version file's name: its number (at most ``MAX_VERSION``, no leading zero), then ``.yaml``."""
_VERSION = re.compile(r"[vV]?([0-9]+)\Z")
# Windows cannot check out a file or folder with one of these names, with or without an extension
# ("con", "con.txt"), in any case: a prompt so named would break every clone there.
_WINDOWS_RESERVED = frozenset(
    ["con", "prn", "aux", "nul"] + [f"{kind}{n}" for kind in ("com", "lpt") for n in range(1, 10)]
)

Label = Literal["production", "latest"]


def is_valid_name(name: str) -> bool:
    """Whether ``name`` may name a prompt: the pattern, the length, and a folder name every
    platform can check out."""
    return is_valid_tag(name) and not _windows_reserved(name)


def is_valid_tag(tag: str) -> bool:
    """Whether ``tag`` reads as a name (tags are never paths, so Windows' names are fine)."""
    return len(tag) <= MAX_NAME_LENGTH and bool(_NAME.match(tag))


def _windows_reserved(name: str) -> bool:
    return name.split(".", 1)[0].lower() in _WINDOWS_RESERVED


def check_name(name: str) -> str:
    """Return ``name`` if it is a valid prompt name, else raise ``InvalidName`` saying why."""
    if is_valid_name(name):
        return name
    raise InvalidName(name, name_fault(name))


def name_fault(name: str) -> str:
    """Why ``name`` is not a valid prompt name (for one that is not)."""
    if not name:
        return "it is empty"
    if _windows_reserved(name) and is_valid_tag(name):
        return (
            f"{name.split('.', 1)[0]!r} is a device name on Windows, where a folder so named "
            "cannot be checked out"
        )
    if len(name) > MAX_NAME_LENGTH:
        return f"it has {len(name)} characters, more than {MAX_NAME_LENGTH}"
    if not name.isascii():
        return "it has non-ASCII characters"
    if "/" in name or "\\" in name:
        return "it has a path separator"
    if any(c.isspace() for c in name):
        return "it has white space"
    if any(c.isupper() for c in name):
        return "it has uppercase letters"
    bad = sorted({c for c in name if not (c.isalnum() or c in "-_.")})
    if bad:
        return "it has the characters " + " ".join(repr(c) for c in bad)
    return "a '-', '_' or '.' must stand between letters or digits, alone"


def parse_version_number(text: str | int) -> int:
    """``3``, ``"3"`` and ``"v3"`` all name version 3."""
    if isinstance(text, int):
        number = text
    else:
        match = _VERSION.match(text.strip())
        if not match:
            raise InputError(f"{text!r} is not a version number", hint="write a version as 3 or v3")
        digits = match.group(1).lstrip("0")
        if len(digits) > len(str(MAX_VERSION)):
            raise InputError(
                f"{text!r} is not a version number",
                hint=f"version numbers go up to {MAX_VERSION:,}",
            )
        number = int(digits or "0")
    if number > MAX_VERSION:
        raise InputError(
            f"{text!r} is not a version number", hint=f"version numbers go up to {MAX_VERSION:,}"
        )
    if number < 1:
        raise InputError(f"{text!r} is not a version number", hint="versions count from 1")
    return number


@dataclass(frozen=True, kw_only=True, slots=True)
class Selector:
    """Which version of a prompt: a number, or the ``production`` or ``latest`` label."""

    prompt: str
    version: int | None = None
    label: Label = "production"

    def __str__(self) -> str:
        return f"{self.prompt}@{self.version if self.version is not None else self.label}"


def parse_selector(text: str) -> Selector:
    """Parse ``NAME``, ``NAME@production``, ``NAME@latest``, ``NAME@3`` or ``NAME@v3``."""
    name, sep, what = text.partition("@")
    check_name(name)
    if not sep or what == "production":
        return Selector(prompt=name)
    if what == "latest":
        return Selector(prompt=name, label="latest")
    try:
        return Selector(prompt=name, version=parse_version_number(what))
    except InputError:
        raise InputError(
            f"{text!r}: after '@' comes production, latest or a version number",
            hint=f"e.g. {name}@production, {name}@latest, {name}@3",
        ) from None


def prompt_dir(name: str) -> str:
    return f"{PROMPTS_DIR}/{name}"


def prompt_file(name: str) -> str:
    return f"{PROMPTS_DIR}/{name}/prompt.yaml"


def versions_dir(name: str) -> str:
    return f"{PROMPTS_DIR}/{name}/versions"


def version_path(name: str, version: int) -> str:
    return f"{PROMPTS_DIR}/{name}/versions/{version}.yaml"


def pointer_path(name: str) -> str:
    return f"{PROMPTS_DIR}/{name}/production.yaml"


def history_path(name: str) -> str:
    return f"{PROMPTS_DIR}/{name}/history.yaml"


def tests_path(name: str) -> str:
    return f"{PROMPTS_DIR}/{name}/tests.yaml"
