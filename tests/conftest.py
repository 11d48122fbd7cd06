"""The shared fixtures, declared in tests/helpers/fixtures.py; test modules import every other
helper from the helpers package by name."""

from helpers.fixtures import cli, dists, isolated_git, repo, sample, servers

__all__ = ["cli", "dists", "isolated_git", "repo", "sample", "servers"]
