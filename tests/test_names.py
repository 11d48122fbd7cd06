from __future__ import annotations

import pytest

from registry.errors import InputError, InvalidName
from registry.names import Selector, check_name, parse_selector, parse_version_number


@pytest.mark.parametrize(
    "name",
    [
        "greeting",
        "customer-support-reply",
        "a",
        "v2.summary",
        "snake_case",
        "x" * 100,
        "a1-b2.c3_d4",
    ],
)
def test_valid_names(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "empty"),
        ("a/b", "path separator"),
        ("..", "'-', '_' or '.'"),
        ("../etc", "path separator"),
        ("has space", "white space"),
        ("Greeting", "uppercase"),
        ("x" * 300, "300 characters"),
        ("café", "non-ASCII"),
        ("a--b", "'-', '_' or '.'"),
        ("-lead", "'-', '_' or '.'"),
        ("trail.", "'-', '_' or '.'"),
        ("semi;colon", "';'"),
    ],
)
def test_invalid_names_say_why(name: str, reason: str) -> None:
    with pytest.raises(InvalidName) as caught:
        check_name(name)
    assert reason in caught.value.message
    assert caught.value.hint


@pytest.mark.parametrize(("text", "number"), [("3", 3), ("v3", 3), ("V12", 12), (" 7 ", 7), (4, 4)])
def test_versions(text: str | int, number: int) -> None:
    assert parse_version_number(text) == number


@pytest.mark.parametrize("text", ["0", "v0", "-1", "three", "3.0", "v", "", "1e3"])
def test_bad_versions(text: str) -> None:
    with pytest.raises(InputError):
        parse_version_number(text)


@pytest.mark.parametrize(
    ("text", "selector"),
    [
        ("greeting", Selector(prompt="greeting")),
        ("greeting@production", Selector(prompt="greeting")),
        ("greeting@latest", Selector(prompt="greeting", label="latest")),
        ("greeting@3", Selector(prompt="greeting", version=3)),
        ("greeting@v3", Selector(prompt="greeting", version=3)),
    ],
)
def test_selectors(text: str, selector: Selector) -> None:
    assert parse_selector(text) == selector


@pytest.mark.parametrize("text", ["greeting@", "greeting@newest", "Bad@1", "greeting@v0"])
def test_bad_selectors(text: str) -> None:
    with pytest.raises((InputError, InvalidName)):
        parse_selector(text)
