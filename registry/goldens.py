"""Golden test cases: ``prompts/<name>/tests.yaml``, what a version must render to.

A case gives values for the variables and expectations on the output: ``contains``,
``not_contains``, ``regex``, ``equals``, ``max_length``; for chat prompts per message, chosen by
``role`` or ``index``. Running them renders in the template sandbox only, and regular
expressions run on RE2, whose time grows linearly with the text and whose memory is capped, so a
case from an untrusted pull request cannot hang a check by backtracking or exhaust its memory.
docs/golden-tests.md describes the file.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import re2

from .catalog import load_version
from .check.outcome import Promotion
from .errors import BrokenObject, InvalidRegistry, Problem, PromptshipError
from .model import CHAT_ROLES, Version, load_file
from .names import tests_path
from .snapshot import Snapshot
from .templates import PreparedVersion, Rendered
from .yamlsafe import item_lines

__all__ = [
    "MAX_CASES",
    "MAX_PATTERN_LENGTH",
    "REGEX_BUDGET",
    "RENDERS_BUDGET",
    "CaseResult",
    "Expectation",
    "GoldenCase",
    "MessageExpectation",
    "TestReport",
    "check_cases",
    "load_cases",
    "parse_cases",
    "promotion_problems",
    "run_cases",
    "run_tests",
]

MAX_PATTERN_LENGTH = 1000
MAX_CASES = 1000
"""Golden test cases in one tests.yaml: a check may render each on every promoted version."""
REGEX_BUDGET = 2.0
"""Seconds the regular expression searches of one run may take together; later ones are not run."""
RENDERS_BUDGET = 10.0
"""Seconds the renders of one run may take together (each render has its own limit too); the
cases after are failed, not run."""

_CASE_KEYS = ("name", "description", "variables", "versions", "expect")
_CHECK_KEYS = ("contains", "not_contains", "regex", "equals", "max_length")
_SELECT_KEYS = ("role", "index")

CaseStatus = Literal["passed", "failed", "skipped"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Expectation:
    """Checks on one rendered text; an empty field checks nothing."""

    contains: tuple[str, ...] = ()
    not_contains: tuple[str, ...] = ()
    regex: tuple[str, ...] = ()
    equals: str | None = None
    max_length: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class MessageExpectation:
    """Checks on one message of a chat prompt: the only one with ``role``, or the one at
    ``index`` (0 is the first, -1 the last)."""

    role: str | None = None
    index: int | None = None
    expect: Expectation


@dataclass(frozen=True, kw_only=True, slots=True)
class GoldenCase:
    name: str
    description: str = ""
    variables: Mapping[str, Any] = field(default_factory=dict)
    versions: tuple[int, ...] | None = None
    expect: Expectation | None = None
    messages: tuple[MessageExpectation, ...] = ()

    def applies_to(self, number: int) -> bool:
        return self.versions is None or number in self.versions


@dataclass(frozen=True, kw_only=True, slots=True)
class CaseResult:
    name: str
    status: CaseStatus
    failures: tuple[str, ...] = ()
    output: Rendered | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "status": self.status,
            "failures": list(self.failures),
        }
        if self.output is not None:
            rendered = self.output.to_json()
            data["output"] = {k: rendered[k] for k in ("content", "messages") if k in rendered}
        return data


@dataclass(frozen=True, kw_only=True, slots=True)
class TestReport:
    """The cases of one prompt run on one of its versions, in file order."""

    __test__ = False  # a result type, not a pytest test class

    prompt: str
    version: int
    results: tuple[CaseResult, ...]

    @property
    def failed(self) -> tuple[CaseResult, ...]:
        return tuple(r for r in self.results if r.status == "failed")

    @property
    def ran(self) -> tuple[CaseResult, ...]:
        return tuple(r for r in self.results if r.status != "skipped")

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_json(self) -> dict[str, Any]:
        return {
            "prompt": self.prompt,
            "version": self.version,
            "passed": self.ok,
            "cases": [r.to_json() for r in self.results],
        }


# -- the file ---------------------------------------------------------------------------------


def parse_cases(data: bytes, *, path: str) -> tuple[GoldenCase, ...]:
    """The cases of one ``tests.yaml``, or ``InvalidRegistry`` listing every problem in it."""
    loaded, text = load_file(data, path)
    if loaded is None:
        return ()
    if not isinstance(loaded, list):
        raise InvalidRegistry(
            [Problem(file=path, rule="schema", message="must hold a list of cases")]
        )
    if len(loaded) > MAX_CASES:
        raise InvalidRegistry(
            [
                Problem(
                    file=path,
                    rule="limit",
                    message=f"{len(loaded):,} cases, more than the {MAX_CASES:,} a prompt may have",
                )
            ]
        )
    cases = []
    found_by_item: list[tuple[int, str, list[str]]] = []
    seen: set[str] = set()
    for index, item in enumerate(loaded):
        found: list[str] = []
        case = _parse_case(item, found)
        if case is not None and case.name in seen:
            found.append(f"another case is already named {case.name!r}")
        if found:
            label = f"case {case.name!r}" if case is not None else f"case {index + 1}"
            found_by_item.append((index, label, found))
        elif case is not None:
            seen.add(case.name)
            cases.append(case)
    if found_by_item:
        # Lines are found only to report problems: composing the file again is the slow part.
        lines = item_lines(text)
        raise InvalidRegistry(
            [
                Problem(
                    file=path,
                    line=lines[index] if index < len(lines) else None,
                    rule="tests",
                    message=f"{label}: {m}",
                )
                for index, label, found in found_by_item
                for m in found
            ]
        )
    return tuple(cases)


def _parse_case(item: Any, found: list[str]) -> GoldenCase | None:
    if not isinstance(item, dict):
        found.append("must be a mapping with name, variables and expect")
        return None
    _unknown_keys(item, _CASE_KEYS, found)
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        found.append("needs a 'name': a short text saying what it checks")
        name = None
    description = item.get("description", "")
    if not isinstance(description, str):
        found.append("'description' must be text")
    variables = item.get("variables", {})
    if not isinstance(variables, dict) or not all(isinstance(k, str) for k in variables):
        found.append("'variables' must map variable names to values")
        variables = {}
    versions = item.get("versions")
    if versions is not None and (
        not isinstance(versions, list)
        or not versions
        or not all(type(v) is int and v >= 1 for v in versions)
    ):
        found.append("'versions' must be a list of version numbers, e.g. [2, 3]")
        versions = None
    expect, messages = _parse_expect(item.get("expect"), found)
    if name is None:
        return None
    return GoldenCase(
        name=name,
        description=description if isinstance(description, str) else "",
        variables=variables,
        versions=tuple(versions) if versions is not None else None,
        expect=expect,
        messages=messages,
    )


def _parse_expect(
    raw: Any, found: list[str]
) -> tuple[Expectation | None, tuple[MessageExpectation, ...]]:
    if not isinstance(raw, dict) or not raw:
        found.append(
            "needs 'expect': a mapping of checks (contains, not_contains, regex, equals, "
            "max_length, or messages for a chat prompt)"
        )
        return None, ()
    _unknown_keys(raw, (*_CHECK_KEYS, "messages"), found)
    checks = {k: v for k, v in raw.items() if k in _CHECK_KEYS}
    if "messages" not in raw:
        return _parse_checks(checks, "expect", found), ()
    if checks:
        found.append(
            "'expect' has both checks and 'messages': a text prompt's checks go directly "
            "under expect, a chat prompt's under messages"
        )
    items = raw["messages"]
    if not isinstance(items, list) or not items:
        found.append("'expect.messages' must be a list of checks, each with a role or an index")
        return None, ()
    messages = []
    for i, entry in enumerate(items):
        where = f"expect.messages[{i}]"
        if not isinstance(entry, dict):
            found.append(f"{where} must be a mapping")
            continue
        _unknown_keys(entry, (*_SELECT_KEYS, *_CHECK_KEYS), found, where=where)
        role, index = entry.get("role"), entry.get("index")
        if (role is None) == (index is None):
            found.append(f"{where} needs exactly one of 'role' and 'index'")
        elif role is not None and role not in CHAT_ROLES:
            found.append(f"{where}: 'role' must be one of {', '.join(CHAT_ROLES)}")
        elif index is not None and type(index) is not int:
            found.append(f"{where}: 'index' must be a whole number (0 is the first, -1 the last)")
        checks = {k: v for k, v in entry.items() if k in _CHECK_KEYS}
        expectation = _parse_checks(checks, where, found)
        if expectation is not None:
            messages.append(MessageExpectation(role=role, index=index, expect=expectation))
    return None, tuple(messages)


def _parse_checks(raw: Mapping[str, Any], where: str, found: list[str]) -> Expectation | None:
    before = len(found)
    if not raw:
        found.append(f"{where} has no check ({', '.join(_CHECK_KEYS)})")
        return None
    contains = _texts(raw, "contains", where, found)
    not_contains = _texts(raw, "not_contains", where, found)
    patterns = _texts(raw, "regex", where, found)
    for pattern in patterns:
        problem = _pattern_problem(pattern)
        if problem:
            found.append(f"{where}.regex {_short(pattern)}: {problem}")
    equals = raw.get("equals")
    if equals is not None and not isinstance(equals, str):
        found.append(f"{where}.equals must be text")
    limit = raw.get("max_length")
    if limit is not None and (type(limit) is not int or limit < 0):
        found.append(f"{where}.max_length must be a whole number of characters")
    if len(found) > before:
        return None
    return Expectation(
        contains=contains,
        not_contains=not_contains,
        regex=patterns,
        equals=equals,
        max_length=limit,
    )


def _texts(raw: Mapping[str, Any], key: str, where: str, found: list[str]) -> tuple[str, ...]:
    value = raw.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    found.append(f"{where}.{key} must be a text or a list of texts")
    return ()


def _pattern_problem(pattern: str) -> str | None:
    if len(pattern) > MAX_PATTERN_LENGTH:
        return f"longer than {MAX_PATTERN_LENGTH} characters"
    try:
        _compile(pattern)
    except re2.error as exc:
        return f"not a regular expression RE2 accepts: {_re2_message(exc)}"
    return None


@functools.lru_cache(maxsize=256)  # each case's pattern, for every version it is run on
def _compile(pattern: str) -> Any:
    options = re2.Options()
    options.log_errors = False  # RE2 would log to standard error; the error is reported instead
    return re2.compile(pattern, options)


def _re2_message(exc: Exception) -> str:
    detail = exc.args[0] if exc.args else ""
    return detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)


def _unknown_keys(
    raw: Mapping[Any, Any], allowed: Sequence[str], found: list[str], *, where: str = ""
) -> None:
    for key in raw:
        if key not in allowed:
            place = f"{where}: " if where else ""
            found.append(f"{place}unknown key {key!r} (allowed: {', '.join(allowed)})")


def check_cases(snapshot: Snapshot, name: str) -> list[Problem]:
    """The problems of a prompt's ``tests.yaml`` (none when it has no such file)."""
    try:
        load_cases(snapshot, name)
    except InvalidRegistry as exc:
        return list(exc.problems)
    return []


def load_cases(snapshot: Snapshot, name: str) -> tuple[GoldenCase, ...]:
    data = snapshot.read(tests_path(name))
    return () if data is None else parse_cases(data, path=tests_path(name))


# -- running ----------------------------------------------------------------------------------


def run_tests(snapshot: Snapshot, name: str, number: int) -> TestReport:
    """Run the prompt's cases on one version, both as ``snapshot`` holds them. Pure: what
    ``promote`` runs before promoting, and a check runs on each version a change promotes."""
    version = load_version(snapshot, name, number)
    return run_cases(version, load_cases(snapshot, name))


def promotion_problems(snapshot: Snapshot, promotions: Iterable[Promotion]) -> list[Problem]:
    """For ``check --base``: each version a change promotes must pass its prompt's cases as the
    change leaves them, unless its history record says the promoter skipped them. Templates run
    in the sandbox only; a broken tests file or version is the tree rules' to report. A version
    promoted twice in one change is tested once."""
    tested = sorted({(p.prompt, p.version) for p in promotions if not p.tests_skipped})
    cases: dict[str, tuple[GoldenCase, ...]] = {}
    problems = []
    clock = _Clock(REGEX_BUDGET)  # one for the whole change: its cost must not grow per prompt
    for prompt, number in tested:
        try:
            if prompt not in cases:
                cases[prompt] = load_cases(snapshot, prompt)
            version = load_version(snapshot, prompt, number)
            report = run_cases(version, cases[prompt], clock=clock)
        except BrokenObject:
            raise  # the repository is damaged: that is exit 2, not a rule of this change
        except PromptshipError:
            continue  # the tree rules report the file
        if report.ok:
            continue
        failed = ", ".join(repr(r.name) for r in report.failed)
        problems.append(
            Problem(
                file=tests_path(prompt),
                rule="golden-tests",
                message=f"{prompt} v{number} is promoted by this change but "
                f"fails golden test case(s) {failed}",
            )
        )
    return problems


class _Clock:
    """The time left for regular expression searches, and for renders, in one run."""

    def __init__(self, budget: float, renders: float = RENDERS_BUDGET) -> None:
        self.budget = budget
        self.deadline = time.monotonic() + budget
        self.renders = renders
        self.renders_deadline = time.monotonic() + renders

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def renders_left(self) -> float:
        return self.renders_deadline - time.monotonic()


def run_cases(
    version: Version,
    cases: Sequence[GoldenCase],
    *,
    regex_budget: float = REGEX_BUDGET,
    clock: _Clock | None = None,
) -> TestReport:
    """Each case rendered on ``version`` and checked; cases for other versions are skipped.
    ``clock`` shares the time limits with other runs (a check runs the cases of every version a
    change promotes on one clock)."""
    clock = clock or _Clock(regex_budget)
    try:
        prepared: PreparedVersion | None = PreparedVersion(version)
        broken = ""
    except PromptshipError as exc:
        prepared, broken = None, exc.message
    results = []
    for case in cases:
        if not case.applies_to(version.version):
            results.append(CaseResult(name=case.name, status="skipped"))
        elif prepared is None:
            results.append(CaseResult(name=case.name, status="failed", failures=(broken,)))
        else:
            results.append(_run_case(prepared, case, clock))
    return TestReport(prompt=version.prompt, version=version.version, results=tuple(results))


def _run_case(prepared: PreparedVersion, case: GoldenCase, clock: _Clock) -> CaseResult:
    if clock.renders_left() <= 0:
        return CaseResult(
            name=case.name,
            status="failed",
            failures=(f"not run: the renders of one run may take {clock.renders:g} s in all",),
        )
    try:
        output = prepared.render(case.variables)
    except PromptshipError as exc:
        return CaseResult(name=case.name, status="failed", failures=(f"render: {exc.message}",))
    failures: list[str] = []
    if output.messages is None:
        if case.messages or case.expect is None:
            failures.append("this version is a text prompt: put the checks directly under expect")
        else:
            failures.extend(_evaluate(case.expect, output.content or "", "content", clock))
    elif case.expect is not None or not case.messages:
        failures.append("this version is a chat prompt: put the checks under expect.messages")
    else:
        for wanted in case.messages:
            failures.extend(_evaluate_message(wanted, output.messages, clock))
    status: CaseStatus = "failed" if failures else "passed"
    return CaseResult(name=case.name, status=status, failures=tuple(failures), output=output)


def _evaluate_message(
    wanted: MessageExpectation, messages: Sequence[Mapping[str, str]], clock: _Clock
) -> list[str]:
    if wanted.index is not None:
        if not -len(messages) <= wanted.index < len(messages):
            return [f"messages[{wanted.index}]: there is no such message ({len(messages)} in all)"]
        position = wanted.index % len(messages)
    else:
        found = [i for i, m in enumerate(messages) if m["role"] == wanted.role]
        if len(found) != 1:
            return [
                f"role {wanted.role}: {len(found) or 'no'} such message(s); "
                "choose one by index when there are several"
            ]
        position = found[0]
    where = f"messages[{position}] ({messages[position]['role']})"
    return _evaluate(wanted.expect, messages[position]["content"], where, clock)


def _evaluate(expect: Expectation, text: str, where: str, clock: _Clock) -> list[str]:
    failures = [f"{where}: does not contain {_short(s)}" for s in expect.contains if s not in text]
    failures += [
        f"{where}: contains {_short(s)}, which it must not"
        for s in expect.not_contains
        if s in text
    ]
    for pattern in expect.regex:
        failures.extend(_search(pattern, text, where, clock))
    if expect.equals is not None and text != expect.equals:
        failures.append(f"{where}: {_difference(expect.equals, text)}")
    if expect.max_length is not None and len(text) > expect.max_length:
        failures.append(f"{where}: {len(text)} characters, over max_length {expect.max_length}")
    return failures


def _search(pattern: str, text: str, where: str, clock: _Clock) -> list[str]:
    if clock.left() <= 0:
        return [
            f"{where}: regex {_short(pattern)} not run: the regular expressions of one run may "
            f"take {clock.budget:g} s in all"
        ]
    if _compile(pattern).search(text) is None:  # parse_cases refused what RE2 cannot compile
        return [f"{where}: does not match regex {_short(pattern)}"]
    return []


def _difference(expected: str, actual: str) -> str:
    at = next(
        (i for i, (a, b) in enumerate(zip(expected, actual, strict=False)) if a != b),
        min(len(expected), len(actual)),
    )
    return (
        f"not equal to the expected text: first difference at character {at + 1}, "
        f"expected {_short(expected[at : at + 40])}, got {_short(actual[at : at + 40])}"
    )


def _short(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")
