"""What a server follows: one branch of a repository, and where new commits of it come from.

A followed ref is a local branch (moved by pushes into this repository or commits made in it),
a remote-tracking branch (moved by fetching its remote), or a branch of a URL mirrored into a
bare repository kept in a cache folder. Fetches run the git program with fully qualified
refspecs, so a name never reaches git's own guessing, and never prompt for credentials.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pygit2

from ..errors import InputError, RemoteError, RepositoryError
from . import program as gitcli
from .refs import branch_ref

__all__ = ["Tracking", "default_cache_dir", "fetch", "open_mirror", "track_ref"]

_NO_PROMPT = {"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "", "SSH_ASKPASS": ""}


@dataclass(frozen=True, kw_only=True, slots=True)
class Tracking:
    """A followed ref: the repository (its git folder), the full ref name read there, and what
    to fetch to move it (``remote`` a remote's name or URL and ``source`` the ref there), or
    ``None`` for a local branch that nothing needs to fetch."""

    repository: str
    ref: str
    remote: str | None = None
    source: str | None = None

    @property
    def fetches(self) -> bool:
        return self.remote is not None

    def describe(self) -> str:
        where = f" of {self.remote}" if self.remote else ""
        return f"{self.ref}{where}"


def track_ref(path: str | os.PathLike[str] | None, ref: str | None) -> Tracking:
    """The ref to follow in the repository around ``path``: ``ref`` as a full name
    (``refs/heads/main``, ``refs/remotes/origin/main``) or a short one resolved to a branch, then
    to a remote-tracking branch, never to a tag; default the branch HEAD names."""
    start = os.fspath(path) if path is not None else os.getcwd()
    found = pygit2.discover_repository(start)
    if found is None:
        raise RepositoryError(
            f"not inside a git repository: {start}",
            hint="run it inside your registry's clone, pass --repo PATH, or --from URL",
        )
    repo = pygit2.Repository(found)
    full = _full_ref(repo, ref)
    remote, source = _remote_of(repo, full)
    return Tracking(repository=repo.path, ref=full, remote=remote, source=source)


def _full_ref(repo: pygit2.Repository, ref: str | None) -> str:
    if ref is None:
        try:
            head = repo.lookup_reference("HEAD")
        except (KeyError, pygit2.GitError):
            head = None
        if head is None or head.type != pygit2.enums.ReferenceType.SYMBOLIC:
            raise InputError(
                "HEAD names no branch here, so there is no branch to follow",
                hint="name one with --ref (e.g. --ref main or --ref origin/main)",
            )
        return str(head.target)
    if not ref.startswith("refs/"):
        # The short-name rules of every reader: a tag never, an ambiguous name refused.
        return branch_ref(repo, ref)
    # A full name may wait for its first commit.
    if ref.startswith(("refs/heads/", "refs/remotes/")) and pygit2.reference_is_valid_name(ref):
        return ref
    raise InputError(
        f"{ref!r} is not a branch or remote-tracking branch of this repository",
        hint="serve follows a branch: name it as main, origin/main or refs/heads/main "
        "('git branch -a' lists them); tags and commits do not move",
    )


def _remote_of(repo: pygit2.Repository, ref: str) -> tuple[str | None, str | None]:
    """The remote and its branch that a remote-tracking ``ref`` mirrors, from the remote's fetch
    refspecs (``None, None`` for a local branch)."""
    if not ref.startswith("refs/remotes/"):
        return None, None
    for remote in repo.remotes:
        fetching = set(remote.fetch_refspecs)
        for index in range(remote.refspec_count):
            spec = remote.get_refspec(index)
            if spec.string in fetching and spec.dst_matches(ref):
                return str(remote.name), str(spec.rtransform(ref))
    raise InputError(
        f"no remote of this repository fetches into {ref}",
        hint="follow a branch whose remote is configured ('git remote -v'), or use --from URL",
    )


def default_cache_dir() -> Path:
    """Where a server keeps what it may lose (its mirrors, what it verified) unless told:
    ``$XDG_CACHE_HOME/promptship`` (``~/.cache/promptship`` by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "promptship"


def open_mirror(url: str, branch: str | None, cache: Path) -> Tracking:
    """The bare mirror of ``url`` under ``cache`` (made on first use), following ``branch``
    (``main``, ``refs/heads/main``; default the remote's HEAD branch). Nothing is fetched yet."""
    readable = re.sub(r"[^A-Za-z0-9._-]+", "-", url.rstrip("/").rsplit("/", 1)[-1])[:40]
    name = f"{readable}-{hashlib.sha256(url.encode()).hexdigest()[:16]}.git"
    folder = cache / "mirrors" / name
    if not (folder / "HEAD").exists():
        try:
            folder.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(
                f"cannot make the mirror folder {folder.parent}: {exc.strerror}",
                hint="choose a folder you can write to with --cache-dir",
            ) from None
        done = gitcli.run_git("init", "-q", "--bare", str(folder))
        if done.returncode != 0:
            raise RepositoryError(
                f"cannot make a mirror in {folder}: {gitcli.last_lines(done.stderr)}",
                hint="choose another folder with --cache-dir",
            )
        # The served commit must stay readable even after the remote drops it (a force-push):
        # no automatic garbage collection in a mirror nobody else uses.
        gitcli.run_git("--git-dir", str(folder), "config", "gc.auto", "0")
        gitcli.run_git("--git-dir", str(folder), "config", "promptship.url", url)
    source = _remote_branch(url, branch)
    return Tracking(repository=str(folder), ref=source, remote=url, source=source)


def _remote_branch(url: str, branch: str | None) -> str:
    if branch is not None:
        full = branch if branch.startswith("refs/") else f"refs/heads/{branch}"
        if not full.startswith("refs/heads/") or not pygit2.reference_is_valid_name(full):
            raise InputError(
                f"{branch!r} is not a branch name",
                hint="with --from, --ref names a branch of the remote: main or refs/heads/main",
            )
        return full
    done = gitcli.run_git("ls-remote", "--symref", url, "HEAD", env=_NO_PROMPT)
    if done.returncode != 0:
        raise RemoteError(url, "ls-remote", gitcli.last_lines(done.stderr))
    for line in done.stdout.decode(errors="replace").splitlines():
        if line.startswith("ref: ") and line.endswith("\tHEAD"):
            return line[len("ref: ") : -len("\tHEAD")]
    raise InputError(
        f"{url} names no default branch",
        hint="name the branch to follow with --ref (e.g. --ref main)",
    )


def fetch(tracking: Tracking) -> None:
    """Bring the followed ref up to date with its remote (``RemoteError`` on failure). The ref
    follows the remote as ``git fetch`` moves it, forced updates included: a rewritten branch
    must reach the server to be refused there."""
    if tracking.remote is None or tracking.source is None:
        return
    done = gitcli.run_git(
        "--git-dir",
        tracking.repository,
        "fetch",
        "--quiet",
        "--no-tags",
        "--no-recurse-submodules",
        "--no-write-fetch-head",
        "--no-auto-gc",  # a server fetches often: no garbage collection after each fetch
        tracking.remote,
        f"+{tracking.source}:{tracking.ref}",
        env=_NO_PROMPT,
    )
    if done.returncode != 0:
        raise RemoteError(tracking.remote, "fetch", gitcli.last_lines(done.stderr))
