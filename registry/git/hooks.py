"""The repository's ``pre-commit`` and ``commit-msg`` hooks, for the teams that turn them on.

promptship builds its commits in the object database, as ``git commit-tree`` does, and git runs
no hooks for those. With ``git config promptship.hooks true`` it runs them before each commit
the way ``git commit`` does, through ``git hook run`` (so ``core.hooksPath`` and the hook
managers that install into it work): ``pre-commit`` with ``GIT_INDEX_FILE`` naming an index that
holds exactly the commit's tree, so the hook sees the change as staged; then ``commit-msg`` with
the path of a file holding the message, whose edits (a ``Change-Id:`` trailer, say) the commit
keeps. A hook that exits non-zero refuses the commit, and nothing is written.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pygit2

from ..errors import HookFailed, RepositoryError
from .program import last_lines, run_git

__all__ = ["HOOKS_SETTING", "hooks_enabled", "run_commit_hooks"]

HOOKS_SETTING = "promptship.hooks"


def hooks_enabled(repo: pygit2.Repository) -> bool:
    """Whether ``promptship.hooks`` is on (off unless set)."""
    try:
        return bool(repo.config.get_bool(HOOKS_SETTING))
    except KeyError:
        return False
    except pygit2.GitError as exc:
        raise RepositoryError(
            f"{HOOKS_SETTING} is not a boolean: {exc}",
            hint=f"git config {HOOKS_SETTING} true (or false)",
        ) from None


def run_commit_hooks(repo: pygit2.Repository, tree: pygit2.Oid, message: str) -> str:
    """Run ``pre-commit`` on ``tree`` and ``commit-msg`` on ``message``; the message as the
    hooks left it."""
    gitdir = str(Path(repo.path).resolve())
    # git runs a bare repository's hooks in its git folder, a clone's at the top of its work tree.
    cwd = repo.workdir or gitdir
    with tempfile.TemporaryDirectory(prefix="promptship-hooks-", dir=gitdir) as scratch:
        index = os.path.join(scratch, "index")
        env = {"GIT_INDEX_FILE": index, "GIT_EDITOR": ":"}
        read = run_git("--git-dir", gitdir, "read-tree", str(tree), env=env)
        if read.returncode != 0:
            raise RepositoryError(
                f"git read-tree failed: {last_lines(read.stderr)}",
                hint="run 'git status' in this repository to see what git says",
            )
        _run_hook("pre-commit", cwd, env)
        file = os.path.join(scratch, "COMMIT_EDITMSG")
        Path(file).write_text(message, encoding="utf-8")
        _run_hook("commit-msg", cwd, env, file)
        edited = Path(file).read_text(encoding="utf-8")
    return edited if edited.endswith("\n") else edited + "\n"


def _run_hook(name: str, cwd: str, env: dict[str, str], *args: str) -> None:
    # No standard input, as git gives a hook none when no editor runs.
    done = run_git(
        "hook", "run", "--ignore-missing", name, "--", *args, cwd=cwd, env=env, stdin=b""
    )
    output = (done.stdout + done.stderr).decode(errors="replace").strip()
    if done.returncode == 0:
        return
    if "is not a git command" in output or "unknown subcommand" in output:
        raise RepositoryError(
            f"this git cannot run hooks for promptship ({HOOKS_SETTING} needs 'git hook run', "
            "git 2.36 or newer)",
            hint=f"upgrade git, or turn {HOOKS_SETTING} off",
        )
    raise HookFailed(name, output)
