"""Turning command-line input into values: content from --content/--file, KEY=VALUE pairs."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from registry.errors import InputError

__all__ = ["parse_variables", "read_content", "read_text_file"]

_MAX_INPUT = 1 << 20


def read_text_file(path: str) -> str:
    """A UTF-8 text file (``-`` for standard input) of at most 1 MiB."""
    if path == "-":
        data = sys.stdin.buffer.read(_MAX_INPUT + 1)
    else:
        file = Path(path)
        if not file.is_file():
            raise InputError(
                f"{path}: no such file",
                hint="give the path of a text file, or - for standard input",
            )
        with file.open("rb") as handle:
            data = handle.read(_MAX_INPUT + 1)
    if len(data) > _MAX_INPUT:
        raise InputError(
            f"{path}: larger than {_MAX_INPUT:,} bytes", hint="a prompt file holds at most 1 MiB"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not UTF-8 text (byte {exc.start})", hint="save the file as UTF-8"
        ) from None


def read_content(content: str | None, file: str | None) -> str | None:
    if content is not None and file is not None:
        raise click.UsageError("give --content or --file, not both")
    if file is not None:
        return read_text_file(file)
    return content


def parse_variables(pairs: Sequence[str], vars_file: str | None) -> dict[str, Any]:
    """Values from ``--vars-file`` (a YAML or JSON mapping), then ``--var KEY=VALUE`` over them."""
    from registry.yamlsafe import YamlError, load_yaml

    values: dict[str, Any] = {}
    if vars_file is not None:
        text = read_text_file(vars_file)
        try:
            loaded = load_yaml(text.encode("utf-8"), path=vars_file)
        except YamlError as exc:
            raise InputError(
                str(exc.problem), hint="a vars file is a YAML or JSON mapping"
            ) from None
        if not isinstance(loaded, dict) or not all(isinstance(k, str) for k in loaded):
            raise InputError(
                f"{vars_file}: not a mapping of names to values", hint="e.g. name: Ada"
            )
        values.update(loaded)
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.UsageError(f"--var {pair!r}: write KEY=VALUE")
        values[key] = value
    return values
