"""The tree rules: what every state of a registry must satisfy (rules 1-4 of the format).

1. every file parses and matches its schema; names and file names agree;
2. at most one published version per prompt, named by a pointer whose digest matches;
3. history chains from ``null`` to the pointer's version, naming existing versions, in time order;
4. no symlinks or stray files, sizes and YAML within the safety limits.

The check reads files only: templates are parsed, never rendered, so an untrusted tree is safe.
``read_prompt`` and ``prompt_rules`` are separate so that the check against a base can feed the
rules a history of which it parsed only the added lines.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..errors import BrokenObject, InvalidRegistry, Problem, PromptshipError
from ..goldens import check_cases
from ..history import HistoryRecord, parse_history, same_promotion
from ..model import (
    Pointer,
    PromptInfo,
    Version,
    digest_of,
    load_file,
    parse_pointer,
    parse_prompt_info,
    version_from_mapping,
)
from ..names import (
    MAX_VERSIONS,
    PROMPTS_DIR,
    VERSION_FILE,
    history_path,
    is_valid_name,
    name_fault,
    pointer_path,
    prompt_dir,
    prompt_file,
    versions_dir,
)
from ..snapshot import Entry, Snapshot
from ..templates import check_template
from .attributes import check_attributes

__all__ = [
    "PromptFiles",
    "check_entry",
    "check_layout",
    "check_prompts",
    "check_root",
    "check_tree",
    "folder_problems",
    "prompt_rules",
    "read_prompt",
]

PROMPT_FILES = {
    "prompt.yaml": "file",
    "versions": "dir",
    "production.yaml": "file",
    "history.yaml": "file",
    "tests.yaml": "file",
}


def check_tree(snapshot: Snapshot) -> list[Problem]:
    """Every problem of the registry in ``snapshot`` (an empty list when it is sound)."""
    problems, names = check_layout(snapshot)
    problems.extend(check_prompts(snapshot, names))
    return problems


def check_prompts(snapshot: Snapshot, names: Sequence[str]) -> list[Problem]:
    return [problem for name in names for problem in check_prompt(snapshot, name)]


def check_layout(snapshot: Snapshot) -> tuple[list[Problem], list[str]]:
    """Rule 4 above the prompt folders: ``prompts/`` itself and each entry in it. Returns the
    problems found and the prompt folders to check."""
    root = check_root(snapshot)
    if root is not None:
        return [root, *check_attributes(snapshot)], []
    problems: list[Problem] = check_attributes(snapshot)
    names: list[str] = []
    for entry in snapshot.list_dir(PROMPTS_DIR) or ():
        problem = check_entry(entry)
        if problem is None:
            names.append(entry.name)
        else:
            problems.append(problem)
    return problems, names


def check_root(snapshot: Snapshot) -> Problem | None:
    """What is wrong with ``prompts/`` itself: anything but a folder (or nothing)."""
    kinds = {entry.name: entry.kind for entry in snapshot.list_dir("") or ()}
    kind = kinds.get(PROMPTS_DIR, "dir")
    if kind == "dir":
        return None
    rule = "symlink" if kind == "symlink" else "layout"
    return _layout(PROMPTS_DIR, f"is a {_kind_words(kind)}, not a folder", rule)


def check_entry(entry: Entry) -> Problem | None:
    """What is wrong with an entry of ``prompts/``; ``None`` for a prompt folder."""
    path = f"{PROMPTS_DIR}/{entry.name}"
    if entry.kind == "symlink":
        return _layout(path, "is a symlink; the registry holds plain files only", "symlink")
    if entry.kind != "dir":
        return _layout(path, f"is a {_kind_words(entry.kind)}; only prompt folders belong here")
    if not is_valid_name(entry.name):
        return Problem(
            file=path,
            rule="name",
            message=f"the folder name is not a valid prompt name: {name_fault(entry.name)}",
            hint="prompt names use a-z, 0-9 and single '-', '_' or '.' between them, at most "
            "100 characters, and are not a Windows device name (con, aux, nul, com1, ...)",
        )
    return None


def _kind_words(kind: str) -> str:
    return {
        "file": "file",
        "dir": "folder",
        "symlink": "symlink",
        "executable": "file with its executable bit set",
    }.get(kind, "special file (a submodule, say)")


def _executable(path: str) -> Problem:
    return Problem(
        file=path,
        rule="layout",
        message="is executable (mode 100755); registry files are plain files",
        hint=f"clear the bit: git update-index --chmod=-x {path}",
    )


def _layout(path: str, message: str, rule: str = "layout") -> Problem:
    return Problem(file=path, rule=rule, message=message)


@dataclass(frozen=True, kw_only=True, slots=True)
class PromptFiles:
    """One prompt folder as read, with the problems of reading it (rules 1 and 4).

    ``versions`` maps each version file's number to its version, or to ``None`` when the file is
    there but unreadable; ``pointer_broken`` says ``production.yaml`` is there but unreadable;
    ``served_digest`` is the digest of the file the pointer names, computed from the mapping as
    written, as any consumer computes it; ``history`` is ``None`` when not read or unreadable;
    ``info`` is ``None`` when ``prompt.yaml`` is missing or unreadable."""

    name: str
    versions: Mapping[int, Version | None]
    pointer: Pointer | None
    pointer_broken: bool
    served_digest: str | None
    history: tuple[HistoryRecord, ...] | None
    problems: tuple[Problem, ...]
    info: PromptInfo | None = None


def check_prompt(snapshot: Snapshot, name: str) -> list[Problem]:
    """The tree rules for one prompt folder."""
    return folder_problems(read_prompt(snapshot, name))


def folder_problems(files: PromptFiles) -> list[Problem]:
    """The tree rules for one prompt folder, on what ``read_prompt`` read."""
    return [*files.problems, *prompt_rules(files, files.history)]


def read_prompt(snapshot: Snapshot, name: str, *, with_history: bool = True) -> PromptFiles:
    """Read and parse one prompt folder's files, collecting every problem on the way."""
    problems: list[Problem] = []
    folder = prompt_dir(name)
    for entry in snapshot.list_dir(folder) or ():
        want = PROMPT_FILES.get(entry.name)
        path = f"{folder}/{entry.name}"
        if entry.kind == "symlink":
            problems.append(_layout(path, "is a symlink", "symlink"))
        elif entry.kind == "executable" and want == "file":
            problems.append(_executable(path))
        elif want != entry.kind:
            problems.append(_layout(path, "is not part of the format"))
    info = None
    data = snapshot.read(prompt_file(name))
    if data is None:
        problems.append(_layout(prompt_file(name), "is missing; every prompt folder has one"))
    else:
        try:
            info = parse_prompt_info(data, path=prompt_file(name), prompt=name)
        except InvalidRegistry as exc:
            problems.extend(exc.problems)
    pointer, broken = _read_pointer(snapshot, name, problems)
    versions, served = _read_versions(
        snapshot, name, pointer.version if pointer else None, problems
    )
    history = _read_history(snapshot, name, problems) if with_history else None
    problems.extend(check_cases(snapshot, name))
    return PromptFiles(
        name=name,
        versions=versions,
        pointer=pointer,
        pointer_broken=broken,
        served_digest=served,
        history=history,
        problems=tuple(problems),
        info=info,
    )


def _read_versions(
    snapshot: Snapshot, name: str, served: int | None, problems: list[Problem]
) -> tuple[dict[int, Version | None], str | None]:
    versions: dict[int, Version | None] = {}
    digest = None
    folder = versions_dir(name)
    entries = snapshot.list_dir(folder) or ()
    if len(entries) > MAX_VERSIONS:
        problems.append(
            Problem(
                file=f"{folder}/",
                rule="limit",
                message=f"{len(entries):,} entries, more than the {MAX_VERSIONS:,} version files "
                "a prompt may have; none of them was read",
                hint="move old versions to a new prompt",
            )
        )
        entries = ()
    for entry in entries:
        path = f"{folder}/{entry.name}"
        match = VERSION_FILE.match(entry.name)
        if entry.kind == "symlink":
            problems.append(_layout(path, "is a symlink", "symlink"))
            continue
        if entry.kind == "executable" and match:
            problems.append(_executable(path))
        elif entry.kind != "file" or not match:
            problems.append(_layout(path, "version files are named N.yaml (1.yaml, 2.yaml, ...)"))
            continue
        number = int(match.group(1))
        versions[number] = None
        try:
            loaded, text = load_file(snapshot.read(path) or b"", path)
            version = version_from_mapping(loaded, text=text, path=path, prompt=name, number=number)
            for where, template in version.templates():
                check_template(template, where=f"{path} {where}")
        except InvalidRegistry as exc:
            problems.extend(exc.problems)
            continue
        except BrokenObject:
            raise  # a damaged repository is no template problem: the check cannot run
        except PromptshipError as exc:
            problems.append(Problem(file=path, rule="template", message=exc.message))
            continue
        versions[number] = version
        if number == served:
            digest = digest_of(loaded)
    return versions, digest


def _read_pointer(
    snapshot: Snapshot, name: str, problems: list[Problem]
) -> tuple[Pointer | None, bool]:
    data = snapshot.read(pointer_path(name))
    if data is None:
        return None, False
    try:
        return parse_pointer(data, path=pointer_path(name), prompt=name), False
    except InvalidRegistry as exc:
        problems.extend(exc.problems)
        return None, True


def _read_history(
    snapshot: Snapshot, name: str, problems: list[Problem]
) -> tuple[HistoryRecord, ...] | None:
    data = snapshot.read(history_path(name))
    if data is None:
        return ()
    try:
        return tuple(parse_history(data, path=history_path(name), prompt=name))
    except InvalidRegistry as exc:
        problems.extend(exc.problems)
        return None


def prompt_rules(
    files: PromptFiles, history: Sequence[HistoryRecord] | None, *, first_new: int = 0
) -> list[Problem]:
    """Rules 2 and 3 on what ``read_prompt`` read. ``history`` may be a tail of the file: records
    whose ``index`` is below ``first_new`` are context (a base already checked them), and the
    link of the first new record to them is left to the caller."""
    problems = _production_rules(files)
    if history is not None and not files.pointer_broken:
        problems.extend(_history_rules(files, history, first_new))
    return problems


def _production_rules(files: PromptFiles) -> list[Problem]:
    name, versions, pointer = files.name, files.versions, files.pointer
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
        if published and not files.pointer_broken:
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
        # Readers hash the file as written (any consumer) or its normal form (promptship's
        # own): production must match both, or some reader refuses what the check passed.
        if pointer.digest != files.served_digest or pointer.digest != target.digest:
            problems.append(_digest_problem(files, target, pointer))
    return problems


def _digest_problem(files: PromptFiles, target: Version, pointer: Pointer) -> Problem:
    if files.served_digest != target.digest:
        # A key left out: readers that hash the file as written and those that hash its normal
        # form disagree, whichever of the two production.yaml holds.
        return Problem(
            file=f"{versions_dir(files.name)}/{pointer.version}.yaml",
            rule="digest",
            message="the production version's file leaves out 'metadata', so readers that hash "
            "the file as written get another digest than production.yaml's",
            hint="write 'metadata: {}' in it",
        )
    return Problem(
        file=pointer_path(files.name),
        rule="digest",
        message=f"the digest does not match v{pointer.version}'s content: the version was changed "
        "after it was promoted",
    )


def _history_rules(
    files: PromptFiles, history: Sequence[HistoryRecord], first_new: int
) -> list[Problem]:
    name, versions, pointer = files.name, files.versions, files.pointer
    path = history_path(name)
    problems = []

    def add(line: int | None, message: str) -> None:
        problems.append(Problem(file=path, line=line, rule="history-chain", message=message))

    previous: HistoryRecord | None = None
    for record in history:
        line = record.position + 1
        if record.position < first_new:
            previous = record
            continue
        expected = previous.version if previous else None
        if (first_new == 0 or record.position > first_new) and record.previous_version != expected:
            add(
                line,
                f"previous_version is {record.previous_version}, but the record before "
                f"it promoted {expected}"
                if previous
                else f"the first record's previous_version must be null, not {record.previous_version}",
            )
        if record.version == record.previous_version:
            add(line, f"promotes v{record.version}, which was already in production")
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
        elif not same_promotion(history[-1], pointer):
            last = history[-1]
            add(
                last.position + 1,
                f"the last record (v{last.version} at {last.promoted_at}) is not the "
                f"promotion {pointer_path(name)} shows (v{pointer.version} at {pointer.promoted_at})",
            )
    return problems
