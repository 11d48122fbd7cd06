"""A commit object as ``git commit`` would write it, with what libgit2 leaves out: the
repository's hooks (when ``promptship.hooks`` is on) and the signature ``commit.gpgsign`` asks
for. Both happen before the object is written, so a refusal leaves nothing behind."""

from __future__ import annotations

import pygit2

from .hooks import hooks_enabled, run_commit_hooks
from .signing import repository_signer

__all__ = ["write_commit"]


def write_commit(
    repo: pygit2.Repository,
    signature: pygit2.Signature,
    message: str,
    tree: pygit2.Oid,
    parents: list[pygit2.Oid],
) -> pygit2.Oid:
    """Write the commit of ``tree`` on ``parents``, authored and committed as ``signature``;
    no branch points to it yet."""
    signer = repository_signer(repo)
    if hooks_enabled(repo):
        message = run_commit_hooks(repo, tree, message)
    if signer is None:
        return repo.create_commit(None, signature, signature, message, tree, parents)
    ids: list[str | pygit2.Oid] = [*parents]
    # pygit2's stubs say Oid; the call returns the commit's text.
    text = str(repo.create_commit_string(signature, signature, message, tree, ids))
    committer = f"{signature.name} <{signature.email}>"
    return repo.create_commit_with_signature(text, signer.sign(text.encode("utf-8"), committer))
