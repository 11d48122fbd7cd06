"""The shared fixtures, declared in tests/helpers/fixtures.py and tests/helpers/ui.py; test
modules import every other helper from the helpers package by name."""

from helpers.fixtures import cli, dists, isolated_git, repo, sample, servers
from helpers.ui import browser, page

__all__ = ["browser", "cli", "dists", "isolated_git", "page", "repo", "sample", "servers"]
