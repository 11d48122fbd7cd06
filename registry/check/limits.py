"""The bounds of one check of a change, shared by the library and the command line's defaults."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_LIMITS", "Limits"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Limits:
    """What one check of a change may read: commits between base and head, files changed
    (added up over those commits), and bytes of file contents. Past a limit the check stops
    with an error naming it and the option that raises it."""

    commits: int = 1_000
    files: int = 20_000
    bytes: int = 256 << 20


DEFAULT_LIMITS = Limits()
