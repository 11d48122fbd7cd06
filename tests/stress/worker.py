"""One writer of a stress scenario, run as its own process: promotes through promptship's real
exit point (``cli.main.main``) in a loop and prints one JSON list of what happened.

    worker.py local REPO REF PROMPT COUNT ID     (REF '-' for the checked-out branch)
    worker.py remote CLONE OWN SHARED ROUNDS ID  (every command with --push)
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from typing import Any

from cli.main import main

_CREATED = re.compile(r"created \S+ v(\d+) ")
_COMMIT = re.compile(r"\(commit ([0-9a-f]+)\)")
_RUN_AGAIN = ("superseded", "changed by someone else", "kept moving")


def run(argv: list[str]) -> dict[str, Any]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        status = main(argv)
    found = _COMMIT.search(out.getvalue())
    return {
        "argv": argv,
        "status": status,
        "stdout": out.getvalue(),
        "stderr": err.getvalue(),
        "commit": found.group(1) if found else None,
        "rebuilt": "rebuilt on newer commits" in out.getvalue(),
    }


def local(repo: str, ref: str, prompt: str, count: int, wid: int) -> list[dict[str, Any]]:
    """``count`` promotions of fresh drafts of ``prompt``; a superseded one is decided again."""
    where = ["--repo", repo]
    extra = [] if ref == "-" else ["--ref", ref]
    log: list[dict[str, Any]] = []
    promoted = tries = 0
    while promoted < count and tries < count * 20:
        tries += 1
        made = run(
            [*where, "new-version", prompt, "--content", f"w{wid} t{tries} {{{{ name }}}}", *extra]
        )
        made.update(op="new-version", prompt=prompt)
        log.append(made)
        if made["status"] != 0:
            continue
        version = _CREATED.search(made["stdout"]).group(1)  # type: ignore[union-attr]
        for attempt in range(20):
            notes = f"w{wid}-t{tries}-a{attempt}"
            done = run([*where, "promote", prompt, version, "--yes", "--notes", notes, *extra])
            done.update(op="promote", prompt=prompt, version=int(version), notes=notes)
            log.append(done)
            if done["status"] == 0:
                promoted += 1
                break
            if "superseded" not in done["stderr"]:
                break
    return log


def remote(clone: str, own: str, shared: str, rounds: int, wid: int) -> list[dict[str, Any]]:
    """Each round: a draft of ``own`` and of ``shared``, each promoted, every command pushed.
    After a refusal the clone pulls (as the hint says) and the command runs again."""
    log: list[dict[str, Any]] = []
    for round_ in range(rounds):
        for prompt in (own, shared):
            made = _until_done(
                log,
                clone,
                ["new-version", prompt, "--content", f"w{wid} r{round_} {{{{ x }}}}"],
                op="new-version",
                prompt=prompt,
            )
            if made is None:
                continue
            version = _CREATED.search(made["stdout"]).group(1)  # type: ignore[union-attr]
            _until_done(
                log,
                clone,
                ["promote", prompt, version, "--yes", "--notes", f"w{wid}-{prompt}-{round_}"],
                op="promote",
                prompt=prompt,
                version=int(version),
                notes=f"w{wid}-{prompt}-{round_}",
            )
    return log


def _until_done(
    log: list[dict[str, Any]], clone: str, args: list[str], **fields: Any
) -> dict[str, Any] | None:
    for _ in range(8):
        before = _git(clone, "rev-parse", "HEAD")
        done = run(["--repo", clone, *args, "--push"])
        done.update(fields)
        if done["status"] != 0:
            done["clean"] = (
                _git(clone, "rev-parse", "HEAD") == before
                and _git(clone, "status", "--porcelain") == ""
            )
        log.append(done)
        if done["status"] == 0:
            return done
        if not any(word in done["stderr"] for word in _RUN_AGAIN):
            return None
        _git(clone, "pull", "--ff-only", "--quiet")
    return None


def _git(cwd: str, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=False
    ).stdout.strip()


if __name__ == "__main__":
    kind, path, *rest = sys.argv[1:]
    if kind == "local":
        result = local(path, rest[0], rest[1], int(rest[2]), int(rest[3]))
    else:
        result = remote(path, rest[0], rest[1], int(rest[2]), int(rest[3]))
    json.dump(result, sys.stdout)
