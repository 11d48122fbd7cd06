"""The errors promptship raises on purpose.

Every refusal is a ``PromptshipError``: it carries the fields a program needs, a message for a
person, and a hint saying what to do instead. The command line turns them into ``error:`` lines and
exit status 1; anything else escaping is a bug.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "BranchDiverged",
    "BranchExists",
    "BrokenObject",
    "CannotCheck",
    "ConcurrentChange",
    "DirtyWorkTree",
    "GoldenTestsFailed",
    "HookFailed",
    "IdentityMissing",
    "InputError",
    "InvalidBundle",
    "InvalidConfig",
    "InvalidName",
    "InvalidRegistry",
    "LifecycleError",
    "LockFileExists",
    "MissingExtra",
    "MissingVariables",
    "NoProductionVersion",
    "Problem",
    "PromptExists",
    "PromptNotFound",
    "PromptshipError",
    "ProviderError",
    "ProviderFailure",
    "PushRejected",
    "RemoteError",
    "RenderError",
    "RepositoryError",
    "RevisionError",
    "RunNotFound",
    "ServerUnreachable",
    "SigningFailed",
    "Superseded",
    "SyncIncomplete",
    "TemplateSyntaxError",
    "UnknownVariables",
    "VariablesError",
    "VersionNotFound",
    "WriteInterrupted",
    "sort_problems",
]


class PromptshipError(Exception):
    """A refusal: a rule, a missing thing or unusable input. Nothing was written."""

    exit_status = 1

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True, kw_only=True, slots=True)
class Problem:
    """One thing wrong with one file of a registry: ``rule`` is a code of ``registry.check.rules``;
    ``hint`` says what to do when the rule's general advice is not precise enough."""

    file: str
    rule: str
    message: str
    line: int | None = None
    hint: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message} [{self.rule}]"


MAX_PROBLEMS_PER_FILE = 50
"""Problems listed for one file; one more says how many of its problems were left out."""
MAX_PROBLEMS = 1000
"""Problems listed in one report, likewise."""


def sort_problems(problems: Iterable[Problem]) -> tuple[Problem, ...]:
    """By file, then line: a report reads file by file, top to bottom. A file built to break
    every rule on every line (a history of a million bad records) is listed up to
    ``MAX_PROBLEMS_PER_FILE`` and the report up to ``MAX_PROBLEMS``, each with a last problem
    counting the rest, so a report's size is bounded whatever the change holds."""
    ordered = sorted(problems, key=lambda p: (p.file, p.line or 0))
    listed: list[Problem] = []
    for file, group in itertools.groupby(ordered, key=lambda p: p.file):
        found = list(group)
        listed.extend(found[:MAX_PROBLEMS_PER_FILE])
        if len(found) > MAX_PROBLEMS_PER_FILE:
            listed.append(_more(found[MAX_PROBLEMS_PER_FILE:], file, "in this file"))
    if len(listed) > MAX_PROBLEMS:
        listed[MAX_PROBLEMS:] = [_more(listed[MAX_PROBLEMS:], listed[MAX_PROBLEMS].file, "")]
    return tuple(listed)


def _more(left_out: Sequence[Problem], file: str, where: str) -> Problem:
    rules = {p.rule for p in left_out}
    return Problem(
        file=file,
        rule=rules.pop() if len(rules) == 1 else "limit",
        message=f"and {len(left_out):,} more problems{' ' + where if where else ''}, not listed",
        hint="fix the problems listed and run the check again",
    )


class InvalidRegistry(PromptshipError):
    """Files of the registry break the format; ``problems`` lists every one found."""

    def __init__(self, problems: Sequence[Problem], *, hint: str = "") -> None:
        self.problems = tuple(problems)
        super().__init__(
            _listing("the registry has problems:", self.problems),
            hint=hint
            or "fix the file by hand (docs/format.md describes it), then run the command again",
        )


class InvalidName(PromptshipError):
    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(
            f"{name!r} is not a valid prompt name: {reason}",
            hint="names use a-z, 0-9 and single '-', '_' or '.' between them, "
            "at most 100 characters, and are not a Windows device name such as con or com1 "
            "(e.g. customer-support-reply)",
        )


class InputError(PromptshipError):
    """Input given on the command line or in a file is unusable."""


class PromptNotFound(PromptshipError):
    def __init__(self, prompt: str) -> None:
        self.prompt = prompt
        super().__init__(
            f"no prompt named {prompt!r}", hint="see which prompts there are (promptship list)"
        )


class PromptExists(PromptshipError):
    def __init__(self, prompt: str) -> None:
        self.prompt = prompt
        super().__init__(
            f"a prompt named {prompt!r} already exists",
            hint=f"add a version to it instead (promptship new-version {prompt}), or choose another name",
        )


class VersionNotFound(PromptshipError):
    def __init__(self, prompt: str, version: int) -> None:
        self.prompt = prompt
        self.version = version
        super().__init__(
            f"prompt {prompt!r} has no version {version}",
            hint=f"see which versions it has (promptship versions {prompt} --include-archived)",
        )


class NoProductionVersion(PromptshipError):
    def __init__(self, prompt: str) -> None:
        self.prompt = prompt
        super().__init__(
            f"prompt {prompt!r} has no production version yet",
            hint=f"promote a version first (promptship promote {prompt} VERSION), "
            f"or name a version: {prompt}@latest, {prompt}@1",
        )


class LifecycleError(PromptshipError):
    """An operation the lifecycle rules forbid for this version's status."""

    def __init__(self, prompt: str, version: int | None, message: str, *, hint: str) -> None:
        self.prompt = prompt
        self.version = version
        super().__init__(message, hint=hint)


class TemplateSyntaxError(PromptshipError):
    def __init__(self, where: str, message: str, line: int | None) -> None:
        self.where = where
        self.line = line
        at = f" (line {line})" if line else ""
        super().__init__(
            f"template syntax error in {where}{at}: {message}",
            hint="templates are Jinja2: variables are written {{ name }}",
        )


class RenderError(PromptshipError):
    """Rendering a template failed."""


class VariablesError(RenderError):
    """Variables given to a render do not match the template's."""

    def __init__(
        self, missing: Sequence[str], unknown: Sequence[str], expected: Sequence[str]
    ) -> None:
        self.missing = tuple(missing)
        self.unknown = tuple(unknown)
        self.expected = tuple(expected)
        parts = []
        if self.missing:
            parts.append("missing variables: " + ", ".join(self.missing))
        if self.unknown:
            parts.append("unknown variables: " + ", ".join(self.unknown))
        takes = ", ".join(self.expected) if self.expected else "no variables"
        super().__init__("; ".join(parts), hint=f"this version takes {takes}")


class MissingVariables(VariablesError):
    """At least one variable the template uses was not given (unknown ones are listed too)."""


class UnknownVariables(VariablesError):
    """Every variable was given, but some given ones are not in the template."""


class Superseded(PromptshipError):
    """The prompt's production pointer moved after the decision to promote was taken."""

    def __init__(self, prompt: str, version: int | None, by: str, at: str) -> None:
        self.prompt = prompt
        self.version = version
        self.by = by
        self.at = at
        now = (
            f"v{version} (promoted by {by} at {at})"
            if version
            else "a change that left it no production version"
        )
        super().__init__(
            f"promotion of {prompt!r} superseded by {now}",
            hint=f"look at the new state (promptship history {prompt}) and promote again if "
            "you still mean to",
        )


class ConcurrentChange(PromptshipError):
    """Files this command changes were changed by someone else meanwhile."""

    def __init__(self, paths: Sequence[str]) -> None:
        self.paths = tuple(paths)
        super().__init__(
            "changed by someone else while this command ran: " + ", ".join(self.paths),
            hint="look at the new state and run the command again if it still applies",
        )


class DirtyWorkTree(PromptshipError):
    def __init__(self, paths: Sequence[str]) -> None:
        self.paths = tuple(paths)
        super().__init__(
            "uncommitted changes in files this command would change: " + ", ".join(self.paths),
            hint="commit or discard them first ('git status' shows them; "
            "'git stash' sets them aside)",
        )


class IdentityMissing(PromptshipError):
    def __init__(self, detail: str = "") -> None:
        super().__init__(
            "no git identity to record as the author" + (f": {detail}" if detail else ""),
            hint='name the author (--by "Name <email>"; by= in Editor.open), or run git config '
            '--global user.name "Your Name" and git config --global user.email you@example.com',
        )


class RepositoryError(PromptshipError):
    """The git repository cannot be opened, read or written as asked."""


class HookFailed(PromptshipError):
    """A ``pre-commit`` or ``commit-msg`` hook refused promptship's commit (with
    ``promptship.hooks`` on); ``output`` is what it printed. No commit was written."""

    def __init__(self, hook: str, output: str) -> None:
        self.hook = hook
        self.output = output
        shown = "\n".join(f"  {line}" for line in output.splitlines()[-20:]) or "  (no output)"
        super().__init__(
            f"the {hook} hook refused the commit:\n{shown}",
            hint="fix what it reports and run the command again (promptship.hooks runs the "
            "repository's hooks; 'git config promptship.hooks false' turns that off)",
        )


class SigningFailed(PromptshipError):
    """``commit.gpgsign`` is on and the commit could not be signed as git would sign it; no
    commit was written."""


class InvalidConfig(PromptshipError):
    """A configuration file outside the registry (the providers file) is unusable; ``problems``
    lists every one found."""

    def __init__(self, problems: Sequence[Problem], *, hint: str) -> None:
        self.problems = tuple(problems)
        super().__init__(_listing("bad configuration:", self.problems), hint=hint)


ProviderFailure = Literal[
    "not-configured",
    "no-key",
    "unauthorized",
    "rate-limited",
    "server-error",
    "http-error",
    "timeout",
    "connection",
    "malformed",
]


class ProviderError(PromptshipError):
    """One model of a run failed: its provider is not set up, unreachable, or answered with an
    error or with something that is not a chat completion. The other models still run."""

    def __init__(
        self,
        *,
        provider: str,
        model: str,
        kind: ProviderFailure,
        detail: str,
        hint: str,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.provider = provider
        self.model = model
        self.kind: ProviderFailure = kind
        self.detail = detail
        self.status = status
        self.retry_after = retry_after
        super().__init__(f"provider {provider!r}, model {model!r}: {detail}", hint=hint)


class MissingExtra(PromptshipError):
    def __init__(self, package: str, extra: str, purpose: str) -> None:
        self.package = package
        self.extra = extra
        super().__init__(
            f"{purpose} needs the {package} package, which is not installed",
            hint=f"pip install 'promptship[{extra}]'",
        )


class RunNotFound(PromptshipError):
    def __init__(self, run_id: str, *, matches: Sequence[str] = ()) -> None:
        self.run_id = run_id
        self.matches = tuple(matches)
        if self.matches:
            message = f"run id {run_id!r} is ambiguous: " + ", ".join(self.matches)
            hint = "give more characters of the id"
        else:
            message = f"no run with id {run_id!r} in this clone's run log"
            hint = "'promptship runs' lists the runs made in this clone"
        super().__init__(message, hint=hint)


class GoldenTestsFailed(PromptshipError):
    """Golden test cases of a version failed; ``failed`` names them, in file order."""

    def __init__(
        self, prompt: str, version: int, failed: Sequence[str], total: int, *, hint: str
    ) -> None:
        self.prompt = prompt
        self.version = version
        self.failed = tuple(failed)
        self.total = total
        names = ", ".join(repr(n) for n in self.failed)
        super().__init__(
            f"{prompt} v{version} failed {len(self.failed)} of {total} golden test "
            f"case(s): {names}",
            hint=hint,
        )


class InvalidBundle(PromptshipError):
    """An export bundle that does not verify; ``problems`` lists every finding."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        super().__init__(
            _listing(f"{source} does not verify:", self.problems, always_head=True),
            hint="do not use this file: export it again from the repository "
            "('promptship export --ref REV --out FILE')",
        )


class SyncIncomplete(RepositoryError):
    """The commit was made and the branch moved, but the clone's index and files could not
    follow; the sync journal stays, so the next changing command finishes the sync."""

    def __init__(self, commit: str, paths: Sequence[str], reason: str) -> None:
        self.commit = commit
        self.paths = tuple(paths)
        super().__init__(
            f"committed {commit[:10]}, but the index and files of this clone could not follow: "
            f"{reason}",
            hint="the commit is safe; the next change promptship writes in this clone brings "
            "the files along first, or run 'git reset -q -- "
            + " ".join(self.paths)
            + "' and 'git checkout -- <the same files>' now",
        )


class LockFileExists(RepositoryError):
    """A git lock file stays in place: another git process is writing what it locks (a branch,
    the index), or one was killed while doing so. Only a person can tell which, so the lock is
    never removed for them."""

    def __init__(self, what: str, path: str, age_seconds: float) -> None:
        self.what = what
        self.path = path
        self.age_seconds = age_seconds
        super().__init__(
            f"{what} is locked by {path}, created {_duration(age_seconds)} ago: another git "
            "process is updating it, or one was killed while doing so",
            hint="run the command again in a moment; if the lock stays and no git or promptship "
            f"process is running in this repository, remove it (rm {path})",
        )


class RemoteError(RepositoryError):
    """The git command talking to a remote failed (address, network, credentials, local hook)."""

    def __init__(self, remote: str, action: str, detail: str) -> None:
        self.remote = remote
        self.action = action
        self.detail = detail
        super().__init__(
            f"git {action} with {remote!r} failed" + (f": {detail}" if detail else ""),
            hint=f"check that 'git {action} {remote}' works here (address, network, credentials); "
            "nothing was changed in this repository",
        )


class PushRejected(RepositoryError):
    """The remote refused the pushed ref for a reason a rebuild cannot fix (a hook, a rule)."""

    def __init__(self, remote: str, ref: str, reason: str, messages: Sequence[str] = ()) -> None:
        self.remote = remote
        self.ref = ref
        self.reason = reason
        self.messages = tuple(messages)
        said = "".join(f"\n  remote: {m}" for m in self.messages)
        super().__init__(
            f"{remote} refused the push to {ref}: {reason}{said}",
            hint="nothing was changed here: the local branch is as it was. If the branch is "
            "protected, propose the change in a pull request instead "
            "(promptship promote NAME VERSION --branch NEW-BRANCH --push)",
        )


class BranchDiverged(RepositoryError):
    """The local branch holds commits the remote lacks, and the remote moved on: rebuilding the
    change on the remote's tip would leave those commits behind."""

    def __init__(self, branch: str, upstream: str) -> None:
        self.branch = branch
        self.upstream = upstream
        super().__init__(
            f"{branch} has commits that {upstream} does not have, and {upstream} has moved on",
            hint="integrate them first (git pull --rebase, then git push), then run the command "
            "again; nothing was changed",
        )


class BranchExists(RepositoryError):
    def __init__(self, branch: str, where: str = "this repository") -> None:
        self.branch = branch
        self.where = where
        super().__init__(
            f"a branch named {branch!r} already exists in {where}",
            hint="choose another name for the new branch",
        )


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class ServerUnreachable(PromptshipError):
    """A ``promptship serve`` could not be reached (or answered with a server error)."""

    def __init__(self, url: str, detail: str) -> None:
        self.url = url
        self.detail = detail
        super().__init__(
            f"cannot reach the prompt server at {url}: {detail}",
            hint="check the address and that the server runs ('curl URL/readyz'), or give a "
            "fallback bundle (fallback='prompts.json', written by 'promptship export')",
        )


class RevisionError(RepositoryError):
    """A revision given by name that promptship will not read: unknown, ambiguous, a tag or a ref
    given by a short name, or an expression (``main~1``). ``reason`` says which."""

    def __init__(self, rev: str, reason: str, *, hint: str) -> None:
        self.rev = rev
        self.reason = reason
        super().__init__(f"cannot read the revision {rev!r}: {reason}", hint=hint)


class BrokenObject(RepositoryError):
    """A git object promptship needs is missing, corrupt, or not of the type its tree entry
    says (a file entry naming a folder's object, say). Nothing can be judged or served from it,
    so the command line exits with 2, as for a check that cannot run."""

    exit_status = 2

    def __init__(self, what: str, reason: str) -> None:
        self.what = what
        self.reason = reason
        super().__init__(
            f"the repository is damaged: {what}: {reason}",
            hint="run 'git fsck' to see what is broken; fetch the commit again from a good "
            "clone, or restore the repository from one",
        )

    def __reduce__(self) -> tuple[type[BrokenObject], tuple[str, str]]:
        # Raised in the check's worker processes, it travels back pickled.
        return (BrokenObject, (self.what, self.reason))


class CannotCheck(PromptshipError):
    """The check cannot run as asked (a base that is not in the clone, say): nothing was judged,
    so the command line exits with 2, as for a usage error, not 1 as for a failed check."""

    exit_status = 2


def _listing(head: str, problems: Sequence[Problem], *, always_head: bool = False) -> str:
    """One problem as its own line; several under ``head``, one per indented line."""
    lines = [str(p) for p in problems]
    if len(lines) == 1 and not always_head:
        return lines[0]
    return "\n  ".join([head, *lines])


class WriteInterrupted(KeyboardInterrupt):
    """Ctrl-C arrived while a change was being published, and the change landed whole all the
    same (an interrupt then is deferred, so a clone is never left half-synced). ``result`` is
    what the write returned; catching ``KeyboardInterrupt`` catches this too."""

    def __init__(self, result: Any) -> None:
        super().__init__(result)
        self.result = result
