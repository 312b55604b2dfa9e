"""Go's path.Match, which Kapacitor filters its lists with (`?pattern=`): `*` and `?` stop at `/`,
classes negate with `^`, `\\` escapes, and a malformed pattern is an error rather than a literal."""

from __future__ import annotations

import re
from functools import lru_cache

BAD_PATTERN = "syntax error in pattern"


def go_match(pattern: str, name: str) -> bool:
    """Whether `name` matches the whole of `pattern`; ValueError(BAD_PATTERN) for a malformed one."""
    return _compiled(pattern).fullmatch(name) is not None


@lru_cache(maxsize=64)
def _compiled(pattern: str) -> re.Pattern[str]:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            text, i = _class(pattern, i + 1)
            out.append(text)
            continue
        elif ch == "\\":
            if i + 1 == len(pattern):
                raise ValueError(BAD_PATTERN)
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def _class(pattern: str, i: int) -> tuple[str, int]:
    """The regex of the class whose body starts at `i`, and the index just past its `]`."""
    negated = i < len(pattern) and pattern[i] == "^"
    i += negated
    ranges: list[str] = []
    count = 0
    while True:
        if i >= len(pattern):
            raise ValueError(BAD_PATTERN)
        if pattern[i] == "]" and count:
            break
        low, i = _class_char(pattern, i)
        high = low
        if i < len(pattern) and pattern[i] == "-":
            high, i = _class_char(pattern, i + 1)
        count += 1
        if low <= high:  # Go accepts a reversed range, which matches nothing
            ranges.append(f"{re.escape(low)}-{re.escape(high)}")
    if not ranges:
        return ("(?s:.)" if negated else "(?!)"), i + 1
    return f"[{'^' if negated else ''}{''.join(ranges)}]", i + 1


def _class_char(pattern: str, i: int) -> tuple[str, int]:
    if i >= len(pattern) or pattern[i] in "-]":
        raise ValueError(BAD_PATTERN)
    if pattern[i] == "\\":
        i += 1
        if i >= len(pattern):
            raise ValueError(BAD_PATTERN)
    return pattern[i], i + 1
