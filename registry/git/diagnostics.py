"""The versions of the git machinery in use (pygit2, libgit2, the git program), for the crash
log of a bug."""

from __future__ import annotations

from importlib import metadata

__all__ = ["git_versions"]


def git_versions() -> dict[str, str]:
    """``pygit2``, ``libgit2`` and ``git`` and their versions; what cannot be found says why."""
    found: dict[str, str] = {}
    try:
        import pygit2

        found["pygit2"] = metadata.version("pygit2")
        found["libgit2"] = str(pygit2.LIBGIT2_VERSION)
    except (ImportError, metadata.PackageNotFoundError) as exc:
        found["pygit2"] = f"cannot be imported: {exc}"
    try:
        from .program import run_git

        done = run_git("--version")
        found["git"] = done.stdout.decode(errors="replace").strip() or "no answer"
    except Exception as exc:  # the report of a bug must not fail on a missing git
        found["git"] = f"not found: {exc}"
    return found
