"""Row-level expression evaluation: InfluxQL arithmetic and math functions with InfluxDB 1.x's typing.

Values are Python `float`, `int` (integer and unsigned fields), `bool`, `str` or None. Any None operand
gives None; `int / int` is a float; division by zero gives 0 (influxd); `%` by zero gives 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from chalicelib.influxql import ast
from chalicelib.influxql.conditions import float_arithmetic

MATH_FUNCTIONS = {
    "abs", "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "exp", "ln", "log", "log2", "log10",
    "sqrt", "pow", "floor", "ceil", "round",
}  # fmt: skip

_INT64 = 1 << 63


def _wrap(value: int) -> int:
    """Go's int64 overflow wrap-around."""
    return (value + _INT64) % (1 << 64) - _INT64


def _is_number(value: Any) -> bool:
    return type(value) in (int, float)


def go_round(x: float) -> float:
    t = math.trunc(x)
    if abs(x - t) >= 0.5:
        return t + math.copysign(1, x)
    return float(t)


def _unary_float(fn: Callable[[float], float]) -> Callable[[Any], Any]:
    def call(value: Any) -> Any:
        if not _is_number(value):
            return None
        try:
            return fn(float(value))
        except (ValueError, OverflowError):
            return math.nan

    return call


def _keep_int(fn: Callable[[float], float]) -> Callable[[Any], Any]:
    def call(value: Any) -> Any:
        if type(value) is int:
            return value
        if type(value) is float:
            return fn(value)
        return None

    return call


def _ln(x: float) -> float:
    if x < 0:
        return math.nan
    return -math.inf if x == 0 else math.log(x)


def _log_base(fn: Callable[[float], float]) -> Callable[[float], float]:
    def call(x: float) -> float:
        if x < 0:
            return math.nan
        return -math.inf if x == 0 else fn(x)

    return call


def _sqrt(x: float) -> float:
    return math.nan if x < 0 else math.sqrt(x)


def _abs(value: Any) -> Any:
    if type(value) is int:
        return abs(value)
    if type(value) is float:
        return abs(value)
    return None


_UNARY: dict[str, Callable[[Any], Any]] = {
    "abs": _abs,
    "sin": _unary_float(math.sin),
    "cos": _unary_float(math.cos),
    "tan": _unary_float(math.tan),
    "asin": _unary_float(lambda x: math.asin(x) if -1 <= x <= 1 else math.nan),
    "acos": _unary_float(lambda x: math.acos(x) if -1 <= x <= 1 else math.nan),
    "atan": _unary_float(math.atan),
    "exp": _unary_float(lambda x: math.exp(x) if x < 710 else math.inf),
    "ln": _unary_float(_ln),
    "log2": _unary_float(_log_base(math.log2)),
    "log10": _unary_float(_log_base(math.log10)),
    "sqrt": _unary_float(_sqrt),
    "floor": _keep_int(lambda x: float(math.floor(x)) if math.isfinite(x) else x),
    "ceil": _keep_int(lambda x: float(math.ceil(x)) if math.isfinite(x) else x),
    "round": _keep_int(lambda x: go_round(x) if math.isfinite(x) else x),
}


def _pow(x: float, y: float) -> float:
    try:
        return math.pow(x, y)
    except (ValueError, ZeroDivisionError):
        return math.nan
    except OverflowError:
        return math.inf


def _log(x: float, base: float) -> float:
    if x < 0 or base < 0:
        return math.nan
    return _ln(x) / _ln(base) if base != 1 else math.inf


_BINARY: dict[str, Callable[[float, float], float]] = {"atan2": math.atan2, "pow": _pow, "log": _log}


def call_math(name: str, args: list[Any]) -> Any:
    if name in _BINARY:
        a, b = args
        if not (_is_number(a) and _is_number(b)):
            return None
        return _BINARY[name](float(a), float(b))
    return _UNARY[name](args[0])


def check_math_call(call: ast.Call) -> None:
    from chalicelib.influxql.engine.context import StatementError

    expected = 2 if call.name in _BINARY else 1
    if len(call.args) != expected:
        raise StatementError(
            f"invalid number of arguments for {call.name}, expected {expected}, got {len(call.args)}"
        )


def binary(op: str, a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    ta, tb = type(a), type(b)
    if ta is bool or tb is bool:
        if ta is bool and tb is bool:
            if op == "&":
                return a and b
            if op == "|":
                return a or b
            if op == "^":
                return a != b
        return None
    if ta is str or tb is str:
        if ta is str and tb is str and op == "+":
            return a + b
        return None
    if ta is int and tb is int:
        if op == "+":
            return _wrap(a + b)
        if op == "-":
            return _wrap(a - b)
        if op == "*":
            return _wrap(a * b)
        if op == "/":
            return 0.0 if b == 0 else a / b
        if op == "%":
            return 0 if b == 0 else int(math.fmod(a, b))
        if op == "&":
            return a & b
        if op == "|":
            return a | b
        if op == "^":
            return a ^ b
        return None
    return float_arithmetic(op, float(a), float(b))


def literal(expr: ast.Expr) -> tuple[bool, Any]:
    if isinstance(expr, ast.IntegerLiteral | ast.UnsignedLiteral | ast.NumberLiteral):
        return True, expr.val
    if isinstance(expr, ast.BooleanLiteral | ast.StringLiteral):
        return True, expr.val
    if isinstance(expr, ast.DurationLiteral):
        return True, expr.val
    if isinstance(expr, ast.NilLiteral):
        return True, None
    return False, None


def evaluate(expr: ast.Expr, lookup: Callable[[ast.Expr], Any]) -> Any:
    """The value of `expr`; `lookup` answers variable references and aggregate calls."""
    kind = type(expr)
    if kind is ast.VarRef or (kind is ast.Call and expr.name not in MATH_FUNCTIONS):  # type: ignore[attr-defined]
        return lookup(expr)  # the usual column: one field or one call, once per row
    if isinstance(expr, ast.ParenExpr):
        return evaluate(expr.expr, lookup)
    if isinstance(expr, ast.BinaryExpr):
        return binary(expr.op, evaluate(expr.lhs, lookup), evaluate(expr.rhs, lookup))
    if isinstance(expr, ast.Call) and expr.name in MATH_FUNCTIONS:
        return call_math(expr.name, [evaluate(a, lookup) for a in expr.args])
    is_literal, value = literal(expr)
    if is_literal:
        return value
    return lookup(expr)
