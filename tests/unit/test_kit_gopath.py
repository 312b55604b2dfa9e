"""Go's path.Match (kit/gopath.py), which Kapacitor filters its lists with (`?pattern=`)."""

from __future__ import annotations

import pytest

from chalicelib.kit.gopath import go_match


@pytest.mark.parametrize(
    ("pattern", "name", "matches"),
    [
        ("a*", "abc", True),
        ("a*", "a/b", False),
        ("a?c", "abc", True),
        ("[a-c]x", "bx", True),
        ("[^a-c]x", "dx", True),
        ("[^a-c]x", "ax", False),
        ("[c-a]x", "bx", False),  # a reversed range matches nothing
        ("\\*", "*", True),
        ("a.b", "axb", False),
        ("abc", "ab", False),
    ],
)
def test_go_match(pattern, name, matches):
    assert go_match(pattern, name) is matches


@pytest.mark.parametrize("pattern", ["[", "[a", "[]a]", "a\\", "[a-]", "[^]"])
def test_go_match_refuses_malformed_patterns(pattern):
    with pytest.raises(ValueError, match="syntax error in pattern"):
        go_match(pattern, "a")
