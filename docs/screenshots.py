"""The README's pictures of the web page, taken from the example registry in prompts/.

    .venv/bin/python docs/screenshots.py

Copies prompts/ into a new git repository, serves it with ``promptship ui``, and has headless
Chromium (Debian's ``chromium`` on the PATH, driven by Playwright) photograph the prompt list, a
draft with the Promote dialog open, and a prompt's Promotion History tab, into docs/*.png.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from helpers.ui import CHROMIUM_ARGS, UiServer  # noqa: E402

AUTHOR = {
    "GIT_AUTHOR_NAME": "Ada Example",
    "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Ada Example",
    "GIT_COMMITTER_EMAIL": "ada@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def example_repository(folder: Path) -> Path:
    repo = folder / "registry"
    shutil.copytree(ROOT / "prompts", repo / "prompts")
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "prompts"]):
        subprocess.run(["git", *args], cwd=repo, check=True)
    return repo


def shoot(page: Page, base: str) -> None:
    page.goto(f"{base}/")
    page.screenshot(path=HERE / "ui-list.png")
    page.goto(f"{base}/prompts/code-review-assistant/v/2")
    page.get_by_role("button", name="Promote").click()
    page.get_by_label("Notes").fill("Groups findings by severity; reviewers asked for it")
    page.screenshot(path=HERE / "ui-promote.png")
    page.goto(f"{base}/prompts/customer-support-reply/history")
    page.screenshot(path=HERE / "ui-history.png")


def main() -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("needs chromium on the PATH (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as scratch:
        os.environ.update({**AUTHOR, "HOME": scratch, "GIT_CONFIG_GLOBAL": os.devnull})
        repo = example_repository(Path(scratch))
        with UiServer(repo) as server, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1200, "height": 760})
            page.goto(server.url)
            shoot(page, server.base)
            browser.close()
    for name in ("ui-list.png", "ui-promote.png", "ui-history.png"):
        print(HERE / name)


if __name__ == "__main__":
    main()
