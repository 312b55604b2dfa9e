"""Timex, the time-expression language Winchester triggers use (`$last + 1h`, `day`, `$a to $b @ 6h`).

Triggers name their expiry and distinguishing ranges in it, so it is parsed once when definitions load and
evaluated per event with datetimes bound to `$variables`. A hand-written lexer and recursive-descent parser
follow StackTach's grammar: `to` binds loosest, `+ - @` apply a duration left to right, and the range
functions `hour`/`day`/`month`/`year` give a range "pinned" to its timestamp that wraps on arithmetic so it
keeps containing it. `TimeRange` is a value (equality by bounds) because streams are distinguished by it.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.kit.errors import INVALID, TicklessError, invalid

UNITS = ("year", "month", "day", "hour", "minute", "second", "microsecond")
_UNIT_WORDS = {
    "us": "microsecond",
    "s": "second",
    "sec": "second",
    "m": "minute",
    "min": "minute",
    "h": "hour",
    "hr": "hour",
    "d": "day",
    "mo": "month",
    "y": "year",
    "yr": "year",
}
# Sizes used to give a bare number a unit against a range (a month counts as 28 days, as in timex).
_UNIT_SECONDS = {"year": 365 * 86400, "month": 28 * 86400, "day": 86400, "hour": 3600, "minute": 60}
_RANGE_FUNCTIONS = ("hour", "day", "month", "year")
JSON_TYPE = "timex.TimeRange"


class UndefinedVariable(TicklessError):
    """An expression names a `$variable` the caller did not bind: triggers treat it as a mismatch."""

    def __init__(self, name: str) -> None:
        super().__init__(INVALID, f"time expression variable ${name} is not defined")
        self.name = name


@dataclass(frozen=True, slots=True)
class Duration:
    """`1d 6h`-style amounts; `unknown` is a bare number whose unit a range decides (`day @ 2`)."""

    year: int | None = None
    month: int | None = None
    day: int | None = None
    hour: int | None = None
    minute: int | None = None
    second: int | None = None
    microsecond: int | None = None
    unknown: int | None = None

    @property
    def ambiguous(self) -> bool:
        return self.unknown is not None

    def parts(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}

    def __add__(self, other: Duration) -> Duration:
        merged = self.parts()
        for unit, value in other.parts().items():
            merged[unit] = merged.get(unit, 0) + value
        return Duration(**merged)

    def in_context(self, seconds: float) -> Duration:
        """Give the bare number the unit one step finer than the range's length."""
        if not self.ambiguous:
            return self
        seconds = abs(seconds)
        unit = "microsecond"
        for size_unit, finer in (("year", "month"), ("month", "day"), ("day", "hour"), ("hour", "minute")):
            if seconds >= _UNIT_SECONDS[size_unit]:
                unit = finer
                break
        else:
            if seconds >= _UNIT_SECONDS["minute"]:
                unit = "second"
        parts = self.parts()
        bare = parts.pop("unknown")
        parts[unit] = parts.get(unit, 0) + bare
        return Duration(**parts)

    def shorter_than(self, other: Duration) -> bool:
        """Timex's ordering: the coarsest unit either sets decides, a set unit outranking an unset one."""
        for unit in UNITS:
            ours, theirs = getattr(self, unit), getattr(other, unit)
            if ours is not None and theirs is not None:
                return ours < theirs
            if ours is not None or theirs is not None:
                return ours is None
        return False


def _clamped(dt: datetime, year: int, month: int) -> datetime:
    # timex raises on Jan 31 + 1mo; the month's last day is the useful answer.
    return dt.replace(year=year, month=month, day=min(dt.day, calendar.monthrange(year, month)[1]))


def _shift(dt: datetime, duration: Duration, sign: int) -> datetime:
    delta = timedelta(
        days=duration.day or 0,
        hours=duration.hour or 0,
        minutes=duration.minute or 0,
        seconds=duration.second or 0,
        microseconds=duration.microsecond or 0,
    )
    dt = dt + delta if sign > 0 else dt - delta
    months = sign * ((duration.year or 0) * 12 + (duration.month or 0))
    if months:
        total = dt.year * 12 + dt.month - 1 + months
        try:
            dt = _clamped(dt, total // 12, total % 12 + 1)
        except ValueError as e:
            raise invalid(f"time expression result out of range: {e}") from e
    return dt


def _replace(dt: datetime, duration: Duration) -> datetime:
    parts = duration.parts()
    parts.pop("unknown", None)
    try:
        return dt.replace(**parts)
    except (ValueError, TypeError) as e:
        raise invalid(f"time expression replace failed: {e}") from e


def _iso(dt: datetime) -> str:
    """StackTach writes naive UTC ISO strings (`2015-02-27T00:00:00`)."""
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    return dt.isoformat()


@dataclass(frozen=True, slots=True)
class Timestamp:
    """A single instant, with the same begin/end/`in` interface as a range."""

    timestamp: datetime

    @property
    def begin(self) -> datetime:
        return self.timestamp

    @property
    def end(self) -> datetime:
        return self.timestamp

    @property
    def is_range(self) -> bool:
        return False

    def __contains__(self, dt: datetime) -> bool:
        return dt == self.timestamp


class TimeRange:
    """`[begin, end)`. A range from `day`/`hour`/... also remembers the instant it was built around, which
    is not part of its identity: two ranges with the same bounds are the same distinguishing value."""

    __slots__ = ("begin", "end", "pinned_to", "unit")

    def __init__(
        self, begin: datetime, end: datetime, pinned_to: datetime | None = None, unit: str | None = None
    ) -> None:
        self.begin = begin
        self.end = end
        self.pinned_to = pinned_to
        self.unit = unit

    @property
    def timestamp(self) -> datetime:
        return self.begin

    @property
    def is_range(self) -> bool:
        return True

    def total_seconds(self) -> float:
        return (self.end - self.begin).total_seconds()

    def __contains__(self, dt: datetime) -> bool:
        return self.begin <= dt < self.end

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TimeRange):
            return NotImplemented
        return (self.begin, self.end) == (other.begin, other.end)

    def __hash__(self) -> int:
        return hash((TimeRange, self.begin, self.end))

    def __repr__(self) -> str:
        return f"TimeRange({self.begin!r}, {self.end!r})"

    def to_json(self) -> dict[str, str]:
        return {"__type__": JSON_TYPE, "begin": _iso(self.begin), "end": _iso(self.end)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TimeRange:
        if data.get("__type__") != JSON_TYPE:
            raise invalid(f"not a {JSON_TYPE}: {data!r}")
        try:
            return cls(datetime.fromisoformat(data["begin"]), datetime.fromisoformat(data["end"]))
        except (KeyError, TypeError, ValueError) as e:
            raise invalid(f"invalid {JSON_TYPE}: {data!r}") from e


Value = Timestamp | TimeRange


def unit_range(unit: str, dt: datetime) -> TimeRange:
    """The hour/day/month/year containing `dt`, pinned to it."""
    if unit == "hour":
        begin = dt.replace(minute=0, second=0, microsecond=0)
        end = begin + timedelta(hours=1)
    elif unit == "day":
        begin = dt.replace(hour=0, minute=0, second=0, microsecond=0)
        end = begin + timedelta(days=1)
    elif unit == "month":
        begin = dt.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        end = _shift(begin, Duration(month=1), 1)
    elif unit == "year":
        begin = dt.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
        end = _shift(begin, Duration(year=1), 1)
    else:
        raise invalid(f"unknown time range function {unit!r}")
    return TimeRange(begin, end, dt, unit)


def _repin(rng: TimeRange, pinned_to: datetime, unit: str) -> TimeRange:
    """Slide a shifted pinned range by its own length until it contains its instant again."""
    step = timedelta(seconds=rng.total_seconds())
    if step > timedelta(0):
        while rng.begin > pinned_to:
            rng = TimeRange(rng.begin - step, rng.begin)
        while rng.end <= pinned_to:
            rng = TimeRange(rng.end, rng.end + step)
    return TimeRange(rng.begin, rng.end, pinned_to, unit)


def apply_duration(value: Value, op: str, duration: Duration) -> Value:
    """`+`, `-` or `@` (replace fields) a duration on a timestamp or on both ends of a range."""

    def one(dt: datetime, d: Duration) -> datetime:
        if op == "@":
            return _replace(dt, d)
        return _shift(dt, d, 1 if op == "+" else -1)

    if isinstance(value, Timestamp):
        if duration.ambiguous:
            raise invalid("durations must have a unit for timestamps")
        return Timestamp(one(value.timestamp, duration))
    resolved = duration.in_context(value.total_seconds())
    result = TimeRange(one(value.begin, resolved), one(value.end, resolved))
    if value.pinned_to is not None and value.unit and duration.shorter_than(Duration(**{value.unit: 1})):
        return _repin(result, value.pinned_to, value.unit)
    return result


# --- syntax tree ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Var:
    name: str
    is_range = False

    def eval(self, env: dict[str, datetime]) -> Value:
        if self.name not in env:
            raise UndefinedVariable(self.name)
        return Timestamp(env[self.name])


@dataclass(frozen=True, slots=True)
class _Func:
    name: str
    arg: Any
    is_range = True

    def eval(self, env: dict[str, datetime]) -> Value:
        return unit_range(self.name, self.arg.eval(env).timestamp)


@dataclass(frozen=True, slots=True)
class _Op:
    expr: Any
    op: str
    duration: Duration

    @property
    def is_range(self) -> bool:
        return bool(self.expr.is_range)

    def eval(self, env: dict[str, datetime]) -> Value:
        return apply_duration(self.expr.eval(env), self.op, self.duration)


@dataclass(frozen=True, slots=True)
class _Span:
    begin: Any
    end: Any
    is_range = True

    def eval(self, env: dict[str, datetime]) -> Value:
        return TimeRange(self.begin.eval(env).timestamp, self.end.eval(env).timestamp)


# --- lexer and parser ----------------------------------------------------------------------------------

_TOKEN = re.compile(r"(?P<ws>\s+)|(?P<num>\d+)|(?P<word>[A-Za-z_][A-Za-z0-9_]*)|(?P<sym>[-+@$()])")


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # num, unit, to, ident, one of "+-@$()", or end
    value: Any
    pos: int
    raw: str = ""


def _lex(text: str) -> Iterator[_Tok]:
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise invalid(f"invalid time expression {text!r}: unexpected character {text[pos]!r} at {pos}")
        if m.lastgroup == "num":
            yield _Tok("num", int(m.group()), pos, m.group())
        elif m.lastgroup == "word":
            word = m.group()
            if word == "to":
                yield _Tok("to", word, pos, word)
            elif word in _UNIT_WORDS:
                yield _Tok("unit", _UNIT_WORDS[word], pos, word)
            else:
                yield _Tok("ident", word, pos, word)
        elif m.lastgroup == "sym":
            yield _Tok(m.group(), m.group(), pos, m.group())
        pos = m.end()
    yield _Tok("end", None, pos)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = list(_lex(text))
        self.i = 0

    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def fail(self, what: str) -> TicklessError:
        tok = self.tok
        near = "end of expression" if tok.kind == "end" else repr(tok.raw)
        return invalid(f"invalid time expression {self.text!r}: {what} near {near} at {tok.pos}")

    def take(self, kind: str) -> _Tok:
        if self.tok.kind != kind:
            raise self.fail("expected a variable name" if kind == "ident" else f"expected {kind!r}")
        tok = self.tok
        self.i += 1
        return tok

    def parse(self) -> Any:
        node = self.expression()
        if self.tok.kind != "end":
            raise self.fail("unexpected token")
        return node

    def expression(self) -> Any:
        left = self.chain()
        if self.tok.kind != "to":
            return left
        if left.is_range:
            raise self.fail("'to' needs a timestamp on its left")
        self.i += 1
        right = self.chain()
        if right.is_range:
            raise self.fail("'to' needs a timestamp on its right")
        return _Span(left, right)

    def chain(self) -> Any:
        node = self.primary()
        while self.tok.kind in ("+", "-", "@"):
            op = self.take(self.tok.kind).value
            duration = self.duration()
            if duration.ambiguous and not node.is_range:
                raise self.fail("durations must have a unit for timestamps")
            node = _Op(node, op, duration)
        return node

    def primary(self) -> Any:
        kind = self.tok.kind
        if kind == "$":
            self.i += 1
            return _Var(self.take("ident").value)
        if kind == "ident":
            name = self.take("ident").value
            if name not in _RANGE_FUNCTIONS:
                self.i -= 1
                raise self.fail(f"unknown function {name!r}")
            if self.tok.kind != "(":
                return _Func(name, _Var("timestamp"))
            self.i += 1
            arg = self.chain()
            if arg.is_range:
                raise self.fail(f"{name}() takes a timestamp")
            self.take(")")
            return _Func(name, arg)
        if kind == "(":
            self.i += 1
            node = self.expression()
            self.take(")")
            return node
        raise self.fail("expected a $variable, a range function or '('")

    def duration(self) -> Duration:
        total: Duration | None = None
        while self.tok.kind == "num":
            number = self.take("num").value
            if self.tok.kind == "unit":
                part = Duration(**{self.take("unit").value: number})
            else:
                part = Duration(unknown=number)
            total = part if total is None else total + part
        if total is None:
            raise self.fail("expected a duration")
        return total


class Expression:
    """A parsed expression; call it with datetimes for its variables (`$timestamp` defaults to now, aware
    UTC like the distiller's event times; Winchester used naive UTC)."""

    __slots__ = ("_tree", "text")

    def __init__(self, text: str, tree: Any) -> None:
        self.text = text
        self._tree = tree

    @property
    def is_range(self) -> bool:
        return bool(self._tree.is_range)

    def __call__(self, **variables: datetime) -> Value:
        env = dict(variables)
        env.setdefault("timestamp", datetime.now(UTC))
        return self._tree.eval(env)

    def __repr__(self) -> str:
        return f"timex.parse({self.text!r})"


def parse(text: str) -> Expression:
    if not isinstance(text, str):
        raise invalid(f"time expression must be a string, got {text!r}")
    return Expression(text, _Parser(text).parse())
