"""The errors promptship raises on purpose.

Every refusal is a ``PromptshipError``: it carries the fields a program needs, a message for a
person, and a hint saying what to do instead. The command line turns them into ``error:`` lines and
exit status 1; anything else escaping is a bug.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "CannotCheck",
    "ConcurrentChange",
    "DirtyWorkTree",
    "IdentityMissing",
    "InputError",
    "InvalidName",
    "InvalidRegistry",
    "LifecycleError",
    "MissingVariables",
    "NoProductionVersion",
    "Problem",
    "PromptExists",
    "PromptNotFound",
    "PromptshipError",
    "RenderError",
    "RepositoryError",
    "Superseded",
    "TemplateSyntaxError",
    "UnknownVariables",
    "VariablesError",
    "VersionNotFound",
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
    """One thing wrong with one file of a registry: ``rule`` is a code of ``registry.rules``;
    ``hint`` says what to do when the rule's general advice is not precise enough."""

    file: str
    rule: str
    message: str
    line: int | None = None
    hint: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message} [{self.rule}]"


def sort_problems(problems: Iterable[Problem]) -> tuple[Problem, ...]:
    """By file, then line: a report reads file by file, top to bottom."""
    return tuple(sorted(problems, key=lambda p: (p.file, p.line or 0)))


class InvalidRegistry(PromptshipError):
    """Files of the registry break the format; ``problems`` lists every one found."""

    def __init__(self, problems: Sequence[Problem], *, hint: str = "") -> None:
        self.problems = tuple(problems)
        lines = [str(p) for p in self.problems]
        message = (
            lines[0] if len(lines) == 1 else "\n  ".join(["the registry has problems:", *lines])
        )
        super().__init__(
            message,
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
            "at most 100 characters (e.g. customer-support-reply)",
        )


class InputError(PromptshipError):
    """Input given on the command line or in a file is unusable."""


class PromptNotFound(PromptshipError):
    def __init__(self, prompt: str) -> None:
        self.prompt = prompt
        super().__init__(
            f"no prompt named {prompt!r}", hint="'promptship list' shows the prompts there are"
        )


class PromptExists(PromptshipError):
    def __init__(self, prompt: str) -> None:
        self.prompt = prompt
        super().__init__(
            f"a prompt named {prompt!r} already exists",
            hint=f"add a version with 'promptship new-version {prompt}', or choose another name",
        )


class VersionNotFound(PromptshipError):
    def __init__(self, prompt: str, version: int) -> None:
        self.prompt = prompt
        self.version = version
        super().__init__(
            f"prompt {prompt!r} has no version {version}",
            hint=f"'promptship versions {prompt} --include-archived' lists its versions",
        )


class NoProductionVersion(PromptshipError):
    def __init__(self, prompt: str) -> None:
        self.prompt = prompt
        super().__init__(
            f"prompt {prompt!r} has no production version yet",
            hint=f"promote one with 'promptship promote {prompt} VERSION', "
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
        now = f"v{version} (promoted by {by} at {at})" if version else "a deletion of the prompt"
        super().__init__(
            f"promotion of {prompt!r} superseded by {now}",
            hint="look at the new state ('promptship history "
            f"{prompt}') and promote again if you still mean to",
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
            hint='pass --by "Name <email>", or run git config --global user.name "Your Name" '
            "and git config --global user.email you@example.com",
        )


class RepositoryError(PromptshipError):
    """The git repository cannot be opened, read or written as asked."""


class CannotCheck(PromptshipError):
    """The check cannot run as asked (a base that is not in the clone, say): nothing was judged,
    so the command line exits with 2, as for a usage error, not 1 as for a failed check."""

    exit_status = 2
