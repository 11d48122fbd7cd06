"""The single exit point: every outcome of a command becomes an exit status here.

0 done; 1 refused (``error:`` and a hint on stderr, nothing written); 2 usage, or a check that
cannot run as asked; 130 interrupted; 3 a bug, with a one-line request to report it.
"""

from __future__ import annotations

from collections.abc import Sequence

import click

from registry.errors import PromptshipError

from .app import app
from .output import echo_error

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; the console script exits with what this returns."""
    try:
        result = app.main(
            args=list(argv) if argv is not None else None,
            prog_name="promptship",
            standalone_mode=False,
        )
    except PromptshipError as exc:
        report(exc)
        return exc.exit_status
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except BrokenPipeError:
        return 0
    except Exception as exc:
        click.echo(
            f"internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in promptship; please report it with the command you ran.",
            err=True,
        )
        return 3
    return result if isinstance(result, int) else 0


def report(exc: PromptshipError) -> None:
    echo_error(exc.message, exc.hint)
