"""The repository's ``.gitattributes`` as it bears on ``prompts/``.

A build that reads the registry from a checkout, or from ``git archive``, gets what git writes,
and a ``.gitattributes`` line can make that differ from the committed bytes the check judged. A
line is refused when its pattern may match a file under ``prompts/`` and it sets one of:

- ``filter`` (a clean/smudge program: Git LFS or any other rewrites the file on checkout);
- ``ident`` (``$Id$`` becomes ``$Id: <blob id> $`` on checkout);
- ``eol`` with any value but ``lf`` (``eol=crlf`` writes CRLF line ends on every machine);
- ``working-tree-encoding`` (the file is re-encoded, to UTF-16 say, on checkout);
- ``export-subst`` or ``export-ignore`` (``git archive`` rewrites or leaves out the file).

Unsetting them (``-filter``, ``!eol``) is harmless, and so is every other attribute: ``text``,
``-text``, ``text=auto``, ``crlf``, ``binary`` (line ends then follow the reader's own git
configuration, not the change, and files are committed with LF), ``diff``, ``merge`` (a merge
is a commit, which the check judges), ``whitespace``, ``linguist-*`` and any name git does not
act on. Macros (``[attr]name ...``) are expanded. Whether a pattern may match a registry file
is decided conservatively: a pattern with a ``/`` is anchored at the root, and may match when
its first segment matches ``prompts``; one without matches a file name at any depth, and may
match when it could be ``prompt.yaml``, ``production.yaml``, ``history.yaml``, ``tests.yaml`` or
``N.yaml``. Letter case is ignored, as git does on case-insensitive file systems.

Only the root file can reach ``prompts/`` from outside it; one inside ``prompts/`` is a stray
file the layout rule refuses, and ``.git/info/attributes`` is not part of any change.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator, Mapping

from ..errors import Problem
from ..names import PROMPTS_DIR
from ..snapshot import Snapshot

__all__ = ["ATTRIBUTES_FILE", "attribute_problems", "check_attributes"]

ATTRIBUTES_FILE = ".gitattributes"
_BUILTIN_MACROS = {"binary": ("-diff", "-merge", "-text")}
_REGISTRY_NAMES = ("prompt.yaml", "production.yaml", "history.yaml", "tests.yaml")
_VERSION_HEAD = re.compile(r"(?:[1-9][0-9]*(?:\.(?:y(?:a(?:m(?:l)?)?)?)?)?)?\Z")
_VERSION_TAIL = re.compile(r"[0-9]*\.yaml\Z")
_VERSION_NAME = re.compile(r"[1-9][0-9]*\.yaml\Z")
_GLOB = re.compile(r"[*?\[\\]")
_MACRO_DEPTH = 8
_REFUSED = ("filter", "ident", "working-tree-encoding", "export-subst", "export-ignore")


def check_attributes(snapshot: Snapshot) -> list[Problem]:
    """The problems of the root ``.gitattributes`` of ``snapshot`` (none when there is none)."""
    kinds = {entry.name: entry.kind for entry in snapshot.list_dir("") or ()}
    kind = kinds.get(ATTRIBUTES_FILE)
    if kind is None or kind == "dir":
        return []
    if kind != "file":
        return [
            Problem(
                file=ATTRIBUTES_FILE,
                rule="attributes",
                message="is not a plain file; git may or may not read it, so what it does to "
                f"{PROMPTS_DIR}/ cannot be judged",
                hint="make it a plain file",
            )
        ]
    return attribute_problems(snapshot.read(ATTRIBUTES_FILE) or b"")


def attribute_problems(data: bytes, path: str = ATTRIBUTES_FILE) -> list[Problem]:
    """Every line of an attributes file that changes how git writes a registry file."""
    lines = data.decode("utf-8", "surrogateescape").split("\n")
    macros: dict[str, tuple[str, ...]] = dict(_BUILTIN_MACROS)
    for line in lines:
        parsed = _parse(line)
        if parsed is not None and parsed[0].startswith("[attr]"):
            macros[parsed[0][len("[attr]") :]] = parsed[1]
    problems = []
    for number, line in enumerate(lines, start=1):
        parsed = _parse(line)
        if parsed is None or parsed[0].startswith("[attr]"):
            continue
        pattern, states = parsed
        if not may_match_registry(pattern):
            continue
        refused = sorted(set(_refused(states, macros)))
        if refused:
            problems.append(
                Problem(
                    file=path,
                    line=number,
                    rule="attributes",
                    message=f"'{pattern}' sets {', '.join(refused)} on files under "
                    f"{PROMPTS_DIR}/: git would write other bytes than the committed ones on "
                    "checkout or in an archive",
                    hint=f"remove the line, or narrow its pattern so that it leaves {PROMPTS_DIR}/ "
                    "alone (docs/check.md lists the attributes refused)",
                )
            )
    return problems


def _parse(line: str) -> tuple[str, tuple[str, ...]] | None:
    """A line's pattern and attribute states (``x``, ``-x``, ``!x``, ``x=v``), or ``None``
    for a blank line or a comment."""
    text = line.rstrip("\r").lstrip(" \t")
    if not text or text.startswith("#"):
        return None
    if text.startswith('"'):
        end = _closing_quote(text)
        pattern, rest = text[: end + 1], text[end + 1 :]
    else:
        pattern, _, rest = text.replace("\t", " ").partition(" ")
    return pattern, tuple(rest.split())


def _closing_quote(text: str) -> int:
    index = 1
    while index < len(text):
        if text[index] == "\\":
            index += 2
            continue
        if text[index] == '"':
            return index
        index += 1
    return len(text) - 1


def _refused(states: tuple[str, ...], macros: Mapping[str, tuple[str, ...]]) -> Iterator[str]:
    for state in _expand(states, macros, _MACRO_DEPTH):
        if state.startswith(("-", "!")):
            continue
        name, _, value = state.partition("=")
        if name in _REFUSED or (name == "eol" and value != "lf"):
            yield state


def _expand(
    states: tuple[str, ...], macros: Mapping[str, tuple[str, ...]], depth: int
) -> Iterator[str]:
    for state in states:
        yield state
        if depth and "=" not in state and not state.startswith(("-", "!")) and state in macros:
            yield from _expand(macros[state], macros, depth - 1)


def may_match_registry(pattern: str) -> bool:
    """Whether a pattern of the root attributes file may match a file under ``prompts/``
    (when in doubt: yes)."""
    if pattern.startswith('"'):
        pattern = pattern[1:-1] if pattern.endswith('"') and len(pattern) > 1 else pattern[1:]
    pattern = pattern.lower()
    if pattern.endswith("/"):
        return False  # matches folders only, and attributes of a folder reach no file in it
    if "/" in pattern.lstrip("/"):
        first = pattern.lstrip("/").split("/", 1)[0]
        return "\\" in first or first == "**" or _glob_match(first, PROMPTS_DIR)
    name = pattern.lstrip("/")
    if pattern.startswith("/"):
        return _glob_match(name, PROMPTS_DIR)  # a root entry: only prompts/ itself
    if "\\" in name:
        return True
    first_glob = _GLOB.search(name)
    if first_glob is None:
        return name in _REGISTRY_NAMES or _VERSION_NAME.match(name) is not None
    head = name[: first_glob.start()]
    tail = name[max(m.end() for m in re.finditer(r"[*?\]]", name)) :]
    if any(n.startswith(head) and n.endswith(tail) for n in _REGISTRY_NAMES):
        return True
    return bool(_VERSION_HEAD.match(head)) and (
        ".yaml".endswith(tail) or _VERSION_TAIL.match(tail) is not None
    )


def _glob_match(glob: str, name: str) -> bool:
    # git's wildmatch negates a bracket with '^' as well as '!'.
    return fnmatch.fnmatchcase(name, glob.replace("[^", "[!"))
