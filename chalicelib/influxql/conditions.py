"""WHERE-clause analysis: time range extraction, row evaluation, tag/field splitting.

`time_range` follows InfluxDB 1.x's ConditionExpr: time comparisons joined by AND become inclusive
nanosecond bounds and disappear from the condition; anything it cannot use raises ConditionError
with InfluxDB's message.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Callable, Collection, Mapping
from typing import Any

from chalicelib.kit.time import MAX_TIME, MIN_TIME, SECOND, format_rfc3339nano

from . import ast
from .generator import generate

_NS = SECOND


class ConditionError(Exception):
    """A condition InfluxDB refuses when compiling a statement (the message is InfluxDB's)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# Time strings ---------------------------------------------------------------------------------------

_DATETIME_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?$")
_RFC3339_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$")
_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def _zone(location: str | None) -> _dt.tzinfo | None:
    if not location or location == "UTC":
        return None
    import zoneinfo

    return zoneinfo.ZoneInfo(location)


def _to_ns(parts: tuple[str | None, ...], frac: str | None, offset_s: int | None, loc: str | None) -> int:
    year, month, day, hour, minute, second = (int(p) if p else 0 for p in parts)
    naive = _dt.datetime(year, month, day, hour, minute, second)  # validates the fields
    if offset_s is None:
        zone = _zone(loc)
        offset_s = int(naive.replace(tzinfo=zone).utcoffset().total_seconds()) if zone else 0  # type: ignore[union-attr]
    days = naive.date().toordinal() - _dt.date(1970, 1, 1).toordinal()
    secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_s
    nanos = int((frac or "")[:9].ljust(9, "0"))
    return secs * _NS + nanos


def parse_time(text: str, location: str | None = None) -> int:
    """A time string as InfluxQL accepts it in comparisons, in ns since the epoch.

    Accepts `YYYY-MM-DD HH:MM:SS[.fffffffff]` and `YYYY-MM-DD` (in `location`, default UTC) and
    RFC3339 with optional fractional seconds and `Z` or `±hh:mm`. Raises ConditionError("invalid time").
    """
    try:
        m = _DATETIME_RE.match(text)
        if m:
            return _to_ns(m.groups()[:6], m.group(7), None, location)
        m = _RFC3339_RE.match(text)
        if m:
            zone = m.group(8)
            offset = 0
            if zone != "Z":
                sign = -1 if zone[0] == "-" else 1
                offset = sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
            return _to_ns(m.groups()[:6], m.group(7), offset, location)
        m = _DATE_RE.match(text)
        if m:
            return _to_ns((*m.groups(), None, None, None), None, None, location)
    except ValueError:
        pass
    raise ConditionError("invalid time")


# Constant folding -------------------------------------------------------------------------------------


def _is_time_ref(expr: ast.Expr) -> bool:
    return isinstance(expr, ast.VarRef) and expr.val.lower() == "time"


def reduce_time_expr(expr: ast.Expr, now: int, location: str | None = None) -> ast.Expr:
    """Fold `now()`, durations, integers and times into a literal where InfluxDB would."""
    if isinstance(expr, ast.ParenExpr):
        inner = reduce_time_expr(expr.expr, now, location)
        return inner if isinstance(inner, ast.Literal) else ast.ParenExpr(inner)
    if isinstance(expr, ast.Call) and expr.name == "now" and not expr.args:
        return ast.TimeLiteral(now)
    if not isinstance(expr, ast.BinaryExpr):
        return expr
    lhs = reduce_time_expr(expr.lhs, now, location)
    rhs = reduce_time_expr(expr.rhs, now, location)
    folded = _fold(expr.op, lhs, rhs, location)
    return folded if folded is not None else ast.BinaryExpr(expr.op, lhs, rhs)


def _as_time(lit: ast.Expr, location: str | None) -> ast.Expr:
    if isinstance(lit, ast.StringLiteral) and lit.is_time_literal():
        try:
            return ast.TimeLiteral(parse_time(lit.val, location))
        except ConditionError:
            return lit
    return lit


def _fold(op: str, lhs: ast.Expr, rhs: ast.Expr, location: str | None) -> ast.Expr | None:
    if isinstance(lhs, ast.StringLiteral) and isinstance(rhs, ast.DurationLiteral):
        lhs = _as_time(lhs, location)
    if isinstance(rhs, ast.StringLiteral) and isinstance(lhs, ast.DurationLiteral):
        rhs = _as_time(rhs, location)
    timeish = (ast.DurationLiteral, ast.IntegerLiteral)
    if isinstance(lhs, ast.TimeLiteral):
        if isinstance(rhs, timeish) and op in ("+", "-"):
            return ast.TimeLiteral(lhs.val + rhs.val if op == "+" else lhs.val - rhs.val)
        if isinstance(rhs, ast.TimeLiteral) and op == "-":
            return ast.DurationLiteral(lhs.val - rhs.val)
        return None
    if isinstance(rhs, ast.TimeLiteral):
        if isinstance(lhs, timeish) and op == "+":
            return ast.TimeLiteral(lhs.val + rhs.val)
        return None
    if isinstance(lhs, ast.DurationLiteral) or isinstance(rhs, ast.DurationLiteral):
        return _fold_duration(op, lhs, rhs)
    if isinstance(lhs, ast.IntegerLiteral) and isinstance(rhs, ast.IntegerLiteral):
        return _fold_integer(op, lhs.val, rhs.val)
    numeric = (ast.IntegerLiteral, ast.NumberLiteral)
    if isinstance(lhs, numeric) and isinstance(rhs, numeric):
        a, b = float(lhs.val), float(rhs.val)
        if op == "+":
            return ast.NumberLiteral(a + b)
        if op == "-":
            return ast.NumberLiteral(a - b)
        if op == "*":
            return ast.NumberLiteral(a * b)
        if op == "/":
            return ast.NumberLiteral(0.0 if b == 0 else a / b)
        if op == "%":
            return ast.NumberLiteral(math.nan if b == 0 else math.fmod(a, b))
    return None


def _fold_duration(op: str, lhs: ast.Expr, rhs: ast.Expr) -> ast.Expr | None:
    ints = (ast.DurationLiteral, ast.IntegerLiteral)
    if not (isinstance(lhs, ints) and isinstance(rhs, ints)):
        return None
    a, b = lhs.val, rhs.val
    if op == "+":
        return ast.DurationLiteral(a + b)
    if op == "-":
        return ast.DurationLiteral(a - b)
    if op == "*":
        return ast.DurationLiteral(a * b)
    if op == "/" and isinstance(rhs, ast.IntegerLiteral):
        return ast.DurationLiteral(0 if b == 0 else int(a / b))
    return None


def _fold_integer(op: str, a: int, b: int) -> ast.Expr | None:
    if op == "+":
        return ast.IntegerLiteral(a + b)
    if op == "-":
        return ast.IntegerLiteral(a - b)
    if op == "*":
        return ast.IntegerLiteral(a * b)
    if op == "/":
        return ast.NumberLiteral(0.0 if b == 0 else a / b)
    if op == "%":
        return ast.IntegerLiteral(0 if b == 0 else int(math.fmod(a, b)))
    if op == "&":
        return ast.IntegerLiteral(a & b)
    if op == "|":
        return ast.IntegerLiteral(a | b)
    if op == "^":
        return ast.IntegerLiteral(a ^ b)
    return None


# time_range ----------------------------------------------------------------------------------------

_FLIP = {">": "<", "<": ">", ">=": "<=", "<=": ">="}
_Range = tuple[int | None, int | None]


def _time_value(expr: ast.Expr, now: int, location: str | None) -> int:
    if isinstance(expr, ast.StringLiteral) and expr.is_time_literal():
        expr = ast.TimeLiteral(parse_time(expr.val, location))
    lit = reduce_time_expr(expr, now, location)
    if isinstance(lit, ast.TimeLiteral):
        if lit.val > MAX_TIME:
            raise ConditionError(f"time {_format_seconds(lit.val)} overflows time literal")
        if lit.val < MIN_TIME + 1:
            raise ConditionError(f"time {_format_seconds(lit.val)} underflows time literal")
        return lit.val
    if isinstance(lit, ast.DurationLiteral | ast.IntegerLiteral):
        return lit.val
    if isinstance(lit, ast.NumberLiteral):
        return int(lit.val)
    raise ConditionError(f"invalid operation: time and *influxql.{type(lit).__name__} are not compatible")


def _format_seconds(ns: int) -> str:
    return format_rfc3339nano(ns - ns % _NS)


def _bounds(op: str, value: int) -> _Range:
    if op == ">":
        return value + 1, None
    if op == ">=":
        return value, None
    if op == "<":
        return None, value - 1
    if op == "<=":
        return None, value
    if op == "=":
        return value, value
    raise ConditionError(f"invalid time comparison operator: {op}")


def _intersect(a: _Range, b: _Range) -> _Range:
    lows = [v for v in (a[0], b[0]) if v is not None]
    highs = [v for v in (a[1], b[1]) if v is not None]
    return (max(lows) if lows else None), (min(highs) if highs else None)


def _split_time(expr: ast.Expr, now: int, location: str | None) -> tuple[ast.Expr | None, _Range]:
    if isinstance(expr, ast.BinaryExpr):
        op = expr.op
        if op in ("AND", "OR"):
            lhs, lrange = _split_time(expr.lhs, now, location)
            rhs, rrange = _split_time(expr.rhs, now, location)
            # influxd 1.x intersects the time ranges whatever the operator (OR included) and drops
            # the time comparisons from the remaining condition.
            rng = _intersect(lrange, rrange)
            if rhs is None:
                return lhs, rng
            if lhs is None:
                return rhs, rng
            return ast.BinaryExpr(op, lhs, rhs), rng
        if op in ("=", "!=", "<", "<=", ">", ">="):
            if _is_time_ref(expr.lhs):
                return None, _bounds(op, _time_value(expr.rhs, now, location))
            if _is_time_ref(expr.rhs):
                return None, _bounds(_FLIP.get(op, op), _time_value(expr.lhs, now, location))
        return expr, (None, None)
    if isinstance(expr, ast.ParenExpr):
        inner, rng = _split_time(expr.expr, now, location)
        return (None if inner is None else ast.ParenExpr(inner)), rng
    if isinstance(expr, ast.BooleanLiteral):
        return expr, (None, None)
    raise ConditionError(f"invalid condition expression: {generate(expr)}")


def time_range(
    condition: ast.Expr | None, now: int, *, location: str | None = None
) -> tuple[int, int, ast.Expr | None]:
    """(tmin, tmax, rest): inclusive ns bounds from the time comparisons, and the condition without them.

    Unbounded sides are MIN_TIME / MAX_TIME (InfluxDB 1.x then caps tmax at `now` for GROUP BY time
    queries; that is the executor's business). `location` is the statement's tz() for time strings
    without an offset. Raises ConditionError as InfluxDB does.
    """
    if condition is None:
        return MIN_TIME, MAX_TIME, None
    rest, (lo, hi) = _split_time(condition, now, location)
    if isinstance(rest, ast.BooleanLiteral) and rest.val:
        rest = None
    return (MIN_TIME if lo is None else lo), (MAX_TIME if hi is None else hi), rest


# Row evaluation ------------------------------------------------------------------------------------

_NUMERIC = (int, float)


def _is_number(v: Any) -> bool:
    return isinstance(v, _NUMERIC) and not isinstance(v, bool)


def _lookup(
    ref: ast.VarRef,
    tags: Mapping[str, str],
    fields: Mapping[str, Any] | None,
    field_keys: Collection[str] | None,
) -> Any:
    name = ref.val
    if ref.type == "tag":
        return tags.get(name, "")
    if ref.type:  # field or a field type
        return fields.get(name) if fields is not None else None
    if fields is not None and name in fields:
        return fields[name]
    if name in tags:
        return tags[name]
    if field_keys is not None and name in field_keys:
        return None
    return ""  # a tag the series does not have reads as the empty string


def _value(
    expr: ast.Expr,
    tags: Mapping[str, str],
    fields: Mapping[str, Any] | None,
    field_keys: Collection[str] | None,
) -> Any:
    if isinstance(expr, ast.VarRef):
        return _lookup(expr, tags, fields, field_keys)
    if isinstance(expr, ast.ParenExpr):
        return _value(expr.expr, tags, fields, field_keys)
    if isinstance(expr, ast.BinaryExpr):
        return _binary(expr, tags, fields, field_keys)
    if isinstance(expr, ast.StringLiteral | ast.BooleanLiteral | ast.DurationLiteral | ast.TimeLiteral):
        return expr.val
    if isinstance(expr, ast.IntegerLiteral | ast.UnsignedLiteral | ast.NumberLiteral):
        return expr.val
    if isinstance(expr, ast.RegexLiteral):
        return expr.compiled
    return None


def _compare(op: str, a: Any, b: Any) -> bool:
    if a is None or b is None:
        return False
    if isinstance(a, bool) or isinstance(b, bool):
        if not (isinstance(a, bool) and isinstance(b, bool)):
            return False
        if op == "=":
            return a == b
        if op == "!=":
            return a != b
        return False
    if not ((_is_number(a) and _is_number(b)) or (isinstance(a, str) and isinstance(b, str))):
        return False
    if op == "=":
        return bool(a == b)
    if op == "!=":
        return bool(a != b)
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    if op == ">=":
        return bool(a >= b)
    return False


def _arith(op: str, a: Any, b: Any) -> Any:
    if not (_is_number(a) and _is_number(b)):
        return None
    if isinstance(a, int) and isinstance(b, int):
        folded = _fold_integer(op, a, b)
        return None if folded is None else folded.val  # type: ignore[union-attr]
    return float_arithmetic(op, float(a), float(b))


def float_arithmetic(op: str, a: float, b: float) -> float | None:
    """InfluxQL's float arithmetic: division by zero is 0, modulo by zero NaN; None for other ops."""
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return 0.0 if b == 0 else a / b
    if op == "%":
        return math.nan if b == 0 else math.fmod(a, b)
    return None


def _binary(
    expr: ast.BinaryExpr,
    tags: Mapping[str, str],
    fields: Mapping[str, Any] | None,
    field_keys: Collection[str] | None,
) -> Any:
    op = expr.op
    if op == "AND":
        return _value(expr.lhs, tags, fields, field_keys) is True and (
            _value(expr.rhs, tags, fields, field_keys) is True
        )
    if op == "OR":
        return _value(expr.lhs, tags, fields, field_keys) is True or (
            _value(expr.rhs, tags, fields, field_keys) is True
        )
    lhs = _value(expr.lhs, tags, fields, field_keys)
    rhs = _value(expr.rhs, tags, fields, field_keys)
    if op in ("=~", "!~"):
        if not isinstance(lhs, str) or not isinstance(rhs, re.Pattern):
            return False
        found = rhs.search(lhs) is not None
        return found if op == "=~" else not found
    if op in ("=", "!=", "<", "<=", ">", ">="):
        return _compare(op, lhs, rhs)
    return _arith(op, lhs, rhs)


def eval_condition(
    expr: ast.Expr | None,
    tags: Mapping[str, str],
    fields: Mapping[str, Any] | None = None,
    *,
    field_keys: Collection[str] | None = None,
) -> bool:
    """Whether a row (its series' tags, its field values) satisfies a condition, as InfluxDB decides.

    Unhinted names read the field when `fields` has it, else the tag; a missing tag is '' and a
    missing field (a name in `field_keys`, or a `::field` ref) is null, which no comparison matches.
    Values of different types never compare equal (nor unequal). A None condition is true.
    """
    if expr is None:
        return True
    return _value(expr, tags, fields, field_keys) is True


# Tag/field split -----------------------------------------------------------------------------------


def _conjuncts(expr: ast.Expr) -> list[ast.Expr]:
    if isinstance(expr, ast.BinaryExpr) and expr.op == "AND":
        return _conjuncts(expr.lhs) + _conjuncts(expr.rhs)
    if isinstance(expr, ast.ParenExpr) and isinstance(expr.expr, ast.BinaryExpr | ast.ParenExpr):
        inner = _conjuncts(expr.expr)
        if len(inner) > 1:
            return inner
    return [expr]


def _and_all(parts: list[ast.Expr]) -> ast.Expr | None:
    if not parts:
        return None
    out = parts[0]
    for part in parts[1:]:
        out = ast.BinaryExpr("AND", out, part)
    return out


def tag_only(expr: ast.Expr | None, is_tag: Callable[[str], bool]) -> bool:
    """True when the expression reads only tags (so it can be decided from the series index)."""
    for node in ast.walk(expr):
        if isinstance(node, ast.VarRef):
            if node.type == "tag":
                continue
            if node.type or not is_tag(node.val):
                return False
        elif isinstance(node, ast.Call | ast.Wildcard | ast.Distinct):
            return False
    return True


def split_condition(
    expr: ast.Expr | None, is_tag: Callable[[str], bool]
) -> tuple[ast.Expr | None, ast.Expr | None]:
    """Split a condition's top-level AND terms into (tag part, field part); either may be None.

    The tag part selects series from the index; the field part must be evaluated per row. An OR that
    mixes tags and fields stays whole in the field part. Remove time comparisons first (time_range).
    """
    if expr is None:
        return None, None
    tag_parts: list[ast.Expr] = []
    field_parts: list[ast.Expr] = []
    for part in _conjuncts(expr):
        (tag_parts if tag_only(part, is_tag) else field_parts).append(part)
    return _and_all(tag_parts), _and_all(field_parts)


def tag_equals(expr: ast.Expr | None) -> tuple[ast.VarRef, frozenset[str]] | None:
    """(the ref, its values) of the first top-level AND term `ref = 'value'` (either side) or OR of
    such terms over one ref. Every row or series the condition accepts then has one of these values
    for ref, so when ref reads a tag the index may read only those series. `ref = ''` accepts series
    lacking the tag: never a hint. (Regexes such as `=~ /^(a|b)$/` are not read as hints.)"""
    if expr is None:
        return None
    for part in _conjuncts(expr):
        found = _equalities(part)
        if found is not None and all(found[1]):
            return found
    return None


def _equalities(expr: ast.Expr) -> tuple[ast.VarRef, frozenset[str]] | None:
    while isinstance(expr, ast.ParenExpr):
        expr = expr.expr
    if not isinstance(expr, ast.BinaryExpr):
        return None
    if expr.op == "OR":
        lhs, rhs = _equalities(expr.lhs), _equalities(expr.rhs)
        if lhs is None or rhs is None or lhs[0] != rhs[0]:
            return None
        return lhs[0], lhs[1] | rhs[1]
    if expr.op != "=":
        return None
    for ref, value in ((expr.lhs, expr.rhs), (expr.rhs, expr.lhs)):
        if isinstance(ref, ast.VarRef) and isinstance(value, ast.StringLiteral):
            return ref, frozenset((value.val,))
    return None
