"""Ctrl-C at any moment: real processes, real SIGINT. A promotion interrupted before its commit
lands writes nothing and exits 130; once the commit has landed, the interrupt waits for the clone
to be whole and the command says the change is complete (exit 0). Never a staged revert, never
``Aborted.`` after a commit."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers.cli import Cli
from helpers.gitrepo import git, head, status_clean
from helpers.terminal import answer_on_terminal
from registry.git.program import run_git

JOURNAL = Path(".git") / "promptship-sync.json"
TOUCHED = [
    "prompts/greeting/history.yaml",
    "prompts/greeting/production.yaml",
    "prompts/greeting/versions/1.yaml",
    "prompts/greeting/versions/2.yaml",
]


def _promote(repo: Path, *extra: str, **kwargs: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "cli", "promote", "greeting", "2", "--yes", *extra],
        cwd=repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kwargs,  # type: ignore[call-overload]
    )


def _assert_whole(repo: Path, old: str) -> str:
    """The clone is at the old tip or at the complete promotion, its index and files the
    branch's for every touched file, no sync left pending; which of the two it is."""
    tip = head(repo)
    assert git(repo, "diff", "--cached", "--name-only", "HEAD") == ""
    assert git(repo, "diff", "--name-only") == ""
    assert status_clean(repo)
    assert not (repo / JOURNAL).exists()
    for path in TOUCHED:
        assert (repo / path).read_bytes() == git(repo, "show", f"HEAD:{path}").encode()
    if tip == old:
        return "old"
    assert git(repo, "rev-parse", "HEAD~1").strip() == old
    assert git(repo, "log", "-1", "--format=%s").strip() == "promote(greeting): v1 -> v2"
    assert '"version": 2, "previous_version": 1' in (repo / TOUCHED[0]).read_text()
    return "promoted"


def test_an_interrupt_inside_the_critical_section_lets_the_promotion_finish(
    sample: Cli, repo: Path
) -> None:
    """The process sends itself SIGINT the moment the branch is about to move."""
    old = head(repo)
    child = _promote(repo, env={**os.environ, "PROMPTSHIP_TEST_SIGINT_IN_CRITICAL_SECTION": "1"})
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    assert _assert_whole(repo, old) == "promoted"
    assert out == b""
    assert err.strip().splitlines()[-1] == (
        b"interrupted, but the change was already written, so it is complete: "
        b"promote(greeting): v1 -> v2 (commit " + head(repo)[:10].encode() + b")"
    )
    assert b"Aborted." not in err and b"Traceback" not in err


@pytest.mark.parametrize("group", [False, True], ids=["process", "process-group"])
def test_sigint_at_random_moments_never_leaves_half_a_promotion(
    sample: Cli, repo: Path, group: bool
) -> None:
    """SIGINT sent to the process (or, as a terminal's Ctrl-C does, to its whole process group,
    git children included) at moments spread over the run: each outcome is 130 with nothing
    written, or 0 with the whole promotion."""
    rng = random.Random(11)
    outcomes: dict[str, int] = {}
    base = head(repo)
    started = time.perf_counter()
    probe = _promote(repo, "--dry-run")
    probe.communicate(timeout=60)
    window = time.perf_counter() - started
    for run in range(12):
        if head(repo) != base:
            git(repo, "reset", "-q", "--hard", base)
        child = _promote(repo, start_new_session=group)
        time.sleep(rng.uniform(0.4, 1.3) * window)
        if group:
            os.killpg(child.pid, signal.SIGINT)
        else:
            child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=60)
        state = _assert_whole(repo, base)
        if child.returncode == -signal.SIGINT:
            # Ended by the signal while Python was starting, before promptship ran, or while it
            # was shutting down, after the command had finished and said so.
            assert state == "old" or out.startswith(b"promoted greeting v2"), (run, out, err)
        elif child.returncode == 130:
            assert state == "old", (run, err)
            assert b"Interrupted." in err or b"Aborted." in err
            assert b"Traceback" not in err
        else:
            assert child.returncode == 0, (run, err)
            assert state == "promoted", run
            assert b"Aborted." not in err and b"Interrupted." not in err
            assert b"Traceback" not in err
        outcomes[state] = outcomes.get(state, 0) + 1
    assert sum(outcomes.values()) == 12


def test_an_interrupted_demo_exits_130_and_leaves_nothing_half_made(tmp_path: Path) -> None:
    rng = random.Random(5)
    for run in range(4):
        target = tmp_path / f"demo{run}"
        child = subprocess.Popen(
            [sys.executable, "-m", "cli", "demo", str(target)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        time.sleep(rng.uniform(0.3, 2.5))
        os.killpg(child.pid, signal.SIGINT)
        out, err = child.communicate(timeout=60)
        if child.returncode == 0 or (
            child.returncode == -signal.SIGINT and b"Done. Look around:" in out
        ):
            continue  # it finished before the signal (or while Python was shutting down)
        # Ended by the signal (-2: as Python started or shut down) or stopped with 130.
        assert child.returncode in (130, -signal.SIGINT), err
        if child.returncode == 130:
            assert b"Traceback" not in err
        if target.exists() and any(target.iterdir()):
            assert status_clean(target)
            assert not (target / JOURNAL).exists()
            assert Cli(target)("check").exit_code == 0


def test_the_confirmation_goes_to_the_terminal_when_output_is_redirected(
    sample: Cli, repo: Path, tmp_path: Path
) -> None:
    out_file = tmp_path / "out.txt"
    with out_file.open("wb") as out:
        status, seen = answer_on_terminal(
            repo, "promote", "greeting", "2", answer="y\n", stdout=out
        )
    assert status == 0
    assert b"Promote greeting to production" in seen
    written = out_file.read_text()
    assert "Proceed?" not in written
    assert written.startswith("promoted greeting v2 to production (was v1)")


def test_a_promotion_made_while_the_person_reads_is_superseded(sample: Cli, repo: Path) -> None:
    """The plan shown said v1 -> v2; meanwhile someone promoted v3. Answering y refuses, as
    superseded, instead of replacing their promotion."""
    sample.ok("new-version", "greeting", "--content", "Hey {{ name }}")
    theirs: list[str] = []

    def bob_promotes_v3() -> None:
        sample.ok("promote", "greeting", "3", "--yes", "--by", "Bob Example <bob@example.com>")
        theirs.append(head(repo))

    status, seen = answer_on_terminal(
        repo, "promote", "greeting", "2", answer="y\n", meanwhile=bob_promotes_v3
    )
    assert status == 1
    assert b"superseded by v3 (promoted by Bob Example <bob@example.com> at" in seen
    assert [head(repo)] == theirs
    assert status_clean(repo)


def test_sigint_while_the_landed_change_is_reported_says_it_is_complete(
    sample: Cli, repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The window after publishing, before the command has said what it did: a Ctrl-C there
    found the default handler back in place and ended as ``Aborted.`` with 130, the commit made."""
    from cli import output
    from cli.main import main

    old = head(repo)
    report = output.done

    def interrupted_report(message: str, result: object) -> None:
        signal.raise_signal(signal.SIGINT)
        report(message, result)  # type: ignore[arg-type]

    monkeypatch.setattr("cli.commands.promote.done", interrupted_report)
    status = main(["--repo", str(repo), "promote", "greeting", "2", "--yes"])
    err = capsys.readouterr().err

    assert status == 0, err
    assert _assert_whole(repo, old) == "promoted"
    assert "Aborted." not in err
    assert err.strip().splitlines()[-1] == (
        "interrupted, but the change was already written, so it is complete: "
        f"promote(greeting): v1 -> v2 (commit {head(repo)[:10]})"
    )


@pytest.mark.skipif(sys.platform == "win32", reason="a script run as git needs a shebang")
def test_a_git_child_killed_by_sigint_before_its_session_is_run_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Ctrl-C to promptship's process group can reach a child started in its own session in
    the instant before it gets there: it dies of SIGINT before git runs, and is run again. A
    child sharing promptship's session is the user's to interrupt: it is not."""
    marker = tmp_path / "killed-once"
    fake = tmp_path / "bin" / "git"
    fake.parent.mkdir()
    fake.write_text(
        f"#!{sys.executable}\n"
        "import os, pathlib, signal, sys\n"
        f"marker = pathlib.Path({str(marker)!r})\n"
        "if not marker.exists():\n"
        "    marker.touch()\n"
        "    signal.signal(signal.SIGINT, signal.SIG_DFL)\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"
        "print('git version fake')\n"
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")

    done = run_git("--version", own_session=True)
    assert (done.returncode, done.stdout) == (0, b"git version fake\n")
    assert marker.exists()

    marker.unlink()
    assert run_git("--version").returncode == -signal.SIGINT
