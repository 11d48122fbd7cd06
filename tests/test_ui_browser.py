"""The web page end to end: a real ``promptship ui`` process, headless Chromium clicking as a
person does, and the repository's files and commits checked after every button."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import Page, expect

from helpers.chat_server import ChatServer, expected_reply
from helpers.cli import Cli
from helpers.gitrepo import changed_files, git, head
from helpers.ui import UiServer, watched


@pytest.fixture
def ui(sample: Cli) -> Iterator[UiServer]:
    with UiServer(sample.path) as server:
        yield server


def _version(repo: Path, name: str, number: int) -> dict[str, object]:
    loaded = yaml.safe_load((repo / f"prompts/{name}/versions/{number}.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def _pointer(repo: Path, name: str) -> dict[str, object]:
    loaded = yaml.safe_load((repo / f"prompts/{name}/production.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def _history(repo: Path, name: str) -> list[dict[str, object]]:
    lines = (repo / f"prompts/{name}/history.yaml").read_text().splitlines()
    return [json.loads(line.removeprefix("- ")) for line in lines]


def _open(page: Page, ui: UiServer) -> None:
    page.goto(ui.url)
    # The key is exchanged for a cookie and dropped from the address.
    assert "token" not in page.url
    expect(page.get_by_role("heading", name="Prompts", exact=True)).to_be_visible()


def _refusal(page: Page) -> str:
    alert = page.get_by_role("alert")
    expect(alert).to_be_visible()
    return alert.inner_text()


def test_promote_a_draft_from_the_list_and_find_it_in_promotion_history(
    page: Page, ui: UiServer, sample: Cli
) -> None:
    repo = sample.path
    before = head(repo)
    _open(page, ui)
    page.get_by_role("link", name="greeting").click()
    page.get_by_role("link", name="v2", exact=True).click()
    expect(page.locator("#version-status")).to_have_text("draft")
    page.get_by_role("button", name="Promote").click()
    dialog = page.get_by_role("dialog", name="Promote greeting v2 to production")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("From v1 (published → archived) to v2 (draft → published)")
    expect(dialog).to_contain_text("This prompt has no golden cases")
    dialog.get_by_label("Notes").fill("Warmer tone for new users")
    dialog.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("status").first).to_contain_text("Promoted greeting v2 to production")
    expect(page.locator("#version-status")).to_have_text("published")

    # One commit, the promotion the command line makes: four files, its message and trailers.
    assert git(repo, "rev-parse", "HEAD~1").strip() == before
    assert changed_files(repo) == [
        "prompts/greeting/history.yaml",
        "prompts/greeting/production.yaml",
        "prompts/greeting/versions/1.yaml",
        "prompts/greeting/versions/2.yaml",
    ]
    message = git(repo, "log", "-1", "--format=%B")
    assert message.startswith("promote(greeting): v1 -> v2\n\nWarmer tone for new users\n")
    assert "Prompt: greeting\nVersion: 2\nPrevious-Version: 1\n" in message
    assert (
        git(repo, "log", "-1", "--format=%an <%ae>").strip() == "Alice Example <alice@example.com>"
    )
    assert _version(repo, "greeting", 2)["status"] == "published"
    assert _version(repo, "greeting", 1)["status"] == "archived"
    assert _pointer(repo, "greeting")["version"] == 2
    record = _history(repo, "greeting")[-1]
    assert (record["version"], record["previous_version"]) == (2, 1)
    assert record["notes"] == "Warmer tone for new users"
    assert record["promoted_by"] == "Alice Example <alice@example.com>"
    assert git(repo, "status", "--porcelain") == ""

    page.get_by_role("link", name="Promotion History").click()
    row = page.get_by_role("row").filter(has_text="Warmer tone for new users")
    expect(row).to_contain_text("v1 → v2")
    expect(row).to_contain_text("Alice Example <alice@example.com>")
    assert watched(page).dialogs == [] and watched(page).errors == []


def test_rollback_unarchives_and_promotes_again(page: Page, ui: UiServer, sample: Cli) -> None:
    repo = sample.path
    sample.ok("promote", "greeting", "2", "--notes", "Try the new wording", "--yes")
    _open(page, ui)
    page.get_by_role("link", name="greeting").click()
    expect(page.get_by_role("link", name="v1", exact=True)).to_have_count(0)
    page.get_by_role("link", name="Show archived versions (1)").click()
    page.get_by_role("link", name="v1", exact=True).click()
    expect(page.locator("#version-status")).to_have_text("archived")
    page.get_by_role("button", name="Unarchive").click()
    expect(page.get_by_role("status").first).to_contain_text("Unarchived greeting v1")
    expect(page.locator("#version-status")).to_have_text("draft")
    assert git(repo, "log", "-1", "--format=%s").strip() == "unarchive(greeting): v1"
    assert _version(repo, "greeting", 1)["status"] == "draft"

    page.get_by_role("button", name="Promote").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("From v2 (published → archived) to v1 (draft → published)")
    dialog.get_by_label("Notes").fill("Roll back: v2 confused people")
    dialog.get_by_role("button", name="Confirm").click()
    expect(page.locator("#version-status")).to_have_text("published")

    assert git(repo, "log", "-2", "--format=%s").splitlines() == [
        "promote(greeting): v2 -> v1",
        "unarchive(greeting): v1",
    ]
    assert _pointer(repo, "greeting")["version"] == 1
    assert _version(repo, "greeting", 2)["status"] == "archived"
    assert [(r["version"], r["previous_version"]) for r in _history(repo, "greeting")] == [
        (1, None),
        (2, 1),
        (1, 2),
    ]
    # The production version is never archived directly: the page offers no button for it.
    expect(page.get_by_role("button", name="Archive")).to_have_count(0)


def test_history_filters_by_user_and_date_for_one_prompt_and_all(
    page: Page, ui: UiServer, sample: Cli
) -> None:
    bob = "Bob Example <bob@example.com>"
    sample.ok("promote", "greeting", "2", "--notes", "Bob's wording", "--yes", "--by", bob)
    sample.ok("create", "faq", "--content", "Answer {{ question }}.")
    sample.ok("promote", "faq", "1", "--notes", "First answers", "--yes", "--by", bob)
    today = git(sample.path, "log", "-1", "--format=%cd", "--date=format:%Y-%m-%d").strip()
    _open(page, ui)
    page.goto(f"{ui.base}/prompts/greeting/history")
    rows = page.locator("table.history tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Bob's wording")  # newest first

    page.get_by_label("User").fill("BOB")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("v1 → v2")
    expect(page.get_by_label("User")).to_have_value("BOB")

    page.get_by_label("User").fill("")
    page.get_by_label("From date").fill("2999-01-01")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(0)
    expect(page.get_by_text("No promotions match.")).to_be_visible()

    page.get_by_label("From date").fill(today)
    page.get_by_label("To date").fill(today)
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(2)

    page.get_by_role("link", name="All promotions").click()
    expect(rows).to_have_count(3)
    page.get_by_label("User").fill("bob")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("faq")
    expect(rows.nth(1)).to_contain_text("greeting")

    page.goto(f"{ui.base}/history?since=last+week")
    assert "'last week' is not a date or a time" in _refusal(page)


@pytest.fixture
def chat_server() -> Iterator[ChatServer]:
    with ChatServer() as chat:
        yield chat


def test_test_panel_runs_models_side_by_side_and_reruns_a_past_run(
    page: Page, sample: Cli, chat_server: ChatServer
) -> None:
    repo = sample.path
    with UiServer(repo, env={"OPENAI_BASE_URL": chat_server.base_url}) as ui:
        _open(page, ui)
        page.goto(f"{ui.base}/prompts/greeting")
        page.get_by_role("link", name="Test panel", exact=True).click()
        page.get_by_label("Version", exact=True).select_option("2")
        page.get_by_role("button", name="Choose version").click()
        page.get_by_label("name", exact=True).fill("Ada")
        page.get_by_label("app_name").fill("Acme")
        page.get_by_label("Models").fill("alpha beta")
        page.get_by_role("button", name="Run", exact=True).click()

        resolved = "Hi Ada, welcome to Acme!"
        expect(page.locator(".resolved-text")).to_have_text(resolved)
        for model in ("alpha", "beta"):
            reply = expected_reply(model, [{"role": "user", "content": resolved}])
            card = page.get_by_role("listitem", name=f"openai:{model}")
            expect(card.get_by_label(f"Response of openai:{model}")).to_have_text(reply["text"])
            usage = reply["usage"]
            expect(card).to_contain_text(
                f"{usage['total_tokens']} ({usage['prompt_tokens']} in, "
                f"{usage['completion_tokens']} out)"
            )
            expect(card).to_contain_text(re.compile(r"Latency\s*\d+ ms"))
        runs = [
            json.loads(line)
            for line in (repo / ".git/promptship/runs.jsonl").read_text().splitlines()
        ]
        assert [(r["prompt"], r["version"], r["variables"]) for r in runs] == [
            ("greeting", 2, {"name": "Ada", "app_name": "Acme"})
        ]

        # One click re-runs it on another version, beside the answers it had.
        page.get_by_label("Version", exact=True).select_option("1")
        page.get_by_role("button", name="Choose version").click()
        page.get_by_role("button", name=f"Re-run {runs[0]['id']} on v1").click()
        expect(page.get_by_role("heading", name="Before: v2")).to_be_visible()
        expect(page.get_by_role("heading", name="Now: v1")).to_be_visible()
        expect(page.get_by_text("alpha says: Hello, Ada! Welcome to Acme.")).to_be_visible()
        runs = [
            json.loads(line)
            for line in (repo / ".git/promptship/runs.jsonl").read_text().splitlines()
        ]
        assert [(r["version"], r["rerun_of"]) for r in runs] == [(2, None), (1, runs[0]["id"])]

        # A missing variable is refused with the names the version takes; nothing is logged.
        page.get_by_role("link", name="Test panel", exact=True).click()
        page.get_by_label("Models").fill("alpha")
        page.get_by_role("button", name="Run", exact=True).click()
        text = _refusal(page)
        assert "missing variables: app_name, name" in text
        assert "hint: this version takes app_name, name" in text
        assert len((repo / ".git/promptship/runs.jsonl").read_text().splitlines()) == 2
    assert git(repo, "status", "--porcelain") == ""


def test_a_promotion_made_meanwhile_supersedes_the_open_dialog(
    page: Page, ui: UiServer, sample: Cli
) -> None:
    repo = sample.path
    _open(page, ui)
    page.goto(f"{ui.base}/prompts/greeting/v/2")
    page.get_by_role("button", name="Promote").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("From v1 (published → archived)")
    dialog.get_by_label("Notes").fill("Mine")

    sample.ok("new-version", "greeting", "--content", "Hey {{ name }}, this is {{ app_name }}.")
    sample.ok(
        "promote",
        "greeting",
        "3",
        "--notes",
        "Theirs",
        "--yes",
        "--by",
        "Bob Example <bob@example.com>",
    )
    after_cli = head(repo)

    dialog.get_by_role("button", name="Confirm").click()
    text = _refusal(page)
    assert (
        "promotion of 'greeting' superseded by v3 (promoted by Bob Example <bob@example.com> at"
        in text
    )
    assert "hint: look at the new state" in text
    assert "Nothing was written." in text
    assert head(repo) == after_cli
    assert _pointer(repo, "greeting")["version"] == 3
    assert _version(repo, "greeting", 2)["status"] == "draft"
    assert [r["notes"] for r in _history(repo, "greeting")] == ["Initial release", "Theirs"]
    # The dialog now shows the state that holds, and its notes are kept for a second decision.
    expect(page.get_by_role("dialog")).to_contain_text("From v3 (published → archived) to v2")
    expect(page.get_by_role("dialog").get_by_label("Notes")).to_have_value("Mine")


TESTS_YAML = """\
- name: says hello
  variables: {name: Ada, app_name: Acme}
  expect:
    contains: "Hello, Ada"
"""


def test_a_failing_golden_case_is_shown_and_refuses_the_promotion(
    page: Page, ui: UiServer, sample: Cli
) -> None:
    repo = sample.path
    (repo / "prompts/greeting/tests.yaml").write_text(TESTS_YAML)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "golden case")
    before = head(repo)
    _open(page, ui)
    page.goto(f"{ui.base}/prompts/greeting/v/2/promote")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("1 of 1 golden cases fail")
    expect(dialog.locator(".case-failed")).to_contain_text("says hello")
    dialog.get_by_label("Notes").fill("Ship it")
    dialog.get_by_role("button", name="Confirm").click()
    text = _refusal(page)
    assert "greeting v2 failed 1 of 1 golden test case(s): 'says hello'" in text
    assert "--skip-tests" in text
    assert head(repo) == before

    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Promote without the golden cases").check()
    dialog.get_by_role("button", name="Confirm").click()
    expect(page.locator("#version-status")).to_have_text("published")
    assert git(repo, "rev-parse", "HEAD~1").strip() == before
    assert "Golden-Tests: skipped" in git(repo, "log", "-1", "--format=%B")
    assert _history(repo, "greeting")[-1]["tests_skipped"] is True
    page.get_by_role("link", name="Promotion History").click()
    expect(page.get_by_text("golden cases skipped")).to_be_visible()


def test_a_dirty_file_refuses_the_promotion(page: Page, ui: UiServer, sample: Cli) -> None:
    repo = sample.path
    before = head(repo)
    draft = repo / "prompts/greeting/versions/2.yaml"
    edited = draft.read_text() + "# an edit not yet committed\n"
    draft.write_text(edited)
    _open(page, ui)
    page.goto(f"{ui.base}/prompts/greeting/v/2/promote")
    page.get_by_role("dialog").get_by_role("button", name="Confirm").click()
    text = _refusal(page)
    assert (
        "uncommitted changes in files this command would change: prompts/greeting/versions/2.yaml"
        in text
    )
    assert "hint: commit or discard them first" in text
    assert head(repo) == before
    assert draft.read_text() == edited
    assert _pointer(repo, "greeting")["version"] == 1


def test_keyboard_opens_the_dialog_escape_closes_it_and_focus_returns(
    page: Page, ui: UiServer, sample: Cli
) -> None:
    before = head(sample.path)
    _open(page, ui)
    page.goto(f"{ui.base}/prompts/greeting/v/2")
    promote = page.get_by_role("button", name="Promote")
    promote.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Notes")).to_be_focused()
    # Modal: the page behind is inert, so Tab reaches nothing outside the dialog (past its
    # last control, focus may leave for the browser's own controls).
    for _ in range(12):
        page.keyboard.press("Tab")
        assert page.evaluate(
            "(() => { const a = document.activeElement;"
            " return a === null || a === document.body || a.closest('dialog') !== null })()"
        )
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert page.url.endswith("/prompts/greeting/v/2")
    expect(page.get_by_role("button", name="Promote")).to_be_focused()
    assert head(sample.path) == before


def test_the_main_flow_works_without_javascript(browser: object, ui: UiServer, sample: Cli) -> None:
    from playwright.sync_api import Browser

    assert isinstance(browser, Browser)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        _open(page, ui)
        page.get_by_role("link", name="greeting").click()
        page.get_by_role("link", name="v2", exact=True).click()
        page.get_by_role("button", name="Promote").click()
        page.get_by_label("Notes").fill("No script needed")
        page.get_by_role("button", name="Confirm").click()
        expect(page.locator("#version-status")).to_have_text("published")
    finally:
        context.close()
    assert _history(sample.path, "greeting")[-1]["notes"] == "No script needed"


def test_chat_messages_added_removed_and_reordered(page: Page, ui: UiServer, sample: Cli) -> None:
    repo = sample.path
    _open(page, ui)
    page.get_by_role("link", name="New prompt").click()
    page.get_by_label("Name").fill("support")
    page.get_by_label("Description").fill("Answers support questions")
    page.get_by_label("Tags").fill("support email")
    page.get_by_label("Chat: messages with roles").check()
    page.get_by_role("button", name="Create prompt").click()
    expect(page.get_by_role("status").first).to_contain_text("Created support with v1 as a draft")
    assert git(repo, "log", "-1", "--format=%s").strip() == "create(support): v1"

    page.get_by_label("Content of message 1").fill("You are brief.")
    page.get_by_label("Content of message 2").fill("Answer: {{ question }}")
    page.get_by_role("button", name="Add message").click()
    expect(page.get_by_label("Content of message 1")).to_have_value("You are brief.")
    page.get_by_label("Role of message 3").select_option("assistant")
    page.get_by_label("Content of message 3").fill("Sure.")
    page.get_by_role("button", name="Move message 3 up").click()
    expect(page.get_by_label("Content of message 2")).to_have_value("Sure.")
    page.get_by_role("button", name="Remove message 2").click()
    expect(page.get_by_label("Content of message 3")).to_have_count(0)
    assert git(repo, "log", "-1", "--format=%s").strip() == "create(support): v1"  # not saved yet
    page.get_by_label("Metadata").fill("model=gpt-4o\ntemperature=0.2\n")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("status").first).to_contain_text("Saved support v1")

    assert git(repo, "log", "-1", "--format=%s").strip() == "edit(support): v1"
    saved = _version(repo, "support", 1)
    assert saved["messages"] == [
        {"role": "system", "content": "You are brief."},
        {"role": "user", "content": "Answer: {{ question }}"},
    ]
    assert saved["metadata"] == {"model": "gpt-4o", "temperature": 0.2}
    prompt = yaml.safe_load((repo / "prompts/support/prompt.yaml").read_text())
    assert prompt == {
        "name": "support",
        "description": "Answers support questions",
        "tags": ["support", "email"],
    }


def test_new_version_edit_archive_compare_and_delete(page: Page, ui: UiServer, sample: Cli) -> None:
    repo = sample.path
    _open(page, ui)
    page.goto(f"{ui.base}/prompts/greeting/v/1")
    page.get_by_role("button", name="New version from v1").click()
    expect(page.get_by_role("status").first).to_contain_text("Created v3 from v1 as a draft")
    content = page.get_by_label("Content")
    expect(content).to_have_value("Hello, {{ name }}! Welcome to {{ app_name }}.")
    content.fill("Welcome aboard, {{ name }}!\nEnjoy {{ app_name }}.\n")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#version-status")).to_have_text("draft")
    assert (
        _version(repo, "greeting", 3)["content"]
        == "Welcome aboard, {{ name }}!\nEnjoy {{ app_name }}.\n"
    )
    assert git(repo, "log", "-2", "--format=%s").splitlines() == [
        "edit(greeting): v3",
        "new-version(greeting): v3 from v1",
    ]

    page.get_by_role("link", name="Compare versions").click()
    page.get_by_label("From", exact=True).select_option("1")
    page.get_by_label("To", exact=True).select_option("3")
    page.get_by_role("button", name="Compare").click()
    expect(page.locator(".line.removed")).to_have_text(
        ["-Hello, {{ name }}! Welcome to {{ app_name }}."]
    )
    expect(page.locator(".line.added")).to_have_text(
        ["+Welcome aboard, {{ name }}!", "+Enjoy {{ app_name }}."]
    )

    page.goto(f"{ui.base}/prompts/greeting/v/3")
    page.get_by_role("button", name="Archive").click()
    expect(page.locator("#version-status")).to_have_text("archived")
    assert _version(repo, "greeting", 3)["status"] == "archived"

    # A published version cannot be edited: the refusal is shown, nothing is written.
    before = head(repo)
    page.goto(f"{ui.base}/prompts/greeting/v/1/edit")
    page.get_by_label("Content").fill("Changed")
    page.get_by_role("button", name="Save draft").click()
    assert "has been in production, and such a version keeps its content for good" in _refusal(page)
    assert head(repo) == before

    page.goto(f"{ui.base}/prompts/greeting")
    page.get_by_role("link", name="Delete prompt").click()
    page.get_by_role("button", name="Delete prompt").click()
    assert "greeting has a production version (v1)" in _refusal(page)
    assert head(repo) == before
    page.get_by_label("Delete it although v1 is in production").check()
    page.get_by_role("button", name="Delete prompt").click()
    expect(page.get_by_role("status").first).to_contain_text("Deleted greeting")
    assert not (repo / "prompts/greeting").exists()
    assert git(repo, "log", "-1", "--format=%s").strip() == "delete(greeting)"


def test_a_promotion_on_a_new_branch_is_pushed_with_the_pull_request_link(
    page: Page, ui: UiServer, sample: Cli, tmp_path: Path
) -> None:
    repo = sample.path
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    github = "https://github.com/acme/prompts.git"
    git(repo, "remote", "add", "origin", github)
    # git sends what is addressed to GitHub to the local bare repository instead.
    git(repo, "config", f"url.{remote}.insteadOf", github)
    git(repo, "push", "-q", "-u", "origin", "main")
    before = head(repo)

    _open(page, ui)
    page.goto(f"{ui.base}/prompts/greeting/v/2")
    page.get_by_role("button", name="Promote").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Notes").fill("Please review")
    dialog.get_by_label("Commit on a new branch for a pull request").check()
    expect(dialog.get_by_label("Branch name")).to_have_value("promote-greeting-v2")
    expect(dialog.get_by_label("Push the new branch")).to_be_checked()
    dialog.get_by_role("button", name="Confirm").click()

    status = page.get_by_role("status").first
    expect(status).to_contain_text(
        "Committed the promotion of greeting v2 on new branch promote-greeting-v2, pushed to "
        "origin/promote-greeting-v2"
    )
    link = status.get_by_role("link", name="Open a pull request")
    expect(link).to_have_attribute(
        "href", "https://github.com/acme/prompts/compare/main...promote-greeting-v2?expand=1"
    )
    # The checkout is untouched; the branch holds the promotion, here and on the remote.
    assert head(repo) == before
    assert git(repo, "status", "--porcelain") == ""
    pushed = git(remote, "rev-parse", "refs/heads/promote-greeting-v2").strip()
    assert pushed == git(repo, "rev-parse", "promote-greeting-v2").strip()
    assert git(repo, "rev-parse", f"{pushed}~1").strip() == before
    assert git(repo, "log", "-1", "--format=%s", pushed).strip() == "promote(greeting): v1 -> v2"
    expect(page.locator("#version-status")).to_have_text("draft")
