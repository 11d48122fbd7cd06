"""Moving a branch: always a compare-and-swap on the tip that was read, never a forced write
(which loses updates under races). A branch that moved meanwhile, or whose lock another writer
holds, is a race lost: the caller rebuilds on the new tip. A lock file that stays is named, since
a killed git process leaves one that only a person may remove."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pygit2

from ..errors import BranchExists, LockFileExists, RepositoryError
from .store import common_dir

__all__ = ["create_branch", "gave_up", "jitter", "lock_file", "move_branch"]


def move_branch(
    repo: pygit2.Repository,
    branch: str,
    ref: pygit2.Reference | None,
    new: pygit2.Oid,
    subject: str,
) -> bool:
    """Compare-and-swap ``branch`` from the tip ``ref`` was read at (``None``: unborn) to
    ``new``. ``False`` when it moved meanwhile or another writer holds its lock: nothing was
    changed. Any other failure to write the ref is refused as it is."""
    try:
        if ref is None:
            repo.create_reference_direct(branch, new, False, message=f"promptship: {subject}")
        else:
            ref.set_target(new, f"promptship: {subject}")
    except (pygit2.AlreadyExistsError, pygit2.GitError):
        return False
    except OSError as exc:
        lock = common_dir(repo) / f"{branch}.lock"
        if "lock" in str(exc).lower() or lock.exists():
            return False
        raise RepositoryError(
            f"cannot move {branch}: {exc}",
            hint="check the branch name and the repository's permissions "
            "('git update-ref' gives the same answer)",
        ) from None
    return True


def create_branch(repo: pygit2.Repository, branch: str, new: pygit2.Oid, subject: str) -> None:
    """Create ``branch`` at ``new``; ``BranchExists`` if someone created it first."""
    try:
        repo.create_reference_direct(branch, new, False, message=f"promptship: {subject}")
    except pygit2.AlreadyExistsError:
        raise BranchExists(branch.removeprefix("refs/heads/")) from None


def gave_up(repo: pygit2.Repository, branch: str, attempts: int) -> RepositoryError:
    """The error after ``attempts`` lost races on ``branch``: a lock file still in place is
    named."""
    held = lock_file(common_dir(repo) / f"{branch}.lock", branch)
    return held or RepositoryError(
        f"{branch} kept moving: gave up after {attempts} attempts",
        hint="many writers are busy on this branch; run the command again",
    )


def lock_file(path: Path, what: str) -> LockFileExists | None:
    """The error to raise if the git lock file ``path`` (guarding ``what``) exists."""
    try:
        age = time.time() - path.stat().st_mtime
    except OSError:
        return None
    return LockFileExists(what, str(path), max(age, 0.0))


def jitter(attempt: int, base: float, cap: int = 6) -> float:
    """A random pause before retry ``attempt``: up to ``base`` doubled per attempt, so racing
    writers spread out instead of colliding again."""
    return random.uniform(0, base * 2 ** min(attempt, cap))
