"""Reading JSON that must mean one thing to every reader.

JSON parsers agree on well-formed documents but part ways on the rest: a key written twice (most
keep the last, some the first, some refuse), ``NaN`` and ``Infinity`` (not JSON, yet accepted by
Python), integers beyond 2**53 (JavaScript rounds them), and escapes that spell lone surrogates
(not text). ``loads_strict`` refuses all of them, so what it returns is what any reader reads.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .yamlsafe import MAX_SAFE_INTEGER

__all__ = ["loads_strict"]

_SURROGATE = re.compile("[\ud800-\udfff]")


def loads_strict(text: str, *, fractions: bool = True) -> Any:
    """The value of the JSON document ``text``, or ``ValueError`` saying why no reader could be
    trusted to read it the same; ``fractions=False`` refuses numbers with a fraction or an
    exponent too (YAML 1.1 reads ``1e5`` as text)."""
    try:
        value = json.loads(
            text,
            object_pairs_hook=_unique_keys,
            parse_constant=_no_constant,
            parse_float=float if fractions else _no_fraction,
            parse_int=_safe_integer,
        )
    except RecursionError:
        raise ValueError("nested too deeply") from None
    _refuse_surrogates(value)
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    body = dict(pairs)
    if len(body) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(
                    f"the key {key!r} appears twice; readers keep the first, the last, or refuse it"
                )
            seen.add(key)
    return body


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _no_fraction(text: str) -> Any:
    raise ValueError(
        f"the number {text[:20]} has a fraction or an exponent; only whole numbers belong here"
    )


def _safe_integer(text: str) -> int:
    if len(text.lstrip("-")) > 16 or abs(number := int(text)) > MAX_SAFE_INTEGER:
        raise ValueError(
            f"the number {text[:20]}{'...' if len(text) > 20 else ''} is beyond 2**53, "
            "where JSON readers in other languages round it"
        )
    return number


def _refuse_surrogates(value: Any) -> None:
    """Escapes can spell lone surrogates (\\ud800), which are not text."""
    stack = [value]
    while stack:
        item = stack.pop()
        if type(item) is str:
            if _SURROGATE.search(item):
                raise ValueError("a lone surrogate escape (\\ud800-\\udfff) is not text")
        elif type(item) is dict:
            stack.extend(item)
            stack.extend(item.values())
        elif type(item) is list:
            stack.extend(item)
