"""``export`` and ``verify``: every production version as one JSON file, and checking one."""

from __future__ import annotations

from pathlib import Path

import click

from ..session import Session, pass_session

_MAX_BUNDLE = 1 << 30


@click.command()
@click.option(
    "--ref",
    metavar="REV",
    help="Export the registry as of this branch, tag or commit (default: HEAD).",
)
@click.option(
    "--out",
    metavar="FILE",
    type=click.Path(dir_okay=False),
    help="Write the bundle to FILE (replaced in one step) instead of printing it.",
)
@pass_session
def export(session: Session, ref: str | None, out: str | None) -> None:
    """Write every production version, resolved, as one JSON file for builds.

    The file holds the commit it was read from and, for each prompt with a production version,
    its version, digest, type, content or messages, variables, metadata and who promoted it
    when. The same commit always gives the same bytes. Reads commits, never uncommitted files.
    docs/consumers.md describes the format."""
    from registry.read.export import export_bundle

    snapshot = session.snapshot(ref)
    data = export_bundle(snapshot, snapshot.commit_id)
    if out is None:
        click.echo(data, nl=False)
        return
    _write_atomically(Path(out), data)
    commit = snapshot.commit_id[:10] if snapshot.commit_id else "(no commit)"
    click.echo(f"exported the registry at commit {commit} to {out}", err=True)


def _write_atomically(path: Path, data: bytes) -> None:
    from registry.errors import InputError
    from registry.git.folder import write_atomic

    try:
        write_atomic(path, data)
    except OSError as exc:
        raise InputError(
            f"cannot write {path}: {exc.strerror}", hint="choose a folder you can write to"
        ) from None


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--against-repo",
    is_flag=True,
    help="Also compare it with an export of the commit it names, in this repository.",
)
@pass_session
def verify(session: Session, file: str, against_repo: bool) -> None:
    """Verify an export bundle FILE before using it.

    Checks its shape, recomputes every digest from the entry's own fields and every variable
    list from its templates. With --against-repo, it must also be byte for byte the export of
    the commit it names, which catches a consistently rewritten entry. Exit status 1 when
    something does not verify."""
    from registry.errors import InputError, InvalidBundle
    from registry.read.export import compare_bundle, load_bundle
    from registry.snapshot import DictSnapshot, Snapshot

    hint = "give the path of a file written by 'promptship export --out FILE'"
    try:
        with open(file, "rb") as handle:
            data = handle.read(_MAX_BUNDLE + 1)
    except OSError as exc:
        raise InputError(f"cannot read {file}: {exc.strerror}", hint=hint) from None
    if len(data) > _MAX_BUNDLE:
        raise InputError(f"{file}: larger than {_MAX_BUNDLE:,} bytes", hint=hint)
    commit = load_bundle(data, source=file)["commit"]
    if against_repo:
        # A bundle of a repository without commits is the export of an empty registry.
        snapshot: Snapshot = session.snapshot(commit) if commit else DictSnapshot()
        problems = compare_bundle(data, snapshot, commit, source=file)
        if problems:
            raise InvalidBundle(file, problems)
    where = " and matches the repository" if against_repo else ""
    click.echo(f"{file}: verified{where} (commit {commit or 'none'})")


COMMANDS = [export, verify]
