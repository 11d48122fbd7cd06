"""The rules against a base (5-8 of the format): what a change may do to a registry.

5. history is append-only: the base's history file is a prefix of the head's, byte for byte;
6. versions that have been published (published in the base, its pointer's, or named in its
   history) keep every field but status, archived ones too while they stay archived; no version
   file is deleted and no number is reused;
7. statuses change only as the lifecycle allows (several steps in one change included), a version
   becomes published only with its history record, and production moves exactly when records are
   added, the first from the base's production version;
8. each commit that moves a pointer appends its history record in that same commit.

Every commit between base and head is judged against its first parent (an empty tree for a root
commit), whatever its shape: a merge is judged as the change it makes to the line it continues.

A prompt with a production version leaves the registry only by a commit whose message carries
``Retire-Prompt: <name>`` (what ``promptship delete --force`` writes). A prompt removed and made
again within one change is still bound by the base's: its frozen versions, history and numbers.

Cost follows the change: only prompt folders whose contents differ are read, within them only
version files that differ, of a history only the lines added to the base's are parsed, and each
file is parsed once however many commits hold it (``Parsed`` keeps them by object id).
The tree rules of ``check.py`` run on each changed prompt of the head as well.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ..catalog import version_numbers
from ..errors import InvalidRegistry, Problem
from ..history import HistoryRecord, parse_history, parse_history_lines, same_promotion
from ..model import Pointer, Version, parse_pointer, parse_version
from ..names import (
    RETIRE_TRAILER,
    VERSION_FILE,
    history_path,
    pointer_path,
    prompt_dir,
    version_path,
    versions_dir,
)
from ..snapshot import Entry, Tree
from ..yamlsafe import MAX_HISTORY_BYTES
from .outcome import Promotion
from .tree import check_entry, prompt_rules, read_prompt

__all__ = [
    "CommitStep",
    "Parsed",
    "Review",
    "TreeChange",
    "retired_prompts",
    "review_change",
    "trailers",
]

_TRAILER = re.compile(r"([A-Za-z0-9][A-Za-z0-9-]*):[ \t]*(.*)\Z")


@dataclass(frozen=True, kw_only=True, slots=True)
class TreeChange:
    """How the head's ``prompts/`` differs from the base's: its entries that are new or changed,
    and the names the head no longer has."""

    changed: tuple[Entry, ...] = ()
    removed: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class CommitStep:
    """One commit between base and head, judged against its first parent (``parent``: an empty
    tree for a root commit), with the files under ``prompts/`` that differ between the two."""

    commit: str
    message: str
    parent: Tree
    tree: Tree
    paths: tuple[str, ...]

    @property
    def prompts(self) -> tuple[str, ...]:
        """The prompt folders the commit changes."""
        return tuple(sorted({path.split("/")[1] for path in self.paths}))

    @property
    def label(self) -> str:
        subject = self.message.split("\n", 1)[0].strip()
        return f"commit {self.commit[:10]} ({subject})" if subject else f"commit {self.commit[:10]}"


@dataclass(frozen=True, kw_only=True, slots=True)
class Review:
    problems: tuple[Problem, ...]
    promotions: tuple[Promotion, ...]
    retired: tuple[str, ...]
    prompts: tuple[str, ...]


class Parsed:
    """Version and pointer files parsed once per object id: consecutive commits share most of
    their files, so a walk over many commits parses each distinct file once, not once a commit.
    An unreadable file is kept as ``None`` (the tree rules report it)."""

    def __init__(self) -> None:
        self._versions: dict[tuple[str, str, int], Version | None] = {}
        self._pointers: dict[tuple[str, str], Pointer | None] = {}

    def version(self, tree: Tree, name: str, number: int) -> Version | None:
        path = version_path(name, number)
        oid = tree.object_id(path)
        if oid is None:
            return None
        key = (oid, name, number)
        if key not in self._versions:
            try:
                found: Version | None = parse_version(
                    tree.read(path) or b"", path=path, prompt=name, number=number
                )
            except InvalidRegistry:
                found = None
            self._versions[key] = found
        return self._versions[key]

    def pointer(self, tree: Tree, name: str) -> Pointer | None:
        path = pointer_path(name)
        oid = tree.object_id(path)
        if oid is None:
            return None
        key = (oid, name)
        if key not in self._pointers:
            self._pointers[key] = _pointer(tree, name)
        return self._pointers[key]


def review_change(
    base: Tree,
    head: Tree,
    change: TreeChange,
    steps: Sequence[CommitStep] = (),
    parsed: Parsed | None = None,
) -> Review:
    """Every problem of the change from ``base`` to ``head``, and the promotions it makes."""
    parsed = parsed if parsed is not None else Parsed()
    problems: list[Problem] = []
    walk = _commit_rules(steps, parsed)
    retired = walk.retired
    promotions: list[Promotion] = []
    checked: list[str] = []
    for entry in change.changed:
        layout = check_entry(entry)
        if layout is not None:
            problems.append(layout)
            continue
        found, added = _review_prompt(base, head, entry.name, parsed, commits=len(steps))
        problems.extend(found)
        problems.extend(
            _promoted_content(head, entry.name, walk.promoted.get(entry.name, {}), parsed)
        )
        promotions.extend(Promotion.of(record) for record in added)
        checked.append(entry.name)
    for name in change.removed:
        if base.read(pointer_path(name)) is not None and name not in retired:
            problems.append(
                Problem(
                    file=prompt_dir(name),
                    rule="retire",
                    message=f"{name} had a production version and was removed without being "
                    "retired",
                    hint=f"restore it, or remove it with 'promptship delete {name} --force', "
                    f"whose commit carries '{RETIRE_TRAILER}: {name}'",
                )
            )
    gone = sorted(set(retired) & set(change.removed))
    return Review(
        problems=_one_frozen_per_file([*problems, *walk.problems]),
        promotions=tuple(sorted(promotions, key=lambda p: p.at)),
        retired=tuple(gone),
        prompts=tuple(checked),
    )


def _one_frozen_per_file(problems: Sequence[Problem]) -> tuple[Problem, ...]:
    """A version can break the frozen rule in several ways at once (against the base, against
    its promotion, in a commit of the change): one report a file is enough."""
    seen: set[str] = set()
    kept = []
    for problem in problems:
        if problem.rule == "frozen":
            if problem.file in seen:
                continue
            seen.add(problem.file)
        kept.append(problem)
    return tuple(kept)


def trailers(message: str) -> list[tuple[str, str]]:
    """The ``Key: value`` lines of a commit message's last paragraph (git's trailers)."""
    paragraphs = [p for p in message.strip().split("\n\n") if p.strip()]
    if len(paragraphs) < 2:
        return []
    found = []
    for line in paragraphs[-1].splitlines():
        match = _TRAILER.match(line.strip())
        if match is None:
            return []
        found.append((match.group(1), match.group(2).strip()))
    return found


def retired_prompts(message: str) -> set[str]:
    return {value for key, value in trailers(message) if key.lower() == RETIRE_TRAILER.lower()}


@dataclass
class _BaseHistory:
    """The base's history file of one prompt, parsed only if a question needs it (never searched
    as bytes: a key written with a JSON escape is the same key to every reader)."""

    data: bytes | None
    path: str
    prompt: str
    _versions: frozenset[int] | None = field(default=None)

    def names(self, number: int) -> bool:
        """Whether a record promoted ``number`` (an unreadable history counts as yes)."""
        if not self.data:
            return False
        if self._versions is None:
            try:
                records = parse_history(self.data, path=self.path, prompt=self.prompt)
            except InvalidRegistry:
                return True
            self._versions = frozenset(r.version for r in records)
        return number in self._versions


def _review_prompt(
    base: Tree, head: Tree, name: str, parsed: Parsed, *, commits: int = 0
) -> tuple[list[Problem], list[HistoryRecord]]:
    """The tree rules and the change rules for one changed prompt folder. A folder the base has
    is judged against it even if the change removed and made it again in between: a retired
    name taken again within one change does not restart history or numbering."""
    files = read_prompt(head, name, with_history=False)
    problems = list(files.problems)
    in_base = base.list_dir(prompt_dir(name)) is not None
    old_history = base.read(history_path(name)) if in_base else None
    new_history = head.read(history_path(name))
    tail = _history_tail(name, old_history, new_history, problems, commits=commits)
    problems.extend(prompt_rules(files, tail.records, first_new=tail.first_new))
    old_pointer = _pointer(base, name) if in_base else None
    if tail.appended:
        problems.extend(_pointer_move(base, head, name, old_pointer, tail.added, in_base))
    if in_base:
        history = _BaseHistory(old_history, history_path(name), name)
        problems.extend(
            _version_rules(
                base, head, name, files.versions, old_pointer, tail.added, history, parsed
            )
        )
    else:
        problems.extend(_new_prompt_rules(name, files.versions, tail.added))
    return problems, tail.added


@dataclass(frozen=True, kw_only=True, slots=True)
class _Tail:
    """What the tree rules see of a head's history, and the records the change added.

    ``appended`` is false when the head's history does not extend the base's (a rule-5 problem,
    already reported), so the rules that build on the added records stand down."""

    records: tuple[HistoryRecord, ...] | None
    first_new: int
    added: list[HistoryRecord]
    appended: bool


def _history_tail(
    name: str, old: bytes | None, new: bytes | None, problems: list[Problem], *, commits: int = 0
) -> _Tail:
    """``commits``, when known, bounds the records a change may append to the base's history:
    each commit that moves production appends one, so more cannot be promotions (and are not
    parsed one by one)."""
    path = history_path(name)
    old = old or b""
    if new is None:
        if old:
            problems.append(
                Problem(
                    file=path,
                    rule="append-only",
                    message="was deleted; the base's records are gone",
                )
            )
        return _Tail(records=(), first_new=0, added=[], appended=not old)
    if len(new) > MAX_HISTORY_BYTES:
        problems.append(
            Problem(
                file=path, rule="size", message=f"over the limit of {MAX_HISTORY_BYTES:,} bytes"
            )
        )
        return _Tail(records=None, first_new=0, added=[], appended=False)
    appended = new.startswith(old)
    # A folder new to the change may carry a whole history (a renamed prompt's): only appends
    # to a history the base has are promotions of this change.
    appending = new.count(b"\n", len(old)) if appended and old and commits else 0
    if appending > commits:
        problems.append(
            Problem(
                file=path,
                rule="commit",
                message=f"the change appends {appending:,} records in "
                f"{commits:,} commit{'s' if commits != 1 else ''}, but a commit that moves "
                "production appends one",
                hint="record promotions with 'promptship promote', one commit each",
            )
        )
        return _Tail(records=None, first_new=0, added=[], appended=False)
    if appended and old.endswith(b"\n"):
        base_lines = old.count(b"\n")
        try:
            anchor = parse_history_lines(
                old[old.rfind(b"\n", 0, len(old) - 1) + 1 :],
                path=path,
                prompt=name,
                first_line=base_lines,
            )
            added = parse_history_lines(
                new[len(old) :], path=path, prompt=name, first_line=base_lines + 1
            )
        except InvalidRegistry as exc:
            problems.extend(exc.problems)
            return _Tail(records=None, first_new=0, added=[], appended=False)
        return _Tail(records=(*anchor, *added), first_new=base_lines, added=added, appended=True)
    if not appended:
        problems.append(_rewritten(path, old, new))
    try:
        records = parse_history(new, path=path, prompt=name)
    except InvalidRegistry as exc:
        problems.extend(exc.problems)
        return _Tail(records=None, first_new=0, added=[], appended=False)
    # The base's file had no final newline (or none at all): every record is parsed.
    kept = old.count(b"\n") + 1 if old else 0
    return _Tail(records=tuple(records), first_new=0, added=records[kept:], appended=appended)


def _rewritten(path: str, old: bytes, new: bytes) -> Problem:
    old_lines = old.rstrip(b"\n").split(b"\n")
    new_lines = new.rstrip(b"\n").split(b"\n") if new.strip() else []
    line = next(
        (i for i, text in enumerate(old_lines) if i >= len(new_lines) or new_lines[i] != text),
        len(old_lines),
    )
    if line >= len(new_lines):
        what = f"the base's records from line {line + 1} on were removed"
    else:
        what = f"line {line + 1} differs from the base's"
    return Problem(
        file=path,
        line=line + 1,
        rule="append-only",
        message=f"{what}; records already in the base never change",
    )


def _pointer(snapshot: Tree, name: str) -> Pointer | None:
    data = snapshot.read(pointer_path(name))
    if data is None:
        return None
    try:
        return parse_pointer(data, path=pointer_path(name), prompt=name)
    except InvalidRegistry:
        return None


def _pointer_move(
    base: Tree,
    head: Tree,
    name: str,
    old_pointer: Pointer | None,
    added: Sequence[HistoryRecord],
    in_base: bool,
) -> list[Problem]:
    """Rule 7's pointer part: production.yaml changes exactly when records are added, and the
    first added record starts from the base's production version."""
    path = pointer_path(name)
    moved = (base.read(path) if in_base else None) != head.read(path)
    if added and not moved and not _round_trip(old_pointer, added[-1]):
        return [
            Problem(
                file=history_path(name),
                line=added[0].position + 1,
                rule="pointer-move",
                message=f"{_records(len(added))} added but production.yaml did not change",
                hint="a promotion changes both in one commit: restore history.yaml and run "
                f"'promptship promote {name} VERSION'",
            )
        ]
    if moved and not added:
        what = "was removed" if head.read(path) is None else "changed"
        return [
            Problem(
                file=path,
                rule="pointer-move",
                message=f"{what} but no history record was added",
                hint=f"restore it and run 'promptship promote {name} VERSION', which writes the "
                "pointer and its record together",
            )
        ]
    if not added:
        return []
    expected = old_pointer.version if old_pointer is not None else None
    if added[0].previous_version == expected:
        return []
    start = f"v{expected}" if expected is not None else "no production version"
    return [
        Problem(
            file=history_path(name),
            line=added[0].position + 1,
            rule="pointer-move",
            message=f"the first added record says it replaced v{added[0].previous_version}, "
            f"but the base had {start}",
        )
    ]


def _round_trip(pointer: Pointer | None, last: HistoryRecord) -> bool:
    """Whether production went away and came back to exactly the base's promotion (within the
    second its timestamp names), so the pointer file is byte for byte the base's again."""
    return same_promotion(last, pointer)


def _records(count: int) -> str:
    return "1 history record was" if count == 1 else f"{count} history records were"


def _version_rules(
    base: Tree,
    head: Tree,
    name: str,
    head_versions: Mapping[int, Version | None],
    old_pointer: Pointer | None,
    added: Sequence[HistoryRecord],
    history: _BaseHistory,
    parsed: Parsed,
) -> list[Problem]:
    """Rules 6 and 7 on the version files that differ between base and head."""
    problems: list[Problem] = []
    old_numbers = set(version_numbers(base, name))
    promoted = {record.version for record in added}
    top = max(old_numbers, default=0)
    for number in sorted(old_numbers | set(head_versions)):
        path = version_path(name, number)
        if base.object_id(path) == head.object_id(path):
            continue
        new = head_versions.get(number)
        if number not in head_versions:
            problems.append(
                Problem(
                    file=path,
                    rule="deleted",
                    message=f"v{number} was deleted; versions are never deleted",
                    hint=f"restore it (git checkout <base> -- {path}); to retire a version, "
                    f"'promptship archive {name} {number}'",
                )
            )
            continue
        if number not in old_numbers:
            if number <= top:
                problems.append(
                    Problem(
                        file=path,
                        rule="reused-number",
                        message=f"v{number} is new, but the base already went up to v{top}",
                        hint=f"number it v{top + 1} or later ('promptship new-version {name}' "
                        "picks the next number)",
                    )
                )
            if new is not None and new.status == "published" and number not in promoted:
                problems.append(_published_without_record(path, name, number))
            continue
        old = parsed.version(base, name, number)
        if old is None or new is None:
            continue
        problems.extend(_created_changed(path, old, new))
        problems.extend(
            _version_change(path, name, old, new, old_pointer, added, promoted, history)
        )
    return problems


def _created_changed(path: str, old: Version, new: Version) -> list[Problem]:
    """``created_at`` and ``created_by`` say when and by whom a version was made: once the base
    has a version, they never change, whatever its status (drafts too)."""
    changed = [
        key
        for key, before, after in (
            ("created_at", old.created_at, new.created_at),
            ("created_by", old.created_by, new.created_by),
        )
        if before != after
    ]
    if not changed:
        return []
    return [
        Problem(
            file=path,
            rule="created",
            message=f"v{old.version}'s {' and '.join(changed)} changed; they record when and by "
            "whom the version was made and never change",
            hint=f"restore {' and '.join(changed)} as the base has them",
        )
    ]


def _version_change(
    path: str,
    name: str,
    old: Version,
    new: Version,
    old_pointer: Pointer | None,
    added: Sequence[HistoryRecord],
    promoted: set[int],
    history: _BaseHistory,
) -> list[Problem]:
    number = old.version
    problems = []
    if old.digest != new.digest:
        ever_published = (
            old.status == "published"
            or (old_pointer is not None and old_pointer.version == number)
            or history.names(number)
        )
        if ever_published:
            problems.append(
                Problem(
                    file=path,
                    rule="frozen",
                    message=f"v{number}'s content changed, but v{number} has been in production; "
                    "only its status may change",
                    hint=f"restore it (git checkout <base> -- {path}) and make a changed copy "
                    f"with 'promptship new-version {name} --from {number}'",
                )
            )
    if old.status == new.status:
        return problems
    if new.status == "published" and number not in promoted:
        problems.append(_published_without_record(path, name, number))
    elif old.status == "published" and not added:
        problems.append(
            Problem(
                file=path,
                rule="transition",
                message=f"v{number} was in production and is now {new.status}, but nothing "
                "was promoted in its place",
                hint=f"restore its status; production changes by promoting another version "
                f"('promptship promote {name} VERSION'), which archives v{number}",
            )
        )
    return problems


def _published_without_record(path: str, name: str, number: int) -> Problem:
    return Problem(
        file=path,
        rule="transition",
        message=f"v{number} became published without a promotion record",
        hint=f"restore its status and run 'promptship promote {name} {number}'",
    )


def _new_prompt_rules(
    name: str, versions: Mapping[int, Version | None], added: Sequence[HistoryRecord]
) -> list[Problem]:
    promoted = {record.version for record in added}
    return [
        _published_without_record(version_path(name, number), name, number)
        for number, version in sorted(versions.items())
        if version is not None and version.status == "published" and number not in promoted
    ]


@dataclass(frozen=True, kw_only=True, slots=True)
class _Walk:
    """What the commits between base and head showed: rule-8 problems, the prompts properly
    retired, and for each promotion the digest production.yaml recorded (prompt -> version ->
    [(digest, commit)]), the content that version must keep."""

    problems: list[Problem]
    retired: set[str]
    promoted: dict[str, dict[int, list[tuple[str, str]]]]


def _commit_rules(steps: Iterable[CommitStep], parsed: Parsed) -> _Walk:
    walk = _Walk(problems=[], retired=set(), promoted={})
    for step in steps:
        named = retired_prompts(step.message)
        for name in step.prompts:
            if step.tree.list_dir(prompt_dir(name)) is None:
                if name in named:
                    walk.retired.add(name)
                # What was promoted before still binds a prompt made again under this name.
                continue
            problem = _commit_problem(step, name)
            if problem is not None:
                walk.problems.append(problem)
            walk.problems.extend(_frozen_edits(step, name, parsed))
            if problem is None and step.parent.object_id(pointer_path(name)) != (
                step.tree.object_id(pointer_path(name))
            ):
                # A promotion made as the rules say: its digest is what that version keeps.
                pointer = parsed.pointer(step.tree, name)
                if pointer is not None:
                    versions = walk.promoted.setdefault(name, {})
                    versions.setdefault(pointer.version, []).append((pointer.digest, step.label))
    return walk


def _promoted_content(
    head: Tree, name: str, promoted: Mapping[int, Sequence[tuple[str, str]]], parsed: Parsed
) -> list[Problem]:
    """Versions promoted between base and head keep the content they were promoted with, and
    stay: a prompt made again under the same name within the change does not drop them."""
    problems = []
    for number, digests in sorted(promoted.items()):
        path = version_path(name, number)
        if head.object_id(path) is None:
            problems.append(
                Problem(
                    file=path,
                    rule="deleted",
                    message=f"v{number} was promoted by {digests[0][1]} and is gone; versions "
                    "that have been in production are never deleted",
                    hint=f"restore it as it was promoted; to retire the whole prompt, "
                    f"'promptship delete {name} --force'",
                )
            )
            continue
        version = parsed.version(head, name, number)
        if version is None:
            continue  # unreadable: the tree rules report it
        changed = next((label for digest, label in digests if digest != version.digest), None)
        if changed is not None:
            problems.append(
                Problem(
                    file=path,
                    rule="frozen",
                    message=f"v{number}'s content is not what {changed} promoted; a version "
                    "that has been in production keeps its content",
                    hint=f"restore the content it was promoted with, and make a changed copy with "
                    f"'promptship new-version {name} --from {number}'",
                )
            )
    return problems


def _frozen_edits(step: CommitStep, name: str, parsed: Parsed) -> list[Problem]:
    """Versions whose content the commit changes while they are published or archived (a
    change through draft, by unarchiving first, is allowed for versions never published).
    Only the version files the commit changes are read."""
    problems = []
    folder = f"{versions_dir(name)}/"
    for path in step.paths:
        match = VERSION_FILE.match(path[len(folder) :]) if path.startswith(folder) else None
        if match is None:
            continue
        number = int(match.group(1))
        old, new = (
            parsed.version(step.parent, name, number),
            parsed.version(step.tree, name, number),
        )
        if old is None or new is None or old.digest == new.digest:
            continue
        if old.status in ("published", "archived"):
            problems.append(
                Problem(
                    file=path,
                    rule="frozen",
                    message=f"{step.label} changes v{number}'s content while it is {old.status}",
                    hint=f"restore it; to change a copy, 'promptship new-version {name} --from "
                    f"{number}'",
                )
            )
    return problems


def _commit_problem(step: CommitStep, name: str) -> Problem | None:
    parent = step.parent
    path, record_path = pointer_path(name), history_path(name)
    if parent.object_id(path) == step.tree.object_id(path):
        if parent.object_id(record_path) == step.tree.object_id(record_path):
            return None
        return Problem(
            file=record_path,
            rule="commit",
            message=f"{step.label} changes history.yaml but not production.yaml",
        )
    after = step.tree.read(path)
    old_history, new_history = parent.read(record_path) or b"", step.tree.read(record_path) or b""
    if after is None:
        return Problem(
            file=path,
            rule="commit",
            message=f"{step.label} removes production.yaml but keeps the prompt",
            hint=f"restore it; to take {name} out of the registry, "
            f"'promptship delete {name} --force'",
        )
    if not new_history.startswith(old_history) or len(new_history) == len(old_history):
        return Problem(
            file=path,
            rule="commit",
            message=f"{step.label} moves production without appending its history record",
        )
    last = new_history[new_history.rfind(b"\n", 0, len(new_history) - 1) + 1 :]
    try:
        record = parse_history_lines(last, path=record_path, prompt=name)[-1]
        pointer = parse_pointer(after, path=path, prompt=name)
    except (InvalidRegistry, IndexError):
        return None  # unreadable files: the tree rules on the head report what is left of them
    if not same_promotion(record, pointer):
        return Problem(
            file=path,
            rule="commit",
            message=f"{step.label} moves production to v{pointer.version}, but the history "
            f"record it appends is another promotion (v{record.version} at {record.promoted_at})",
        )
    return None
