"""The write API: every change to a registry is one call of an ``Editor``.

The command line, CI scripts, bots and the web page all write through these methods, so each
gets the same rules, the same commit and the same errors::

    from registry import Editor

    ed = Editor.open("path/to/clone", by="Ada Example <ada@example.com>")
    ed.create("greeting", content="Hello, {{ name }}!", tags=["onboarding"])
    ed.promote("greeting", 1, notes="First release", expect_production=None)

Each method decides with the core (``lifecycle``, ``promotion``, ``gate``), writes one commit
through ``registry.git.publish`` and returns a ``WriteResult``; a refusal raises an error of
``registry.errors`` and writes nothing.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, overload

from .errors import InputError
from .model import CHAT_ROLES, Message, PromptType, as_message
from .names import parse_version_number

if TYPE_CHECKING:
    from .git.branch import BranchStart
    from .git.publish import CommitResult, Publishing
    from .git.store import GitStore
    from .history import HistoryRecord
    from .identity import Identity
    from .lifecycle import Body, Text
    from .snapshot import ChangeSet, Snapshot

__all__ = [
    "UNCHECKED",
    "Editor",
    "NewBranch",
    "PromotionPlan",
    "Unchecked",
    "WriteResult",
]


class Unchecked(enum.Enum):
    """The type of ``UNCHECKED``."""

    UNCHECKED = "unchecked"


UNCHECKED = Unchecked.UNCHECKED
"""``expect_production``'s default: promote whatever production is now."""

MessageLike = Message | Mapping[str, str]
"""A chat message: ``Message(role=..., content=...)`` or ``{"role": ..., "content": ...}``."""


@dataclass(frozen=True, kw_only=True, slots=True)
class NewBranch:
    """The new branch a change was committed on, for a pull request."""

    name: str
    """The branch's short name (``promote/greeting-v2``)."""
    start: str
    """The revision it starts from, as named (``origin/main``)."""
    remote: str | None
    """The remote it is meant for (pushed there with ``push=True``)."""
    target: str | None
    """The branch its pull request targets (``main``), when known."""


@dataclass(frozen=True, kw_only=True, slots=True)
class WriteResult:
    """What one write did: the commit, where it is, and what it holds."""

    commit: str
    """The new commit's id."""
    parent: str | None
    """Its parent's id (``None`` for the first commit of a branch)."""
    branch: str
    """The branch it is on (``refs/heads/main``)."""
    subject: str
    """The commit message's first line (``promote(greeting): v1 -> v2``)."""
    prompt: str | None
    version: int | None
    """The version created or changed (for a promotion: the version promoted)."""
    files: tuple[str, ...]
    """The paths written, sorted (a deleted prompt's folder is one path)."""
    record: HistoryRecord | None = None
    """The history record a promotion appended."""
    pushed_to: str | None = None
    """The remote branch it was pushed to (``origin/main``), if it was."""
    attempts: int = 1
    """1, or more when the change was rebuilt on newer commits after a race lost."""
    branch_updated: bool = True
    """False when the push succeeded but the local branch had moved meanwhile and was left."""
    new_branch: NewBranch | None = None
    """Set when the commit went on a new branch for a pull request (``promote(branch=...)``)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class PromotionPlan:
    """``promote(dry_run=True)``: the exact commit a promotion would make, unwritten."""

    prompt: str
    version: int
    branch: str
    """The branch it would be on; for ``branch=``, the new branch (``refs/heads/...``)."""
    new_branch: NewBranch | None
    parent: str | None
    """The commit it would be built on."""
    author: str
    message: str
    """The whole commit message: subject, notes and trailers."""
    diff: str
    """A unified diff of every file it would write."""
    files: tuple[str, ...]
    record: HistoryRecord
    """The history record it would append (``previous_version`` is production now)."""


class Editor:
    """Writes to one branch of a repository, as one author."""

    def __init__(
        self,
        store: GitStore,
        by: str | None = None,
        *,
        on_landed: Callable[[str, str], None] | None = None,
    ) -> None:
        self.store = store
        self.by = by
        # Called with (commit, subject) the moment a change is published, interrupts held back.
        self.on_landed = on_landed

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        ref: str | None = None,
        by: str | None = None,
    ) -> Editor:
        """The repository around ``path`` (default: the current folder): a clone, whose
        checked-out branch is written and whose files follow each commit, or any repository with
        ``ref`` (``refs/heads/<branch>``; a bare repository needs it unless its HEAD names a
        branch). ``by`` (``"Name <email>"``) is the author; by default ``GIT_AUTHOR_NAME`` /
        ``GIT_AUTHOR_EMAIL``, else git config ``user.name`` / ``user.email``, as git does."""
        from .git.store import GitStore

        return cls(GitStore.open(path, ref=ref), by)

    @property
    def branch(self) -> str:
        """The branch written to (``refs/heads/main``)."""
        return self.store.branch

    def identity(self) -> Identity:
        """The author each commit records (``IdentityMissing`` when there is none)."""
        return self.store.identity(self.by)

    def create(
        self,
        name: str,
        *,
        content: str | Text | None = None,
        messages: Sequence[MessageLike] | None = None,
        type: PromptType | None = None,
        description: str = "",
        tags: Iterable[str] = (),
        metadata: Mapping[str, Any] | None = None,
        push: bool = False,
        remote: str | None = None,
    ) -> WriteResult:
        """A new prompt whose version 1 is a draft: ``content`` (a text prompt), ``messages`` (a
        chat prompt), or blank of ``type``. ``metadata`` holds JSON values."""
        from .lifecycle import create_prompt
        from .names import check_name

        check_name(name)
        body = _body(content, messages)
        kind: PromptType = type or ("chat" if messages is not None else "text")
        tag_list = tuple(tags)
        return self._write(
            lambda snap, actor, now: create_prompt(
                snap,
                name,
                body=body,
                type=kind,
                description=description,
                tags=tag_list,
                metadata=metadata,
                actor=actor,
                now=now,
            ),
            push=push,
            remote=remote,
        )

    def new_version(
        self,
        name: str,
        *,
        copy_of: int | str | None = None,
        content: str | Text | None = None,
        messages: Sequence[MessageLike] | None = None,
        metadata: Mapping[str, Any] | None = None,
        unset_metadata: Sequence[str] = (),
        push: bool = False,
        remote: str | None = None,
    ) -> WriteResult:
        """The next version of ``name`` as a draft: a copy of version ``copy_of`` (any status),
        the content or messages given, or blank. Metadata comes from ``copy_of``, else from the
        latest version; ``metadata`` sets keys to JSON values (``None`` is null) and
        ``unset_metadata`` removes keys."""
        from .lifecycle import new_version

        source = parse_version_number(copy_of) if copy_of is not None else None
        body = _body(content, messages)
        return self._write(
            lambda snap, actor, now: new_version(
                snap,
                name,
                source=source,
                body=body,
                metadata=metadata,
                unset_metadata=unset_metadata,
                actor=actor,
                now=now,
            ),
            push=push,
            remote=remote,
        )

    def edit(
        self,
        name: str,
        version: int | str,
        *,
        content: str | Text | None = None,
        messages: Sequence[MessageLike] | None = None,
        metadata: Mapping[str, Any] | None = None,
        unset_metadata: Sequence[str] = (),
        push: bool = False,
        remote: str | None = None,
    ) -> WriteResult:
        """Change a draft's content, messages or metadata (drafts never published only):
        ``metadata`` sets keys to JSON values (``None`` is null), ``unset_metadata`` removes
        keys."""
        from .lifecycle import edit_version

        number = parse_version_number(version)
        body = _body(content, messages)
        return self._write(
            lambda snap, actor, now: edit_version(
                snap,
                name,
                number,
                body=body,
                metadata=metadata,
                unset_metadata=unset_metadata,
                actor=actor,
                now=now,
            ),
            push=push,
            remote=remote,
        )

    def update(
        self,
        name: str,
        *,
        description: str | None = None,
        add_tags: Iterable[str] = (),
        remove_tags: Iterable[str] = (),
        push: bool = False,
        remote: str | None = None,
    ) -> WriteResult:
        """Change a prompt's description or tags; no version is made."""
        from .lifecycle import update_info

        adding, removing = tuple(add_tags), tuple(remove_tags)
        return self._write(
            lambda snap, actor, now: update_info(
                snap,
                name,
                description=description,
                add_tags=adding,
                remove_tags=removing,
                actor=actor,
                now=now,
            ),
            push=push,
            remote=remote,
        )

    def archive(
        self, name: str, version: int | str, *, push: bool = False, remote: str | None = None
    ) -> WriteResult:
        """Draft -> archived (the production version is archived by promoting another)."""
        from .lifecycle import archive_version

        return self._change_status(archive_version, name, version, push=push, remote=remote)

    def unarchive(
        self, name: str, version: int | str, *, push: bool = False, remote: str | None = None
    ) -> WriteResult:
        """Archived -> draft, so it can be promoted again (a rollback)."""
        from .lifecycle import unarchive_version

        return self._change_status(unarchive_version, name, version, push=push, remote=remote)

    def _change_status(
        self,
        change: Callable[..., ChangeSet],
        name: str,
        version: int | str,
        *,
        push: bool,
        remote: str | None,
    ) -> WriteResult:
        number = parse_version_number(version)
        return self._write(
            lambda snap, actor, now: change(snap, name, number, actor=actor, now=now),
            push=push,
            remote=remote,
        )

    def delete(
        self, name: str, *, force: bool = False, push: bool = False, remote: str | None = None
    ) -> WriteResult:
        """Remove a whole prompt; one with a production version only with ``force``."""
        from .lifecycle import delete_prompt

        return self._write(
            lambda snap, actor, now: delete_prompt(snap, name, force=force, actor=actor, now=now),
            push=push,
            remote=remote,
        )

    def init(
        self,
        *,
        force: bool = False,
        owners: Iterable[str] = (),
        install: str | None = None,
        index_url: str | None = None,
        push: bool = False,
        remote: str | None = None,
    ) -> WriteResult:
        """Add the CI workflow (installing the pinned promptship ``install`` names, from
        ``index_url`` if given; see ``scaffold.parse_install``), ``.gitattributes``, a CODEOWNERS
        file naming ``owners`` for the production pointers, the files' JSON Schemas, and a
        ``.yamllint`` where the repository has no yamllint settings; existing files only with
        ``force``."""
        from .scaffold import parse_install, scaffold_changes

        owner_list = tuple(owners)
        chosen = parse_install(install, index_url=index_url)
        return self._write(
            lambda snap, actor, now: scaffold_changes(
                snap, force=force, owners=owner_list, install=chosen
            ),
            push=push,
            remote=remote,
        )

    @overload
    def promote(
        self,
        name: str,
        version: int | str,
        *,
        notes: str = ...,
        branch: str | None = ...,
        start: str | None = ...,
        skip_tests: bool = ...,
        dry_run: Literal[False] = ...,
        expect_production: int | Unchecked | None = ...,
        push: bool = ...,
        remote: str | None = ...,
    ) -> WriteResult: ...

    @overload
    def promote(
        self,
        name: str,
        version: int | str,
        *,
        notes: str = ...,
        branch: str | None = ...,
        start: str | None = ...,
        skip_tests: bool = ...,
        dry_run: Literal[True],
        expect_production: int | Unchecked | None = ...,
        push: bool = ...,
        remote: str | None = ...,
    ) -> PromotionPlan: ...

    def promote(
        self,
        name: str,
        version: int | str,
        *,
        notes: str = "",
        branch: str | None = None,
        start: str | None = None,
        skip_tests: bool = False,
        dry_run: bool = False,
        expect_production: int | Unchecked | None = UNCHECKED,
        push: bool = False,
        remote: str | None = None,
    ) -> WriteResult | PromotionPlan:
        """Promote ``version`` of ``name`` to production in one commit: the pointer moves, the
        version is published, the previous one archived, and a history record with ``notes``
        appended. Its golden test cases run first (``GoldenTestsFailed``), unless
        ``skip_tests`` (the record says so).

        ``expect_production``: the production version the decision was taken on (``None``:
        none); if it is no longer production, ``Superseded`` is raised and nothing written.
        ``branch``: commit on this new branch for a pull request instead, starting from
        ``start`` (default: the remote's main branch); the checkout is left untouched.
        ``dry_run``: return the exact commit as a ``PromotionPlan``, writing nothing."""
        from .gate import plan_tested_promotion
        from .promotion import require_production

        number = parse_version_number(version)

        def promotion(snap: Snapshot, actor: str, now: str) -> ChangeSet:
            if expect_production is not UNCHECKED:
                require_production(snap, name, expect_production)
            return plan_tested_promotion(
                snap, name, number, notes=notes, actor=actor, now=now, skip_tests=skip_tests
            )

        if dry_run:
            return self._plan(promotion, branch=branch, start=start, remote=remote, push=push)
        return self._write(promotion, push=push, remote=remote, branch=branch, start=start)

    def _plan(
        self,
        build: Callable[[Snapshot, str, str], ChangeSet],
        *,
        branch: str | None,
        start: str | None,
        remote: str | None,
        push: bool,
    ) -> PromotionPlan:
        from .diffs import unified_diff
        from .git.store import utc_now

        identity = self.identity()
        begin = self._start(branch, start, remote=remote, push=push)
        if begin is not None and branch is not None:
            from .git.branch import new_branch_ref

            where = new_branch_ref(self.store.repo, branch)
            base = begin.snapshot
        else:
            where, base = self.store.branch, self.store.snapshot()
        changes = build(base, str(identity), utc_now())
        assert changes.prompt is not None and changes.version is not None
        assert changes.record is not None
        return PromotionPlan(
            prompt=changes.prompt,
            version=changes.version,
            branch=where,
            new_branch=_new_branch(branch, begin),
            parent=base.commit_id,
            author=str(identity),
            message=changes.message(),
            diff=unified_diff(base, changes),
            files=tuple(sorted(changes.writes)),
            record=changes.record,
        )

    def _start(
        self, branch: str | None, start: str | None, *, remote: str | None, push: bool
    ) -> BranchStart | None:
        if branch is None:
            if start is not None:
                raise InputError(
                    "start= names where a new branch starts; give branch= too",
                    hint="pass branch=NAME (--branch NAME) with start= (--from REF)",
                )
            return None
        from .git.branch import resolve_start

        return resolve_start(self.store, start, remote=remote, fetch=push)

    def _publishing(
        self, *, push: bool, remote: str | None, branch: str | None, start: str | None
    ) -> tuple[Publishing, BranchStart | None]:
        from .git.publish import OnBranch, OnNewBranch, Pushed

        begin = self._start(branch, start, remote=remote, push=push)
        if branch is not None and begin is not None:
            return OnNewBranch(self.store, branch, begin, push=push), begin
        if push:
            return Pushed(self.store, remote), None
        if remote is not None:
            raise InputError(
                "remote= names where a push goes; give push=True too",
                hint="pass push=True (--push) with remote= (--remote NAME)",
            )
        return OnBranch(self.store), None

    def _write(
        self,
        build: Callable[[Snapshot, str, str], ChangeSet],
        *,
        push: bool,
        remote: str | None,
        branch: str | None = None,
        start: str | None = None,
    ) -> WriteResult:
        """Decide with ``build(snapshot, actor, now)`` and commit it, published as asked."""
        from .errors import WriteInterrupted
        from .git.publish import write_change

        identity = self.identity()
        actor = str(identity)
        publishing, begin = self._publishing(push=push, remote=remote, branch=branch, start=start)
        done = write_change(
            self.store,
            lambda snap, now: build(snap, actor, now),
            identity=identity,
            publishing=publishing,
            on_landed=self.on_landed,
        )
        result = _result(done, _new_branch(branch, begin))
        if done.interrupted:
            raise WriteInterrupted(result)
        return result


def _result(done: CommitResult, new_branch: NewBranch | None) -> WriteResult:
    changes = done.changes
    return WriteResult(
        commit=done.commit,
        parent=done.parent,
        branch=done.branch,
        subject=changes.subject,
        prompt=changes.prompt,
        version=changes.version,
        files=tuple(sorted(changes.writes)),
        record=changes.record,
        pushed_to=done.pushed_to,
        attempts=done.attempts,
        branch_updated=done.branch_updated,
        new_branch=new_branch,
    )


def _new_branch(branch: str | None, begin: BranchStart | None) -> NewBranch | None:
    if branch is None or begin is None:
        return None
    return NewBranch(
        name=branch.removeprefix("refs/heads/"),
        start=begin.rev,
        remote=begin.remote,
        target=begin.target,
    )


def _body(content: str | Text | None, messages: Sequence[MessageLike] | None) -> Body | Text | None:
    """What a version's template is to be: text, messages, or (``None``) as it was."""
    # Here, not at the top: the lifecycle loads the template engine, which a promotion needs
    # only when the version has golden cases.
    from .lifecycle import Body, Text

    if content is not None and messages is not None:
        raise InputError(
            "give content (a text prompt) or messages (a chat prompt), not both",
            hint="a version is either text or a list of chat messages",
        )
    if isinstance(content, Text):
        return content
    if content is not None:
        return Body(content=content)
    if messages is None:
        return None
    found = []
    for index, item in enumerate(messages):
        message = item if isinstance(item, Message) else as_message(dict(item))
        if message is None:
            raise InputError(
                f"message {index + 1} is not {{role, content}} with a known role",
                hint="give each message as {'role': ROLE, 'content': TEXT}, with a ROLE of "
                + ", ".join(CHAT_ROLES),
            )
        found.append(message)
    return Body(messages=tuple(found))
