"""The single exit point: every outcome of a command becomes an exit status here.

0 done; 1 refused (``error:`` and a hint on stderr, nothing written); 2 usage, or a check that
cannot run as asked; 130 interrupted before anything was written; 3 a bug, with a one-line
request to report it and a crash log (the traceback and versions; on stderr too with
``PROMPTSHIP_TRACEBACK=1``).

Ctrl-C while a change is being published (from the branch move or push to the end of the sync of
the clone's files) is held back until the change is whole; the command then says that the
change is complete and exits 0, since that is the state of the repository.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Sequence

import click

from registry.errors import PromptshipError, WriteInterrupted

from .app import app
from .interrupts import Interrupts, LateInterrupt, current
from .output import echo_error

__all__ = ["main", "run_command"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; the console script exits with what this returns."""
    try:
        previous = signal.signal(signal.SIGINT, Interrupts())
    except ValueError:  # not the main thread: no signal reaches this code
        previous = None
    try:
        return _outcome(argv)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _outcome(argv: Sequence[str] | None) -> int:
    try:
        return run_command(argv)
    except WriteInterrupted as exc:
        _say_complete(exc.result.subject, exc.result.commit)
        return 0
    except LateInterrupt as exc:
        _say_complete(exc.subject, exc.commit)
        return 0
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return 130


def _say_complete(subject: str, commit: str) -> None:
    click.echo(
        f"interrupted, but the change was already written, so it is complete: "
        f"{subject} (commit {commit[:10]})",
        err=True,
    )


def run_command(argv: Sequence[str] | None = None) -> int:
    """``main`` without the handling of Ctrl-C: a command that runs other commands (``demo``)
    stops at an interrupt instead of going on with its next step; ``LateInterrupt`` when one
    arrived after the command's change was published."""
    handler = current()
    try:
        return _run(argv)
    finally:
        if handler is not None:
            handler.release()


def _run(argv: Sequence[str] | None) -> int:
    args = list(argv) if argv is not None else sys.argv[1:]
    try:
        result = app.main(args=args, prog_name="promptship", standalone_mode=False)
    except PromptshipError as exc:
        report(exc)
        return exc.exit_status
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except BrokenPipeError:
        return 0
    except click.exceptions.Abort as exc:
        # click turns every KeyboardInterrupt into Abort: one after a change was written must
        # reach 'main' as what it is.
        if isinstance(exc.__context__, WriteInterrupted):
            raise exc.__context__ from None
        raise
    except KeyboardInterrupt:
        raise
    except Exception as exc:
        handler = current()
        if handler is not None and handler.seen:
            raise KeyboardInterrupt from None
        report_crash(exc, args)
        return 3
    return result if isinstance(result, int) else 0


def report(exc: PromptshipError) -> None:
    echo_error(exc.message, exc.hint)


def report_crash(exc: Exception, argv: Sequence[str]) -> None:
    """A bug: the one-line request to report it, and where its evidence is kept."""
    from .crash import crash_report, write_crash_log

    text = crash_report(exc, argv)
    where = write_crash_log(text)
    if os.environ.get("PROMPTSHIP_TRACEBACK"):
        click.echo(text, err=True, nl=False)
    click.echo(
        f"internal error: {type(exc).__name__}: {exc}\n"
        "This is a bug in promptship; please report it with the command you ran and the "
        f"crash log (traceback and versions): {where}",
        err=True,
    )
