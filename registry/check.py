"""The tree rules: what every state of a registry must satisfy (rules 1-4 of the format).

1. every file parses and matches its schema; names and file names agree;
2. at most one published version per prompt, named by a pointer whose digest matches;
3. history chains from ``null`` to the pointer's version, naming existing versions, in time order;
4. no symlinks or stray files, sizes and YAML within the safety limits.

The check reads files only: templates are parsed, never rendered, so an untrusted tree is safe.
"""

from __future__ import annotations

import re

from .errors import InvalidRegistry, Problem, PromptshipError
from .goldens import check_cases
from .history import HistoryRecord, parse_history
from .model import Pointer, Version, parse_pointer, parse_prompt_info, parse_version
from .names import PROMPTS_DIR, history_path, is_valid_name, pointer_path, prompt_file, versions_dir
from .snapshot import Snapshot
from .templates import check_template

__all__ = ["PROMPT_FILES", "check_prompt", "check_tree"]

PROMPT_FILES = {
    "prompt.yaml": "file",
    "versions": "dir",
    "production.yaml": "file",
    "history.yaml": "file",
    "tests.yaml": "file",
}
_VERSION_FILE = re.compile(r"([1-9][0-9]*)\.yaml\Z")


def check_tree(snapshot: Snapshot) -> list[Problem]:
    """Every problem of the registry in ``snapshot`` (an empty list when it is sound)."""
    entries = snapshot.list_dir(PROMPTS_DIR)
    if entries is None:
        return []
    problems: list[Problem] = []
    for entry in entries:
        path = f"{PROMPTS_DIR}/{entry.name}"
        if entry.kind == "symlink":
            problems.append(
                _layout(path, "is a symlink; the registry holds plain files only", "symlink")
            )
        elif entry.kind != "dir":
            problems.append(_layout(path, "only prompt folders belong in prompts/"))
        elif not is_valid_name(entry.name):
            problems.append(
                _layout(
                    path, "folder name is not a valid prompt name (a-z, 0-9, single - _ .)", "name"
                )
            )
        else:
            problems.extend(check_prompt(snapshot, entry.name))
    return problems


def _layout(path: str, message: str, rule: str = "layout") -> Problem:
    return Problem(file=path, rule=rule, message=message)


def check_prompt(snapshot: Snapshot, name: str) -> list[Problem]:
    """The tree rules for one prompt folder."""
    problems: list[Problem] = []
    folder = f"{PROMPTS_DIR}/{name}"
    for entry in snapshot.list_dir(folder) or ():
        want = PROMPT_FILES.get(entry.name)
        if entry.kind == "symlink":
            problems.append(_layout(f"{folder}/{entry.name}", "is a symlink", "symlink"))
        elif want != entry.kind:
            problems.append(
                _layout(
                    f"{folder}/{entry.name}",
                    "is not part of the format (prompt.yaml, "
                    "versions/, production.yaml, history.yaml, tests.yaml)",
                )
            )
    info = snapshot.read(prompt_file(name))
    if info is None:
        problems.append(_layout(prompt_file(name), "is missing; every prompt folder has one"))
    else:
        try:
            parse_prompt_info(info, path=prompt_file(name), prompt=name)
        except InvalidRegistry as exc:
            problems.extend(exc.problems)
    versions = _check_versions(snapshot, name, problems)
    pointer = _read_pointer(snapshot, name, problems)
    history = _read_history(snapshot, name, problems)
    problems.extend(_production_rules(name, versions, pointer))
    problems.extend(check_cases(snapshot, name))
    if history is not None:
        problems.extend(_history_rules(name, versions, pointer, history))
    return problems


def _check_versions(
    snapshot: Snapshot, name: str, problems: list[Problem]
) -> dict[int, Version | None]:
    """Parsed versions by number; ``None`` for a file that is present but broken."""
    versions: dict[int, Version | None] = {}
    folder = versions_dir(name)
    for entry in snapshot.list_dir(folder) or ():
        path = f"{folder}/{entry.name}"
        match = _VERSION_FILE.match(entry.name)
        if entry.kind == "symlink":
            problems.append(_layout(path, "is a symlink", "symlink"))
            continue
        if entry.kind != "file" or not match:
            problems.append(_layout(path, "version files are named N.yaml (1.yaml, 2.yaml, ...)"))
            continue
        number = int(match.group(1))
        data = snapshot.read(path)
        versions[number] = None
        try:
            version = parse_version(data or b"", path=path, prompt=name, number=number)
            for where, text in version.templates():
                check_template(text, where=f"{path} {where}")
        except InvalidRegistry as exc:
            problems.extend(exc.problems)
            continue
        except PromptshipError as exc:
            problems.append(Problem(file=path, rule="template", message=exc.message))
            continue
        versions[number] = version
    return versions


def _read_pointer(snapshot: Snapshot, name: str, problems: list[Problem]) -> Pointer | None:
    data = snapshot.read(pointer_path(name))
    if data is None:
        return None
    try:
        return parse_pointer(data, path=pointer_path(name), prompt=name)
    except InvalidRegistry as exc:
        problems.extend(exc.problems)
        return None


def _read_history(
    snapshot: Snapshot, name: str, problems: list[Problem]
) -> list[HistoryRecord] | None:
    data = snapshot.read(history_path(name))
    if data is None:
        return []
    try:
        return parse_history(data, path=history_path(name), prompt=name)
    except InvalidRegistry as exc:
        problems.extend(exc.problems)
        return None


def _production_rules(
    name: str, versions: dict[int, Version | None], pointer: Pointer | None
) -> list[Problem]:
    path = pointer_path(name)
    published = sorted(n for n, v in versions.items() if v is not None and v.status == "published")
    problems = []
    if len(published) > 1:
        listed = ", ".join(f"v{n}" for n in published)
        problems.append(
            Problem(
                file=f"{versions_dir(name)}/",
                rule="one-production",
                message=f"{listed} are all published; at most one version is in production",
            )
        )
    if pointer is None:
        if published:
            problems.append(
                Problem(
                    file=path,
                    rule="pointer",
                    message=f"is missing but v{published[0]} is published; promote with "
                    "'promptship promote' so pointer, statuses and history change together",
                )
            )
        return problems
    target = versions.get(pointer.version, "absent")
    if target == "absent":
        problems.append(
            Problem(
                file=path, rule="pointer", message=f"names v{pointer.version}, which does not exist"
            )
        )
    elif isinstance(target, Version):
        if target.status != "published":
            problems.append(
                Problem(
                    file=path,
                    rule="pointer",
                    message=f"names v{pointer.version}, which is {target.status}, not published",
                )
            )
        if target.digest != pointer.digest:
            problems.append(
                Problem(
                    file=path,
                    rule="digest",
                    message=f"digest does not match v{pointer.version}'s content: the version "
                    "was changed after it was promoted",
                )
            )
    return problems


def _history_rules(
    name: str,
    versions: dict[int, Version | None],
    pointer: Pointer | None,
    history: list[HistoryRecord],
) -> list[Problem]:
    path = history_path(name)
    problems = []

    def add(line: int | None, message: str) -> None:
        problems.append(Problem(file=path, line=line, rule="history-chain", message=message))

    previous: HistoryRecord | None = None
    for line, record in enumerate(history, start=1):
        expected = previous.version if previous else None
        if record.previous_version != expected:
            add(
                line,
                f"previous_version is {record.previous_version}, but the record before "
                f"it promoted {expected}"
                if previous
                else f"the first record's previous_version must be null, not {record.previous_version}",
            )
        for number in (record.version, record.previous_version):
            if number is not None and number not in versions:
                add(line, f"names v{number}, which does not exist")
        if previous and record.promoted_at < previous.promoted_at:
            add(line, "promoted_at goes back in time from the record before it")
        previous = record
    if pointer is None and history:
        add(None, f"records promotions but {pointer_path(name)} is missing")
    if pointer is not None:
        if not history:
            add(None, f"has no record of the promotion {pointer_path(name)} shows")
        elif (history[-1].version, history[-1].promoted_at, history[-1].promoted_by) != (
            pointer.version,
            pointer.promoted_at,
            pointer.promoted_by,
        ):
            add(
                len(history),
                f"the last record (v{history[-1].version} at {history[-1].promoted_at}) is not the "
                f"promotion {pointer_path(name)} shows (v{pointer.version} at {pointer.promoted_at})",
            )
    return problems
