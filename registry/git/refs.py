"""Revisions as promptship reads them: one meaning per name, whatever refs a remote pushed.

git resolves a short name by trying ``refs/<name>``, ``refs/tags/<name>``, ``refs/heads/<name>``
and ``refs/remotes/<name>`` in that order, so a tag pushed under a branch's name (``main``,
``origin/main``) wins over the branch, and anyone who can push a tag can decide what a reader
reads. promptship accepts only names that cannot be taken over that way:

- ``HEAD``;
- a full ref name (``refs/heads/main``, ``refs/remotes/origin/main``, ``refs/tags/v1``, ...);
- a commit id, full or abbreviated (at least 7 hex digits);
- a short name that is a branch (``main``) or a remote-tracking branch (``origin/main``,
  ``origin`` for its ``HEAD``), and nothing else git would take it for.

A short name that git could read as two refs (a tag and a branch both named ``main``, a branch
named ``heads/main`` beside ``main``) is refused as ambiguous, one that names only a tag or a ref
outside branches (``v1``, ``tags/v1``, ``pull/1/head``) is refused with its full name as the
hint, and
revision expressions (``main~1``, ``@{1}``, ``:/text``, ``a..b``) are refused: give the commit
id they stand for instead.
"""

from __future__ import annotations

import re

import pygit2

from ..errors import RevisionError

__all__ = ["branch_ref", "resolve_commit", "resolve_ref"]

_HEX = re.compile(r"[0-9a-fA-F]{7,64}\Z")
_FULL_ID = (40, 64)
_FOLLOWED = ("refs/heads/", "refs/remotes/")
_ACCEPTED = (
    "HEAD, a branch (main), a remote-tracking branch (origin/main), a full ref name "
    "(refs/tags/v1) or a commit id"
)


def resolve_commit(repo: pygit2.Repository, rev: str) -> pygit2.Commit:
    """The commit ``rev`` names, by the rules above; ``RevisionError`` says why not."""
    oid = resolve_ref(repo, rev)
    try:
        obj = repo[oid]
        return obj.peel(pygit2.Commit)
    except (KeyError, ValueError, pygit2.GitError, pygit2.InvalidSpecError):
        raise RevisionError(
            rev,
            "it names no commit (a tree or a blob, or an object missing from this clone)",
            hint=f"give {_ACCEPTED}",
        ) from None


def resolve_ref(repo: pygit2.Repository, rev: str) -> pygit2.Oid:
    """The object ``rev`` names, before peeling to a commit."""
    if rev == "HEAD":
        try:
            return _target(repo.head)
        except (KeyError, pygit2.GitError):
            raise RevisionError(
                rev, "HEAD names no commit yet", hint="commit first, or name a branch"
            ) from None
    if rev.startswith("refs/"):
        return _full_ref(repo, rev)
    if _HEX.match(rev) and len(rev) in _FULL_ID:
        return _object(repo, rev)
    return _short_name(repo, rev)


def _full_ref(repo: pygit2.Repository, rev: str) -> pygit2.Oid:
    if not pygit2.reference_is_valid_name(rev):
        raise RevisionError(rev, "it is not a valid ref name", hint=f"give {_ACCEPTED}")
    try:
        return _target(repo.lookup_reference(rev))
    except (KeyError, pygit2.GitError, pygit2.InvalidSpecError):
        raise RevisionError(
            rev,
            "there is no such ref in this repository",
            hint="fetch it first (git fetch origin), or list the refs there are with "
            "'git show-ref'",
        ) from None


def _object(repo: pygit2.Repository, rev: str) -> pygit2.Oid:
    try:
        return repo[rev.lower()].id
    except (KeyError, ValueError, pygit2.GitError):
        raise RevisionError(
            rev,
            "no commit has this id in this repository",
            hint="fetch it first (git fetch origin), or check the id",
        ) from None


def _short_name(repo: pygit2.Repository, rev: str) -> pygit2.Oid:
    name = _only_ref(repo, rev)
    if name is None:
        return _object(repo, rev)
    return _target(repo.lookup_reference(name))


def branch_ref(repo: pygit2.Repository, rev: str) -> str:
    """The full name of the branch or remote-tracking branch the short name ``rev`` names, by
    the rules above: for whoever follows a branch as it moves, not a commit it points at."""
    name = _only_ref(repo, rev)
    if name is None:
        raise RevisionError(
            rev,
            "it is a commit id, and a commit does not move",
            hint="name a branch (main) or a remote-tracking branch (origin/main)",
        )
    return name


def _only_ref(repo: pygit2.Repository, rev: str) -> str | None:
    """The one branch or remote-tracking branch ``rev`` names, or ``None`` when it is an
    abbreviated commit id and nothing else."""
    if rev == "@" or not pygit2.reference_is_valid_name(f"refs/heads/{rev}"):
        raise RevisionError(
            rev,
            "promptship reads no revision expressions",
            hint=f"give {_ACCEPTED}; for another commit, give the id git finds for it "
            f"(git rev-parse '{rev}')",
        )
    # Every ref git itself would take the name for, in git's order.
    candidates = [
        f"refs/{rev}",
        f"refs/tags/{rev}",
        f"refs/heads/{rev}",
        f"refs/remotes/{rev}",
        f"refs/remotes/{rev}/HEAD",
    ]
    found = [name for name in dict.fromkeys(candidates) if _exists(repo, name)]
    abbreviated = _abbreviated(repo, rev)
    if abbreviated is not None:
        found.append(f"the commit {abbreviated}")
    if len(found) > 1:
        raise RevisionError(
            rev,
            f"the name is ambiguous: it could be {_either(found)}",
            hint=f"give the full name of the one you mean (e.g. {found[0]})"
            if found[0].startswith("refs/")
            else "give the full ref name or the full commit id",
        )
    if not found:
        raise RevisionError(
            rev,
            "there is no branch or remote-tracking branch of that name",
            hint=f"fetch it first (git fetch origin), or give {_ACCEPTED}",
        )
    if abbreviated is not None:
        return None
    (name,) = found
    if not name.startswith(_FOLLOWED):
        what = "a tag" if name.startswith("refs/tags/") else f"the ref {name}"
        raise RevisionError(
            rev,
            f"it names {what}, and a short name is followed only to a branch or a "
            "remote-tracking branch",
            hint=f"if you mean it, give its full name: {name}",
        )
    return name


def _target(ref: pygit2.Reference) -> pygit2.Oid:
    """The object id a ref ends at, following symbolic refs."""
    target = ref.resolve().target
    assert isinstance(target, pygit2.Oid)  # a resolved ref is direct
    return target


def _exists(repo: pygit2.Repository, name: str) -> bool:
    if not pygit2.reference_is_valid_name(name):
        return False
    try:
        repo.lookup_reference(name)
    except (KeyError, pygit2.GitError, pygit2.InvalidSpecError):
        return False
    return True


def _abbreviated(repo: pygit2.Repository, rev: str) -> str | None:
    """The full id of the commit ``rev`` abbreviates, if it is hex and names one."""
    if not _HEX.match(rev):
        return None
    try:
        obj = repo[rev.lower()]
    except (KeyError, ValueError, pygit2.GitError):
        return None
    return str(obj.id)


def _either(names: list[str]) -> str:
    return ", ".join(names[:-1]) + " or " + names[-1]
