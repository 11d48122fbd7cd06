"""The web page's parts one by one: the prompt list and its cache, what a form's fields mean, the
workspace a page shows, the pull-request link, and ``promptship ui``'s own refusals."""

from __future__ import annotations

import re
import signal
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest

from helpers.cli import Cli, promptship
from helpers.gitrepo import git
from helpers.inmemory import Clock, create, promote, run
from helpers.ui import UiServer
from registry.catalog import PromptQuery, load_pointer
from registry.errors import InputError, RepositoryError, RevisionError
from registry.git.store import GitStore
from registry.pullrequest import compare_url
from registry.snapshot import DictSnapshot
from registry.web.ui.forms import _rearranged, metadata_changes
from registry.web.ui.views import page_of
from registry.web.ui.workspace import PromptIndex, Workspace


def _commit_files(repo: Path, snapshot: DictSnapshot, message: str = "prompts by hand") -> None:
    for path, data in snapshot.files.items():
        file = repo / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(data)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def _registry(count: int) -> DictSnapshot:
    """``p00``... with tags by parity and by tens; every third one promoted."""
    steps = []
    for i in range(count):
        tags = ["even" if i % 2 == 0 else "odd", f"ten{i // 10}"]
        steps.append(create(f"p{i:02d}", description=f"prompt number {i}", tags=tags))
        if i % 3 == 0:
            steps.append(promote(f"p{i:02d}", 1))
    return run(DictSnapshot({}), *steps, clock=Clock())


def _names(rows: list[Any]) -> list[str]:
    return [r.name for r in rows]


def test_the_index_reads_only_the_prompts_a_commit_changed(repo: Path, cli: Cli) -> None:
    _commit_files(repo, _registry(6))
    store = GitStore.open(repo)
    index = PromptIndex()
    first = index.rows(store.snapshot(), times=False)
    assert _names(first) == ["p00", "p01", "p02", "p03", "p04", "p05"]
    assert [r.summary.production for r in first if r.summary] == [1, None, None, 1, None, None]
    again = index.rows(store.snapshot(), times=False)
    assert all(a is b for a, b in zip(first, again, strict=True))

    cli.ok("promote", "p01", "1", "--yes")
    after = index.rows(store.snapshot(), times=False)
    changed = [a.name for a, b in zip(first, after, strict=True) if a is not b]
    assert changed == ["p01"]
    assert after[1].summary is not None and after[1].summary.production == 1


def test_the_index_selects_as_the_list_command_does(repo: Path, cli: Cli) -> None:
    _commit_files(repo, _registry(25))
    snapshot = GitStore.open(repo).snapshot()
    index = PromptIndex()

    def names(**query: Any) -> list[str]:
        broken, chosen = index.select(snapshot, PromptQuery(**query))
        assert broken == []
        return _names(chosen)

    assert names(tags=("even", "ten1")) == ["p10", "p12", "p14", "p16", "p18"]
    assert names(search="NUMBER 2") == ["p02", "p20", "p21", "p22", "p23", "p24"]
    assert names(production=True, tags=("odd",)) == ["p03", "p09", "p15", "p21"]
    assert len(names(production=False)) == 16
    cli.ok("create", "zz-new", "--content", "hi")
    snapshot = GitStore.open(repo).snapshot()
    assert names(sort="created")[-1] == "zz-new"
    assert names(sort="changed")[0] == "zz-new"
    for query in (
        PromptQuery(tags=("even",), sort="changed"),
        PromptQuery(search="1", production=True),
    ):
        listed = cli.ok(
            "list",
            "--json",
            *[a for t in query.tags for a in ("--tag", t)],
            *(["--search", query.search] if query.search else []),
            *(["--production"] if query.production else []),
            "--sort",
            query.sort,
        ).stdout
        assert _names(index.select(snapshot, query)[1]) == re.findall(r'"name": "([^"]+)"', listed)


def test_an_unreadable_prompt_is_listed_whatever_the_filters(repo: Path) -> None:
    _commit_files(repo, _registry(3))
    (repo / "prompts/p01/prompt.yaml").write_text("name: [not, a, name]\n")
    git(repo, "commit", "-qam", "broken by hand")
    query = PromptQuery(tags=("even",))
    broken, chosen = PromptIndex().select(GitStore.open(repo).snapshot(), query)
    assert _names(chosen) == ["p00", "p02"]
    assert _names(broken) == ["p01"]
    assert broken[0].summary is None and broken[0].problem is not None
    assert "prompts/p01/prompt.yaml" in broken[0].problem.message


@pytest.mark.parametrize(
    ("count", "asked", "shown", "pages"),
    [
        (0, 1, (1, 0), 1),
        (120, 1, (1, 50), 3),
        (120, 3, (3, 20), 3),
        (120, 9, (3, 20), 3),
        (50, 0, (1, 50), 1),
    ],
)
def test_pages(count: int, asked: int, shown: tuple[int, int], pages: int) -> None:
    page = page_of(list(range(count)), asked)
    assert (page.number, len(page.items)) == shown
    assert page.pages == pages
    assert page.previous == (page.number - 1 or None)
    assert page.next == (page.number + 1 if page.number < pages else None)


@pytest.mark.parametrize(
    ("before", "text", "update", "unset"),
    [
        ({"model": "a"}, "model=a\n", {}, []),
        ({"model": "a"}, "model=b\r\n", {"model": "b"}, []),
        ({"model": "a"}, "", {}, ["model"]),
        ({}, "temperature=0.2\nstream=true\n", {"temperature": 0.2, "stream": True}, []),
        (
            {},
            'code=017\nanswer=yes\nzip="017"\n',
            {"code": "017", "answer": "yes", "zip": "017"},
            [],
        ),
        ({}, "stop=null\n", {"stop": None}, []),
        ({"stop": ["x", "y"]}, 'stop=["x", "y"]\nmodel=m\n', {"model": "m"}, []),
        ({"stop": ["x", "y"]}, 'stop=["x"]\n', {"stop": ["x"]}, []),
        ({"n": 1}, "n=1\n  \n", {}, []),
        ({"n": 1}, " n = 2 ", {"n": 2}, []),
        ({"n": 1, "m": "a"}, "m=b", {"m": "b"}, ["n"]),
    ],
)
def test_metadata_lines_change_only_what_was_changed(
    before: dict[str, Any], text: str, update: dict[str, Any], unset: list[str]
) -> None:
    assert metadata_changes(before, text.replace("\r\n", "\n")) == (update, unset)


@pytest.mark.parametrize("text", ["no equals sign", "=value"])
def test_metadata_lines_that_are_not_pairs_are_refused(text: str) -> None:
    with pytest.raises(InputError, match="is not KEY=VALUE"):
        metadata_changes({}, text)


M = [{"role": "system", "content": "a"}, {"role": "user", "content": "b"}]


@pytest.mark.parametrize(
    ("action", "contents"),
    [
        ("add", ["a", "b", ""]),
        ("remove:0", ["b"]),
        ("remove:5", ["a", "b"]),
        ("up:1", ["b", "a"]),
        ("up:0", ["a", "b"]),
        ("down:0", ["b", "a"]),
        ("down:1", ["a", "b"]),
        ("save", None),
        ("up:x", None),
    ],
)
def test_message_buttons(action: str, contents: list[str] | None) -> None:
    moved = _rearranged(M, action)
    assert (None if moved is None else [m["content"] for m in moved]) == contents


@pytest.mark.parametrize(
    ("url", "link"),
    [
        (
            "https://github.com/acme/prompts.git",
            "https://github.com/acme/prompts/compare/main...b?expand=1",
        ),
        (
            "https://token@github.com/acme/prompts",
            "https://github.com/acme/prompts/compare/main...b?expand=1",
        ),
        (
            "git@github.com:acme/prompts.git",
            "https://github.com/acme/prompts/compare/main...b?expand=1",
        ),
        (
            "ssh://git@github.com/acme/prompts.git",
            "https://github.com/acme/prompts/compare/main...b?expand=1",
        ),
        (
            "https://github.com/acme/prompts/",
            "https://github.com/acme/prompts/compare/main...b?expand=1",
        ),
        ("https://gitlab.com/acme/prompts.git", None),
        ("https://github.com.evil.example/acme/prompts.git", None),
        ("/srv/git/prompts.git", None),
    ],
)
def test_compare_link(url: str, link: str | None) -> None:
    assert compare_url(url, "main", "b") == link


def test_the_workspace_shows_a_branch_or_a_revision_read_only(sample: Cli) -> None:
    repo = sample.path
    git(repo, "branch", "review")
    git(repo, "tag", "v1.0")
    assert Workspace(repo).branch == "refs/heads/main"
    named = Workspace(repo, "review")
    assert (named.branch, named.shown, named.writable) == ("refs/heads/review", "review", True)
    assert Workspace(repo, "refs/heads/review").branch == "refs/heads/review"
    for revision in (git(repo, "rev-parse", "HEAD~1").strip(), "refs/tags/v1.0"):
        shown = Workspace(repo, revision)
        assert (shown.branch, shown.writable, shown.shown) == (None, False, revision)
        assert shown.snapshot().commit_id is not None
    with pytest.raises(RevisionError, match="names a tag"):
        Workspace(repo, "v1.0")  # a short name is never read as a tag
    with pytest.raises(RepositoryError, match="cannot read the revision 'nope'"):
        Workspace(repo, "nope")
    git(repo, "checkout", "-q", "--detach")
    assert not Workspace(repo).writable


def test_a_read_only_page_refuses_writes(sample: Cli) -> None:
    before = git(sample.path, "rev-parse", "HEAD").strip()
    earlier = git(sample.path, "rev-parse", "HEAD~1").strip()
    with UiServer(sample.path, args=("--ref", earlier)) as ui:
        answer = httpx.get(ui.url, follow_redirects=False)
        cookie = answer.headers["set-cookie"].split(";")[0]
        with httpx.Client(base_url=ui.base, headers={"cookie": cookie}) as client:
            page = client.get("/prompts/greeting").text
            assert "read-only" in page
            assert "Promote" not in page
            token = re.search(r'name="csrf" value="([^"]+)"', client.get("/new").text)
            assert token is not None
            refused = client.post("/prompts/greeting/v/1/archive", data={"csrf": token.group(1)})
    assert refused.status_code == 409
    assert "which is not a branch: nothing can be changed here" in refused.text
    assert git(sample.path, "rev-parse", "HEAD").strip() == before


def test_ui_refuses_a_port_in_use_and_a_missing_revision(sample: Cli) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = promptship(sample.path, "ui", "--no-browser", "--port", str(port))
    assert busy.returncode == 1
    assert f"error: cannot listen on 127.0.0.1:{port}: Address already in use" in busy.stderr
    assert "hint: choose another --port, or stop what listens there" in busy.stderr
    missing = promptship(sample.path, "ui", "--no-browser", "--ref", "nope")
    assert missing.returncode == 1
    assert "error: cannot read the revision 'nope'" in missing.stderr
    assert "Traceback" not in busy.stderr + missing.stderr


def test_ui_stops_cleanly_and_says_where_it_serves(sample: Cli) -> None:
    server = UiServer(sample.path)
    with server:
        assert httpx.get(server.url, follow_redirects=False).status_code == 303
    # Stopped by SIGTERM, not killed: uvicorn finishes its answers, then ends as the signal asks
    # (older versions exit with 0 instead).
    assert server.stop() in (0, -signal.SIGTERM)
    said = "".join(server.output)
    assert f"promptship ui: {sample.path} (main), at" in said
    assert f"http://127.0.0.1:{server.port}/?token={server.token}" in said


def test_list_pages_and_filters_over_http(repo: Path) -> None:
    _commit_files(repo, _registry(60))
    with UiServer(repo) as ui:
        cookie = httpx.get(ui.url, follow_redirects=False).headers["set-cookie"].split(";")[0]
        with httpx.Client(base_url=ui.base, headers={"cookie": cookie}) as client:
            first = client.get("/").text
            assert "60 prompts · page 1 of 2" in first
            assert first.count('<a href="/prompts/p') == 50
            assert 'href="?page=2"' in first
            second = client.get("/?page=2").text
            assert second.count('<a href="/prompts/p') == 10
            tagged = client.get("/?tags=even+ten2&production=yes").text
            assert re.findall(r'<a href="/prompts/(p\d+)"', tagged) == ["p24"]
            repeated = client.get("/?tag=even&tag=ten2&sort=created").text
            assert re.findall(r'<a href="/prompts/(p\d+)"', repeated) == [
                "p20",
                "p22",
                "p24",
                "p26",
                "p28",
            ]
            filtered = client.get("/?q=number&production=no&page=2").text
            assert ">40 prompts</p>" in filtered  # one page: the page asked for is clamped
            assert filtered.count('<a href="/prompts/p') == 40
            (repo / "prompts/p06/production.yaml").write_text("version: seven\n")
            git(repo, "commit", "-qam", "broken by hand")
            listed = client.get("/?tag=even").text
            assert "1 prompt cannot be read" in listed
            assert '<li><a href="/prompts/p06">p06</a>: ' in listed
            assert "prompts/p06/production.yaml" in listed


def test_without_a_git_identity_the_page_says_so_and_refuses_writes(sample: Cli) -> None:
    before = git(sample.path, "rev-parse", "HEAD").strip()
    nobody: dict[str, str | None] = dict.fromkeys(
        ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL")
    )
    with UiServer(sample.path, env=nobody) as ui:
        answer = httpx.get(ui.url, follow_redirects=False)
        cookie = answer.headers["set-cookie"].split(";")[0]
        with httpx.Client(base_url=ui.base, headers={"cookie": cookie}) as client:
            page = client.get("/prompts/greeting/v/2/promote").text
            assert "no git identity to record as the author" in page
            token = re.search(r'name="csrf" value="([^"]+)"', page)
            assert token is not None
            refused = client.post(
                "/prompts/greeting/v/2/promote",
                data={"csrf": token.group(1), "notes": "x", "expect": "1"},
            )
    assert refused.status_code == 409
    assert "no git identity to record as the author" in refused.text
    assert "git config --global user.email you@example.com" in refused.text
    assert git(sample.path, "rev-parse", "HEAD").strip() == before


def test_the_test_panel_compares_at_most_ten_models(sample: Cli) -> None:
    with UiServer(sample.path) as ui:
        cookie = httpx.get(ui.url, follow_redirects=False).headers["set-cookie"].split(";")[0]
        with httpx.Client(base_url=ui.base, headers={"cookie": cookie}, timeout=60) as client:
            token = re.search(r'name="csrf" value="([^"]+)"', client.get("/new").text)
            assert token is not None
            form = {
                "csrf": token.group(1),
                "version": "2",
                "var.name": "Ada",
                "var.app_name": "Acme",
            }
            refused = client.post("/prompts/greeting/panel", data={**form, "models": "echo " * 11})
            posted = client.post("/prompts/greeting/panel", data={**form, "models": "echo " * 10})
            ran = client.get(posted.headers["location"])
    assert refused.status_code == 400
    assert "11 models given; a run compares at most 10" in refused.text
    assert ran.status_code == 200
    assert ran.text.count('aria-label="Response of echo"') == 10
    assert ran.text.count("Hi Ada, welcome to Acme!") >= 11  # the resolved prompt, and each echo


@pytest.mark.parametrize("shown", ["", "2", "99"])
def test_a_promotion_decided_on_another_production_is_refused_as_superseded(
    sample: Cli, shown: str
) -> None:
    """The dialog's ``expect`` is the production version it showed (v1 here): any other is a
    stale page, refused with 409 and nothing written, whatever production is now."""
    before = git(sample.path, "rev-parse", "HEAD").strip()
    with UiServer(sample.path) as ui:
        cookie = httpx.get(ui.url, follow_redirects=False).headers["set-cookie"].split(";")[0]
        with httpx.Client(base_url=ui.base, headers={"cookie": cookie}, timeout=60) as client:
            token = re.search(r'name="csrf" value="([^"]+)"', client.get("/new").text)
            assert token is not None
            form = {"csrf": token.group(1), "notes": "Warmer"}
            refused = client.post("/prompts/greeting/v/2/promote", data={**form, "expect": shown})
            assert git(sample.path, "rev-parse", "HEAD").strip() == before
            done = client.post("/prompts/greeting/v/2/promote", data={**form, "expect": "1"})
            shown_after = client.get(done.headers["location"]).text
    assert refused.status_code == 409
    assert "promotion of &#39;greeting&#39; superseded by v1 (promoted by" in refused.text
    assert done.status_code == 303
    subject = git(sample.path, "log", "-1", "--format=%s").strip()
    assert subject == "promote(greeting): v1 -> v2"
    assert git(sample.path, "rev-parse", "HEAD~1").strip() == before
    commit = git(sample.path, "rev-parse", "HEAD").strip()
    assert "Promoted greeting v2 to production." in shown_after
    assert commit[:10] in shown_after
    pointer = load_pointer(GitStore.open(sample.path).snapshot(), "greeting")
    assert pointer is not None and pointer.version == 2
