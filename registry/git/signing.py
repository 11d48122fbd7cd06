"""Signed commits, as ``git commit`` makes them when ``commit.gpgsign`` is on.

libgit2 signs nothing, so promptship reads git's signing settings itself and runs the program
git would run, with the arguments git gives it: ``gpg --status-fd=2 -bsau KEY`` (``gpg.format``
openpgp, the default) or ``gpgsm`` (x509), the commit text on standard input and the armored
signature on standard output, accepted only with a ``SIG_CREATED`` status line; or
``ssh-keygen -Y sign -n git -f KEY FILE`` (ssh), the signature read from ``FILE.sig``. The key
is ``user.signingKey``; without it, gpg and gpgsm are asked for the committer's identity and
ssh for the first key ``gpg.ssh.defaultKeyCommand`` prints. The signature goes into the
commit's ``gpgsig`` header, so ``git verify-commit`` and hosting services check it as any
other. Signing happens before the commit object is written: a failure writes nothing.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pygit2

from ..errors import SigningFailed

__all__ = ["Signer", "repository_signer", "signer_for"]

Format = Literal["openpgp", "x509", "ssh"]

_PROGRAMS: dict[Format, str] = {"openpgp": "gpg", "x509": "gpgsm", "ssh": "ssh-keygen"}
_PROGRAM_KEYS: dict[Format, tuple[str, ...]] = {
    "openpgp": ("gpg.openpgp.program", "gpg.program"),
    "x509": ("gpg.x509.program",),
    "ssh": ("gpg.ssh.program",),
}
_SETUP_HINT = (
    "'git commit --allow-empty -S -m test' shows what git makes of the same settings; fix "
    "user.signingKey and gpg.format (or turn commit.gpgsign off for this repository)"
)


@dataclass(frozen=True, kw_only=True, slots=True)
class Signer:
    """How this repository's commits are signed: git's ``gpg.format``, the program that signs,
    the key (``None``: the default git picks), and ``gpg.ssh.defaultKeyCommand``."""

    format: Format
    program: str
    key: str | None = None
    default_key_command: str | None = None

    def sign(self, payload: bytes, committer: str) -> str:
        """The detached signature of the commit text ``payload``; ``committer`` ("Name
        <email>") is the key gpg and gpgsm look for when no key is configured."""
        if self.format == "ssh":
            return self._sign_ssh(payload)
        return self._sign_gpg(payload, self.key or committer)

    def _sign_gpg(self, payload: bytes, key: str) -> str:
        done = _run([self.program, "--status-fd=2", "-bsau", key], stdin=payload)
        status = done.stderr.decode(errors="replace")
        created = any(line.startswith("[GNUPG:] SIG_CREATED ") for line in status.splitlines())
        if done.returncode != 0 or not created:
            raise SigningFailed(
                f"{self.program} failed to sign the commit:\n{_indent(status) or '  (no output)'}",
                hint=_SETUP_HINT,
            )
        return _without_cr(done.stdout.decode("ascii", errors="replace"))

    def _sign_ssh(self, payload: bytes) -> str:
        key = self.key or self._default_key()
        with _key_file(key) as (key_file, literal), _scratch() as folder:
            data = folder / "commit"
            data.write_bytes(payload)
            args = [self.program, "-Y", "sign", "-n", "git", "-f", key_file]
            done = _run([*args, *(["-U"] if literal else []), str(data)])
            message = done.stderr.decode(errors="replace")
            if done.returncode != 0:
                old = (
                    " (signing needs 'ssh-keygen -Y sign', OpenSSH 8.2p1 or newer)"
                    if "usage:" in message
                    else ""
                )
                raise SigningFailed(
                    f"{self.program} failed to sign the commit{old}:\n"
                    f"{_indent(message) or '  (no output)'}",
                    hint=_SETUP_HINT,
                )
            try:
                signature = (folder / "commit.sig").read_text(encoding="ascii")
            except OSError as exc:
                raise SigningFailed(
                    f"{self.program} wrote no signature: {exc}", hint=_SETUP_HINT
                ) from None
        return _without_cr(signature)

    def _default_key(self) -> str:
        if not self.default_key_command:
            raise SigningFailed(
                "commit.gpgsign is on with gpg.format ssh, but no key is configured",
                hint="set user.signingKey to your public key file (git config user.signingKey "
                "~/.ssh/id_ed25519.pub), or gpg.ssh.defaultKeyCommand",
            )
        done = _run(shlex.split(self.default_key_command))
        first = done.stdout.decode(errors="replace").partition("\n")[0].strip()
        if done.returncode != 0 or not _literal_key(first):
            raise SigningFailed(
                f"gpg.ssh.defaultKeyCommand ({self.default_key_command}) gave no key",
                hint="set user.signingKey, or make the command print a public key "
                "(ssh-add -L prints the agent's)",
            )
        return first


def signer_for(config: Callable[[str], str | None], enabled: bool) -> Signer | None:
    """The signer git would use for a commit with these settings (``config`` reads one value
    as git reads it), or ``None`` when ``enabled`` (``commit.gpgsign``) is off."""
    if not enabled:
        return None
    name = (config("gpg.format") or "openpgp").lower()
    form = next((known for known in _PROGRAMS if known == name), None)
    if form is None:
        raise SigningFailed(
            f"gpg.format is {name!r}; git signs with openpgp, x509 or ssh", hint=_SETUP_HINT
        )
    program = next(
        (value for key in _PROGRAM_KEYS[form] if (value := config(key))), _PROGRAMS[form]
    )
    key = config("user.signingkey") or None
    if key is not None and form == "ssh" and not _literal_key(key):
        key = os.path.expanduser(key)  # a path, with '~' as git expands it
    return Signer(
        format=form,
        program=program,
        key=key,
        default_key_command=config("gpg.ssh.defaultkeycommand") or None,
    )


def repository_signer(repo: pygit2.Repository) -> Signer | None:
    """``signer_for`` on a repository's configuration (its own, then global, then system)."""
    settings = repo.config
    try:
        enabled = settings.get_bool("commit.gpgsign")
    except KeyError:
        enabled = False
    except pygit2.GitError as exc:
        raise SigningFailed(f"commit.gpgsign is not a boolean: {exc}", hint=_SETUP_HINT) from None

    def value(key: str) -> str | None:
        try:
            return str(settings[key])
        except (KeyError, pygit2.GitError):
            return None

    return signer_for(value, enabled)


def _literal_key(key: str) -> bool:
    """Whether ``user.signingKey`` holds a public key itself, not a file's path (as git
    judges: ``key::`` or ``ssh-`` before it)."""
    return key.startswith(("key::", "ssh-"))


@contextlib.contextmanager
def _key_file(key: str) -> Iterator[tuple[str, bool]]:
    """The key as ssh-keygen takes it: a file's path; a literal public key is written to a
    file first, and ssh-keygen then finds its private half in the agent (``-U``)."""
    if not _literal_key(key):
        yield key, False
        return
    with _scratch() as folder:
        file = folder / "key.pub"
        file.write_text(key.removeprefix("key::") + "\n", encoding="utf-8")
        yield str(file), True


@contextlib.contextmanager
def _scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="promptship-sign-") as folder:
        yield Path(folder)


def _run(args: list[str], stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(args, input=stdin, capture_output=True, check=False)
    except OSError as exc:
        raise SigningFailed(
            f"cannot run {args[0]} to sign the commit: {exc.strerror or exc}",
            hint="install it, or name the program in gpg.program / gpg.ssh.program / "
            "gpg.x509.program",
        ) from None


def _without_cr(text: str) -> str:
    """git strips carriage returns from a signature (a Windows program writes CRLF)."""
    return text.replace("\r", "")


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.strip().splitlines())
