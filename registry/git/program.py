"""The git command line, for talking to remotes and for walking long histories.

libgit2 ignores credential helpers, SSH configuration and the tokens CI systems install for git,
so pushes and fetches run the ``git`` program, as the user's own ``git push`` would. Pushes are
judged by their per-ref ``--porcelain`` report, never by the exit status alone. git also lists a
long first-parent line of commits faster than a walk through libgit2.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..errors import RemoteError, RepositoryError

__all__ = [
    "RefUpdate",
    "fetch",
    "first_parent_line",
    "last_lines",
    "parse_push_report",
    "push",
    "remote_has_ref",
    "remote_messages",
    "rev_parse",
    "run_git",
]

_ACCEPTED = frozenset(" *=")
_SIGINT_RETRIES = 3
_BEHIND = ("fetch first", "non-fast-forward")


@dataclass(frozen=True, kw_only=True, slots=True)
class RefUpdate:
    """How the remote answered for one ref: a line of ``git push --porcelain``."""

    flag: str
    source: str
    destination: str
    summary: str
    messages: tuple[str, ...] = ()

    @property
    def accepted(self) -> bool:
        """Fast-forwarded, created, or already there. Forced updates are never asked for."""
        return self.flag in _ACCEPTED

    @property
    def reason(self) -> str:
        """The remote's reason, e.g. ``fetch first`` or ``pre-receive hook declined``."""
        start, end = self.summary.find("("), self.summary.rfind(")")
        return self.summary[start + 1 : end] if 0 <= start < end else self.summary

    @property
    def behind(self) -> bool:
        """Refused because the remote holds commits the pushed one does not build on."""
        return self.flag == "!" and self.reason in _BEHIND


def parse_push_report(stdout: str, stderr: str = "") -> list[RefUpdate]:
    """The ref lines of ``git push --porcelain`` (``<flag> TAB <from>:<to> TAB <summary>``), each
    with the ``remote:`` lines the server printed (a hook's explanation)."""
    messages = tuple(remote_messages(stderr))
    updates = []
    for line in stdout.splitlines():
        fields = line.split("\t")
        if len(fields) != 3 or len(fields[0]) != 1 or ":" not in fields[1]:
            continue
        source, _, destination = fields[1].rpartition(":")
        updates.append(
            RefUpdate(
                flag=fields[0],
                source=source,
                destination=destination,
                summary=fields[2].strip(),
                messages=messages,
            )
        )
    return updates


def remote_messages(stderr: str) -> list[str]:
    """What the server said, from the ``remote:`` lines git relays on standard error."""
    found = []
    for line in stderr.splitlines():
        if line.startswith("remote:"):
            text = line[len("remote:") :].strip()
            if text:
                found.append(text)
    return found


def push(gitdir: str, remote: str, source: str, destination: str) -> RefUpdate:
    """Push ``source`` (a commit id or ref) to ``destination`` on ``remote``, never forced.

    Raises ``RemoteError`` when git reports no answer for the ref (unreachable remote, refused
    credentials, a local pre-push hook)."""
    done = _git(gitdir, "push", "--porcelain", remote, f"{source}:{destination}")
    for update in parse_push_report(done.stdout, done.stderr):
        if update.destination == destination:
            return update
    raise RemoteError(remote, "push", last_lines(done.stderr) or f"exit status {done.returncode}")


def fetch(gitdir: str, remote: str, ref: str, into: str | None) -> None:
    """Fetch ``ref`` from ``remote`` into the local ref ``into`` (a remote-tracking branch,
    updated as ``git fetch`` updates it), or only into ``FETCH_HEAD``."""
    refspec = f"+{ref}:{into}" if into is not None else ref
    done = _git(
        gitdir,
        "fetch",
        "--quiet",
        "--no-tags",
        "--no-recurse-submodules",
        remote,
        refspec,
    )
    if done.returncode != 0:
        raise RemoteError(remote, "fetch", last_lines(done.stderr))


def remote_has_ref(gitdir: str, remote: str, ref: str) -> bool:
    """Whether ``remote`` has ``ref`` (``git ls-remote --exit-code`` exits 2 when it has not)."""
    done = _git(gitdir, "ls-remote", "--exit-code", remote, ref)
    if done.returncode not in (0, 2):
        raise RemoteError(remote, "ls-remote", last_lines(done.stderr))
    return done.returncode == 0


def rev_parse(gitdir: str, rev: str) -> str | None:
    """The commit ``rev`` names, as git itself resolves it (``FETCH_HEAD`` included)."""
    done = _git(gitdir, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    if done.returncode != 0:
        return None
    return done.stdout.strip() or None


def first_parent_line(gitdir: str, tip: str) -> list[str]:
    """The commits on the first-parent line from the root to ``tip``, oldest first: git lists
    100,000 of them in a tenth of a second, since it compares no trees."""
    done = run_git("--git-dir", gitdir, "rev-list", "--first-parent", "--reverse", tip, "--")
    if done.returncode != 0:
        raise RepositoryError(
            f"git rev-list failed: {last_lines(done.stderr)}",
            hint="run 'git log' in this repository to see what git says",
        )
    return done.stdout.decode().split()


def run_git(
    *args: str,
    stdin: bytes | None = None,
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
    own_session: bool = False,
) -> subprocess.CompletedProcess[bytes]:
    """The ``git`` program with ``args`` (and ``env`` added to the environment): the one place
    promptship starts it, so a machine without git gets the same clear refusal from every
    command that needs it.

    ``own_session``: out of reach of the terminal's Ctrl-C, which then reaches promptship alone
    (and waits while a change is published) instead of killing git halfway through a step of
    it. Not for commands that may ask the terminal for credentials."""
    try:
        for _ in range(_SIGINT_RETRIES):
            done = subprocess.run(
                ["git", *args],
                input=stdin,
                cwd=cwd,
                capture_output=True,
                check=False,
                start_new_session=own_session,
                env={**os.environ, **env} if env else None,
            )
            # A Ctrl-C sent to promptship's process group reaches a child started in the
            # instant before it enters its own session: it dies of SIGINT before git runs, so
            # it is started again (once in its session, no terminal signal reaches it).
            if not (own_session and done.returncode == -signal.SIGINT):
                break
        return done
    except FileNotFoundError:
        raise RepositoryError(
            f"the git program is not installed (promptship runs 'git {_command(args)}' here)",
            hint="install git; reading and writing a bare repository needs no git program",
        ) from None


def _command(args: Sequence[str]) -> str:
    """The git command in ``args``: the first word that is not an option or an option's value."""
    words = iter(args)
    for word in words:
        if word in ("-c", "--git-dir", "--work-tree"):
            next(words, None)
        elif not word.startswith("-"):
            return word
    return "git"


def last_lines(stderr: bytes | str, count: int = 4) -> str:
    """The end of what git printed, on one line."""
    text = stderr.decode(errors="replace") if isinstance(stderr, bytes) else stderr
    lines: Sequence[str] = [line.strip() for line in text.splitlines() if line.strip()]
    return " / ".join(lines[-count:])


def _git(gitdir: str, *args: str) -> subprocess.CompletedProcess[str]:
    done = run_git("--git-dir", gitdir, *args)
    return subprocess.CompletedProcess(
        done.args,
        done.returncode,
        done.stdout.decode(errors="replace"),
        done.stderr.decode(errors="replace"),
    )
