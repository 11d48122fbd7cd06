"""Who may use the web page, and what hostile registry content can do on it: nothing. Each rule
of the guard is tested against a real ``promptship ui`` process over HTTP; hostile content is
shown in a real browser, where no script may run and no element may be injected."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from helpers.cli import Cli
from helpers.gitrepo import files_under, git, head
from helpers.ui import UiServer, watched
from registry.web.ui.app import ROUTES
from registry.web.ui.security import CONTENT_SECURITY_POLICY

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def ui(sample: Cli) -> Iterator[UiServer]:
    with UiServer(sample.path) as server:
        yield server


def _signed_in(ui: UiServer) -> httpx.Client:
    """A client holding the session cookie, as a browser has after opening the address."""
    answer = httpx.get(ui.url, follow_redirects=False)
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"].split(";")[0]
    return httpx.Client(
        base_url=ui.base, follow_redirects=False, timeout=30, headers={"cookie": cookie}
    )


def _csrf(client: httpx.Client, path: str = "/prompts/greeting/v/2/promote") -> str:
    found = CSRF.search(client.get(path).text)
    assert found, "the page carries a CSRF token in its forms"
    return found.group(1)


def test_the_key_is_exchanged_for_a_strict_http_only_cookie_and_leaves_the_address(
    ui: UiServer,
) -> None:
    with httpx.Client(base_url=ui.base, follow_redirects=False) as client:
        answer = client.get(f"/prompts/greeting?token={ui.token}&archived=1&tag=a&tag=b")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/prompts/greeting?archived=1&tag=a&tag=b"
        cookie = answer.headers["set-cookie"]
        name_value, *attributes = [part.strip() for part in cookie.split(";")]
        assert name_value.startswith(f"promptship_ui_{ui.port}=")
        assert ui.token not in cookie
        assert {a.lower() for a in attributes} == {"httponly", "samesite=strict", "path=/"}
        shown = client.get("/prompts/greeting", headers={"cookie": name_value})
        assert shown.status_code == 200
        assert "greeting" in shown.text


def test_the_key_opens_the_page_once(ui: UiServer) -> None:
    """Whoever reads the address later (from a process list, a shell history) gets nothing."""
    first = httpx.get(ui.url, follow_redirects=False)
    assert first.status_code == 303 and "set-cookie" in first.headers
    again = httpx.get(ui.url, follow_redirects=False)
    assert again.status_code == 403 and "set-cookie" not in again.headers
    assert "used already" in again.text
    cookie = first.headers["set-cookie"].split(";")[0]
    assert httpx.get(ui.base + "/", headers={"cookie": cookie}).status_code == 200


def test_the_exchange_redirects_within_this_server_only(ui: UiServer) -> None:
    answer = httpx.get(f"{ui.base}//evil.example/?token={ui.token}", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/evil.example/"


@pytest.mark.parametrize("key", ["", "wrong", "x" * 43])
def test_a_wrong_key_gets_no_cookie(ui: UiServer, key: str) -> None:
    answer = httpx.get(f"{ui.base}/?token={key}", follow_redirects=False)
    assert answer.status_code == 403
    assert "set-cookie" not in answer.headers
    assert "greeting" not in answer.text


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/history",
        "/new",
        "/prompts/greeting",
        "/prompts/greeting/v/2/promote",
        "/prompts/greeting/panel",
        "/static/ui.css",
        "/no/such/page",
    ],
)
def test_without_the_cookie_nothing_is_shown(ui: UiServer, path: str) -> None:
    answer = httpx.get(ui.base + path, follow_redirects=False)
    assert answer.status_code == 403
    assert "Open the address that 'promptship ui' printed" in answer.text
    assert "greeting" not in answer.text
    assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


def test_without_the_cookie_nothing_is_written(ui: UiServer, sample: Cli) -> None:
    with _signed_in(ui) as client:
        token = _csrf(client)
    before = head(sample.path)
    answer = httpx.post(
        f"{ui.base}/prompts/greeting/v/2/promote",
        data={"csrf": token, "notes": "x", "expect": "1"},
        follow_redirects=False,
    )
    assert answer.status_code == 403
    assert head(sample.path) == before


@pytest.mark.parametrize(
    "host", ["evil.example:{port}", "127.0.0.1:{other}", "127.0.0.1", "[::1]:{port}", ""]
)
def test_a_foreign_host_is_refused_even_with_the_cookie_or_the_key(ui: UiServer, host: str) -> None:
    """DNS rebinding: a site that points its own name at 127.0.0.1 sends its name as Host."""
    named = host.format(port=ui.port, other=ui.port + 1)
    with _signed_in(ui) as client:
        shown = client.get("/prompts/greeting", headers={"host": named})
        assert shown.status_code == 400
        assert "greeting" not in shown.text
        keyed = client.get(f"/?token={ui.token}", headers={"host": named, "cookie": ""})
        assert keyed.status_code == 400
        assert "set-cookie" not in keyed.headers
        assert client.get("/", headers={"host": f"localhost:{ui.port}"}).status_code == 200


def _post_routes() -> list[str]:
    values = {"name": "greeting", "number": "2", "run_id": "abcd"}
    paths = []
    for route in ROUTES:
        methods = getattr(route, "methods", None) or set()
        if "POST" in methods:
            paths.append(re.sub(r"\{(\w+)(:\w+)?\}", lambda m: values[m.group(1)], route.path))
    return paths


def test_every_form_is_covered() -> None:
    assert sorted(_post_routes()) == [
        "/prompts",
        "/prompts/greeting/delete",
        "/prompts/greeting/details",
        "/prompts/greeting/panel",
        "/prompts/greeting/panel/rerun",
        "/prompts/greeting/v/2/archive",
        "/prompts/greeting/v/2/edit",
        "/prompts/greeting/v/2/promote",
        "/prompts/greeting/v/2/unarchive",
        "/prompts/greeting/versions",
    ]


@pytest.mark.parametrize("path", _post_routes())
@pytest.mark.parametrize("token", [None, "", "wrong"])
def test_a_post_without_the_right_csrf_token_is_refused(
    ui: UiServer, sample: Cli, path: str, token: str | None
) -> None:
    before = head(sample.path)
    files = files_under(sample.path)
    form = {"notes": "x", "expect": "1", "copy_of": "1", "force": "on", "name": "other"}
    if token is not None:
        form["csrf"] = token
    with _signed_in(ui) as client:
        answer = client.post(path, data=form)
    assert answer.status_code == 403
    assert "CSRF token is missing or wrong" in answer.text
    assert head(sample.path) == before
    assert files_under(sample.path) == files


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "http://evil.example"},
        {"origin": "null"},
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site"},
    ],
)
def test_a_post_from_another_site_is_refused_with_the_right_token(
    ui: UiServer, sample: Cli, headers: dict[str, str]
) -> None:
    before = head(sample.path)
    with _signed_in(ui) as client:
        token = _csrf(client)
        form = {"csrf": token, "notes": "x", "expect": "1"}
        refused = client.post("/prompts/greeting/v/2/promote", data=form, headers=headers)
        assert refused.status_code == 403
        assert head(sample.path) == before
        # The same form from the page's own origin goes through: the refusal was the header's.
        same = {"origin": ui.base, "sec-fetch-site": "same-origin"}
        done = client.post("/prompts/greeting/v/2/promote", data=form, headers=same)
        assert done.status_code == 303
    assert git(sample.path, "log", "-1", "--format=%s").strip() == "promote(greeting): v1 -> v2"


def test_every_answer_carries_the_security_headers(ui: UiServer) -> None:
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    with _signed_in(ui) as client:
        answers = [
            client.get("/"),
            client.get("/prompts/greeting"),
            client.get("/prompts/nothing"),
            client.get("/static/ui.js"),
            client.post("/prompts", data={}),
            client.get("/", headers={"host": "evil.example"}),
            httpx.get(ui.base + "/"),
        ]
    assert [a.status_code for a in answers] == [200, 200, 404, 200, 403, 400, 403]
    for answer in answers:
        assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "same-origin"
        assert answer.headers["cache-control"] == "no-store"
        assert re.fullmatch(r"app;dur=\d+\.\d\d", answer.headers["server-timing"])


def test_the_server_listens_on_the_loopback_address_only(ui: UiServer) -> None:
    """Read from the kernel's table of listening sockets: 127.0.0.1, never 0.0.0.0."""
    listening = [
        line.split()[1]
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]
        if line.split()[3] == "0A"
    ]
    ours = [a for a in listening if int(a.split(":")[1], 16) == ui.port]
    assert ours == ["0100007F:" + f"{ui.port:04X}"]
    v6 = Path("/proc/net/tcp6")
    if v6.exists():
        assert not any(
            int(line.split()[1].split(":")[1], 16) == ui.port
            for line in v6.read_text().splitlines()[1:]
            if line.split()[3] == "0A"
        )


class _Inline(HTMLParser):
    """Finds what a Content-Security-Policy without 'unsafe-inline' would block."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {k for k, _ in attrs}
        if tag == "script" and "src" not in names:
            self.found.append("inline script")
        if tag == "style":
            self.found.append("style element")
        self.found.extend(f"{tag} {k}" for k in names if k == "style" or k.startswith("on"))


def test_no_page_holds_inline_script_or_style(ui: UiServer, sample: Cli) -> None:
    paths = [
        "/",
        "/history",
        "/new",
        "/prompts/greeting",
        "/prompts/greeting/v/2",
        "/prompts/greeting/v/2/promote",
        "/prompts/greeting/v/2/edit",
        "/prompts/greeting/diff?a=1&b=2",
        "/prompts/greeting/history",
        "/prompts/greeting/panel",
        "/prompts/greeting/details",
        "/prompts/greeting/delete",
        "/prompts/nothing",
    ]
    with _signed_in(ui) as client:
        for path in paths:
            parser = _Inline()
            parser.feed(client.get(path).text)
            assert parser.found == [], path


HOSTILE = {
    "description": '<script>window.__pwned = 1</script><img src=x onerror="alert(1)">',
    "content": "{{ name }} </textarea></pre><script>alert(2)</script><img src=x onerror=alert(3)>\n",
    "meta_value": '<svg onload="alert(4)"></svg>',
    "meta_key": '"><img src=x onerror=alert(5)>',
    "notes": "</td></tr></table><script>alert(6)</script><b id=injected>bold</b>",
    "by": 'Eve " autofocus onfocus="alert(7) <eve@example.com>',
    "message": "</pre><script>alert(8)</script><iframe src=javascript:alert(9)></iframe>",
    "case": "<img src=x onerror=alert(10)>",
    "variable": "<script>alert(11)</script>",
}

CHAT = f"""\
- role: system
  content: "{HOSTILE["message"]}"
- role: user
  content: "Ask {{{{ question }}}}"
"""


@pytest.fixture
def hostile(cli: Cli, tmp_path: Path) -> Cli:
    cli.ok(
        "create",
        "hostile",
        "--content",
        HOSTILE["content"],
        "--description",
        HOSTILE["description"],
        "--meta",
        f"model={HOSTILE['meta_value']}",
        "--meta",
        f"{HOSTILE['meta_key']}=1",
    )
    cli.ok("promote", "hostile", "1", "--notes", HOSTILE["notes"], "--by", HOSTILE["by"], "--yes")
    cli.ok("new-version", "hostile", "--from", "1")
    chat = tmp_path / "chat.yaml"
    chat.write_text(CHAT)
    cli.ok("create", "hostile-chat", "--type", "chat", "--file", str(chat))
    (cli.path / "prompts/hostile/tests.yaml").write_text(
        f'- name: "{HOSTILE["case"]}"\n  variables: {{name: Ada}}\n  expect:\n    contains: nowhere\n'
    )
    git(cli.path, "add", "-A")
    git(cli.path, "commit", "-q", "-m", "a golden case")
    return cli


def test_hostile_content_is_shown_as_text_and_runs_nothing(page: Page, hostile: Cli) -> None:
    repo = hostile.path
    before = head(repo)
    with UiServer(repo) as ui:
        page.goto(ui.url)
        paths = [
            "/",
            "/?q=%3Cscript%3Ealert(12)%3C%2Fscript%3E&tags=x%22%3E%3Cb%3E",
            "/history",
            "/prompts/hostile",
            "/prompts/hostile/v/1",
            "/prompts/hostile/v/2/edit",
            "/prompts/hostile/v/2/promote",
            "/prompts/hostile/diff?a=1&b=2",
            "/prompts/hostile/history",
            "/prompts/hostile/details",
            "/prompts/hostile/delete",
            "/prompts/hostile-chat/v/1",
            "/prompts/hostile-chat/v/1/edit",
            "/prompts/%3Cimg%20src%3Dx%20onerror%3Dalert(13)%3E",
            "/history?since=%3Cscript%3Ealert(14)%3C%2Fscript%3E",
        ]
        for path in paths:
            page.goto(ui.base + path)
            _assert_inert(page, path)
        page.goto(ui.base + "/prompts/hostile/v/1")
        expect(page.get_by_label("Content")).to_contain_text("</textarea></pre><script>alert(2)")
        page.goto(ui.base + "/prompts/hostile/history")
        expect(page.locator("td.notes")).to_have_text(HOSTILE["notes"])
        page.goto(ui.base + "/prompts/%3Cimg%20src%3Dx%20onerror%3Dalert(13)%3E")
        expect(page.get_by_role("alert")).to_contain_text(
            "'<img src=x onerror=alert(13)>' is not a valid prompt name"
        )

        # The test panel sends the hostile template and variable to the offline model, whose
        # answer (the prompt itself) comes back as text.
        page.goto(ui.base + "/prompts/hostile/panel?v=1")
        page.get_by_label("name", exact=True).fill(HOSTILE["variable"])
        page.get_by_label("Models").fill("echo")
        page.get_by_role("button", name="Run", exact=True).click()
        expect(page.get_by_label("Response of echo")).to_contain_text("<script>alert(11)</script>")
        _assert_inert(page, "the run")
        page.goto(ui.base + "/prompts/hostile/v/2/edit")
        # Saving the edit form as shown keeps the content byte for byte (a textarea that lost
        # or gained a character would change it).
        page.get_by_role("button", name="Save draft").click()
        assert "already has this content" in page.get_by_role("alert").inner_text()
        _assert_inert(page, "the refused edit")
    assert head(repo) == before
    assert git(repo, "status", "--porcelain") == ""


def _assert_inert(page: Page, where: str) -> None:
    seen = watched(page)
    assert seen.dialogs == [], where
    assert seen.errors == [], where
    assert page.evaluate("window.__pwned") is None, where
    injected = page.evaluate(
        """() => ({
            scripts: [...document.scripts].map(s => s.getAttribute('src')),
            images: document.querySelectorAll('img').length,
            svgs: document.querySelectorAll('svg').length,
            frames: document.querySelectorAll('iframe').length,
            bold: document.querySelectorAll('#injected, b').length,
            handlers: [...document.querySelectorAll('*')].flatMap(
                e => [...e.attributes].filter(a => a.name.startsWith('on')).map(a => a.name)),
        })"""
    )
    assert injected == {
        "scripts": ["/static/ui.js"],
        "images": 0,
        "svgs": 0,
        "frames": 0,
        "bold": 0,
        "handlers": [],
    }, where


def test_a_chunked_body_past_the_limit_is_refused_unread(ui: UiServer, sample: Cli) -> None:
    """No Content-Length to check beforehand: the bytes are counted as they arrive."""
    before = head(sample.path)

    def body() -> Iterator[bytes]:
        # Fields under the form parser's own limit of a field, over ours of a body in all.
        for number in range(20):
            yield f"field{number}=".encode() + b"x" * 500_000 + b"&"

    with _signed_in(ui) as client:
        answer = client.post(
            "/prompts/greeting/details",
            content=body(),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
    assert answer.status_code == 413
    assert head(sample.path) == before
