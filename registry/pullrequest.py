"""Where a person opens the pull request of a branch that was pushed: GitHub's compare page."""

from __future__ import annotations

import re
from urllib.parse import quote

__all__ = ["compare_url"]

_GITHUB = re.compile(
    r"(?:https?://(?:[^@/]+@)?github\.com/|git@github\.com:|ssh://git@github\.com(?::22)?/)"
    r"([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)(?:\.git)?/?\Z"
)


def compare_url(remote_url: str, base: str, head: str) -> str | None:
    """The page that opens a pull request of ``head`` into ``base`` on a GitHub remote, or
    ``None`` for a remote elsewhere.

    >>> compare_url("git@github.com:acme/prompts.git", "main", "promote/greeting-v2")
    'https://github.com/acme/prompts/compare/main...promote/greeting-v2?expand=1'
    >>> compare_url("https://gitlab.com/acme/prompts.git", "main", "x") is None
    True
    """
    found = _GITHUB.match(remote_url.strip())
    if found is None:
        return None
    owner, repo = found.groups()
    return (
        f"https://github.com/{owner}/{repo}/compare/"
        f"{quote(base, safe='/')}...{quote(head, safe='/')}?expand=1"
    )
