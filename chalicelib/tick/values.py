"""The values a TICKscript hands to the pipeline: what a literal or a variable evaluates to, and the
contract between the syntax (which produces them) and the pipeline (whose methods take them).

int -> int, float -> float, string -> str, bool -> bool, list -> list; the rest are these types."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from chalicelib.kit.time import go_duration

__all__ = ["Duration", "Lambda", "Regex", "Star", "TimeDimension", "go_duration"]


@dataclass(frozen=True, slots=True)
class Duration:
    """A duration literal (`10s`, `1m`, `5ms`); Kapacitor holds it as Go's time.Duration."""

    nanoseconds: int

    def __str__(self) -> str:
        return go_duration(self.nanoseconds)


@dataclass(frozen=True, slots=True)
class TimeDimension:
    """`time(10s)` or `time(10s, 5s)` in a batch query's `.groupBy()`: the interval and its offset."""

    length: int
    offset: int = 0

    def __str__(self) -> str:
        return f"time({go_duration(self.length)}, {go_duration(self.offset)})"


@dataclass(frozen=True, slots=True)
class Regex:
    """A regex literal `/.../`; `pattern` is the text between the slashes, with `\\/` unescaped."""

    pattern: str
    compiled: re.Pattern[str] = field(compare=False, repr=False)

    @classmethod
    def of(cls, pattern: str) -> Regex:
        return cls(pattern, re.compile(pattern))


@dataclass(frozen=True, slots=True)
class Star:
    """The `*` literal, as in `.groupBy(*)`."""


@dataclass(frozen=True, slots=True)
class Lambda:
    """A `lambda: ...` expression; `expression` is the syntax tree node of its body, evaluated per point
    by the execution, and `text` its formatted source (for DOT and errors)."""

    expression: object
    text: str
