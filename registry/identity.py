"""Who an operation is recorded as: ``--by``, else the environment, else git config, as git does."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .errors import IdentityMissing, InputError
from .model import parse_identity

__all__ = ["Identity", "check_actor", "resolve_identity"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Identity:
    name: str
    email: str

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


def resolve_identity(
    by: str | None, env: Mapping[str, str], config: Callable[[str], str | None]
) -> Identity:
    """``by`` ("Name <email>") wins; otherwise each part comes from ``GIT_AUTHOR_NAME`` /
    ``GIT_AUTHOR_EMAIL`` (``EMAIL`` for the address, as git allows), then ``user.name`` /
    ``user.email`` from ``config``."""
    if by is not None:
        parts = parse_identity(by)
        if parts is None:
            raise InputError(
                f"{by!r} is not an identity", hint='write the author as "Name <email>"'
            )
        return Identity(name=parts[0], email=parts[1])
    name = env.get("GIT_AUTHOR_NAME") or config("user.name")
    email = env.get("GIT_AUTHOR_EMAIL") or config("user.email") or env.get("EMAIL")
    missing = [what for what, value in (("user.name", name), ("user.email", email)) if not value]
    if missing or name is None or email is None:
        raise IdentityMissing(" and ".join(missing) + " not set")
    identity = Identity(name=name.strip(), email=email.strip())
    if parse_identity(str(identity)) is None:
        raise IdentityMissing(f"{identity} is not of the form Name <email>")
    return identity


def check_actor(actor: str) -> str:
    """``actor`` if it reads "Name <email>", as every record and commit names its author."""
    if parse_identity(actor) is None:
        raise InputError(f"{actor!r} is not an identity", hint='write it as "Name <email>"')
    return actor
