"""Golden test cases: the tests.yaml schema, the runner, and ``promptship test``."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from helpers.cli import Cli, promptship, run_main
from helpers.gitrepo import git
from helpers.golden_files import commit_tests
from helpers.inmemory import add_prompt, add_version, with_file
from registry.catalog import load_version
from registry.check.outcome import Promotion
from registry.check.tree import check_tree
from registry.errors import BrokenObject, InvalidRegistry
from registry.goldens import parse_cases, promotion_problems, run_cases, run_tests
from registry.snapshot import DictSnapshot

PATH = "prompts/greeting/tests.yaml"


def cases_of(text: str) -> list[str]:
    """The problems of a tests.yaml, as messages."""
    try:
        parse_cases(text.encode(), path=PATH)
    except InvalidRegistry as exc:
        return [p.message for p in exc.problems]
    return []


def test_a_full_file_parses() -> None:
    cases = parse_cases(
        b"""\
# comments are fine
- name: greets by name
  description: the first thing a user sees
  variables: {name: Ada, app_name: Acme}
  expect:
    contains: [Ada, Acme]
    not_contains: "{{"
    regex: "^Hello"
    equals: "Hello, Ada! Welcome to Acme."
    max_length: 80
- name: chat
  versions: [2, 3]
  variables:
    items: [1, 2]
  expect:
    messages:
      - {role: system, contains: polite}
      - {index: -1, max_length: 10}
""",
        path=PATH,
    )
    first, second = cases
    assert first.expect is not None and first.expect.contains == ("Ada", "Acme")
    assert first.expect.not_contains == ("{{",)
    assert second.versions == (2, 3)
    assert [(m.role, m.index) for m in second.messages] == [("system", None), (None, -1)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{name: x}", "must hold a list of cases"),
        ("- just text", "must be a mapping"),
        ("- {expect: {contains: a}}", "needs a 'name'"),
        ("- {name: a}", "needs 'expect'"),
        ("- {name: a, expect: {}}", "needs 'expect'"),
        ("- {name: a, expect: {contains: a}, colour: red}", "unknown key 'colour'"),
        ("- {name: a, expect: {includes: a}}", "unknown key 'includes'"),
        ("- {name: a, variables: [x], expect: {contains: a}}", "'variables' must map"),
        ("- {name: a, versions: 2, expect: {contains: a}}", "'versions' must be a list"),
        ("- {name: a, versions: [0], expect: {contains: a}}", "'versions' must be a list"),
        ("- {name: a, expect: {contains: [1]}}", "contains must be a text or a list"),
        ("- {name: a, expect: {contains: []}}", "contains must be a text or a list"),
        ("- {name: a, expect: {equals: 3}}", "equals must be text"),
        ("- {name: a, expect: {max_length: -1}}", "max_length must be a whole number"),
        ("- {name: a, expect: {max_length: true}}", "max_length must be a whole number"),
        ("- {name: a, expect: {regex: '(unclosed'}}", "not a regular expression"),
        (f"- {{name: a, expect: {{regex: '{'a' * 1001}'}}}}", "longer than 1000"),
        (
            "- {name: a, expect: {contains: a, messages: [{role: user, contains: b}]}}",
            "both checks",
        ),
        ("- {name: a, expect: {messages: []}}", "must be a list of checks"),
        ("- {name: a, expect: {messages: [{contains: b}]}}", "exactly one of 'role' and 'index'"),
        ("- {name: a, expect: {messages: [{role: user, index: 0, contains: b}]}}", "exactly one"),
        ("- {name: a, expect: {messages: [{role: robot, contains: b}]}}", "'role' must be one of"),
        ("- {name: a, expect: {messages: [{index: '1', contains: b}]}}", "'index' must be"),
        ("- {name: a, expect: {messages: [{role: user}]}}", "has no check"),
        ("- {name: a, expect: {contains: a}}\n- {name: a, expect: {contains: b}}", "already named"),
        ("- &x {name: a, expect: {contains: a}}\n- *x", "anchors and aliases"),
        ("- name: a\n  expect: {contains: a\n", "malformed YAML"),
    ],
)
def test_schema_problems(text: str, expected: str) -> None:
    problems = cases_of(text)
    assert any(expected in p for p in problems), problems


def test_every_problem_of_a_file_is_reported_at_its_line() -> None:
    text = "- {name: a, expect: {contains: a}}\n- {name: b}\n- {name: c, expect: {equals: 1}}\n"
    with pytest.raises(InvalidRegistry) as caught:
        parse_cases(text.encode(), path=PATH)
    assert [(p.line, p.rule) for p in caught.value.problems] == [(2, "tests"), (3, "tests")]
    assert "case 'b'" in caught.value.problems[0].message


def test_an_empty_file_has_no_cases() -> None:
    assert parse_cases(b"# nothing yet\n", path=PATH) == ()


@pytest.fixture
def snapshot() -> DictSnapshot:
    snap = add_prompt(DictSnapshot(), "greeting", "Hello, {{ name }}! Welcome to {{ app_name }}.")
    snap = add_version(snap, "greeting", "Hi {{ name }}")
    return add_prompt(
        snap,
        "support",
        [
            ("system", "Be polite to {{ customer }}."),
            ("user", "{{ question }}"),
            ("assistant", "Sure."),
            ("user", "Thanks"),
        ],
    )


def run(
    snapshot: DictSnapshot, tests: str, name: str = "greeting", number: int = 1
) -> list[tuple[str, str, tuple[str, ...]]]:
    snap = with_file(snapshot, f"prompts/{name}/tests.yaml", tests.encode())
    report = run_tests(snap, name, number)
    return [(r.name, r.status, r.failures) for r in report.results]


VARS = "variables: {name: Ada, app_name: Acme}"


@pytest.mark.parametrize(
    ("expect", "failure"),
    [
        ("{contains: Ada}", None),
        ("{contains: [Ada, Acme]}", None),
        ("{contains: [Ada, Bob]}", "content: does not contain 'Bob'"),
        ("{contains: ada}", "content: does not contain 'ada'"),
        ("{not_contains: ['{{', Bob]}", None),
        ("{not_contains: Acme}", "content: contains 'Acme', which it must not"),
        ("{regex: '^Hello, [A-Z]'}", None),
        ("{regex: '(?i)WELCOME'}", None),
        ("{regex: '^Welcome'}", "content: does not match regex '^Welcome'"),
        ("{equals: 'Hello, Ada! Welcome to Acme.'}", None),
        ("{equals: 'Hello, Ada! Welcome to Acne.'}", "character 26, expected 'ne.', got 'me.'"),
        ("{equals: 'Hello'}", "character 6, expected '', got ', Ada!"),
        ("{max_length: 28}", None),
        ("{max_length: 27}", "content: 28 characters, over max_length 27"),
        ("{messages: [{role: user, contains: x}]}", "this version is a text prompt"),
    ],
)
def test_text_expectations(snapshot: DictSnapshot, expect: str, failure: str | None) -> None:
    ((_, status, failures),) = run(snapshot, f"- {{name: c, {VARS}, expect: {expect}}}")
    if failure is None:
        assert (status, failures) == ("passed", ())
    else:
        assert status == "failed"
        assert len(failures) == 1 and failure in failures[0], failures


@pytest.mark.parametrize(
    ("variables", "failure"),
    [
        ("{name: Ada}", "render: missing variables: app_name"),
        ("{name: Ada, app_name: Acme, colour: red}", "render: unknown variables: colour"),
    ],
)
def test_variables_that_do_not_match_fail_the_case(
    snapshot: DictSnapshot, variables: str, failure: str
) -> None:
    ((_, status, failures),) = run(
        snapshot, f"- {{name: c, variables: {variables}, expect: {{contains: A}}}}"
    )
    assert (status, failures) == ("failed", (failure,))


@pytest.mark.parametrize(
    ("messages", "failure"),
    [
        ("[{role: system, contains: Ada}]", None),
        ("[{index: 0, equals: 'Be polite to Ada.'}, {index: 1, contains: refund}]", None),
        ("[{index: -1, equals: Thanks}]", None),
        ("[{role: assistant, max_length: 5}]", None),
        ("[{role: system, contains: Bob}]", "messages[0] (system): does not contain 'Bob'"),
        ("[{role: user, contains: Ada}]", "role user: 2 such message(s)"),
        ("[{role: developer, contains: Ada}]", "role developer: no such message(s)"),
        ("[{index: 4, contains: Ada}]", "messages[4]: there is no such message (4 in all)"),
        ("[{index: -5, contains: Ada}]", "messages[-5]: there is no such message"),
        ("[{index: 3, not_contains: Thanks}]", "messages[3] (user): contains 'Thanks'"),
    ],
)
def test_chat_expectations(snapshot: DictSnapshot, messages: str, failure: str | None) -> None:
    tests = (
        "- name: c\n  variables: {customer: Ada, question: I want a refund}\n"
        f"  expect: {{messages: {messages}}}\n"
    )
    ((_, status, failures),) = run(snapshot, tests, "support")
    if failure is None:
        assert (status, failures) == ("passed", ())
    else:
        assert status == "failed"
        assert any(failure in f for f in failures), failures


def test_text_checks_on_a_chat_version_fail(snapshot: DictSnapshot) -> None:
    tests = "- {name: c, variables: {customer: A, question: B}, expect: {contains: A}}"
    ((_, status, failures),) = run(snapshot, tests, "support")
    assert status == "failed"
    assert "chat prompt" in failures[0]


def test_cases_for_other_versions_are_skipped(snapshot: DictSnapshot) -> None:
    tests = (
        "- {name: old, versions: [1], " + VARS + ", expect: {contains: Welcome}}\n"
        "- {name: new, versions: [2], variables: {name: Ada}, expect: {contains: Hi}}\n"
    )
    assert run(snapshot, tests, number=1) == [("old", "passed", ()), ("new", "skipped", ())]
    assert run(snapshot, tests, number=2) == [("old", "skipped", ()), ("new", "passed", ())]


def test_backtracking_expressions_finish_at_once(snapshot: DictSnapshot) -> None:
    """Expressions that take a backtracking engine hours run in linear time."""
    snap = add_prompt(snapshot, "long", "{{ text }}")
    snap = with_file(
        snap,
        "prompts/long/tests.yaml",
        (
            "- name: slow elsewhere\n"
            f"  variables: {{text: {'x' * 100_000}}}\n"
            "  expect: {regex: ['(x+x+)+y', '^(\\w+\\s?)*$', '(.*x){20}']}\n"
        ).encode(),
    )
    started = time.monotonic()
    ((_, status, failures),) = [
        (r.name, r.status, r.failures) for r in run_tests(snap, "long", 1).results
    ]
    assert time.monotonic() - started < 5
    assert status == "failed"
    assert failures == ("content: does not match regex '(x+x+)+y'",)


def test_expressions_share_a_time_budget(snapshot: DictSnapshot) -> None:
    cases = parse_cases(
        b"- {name: a, variables: {name: A, app_name: B}, expect: {regex: [H, A]}}", path=PATH
    )
    version = load_version(snapshot, "greeting", 1)
    ((_, status, failures),) = [
        (r.name, r.status, r.failures) for r in run_cases(version, cases, regex_budget=0).results
    ]
    assert status == "failed"
    assert [f.endswith("may take 0 s in all") for f in failures] == [True, True]
    assert run_cases(version, cases).ok


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("(a{65535}){65535}", "invalid repetition size"),
        ("(a{100}){100}", "invalid repetition size"),
        ("a{1001}", "invalid repetition size"),
        ("(?=lookahead)", "invalid perl operator"),
        ("(\\w)\\1", "invalid escape sequence"),
    ],
)
def test_expressions_re2_refuses_are_reported_not_run(pattern: str, reason: str) -> None:
    problems = cases_of(f"- {{name: a, expect: {{regex: '{pattern}'}}}}")
    assert len(problems) == 1
    assert "not a regular expression RE2 accepts" in problems[0]
    assert reason in problems[0]


def test_a_broken_template_fails_every_case(snapshot: DictSnapshot) -> None:
    path = "prompts/greeting/versions/2.yaml"
    broken = with_file(snapshot, path, snapshot.files[path].replace(b"{{ name }}", b"{{ name "))
    results = run(
        broken, "- {name: a, expect: {contains: x}}\n- {name: b, expect: {contains: z}}", number=2
    )
    assert [r[1] for r in results] == ["failed", "failed"]
    assert "template syntax error" in results[0][2][0]


def test_the_check_reports_a_broken_tests_file(snapshot: DictSnapshot) -> None:
    snap = with_file(snapshot, PATH, b"- {name: a, expect: {regex: '('}}\n")
    problems = check_tree(snap)
    assert [(p.file, p.line, p.rule) for p in problems] == [(PATH, 1, "tests")]
    assert check_tree(with_file(snapshot, PATH, b"- {name: a, expect: {contains: x}}\n")) == []


# -- the command ------------------------------------------------------------------------------


TESTS = """\
- name: greets by name
  variables: {name: Ada, app_name: Acme}
  expect:
    contains: Ada
- name: says welcome
  variables: {name: Ada, app_name: Acme}
  expect:
    contains: Welcome
- name: new wording only
  versions: [2]
  variables: {name: Ada, app_name: Acme}
  expect:
    regex: "^Hi"
"""


@pytest.fixture
def tested(sample: Cli, repo: Path) -> Cli:
    commit_tests(repo, TESTS)
    return sample


def test_command_reports_each_case(tested: Cli) -> None:
    result = tested.ok("test", "greeting")
    assert result.stdout.splitlines() == [
        "greeting v1: 3 case(s)",
        "  passed   greets by name",
        "  passed   says welcome",
        "  skipped  new wording only (not for v1)",
        "greeting v1: all 2 case(s) passed",
    ]


def test_command_fails_naming_the_failing_case(tested: Cli) -> None:
    status, out, err = run_main(tested.path, "test", "greeting@2")
    assert status == 1
    assert "  FAILED   says welcome\n             content: does not contain 'Welcome'\n" in out
    assert err.startswith("error: greeting v2 failed 1 of 3 golden test case(s): 'says welcome'\n")
    assert "hint: " in err


def test_command_json(tested: Cli, repo: Path) -> None:
    done = promptship(repo, "test", "greeting@v2", "--json")
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert (report["prompt"], report["version"], report["passed"]) == ("greeting", 2, False)
    assert [(c["name"], c["status"]) for c in report["cases"]] == [
        ("greets by name", "passed"),
        ("says welcome", "failed"),
        ("new wording only", "passed"),
    ]
    assert report["cases"][1]["output"] == {"content": "Hi Ada, welcome to Acme!"}
    assert report["cases"][1]["failures"] == ["content: does not contain 'Welcome'"]


def test_command_reads_uncommitted_cases_in_a_work_tree(tested: Cli, repo: Path) -> None:
    (repo / "prompts/greeting/tests.yaml").write_text(TESTS.replace("Welcome", "elcome"))
    tested.ok("test", "greeting@2")
    assert run_main(repo, "test", "greeting@2", "--ref", "HEAD")[0] == 1


def test_command_reads_the_work_tree_as_a_commit_would(sample: Cli, repo: Path) -> None:
    # A version file git ignores is no more there for 'test' than for 'check' or a commit.
    (repo / ".gitignore").write_text("prompts/greeting/versions/3.yaml\n")
    version = (repo / "prompts/greeting/versions/2.yaml").read_text()
    (repo / "prompts/greeting/versions/3.yaml").write_text(version)
    status, _, err = run_main(repo, "test", "greeting@3")
    assert status == 1 and "prompt 'greeting' has no version 3" in err
    assert git(repo, "status", "--porcelain") == "?? .gitignore\n"


def test_command_without_cases(sample: Cli) -> None:
    result = sample.ok("test", "greeting@latest")
    assert result.stdout == ""
    assert "no golden test cases" in result.stderr


def test_command_on_a_bare_repository(tested: Cli, repo: Path, tmp_path: Path) -> None:
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(bare))
    assert run_main(bare, "test", "greeting")[0] == 0
    assert run_main(bare, "test", "greeting@2")[0] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("test", "nope"), "error: no prompt named 'nope'"),
        (("test", "greeting@9"), "error: prompt 'greeting' has no version 9"),
        (("test", "Bad Name"), "error: 'Bad Name' is not a valid prompt name"),
    ],
)
def test_command_refusals(tested: Cli, args: tuple[str, ...], message: str) -> None:
    status, _, err = run_main(tested.path, *args)
    assert status == 1
    assert err.startswith(message)


def test_check_command_reports_a_broken_tests_file(sample: Cli, repo: Path) -> None:
    (repo / "prompts/greeting/tests.yaml").write_text("- {name: a, expect: {containz: x}}\n")
    result = sample("check")
    assert "prompts/greeting/tests.yaml:1: case 'a': unknown key 'containz'" in result.stdout


def test_a_refused_expression_is_reported_once_and_cleanly(sample: Cli, repo: Path) -> None:
    (repo / "prompts/greeting/tests.yaml").write_text(
        "- {name: a, variables: {name: x}, expect: {regex: '(?=x)'}}\n"
    )
    done = promptship(repo, "check")
    assert done.returncode == 1
    assert "not a regular expression RE2 accepts: invalid perl operator" in done.stdout
    assert done.stderr == ""  # nothing logged by the engine itself
    assert "(rule: golden test cases in tests.yaml are well-formed)" in done.stdout


class _DamagedCases(DictSnapshot):
    """A snapshot whose tests.yaml is a git object that cannot be read."""

    def read(self, path: str) -> bytes | None:
        if path == PATH:
            raise BrokenObject(PATH, "the object is missing")
        return super().read(path)


def test_damaged_cases_of_a_promotion_stop_the_check_instead_of_being_skipped() -> None:
    snapshot = add_prompt(DictSnapshot(), "greeting", "Hello {{ name }}!")
    damaged = _DamagedCases(files={**snapshot.files, PATH: b"[]\n"})
    promoted = Promotion(
        prompt="greeting", previous=None, version=1, by="A <a@b.c>", at="", notes=""
    )
    with pytest.raises(BrokenObject):
        promotion_problems(damaged, [promoted])
