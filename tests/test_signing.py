"""Signed commits: with commit.gpgsign on, every commit promptship makes is signed as git would
sign it (ssh and openpgp keys made here, checked by 'git verify-commit'), in a clone, in a bare
repository, pushed and on a new branch; a signature that cannot be made writes nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers.cli import Cli, run_main
from helpers.gitrepo import git
from helpers.remotes import CHANGING_COMMANDS, clone, remote_tip, seeded_remote

pytestmark = pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="no ssh-keygen")


@dataclass(frozen=True)
class SshKey:
    private: Path
    public: Path
    allowed_signers: Path


@pytest.fixture
def ssh_key(tmp_path: Path) -> SshKey:
    """An ed25519 key without a passphrase, and an allowed-signers file that trusts it for
    Alice, as a team's verification setup would."""
    private = tmp_path / "keys" / "alice"
    private.parent.mkdir()
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "alice", "-f", str(private)],
        check=True,
    )
    public = private.with_suffix(".pub")
    allowed = tmp_path / "keys" / "allowed_signers"
    allowed.write_text(f"alice@example.com {public.read_text()}")
    return SshKey(private=private, public=public, allowed_signers=allowed)


def sign_with_ssh(repo: Path, key: SshKey) -> None:
    for name, value in {
        "commit.gpgsign": "true",
        "gpg.format": "ssh",
        "user.signingKey": str(key.public),
        "gpg.ssh.allowedSignersFile": str(key.allowed_signers),
    }.items():
        git(repo, "config", name, value)


def verified(repo: Path, rev: str = "HEAD") -> str:
    """What 'git verify-commit' says of a good signature (it must find one)."""
    done = subprocess.run(
        ["git", "verify-commit", "--raw", rev], cwd=repo, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stderr


def signature_header(repo: Path, rev: str = "HEAD") -> bool:
    return "\ngpgsig " in "\n" + git(repo, "cat-file", "commit", rev).split("\n\n", 1)[0]


def all_objects(repo: Path) -> set[str]:
    listed = git(
        repo, "cat-file", "--batch-all-objects", "--batch-check=%(objectname) %(objecttype)"
    )
    return {line.split()[0] for line in listed.splitlines() if line.endswith(" commit")}


@pytest.fixture
def signing_clone(tmp_path: Path, ssh_key: SshKey) -> Path:
    remote = seeded_remote(tmp_path)
    path = clone(remote, tmp_path / "alice")
    sign_with_ssh(path, ssh_key)
    return path


@pytest.mark.parametrize(("args", "subject"), CHANGING_COMMANDS)
def test_every_changing_command_makes_a_signed_commit(
    signing_clone: Path, args: list[str], subject: str
) -> None:
    Cli(signing_clone).ok(*args)
    assert git(signing_clone, "log", "-1", "--format=%s") == subject + "\n"
    assert 'Good "git" signature for alice@example.com with ED25519 key' in verified(signing_clone)
    assert git(signing_clone, "status", "--porcelain") == ""


def test_pushed_and_new_branch_commits_are_signed(signing_clone: Path, tmp_path: Path) -> None:
    cli = Cli(signing_clone)
    cli.ok("new-version", "farewell", "--content", "See you {{ name }}", "--push")
    remote = tmp_path / "remote.git"
    # The remote holds the very commits signed here; the clone has the verification settings.
    verified(signing_clone, remote_tip(remote))
    cli.ok("promote", "greeting", "2", "--yes", "--branch", "promote-greeting-v2", "--push")
    verified(signing_clone, remote_tip(remote, "promote-greeting-v2"))


def test_a_bare_repository_signs_with_its_own_settings(tmp_path: Path, ssh_key: SshKey) -> None:
    remote = seeded_remote(tmp_path)
    bare = tmp_path / "bot.git"
    git(tmp_path, "clone", "-q", "--bare", str(remote), str(bare))
    sign_with_ssh(bare, ssh_key)
    status, _, err = run_main(
        bare, "archive", "greeting", "3", "--ref", "refs/heads/main", "--push", "--remote", "origin"
    )
    assert status == 0, err
    verified(bare, "main")
    assert remote_tip(remote) == remote_tip(bare)


def test_without_commit_gpgsign_commits_are_not_signed(signing_clone: Path) -> None:
    git(signing_clone, "config", "commit.gpgsign", "false")
    Cli(signing_clone).ok("archive", "greeting", "3")
    assert not signature_header(signing_clone)


def test_the_configured_ssh_program_signs(signing_clone: Path, tmp_path: Path) -> None:
    """gpg.ssh.program names the program, run with the arguments git gives ssh-keygen."""
    calls = tmp_path / "calls"
    wrapper = tmp_path / "sign-wrapper"
    wrapper.write_text(f'#!/bin/sh\necho "$@" >> "{calls}"\nexec ssh-keygen "$@"\n')
    wrapper.chmod(0o755)
    git(signing_clone, "config", "gpg.ssh.program", str(wrapper))
    Cli(signing_clone).ok("archive", "greeting", "3")
    verified(signing_clone)
    # git verify-commit runs the same program afterwards (find-principals, verify).
    sign = calls.read_text().splitlines()[0]
    key = git(signing_clone, "config", "user.signingKey").strip()
    assert sign.startswith(f"-Y sign -n git -f {key} ")


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("user.signingKey", "/no/such/key.pub", "ssh-keygen failed to sign the commit"),
        ("gpg.ssh.program", "/no/such/ssh-keygen", "cannot run /no/such/ssh-keygen"),
        ("gpg.format", "pgp", "gpg.format is 'pgp'"),
        ("commit.gpgsign", "maybe", "commit.gpgsign is not a boolean"),
    ],
)
def test_a_signature_that_cannot_be_made_writes_nothing(
    signing_clone: Path, setting: str, value: str, message: str
) -> None:
    git(signing_clone, "config", setting, value)
    refs = git(signing_clone, "for-each-ref")
    commits = all_objects(signing_clone)
    files = {p: p.read_bytes() for p in (signing_clone / "prompts").rglob("*") if p.is_file()}
    index = (signing_clone / ".git/index").read_bytes()
    status, out, err = run_main(signing_clone, "promote", "greeting", "3", "--yes", "--push")
    assert status == 1, (out, err)
    assert err.startswith("error: ") and message in err, err
    assert "\nhint: " in err and "Traceback" not in err
    assert git(signing_clone, "for-each-ref") == refs
    assert all_objects(signing_clone) == commits  # no commit object made, referenced or not
    assert {
        p: p.read_bytes() for p in (signing_clone / "prompts").rglob("*") if p.is_file()
    } == files
    assert (signing_clone / ".git/index").read_bytes() == index


@pytest.fixture
def gnupg(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A throwaway GnuPG home with a key for Alice; its agent is stopped afterwards. The home
    sits in a short temporary path: the agent's socket path has a length limit."""
    if shutil.which("gpg") is None or shutil.which("gpgconf") is None:
        pytest.skip("gpg is not installed")
    home = Path(tempfile.mkdtemp(prefix="gpg-"))
    home.chmod(0o700)
    monkeypatch.setenv("GNUPGHOME", str(home))
    try:
        subprocess.run(
            [
                "gpg",
                "--batch",
                "--passphrase",
                "",
                "--quick-gen-key",
                "Alice Example <alice@example.com>",
                "ed25519",
                "sign",
                "never",
            ],
            check=True,
            capture_output=True,
        )
        yield home
    finally:
        subprocess.run(["gpgconf", "--kill", "all"], check=False, env={**os.environ})
        shutil.rmtree(home, ignore_errors=True)


def test_openpgp_signs_with_the_committers_key_by_default(gnupg: Path, repo: Path) -> None:
    git(repo, "config", "commit.gpgsign", "true")
    cli = Cli(repo)
    cli.ok("create", "greeting", "--content", "Hello {{ name }}")
    cli.ok("promote", "greeting", "1", "--yes")
    for rev in ("HEAD", "HEAD~1"):
        assert "[GNUPG:] GOODSIG " in verified(repo, rev)
        assert "Alice Example <alice@example.com>" in verified(repo, rev)
    # A key that is not in the keyring: gpg's refusal, and nothing written.
    git(repo, "config", "user.signingKey", "nobody@example.com")
    before = git(repo, "rev-parse", "HEAD")
    status, _, err = run_main(repo, "new-version", "greeting")
    assert status == 1 and "gpg failed to sign the commit" in err
    assert git(repo, "rev-parse", "HEAD") == before
