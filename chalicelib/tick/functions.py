"""The built-in functions a lambda expression may call, with Kapacitor's signatures, semantics and error
texts (tick/stateful/functions.go): conversions, Go's math package, strings (Go's byte offsets), regexReplace,
time parts, humanBytes, if, isPresent, and the stateful count, sigma and spread.

A function is a signature table (argument types -> result type) and a call. Stateful functions keep their
state in a plain dict owned by the expression, so it can be persisted between invocations.
"""

from __future__ import annotations

import math
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from chalicelib.kit.gofloat import format_float
from chalicelib.tick.parser import go_trim_space, parse_influxql_duration
from chalicelib.tick.tokens import is_space
from chalicelib.tick.values import Duration

MIN_INT64 = -(1 << 63)
MAX_INT64 = (1 << 63) - 1


# -- value types --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Time:
    """A point's time (`"time"` in a lambda) or now(): nanoseconds since the epoch, read in UTC."""

    nanoseconds: int

    def datetime(self) -> datetime:
        seconds, _ = divmod(self.nanoseconds, 1_000_000_000)
        return datetime.fromtimestamp(seconds, UTC)


class _Missing:
    """A referenced field or tag the point does not have."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()

# Kapacitor's value type names (ast.ValueType.String()).
FLOAT, INT, STRING, BOOL, REGEX = "float", "int", "string", "boolean", "regex"
TIME, DURATION = "time", "duration"
LAMBDA, LIST, STAR, MISSING_TYPE, INVALID = "lambda", "list", "star", "missing", "invalid type"


def type_of(value: object) -> str:
    """The Kapacitor type of a runtime value (ast.TypeOf)."""
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return INT
    if isinstance(value, float):
        return FLOAT
    if isinstance(value, str):
        return STRING
    if isinstance(value, re.Pattern):
        return REGEX
    if isinstance(value, Time):
        return TIME
    if isinstance(value, Duration):
        return DURATION
    if value is MISSING:
        return MISSING_TYPE
    if isinstance(value, list):
        return LIST
    return INVALID


def go_type_name(value: object) -> str:
    """Go's %T of the value Kapacitor would hold."""
    names = {
        BOOL: "bool",
        INT: "int64",
        FLOAT: "float64",
        STRING: "string",
        REGEX: "*regexp.Regexp",
        TIME: "time.Time",
        DURATION: "time.Duration",
        MISSING_TYPE: "*ast.Missing",
        LIST: "[]interface {}",
    }
    return names.get(type_of(value), "<nil>")


def wrap64(value: int) -> int:
    """Go's int64 arithmetic wraps around."""
    return ((value + (1 << 63)) & ((1 << 64) - 1)) - (1 << 63)


def float_to_int64(value: float) -> int:
    """Go's int64(f) on amd64: truncation, and the most negative int64 for what does not fit."""
    if math.isnan(value) or math.isinf(value) or not (-(2.0**63) <= value < 2.0**63):
        return MIN_INT64
    return int(value)


def go_float_v(value: float) -> str:
    """Go's %v of a float64: shortest digits, in exponent form below 1e-4 and from 1e21."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if math.copysign(1, value) < 0 else "0"
    shortest = Decimal(repr(value))
    exponent = shortest.adjusted()
    if -4 <= exponent < 21:
        return format_float(value)
    digits = "".join(map(str, shortest.as_tuple().digits)).rstrip("0") or "0"
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    sign = "-" if value < 0 else ""
    return f"{sign}{mantissa}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"


def format_influxql_duration(ns: int) -> str:
    """InfluxQL's duration text (string(duration)): the largest unit that divides it exactly."""
    if ns == 0:
        return "0s"
    for unit, suffix in (
        (604_800_000_000_000, "w"),
        (86_400_000_000_000, "d"),
        (3_600_000_000_000, "h"),
        (60_000_000_000, "m"),
        (1_000_000_000, "s"),
        (1_000_000, "ms"),
        (1_000, "u"),
    ):
        if ns % unit == 0:
            return f"{_go_div(ns, unit)}{suffix}"
    return f"{ns}ns"


def _go_div(a: int, b: int) -> int:
    quotient = abs(a) // abs(b)
    return quotient if (a < 0) == (b < 0) else -quotient


class CallError(Exception):
    """A function refused its arguments; the caller words it as `error calling "f": ...`."""


# -- the function table ------------------------------------------------------------------------------------


@dataclass(slots=True)
class Function:
    name: str
    signatures: dict[tuple[str, ...], str]  # argument types -> result type
    call: Callable[..., Any]
    stateful: bool = False
    initial: Callable[[], dict] = field(default=dict)


FUNCTIONS: dict[str, Function] = {}


def _register(name: str, signatures: dict[tuple[str, ...], str], stateful: bool = False, initial=dict):
    def decorate(call):
        FUNCTIONS[name] = Function(name, signatures, call, stateful, initial)
        return call

    return decorate


def _arity(name: str, args: tuple, count: int, words: str) -> None:
    if len(args) != count:
        raise CallError(f"{name} expects exactly {words}")


# conversions


@_register("bool", {(BOOL,): BOOL, (STRING,): BOOL, (INT,): BOOL, (FLOAT,): BOOL})
def _bool(*args):
    _arity("bool", args, 1, "one argument")
    (value,) = args
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return parse_go_bool(value)
    if isinstance(value, int | float):
        if value == 0:
            return False
        if value == 1:
            return True
        shown = go_float_v(value) if isinstance(value, float) else str(value)
        raise CallError(f"cannot convert {shown} to boolean")
    raise CallError(f"cannot convert {go_type_name(value)} to boolean")


def parse_go_bool(text: str) -> bool:
    if text in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if text in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise CallError(f'strconv.ParseBool: parsing "{go_quote_inner(text)}": invalid syntax')


@_register("int", {(BOOL,): INT, (STRING,): INT, (INT,): INT, (FLOAT,): INT})
def _int(*args):
    _arity("int", args, 1, "one argument")
    (value,) = args
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return float_to_int64(value)
    if isinstance(value, str):
        return parse_go_int(value)
    if isinstance(value, Duration):
        return value.nanoseconds
    raise CallError(f"cannot convert {go_type_name(value)} to integer")


_GO_INT = re.compile(r"[+-]?[0-9]+")
_GO_FLOAT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_GO_FLOAT_SPECIAL = re.compile(r"[+-]?(?:inf|infinity|nan)", re.IGNORECASE)


def parse_go_int(text: str) -> int:
    quoted = go_quote_inner(text)
    if not _GO_INT.fullmatch(text):
        raise CallError(f'strconv.ParseInt: parsing "{quoted}": invalid syntax')
    digits = text.lstrip("+-").lstrip("0") or "0"
    if len(digits) > 19:
        raise CallError(f'strconv.ParseInt: parsing "{quoted}": value out of range')
    value = int(text)
    if not MIN_INT64 <= value <= MAX_INT64:
        raise CallError(f'strconv.ParseInt: parsing "{quoted}": value out of range')
    return value


def parse_go_float(text: str) -> float:
    quoted = go_quote_inner(text)
    if _GO_FLOAT_SPECIAL.fullmatch(text):
        return float(text)
    if not _GO_FLOAT.fullmatch(text):
        raise CallError(f'strconv.ParseFloat: parsing "{quoted}": invalid syntax')
    value = float(text)
    if math.isinf(value):
        raise CallError(f'strconv.ParseFloat: parsing "{quoted}": value out of range')
    return value


def go_quote_inner(text: str) -> str:
    """The inside of Go's %q of a string (strconv.Quote without the outer quotes)."""
    out = []
    for ch in text:
        code = ord(ch)
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif ch.isprintable() or ch == " ":
            out.append(ch)
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return "".join(out)


@_register("float", {(BOOL,): FLOAT, (STRING,): FLOAT, (INT,): FLOAT, (FLOAT,): FLOAT})
def _float(*args):
    _arity("float", args, 1, "one argument")
    (value,) = args
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        return parse_go_float(value)
    raise CallError(f"cannot convert {go_type_name(value)} to float")


@_register("string", {(t,): STRING for t in (BOOL, STRING, INT, FLOAT, DURATION)})
def _string(*args):
    _arity("string", args, 1, "one argument")
    (value,) = args
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_float(value)
    if isinstance(value, Duration):
        return format_influxql_duration(value.nanoseconds)
    if isinstance(value, str):
        return value
    raise CallError(f"cannot convert {go_type_name(value)} to string")


# Kapacitor's table reuses one key array, so a string needs the unit argument too.
@_register(
    "duration",
    {(DURATION,): DURATION, **{(t, DURATION): DURATION for t in (INT, FLOAT, STRING)}},
)
def _duration(*args):
    if len(args) not in (1, 2):
        raise CallError(
            "duration expects one or two arguments duration(value, unit) where unit is optional depending "
            "on the type of value."
        )
    value = args[0]

    def unit() -> int:
        if len(args) != 2:
            raise CallError("duration expects unit argument for int and float values")
        if not isinstance(args[1], Duration):
            raise CallError(f"invalid duration unit type: {go_type_name(args[1])}")
        return args[1].nanoseconds

    if isinstance(value, Duration):
        return value
    if isinstance(value, bool):
        raise CallError("cannot convert bool to duration")
    if isinstance(value, int):
        return Duration(wrap64(value * unit()))
    if isinstance(value, float):
        return Duration(float_to_int64(value * float(unit())))
    if isinstance(value, str):
        try:
            return Duration(parse_influxql_duration(value))
        except ValueError:
            raise CallError(f'invalid duration string "{go_quote_inner(value)}"') from None
    raise CallError(f"cannot convert {go_type_name(value)} to duration")


# math: Go's math package returns NaN or ±Inf where Python's raises


def _go_math(f: Callable[..., float], *special: Callable[..., float | None]) -> Callable[..., float]:
    def call(*xs: float) -> float:
        for rule in special:
            result = rule(*xs)
            if result is not None:
                return result
        try:
            return f(*xs)
        except (ValueError, ZeroDivisionError):
            return math.nan
        except OverflowError:
            return math.inf

    return call


def _log_rule(x: float) -> float | None:
    if x == 0:
        return -math.inf
    if x < 0 or math.isnan(x):
        return math.nan
    return None


def _log1p_rule(x: float) -> float | None:
    if x == -1:
        return -math.inf
    if x < -1:
        return math.nan
    return None


def _atanh_rule(x: float) -> float | None:
    if x == 1:
        return math.inf
    if x == -1:
        return -math.inf
    return None


def _gamma_rule(x: float) -> float | None:
    if x == 0:
        return math.copysign(math.inf, x)
    if (x < 0 and x == math.floor(x)) or x == -math.inf:
        return math.nan
    return None


def _exp_overflow(f: Callable[[float], float]) -> Callable[[float], float]:
    def call(x: float) -> float:
        try:
            return f(x)
        except OverflowError:
            return math.inf

    return call


def _logb(x: float) -> float:
    if x == 0:
        return -math.inf
    if math.isinf(x):
        return math.inf
    if math.isnan(x):
        return math.nan
    return float(math.frexp(x)[1] - 1)


def _pow(x: float, y: float) -> float:
    odd_integer = y == math.floor(y) and not math.isinf(y) and int(y) % 2 == 1
    if x == 0 and y < 0:  # Go: ±Inf, the sign of zero kept for odd integer powers
        return math.copysign(math.inf, x) if odd_integer else math.inf
    try:
        return math.pow(x, y)
    except OverflowError:
        return -math.inf if x < 0 and odd_integer else math.inf
    except ValueError:
        return math.nan


def _max(x: float, y: float) -> float:
    if (math.isinf(x) and x > 0) or (math.isinf(y) and y > 0):
        return math.inf
    if math.isnan(x) or math.isnan(y):
        return math.nan
    if x == 0 and y == 0:
        return y if math.copysign(1, x) < 0 else x
    return x if x > y else y


def _min(x: float, y: float) -> float:
    if (math.isinf(x) and x < 0) or (math.isinf(y) and y < 0):
        return -math.inf
    if math.isnan(x) or math.isnan(y):
        return math.nan
    if x == 0 and y == 0:
        return x if math.copysign(1, x) < 0 else y
    return x if x < y else y


def _mod(x: float, y: float) -> float:
    if y == 0 or math.isinf(x) or math.isnan(x) or math.isnan(y):
        return math.nan
    return math.fmod(x, y)


def _bessel_j(n: int, x: float) -> float:
    """J_n(x) from Bessel's integral; the trapezoid rule is spectrally accurate on a periodic integrand."""
    if math.isnan(x):
        return math.nan
    if math.isinf(x):
        return 0.0
    if x == 0:
        return 1.0 if n == 0 else 0.0
    steps = max(64, int(abs(x)) * 2 + abs(n) * 2 + 64)
    if steps > 200_000:
        steps = 200_000
    total = 0.0
    for k in range(steps):
        theta = 2 * math.pi * k / steps
        total += math.cos(n * theta - x * math.sin(theta))
    return total / steps


def _bessel_y(n: int, x: float) -> float:
    """Y_n(x) by numerical integration of its integral representation (close to, not bit-equal with, Go)."""
    if x < 0 or math.isnan(x):
        return math.nan
    if x == 0:
        return -math.inf
    if math.isinf(x):
        return 0.0
    steps = 4000
    h = math.pi / steps
    first = sum(
        (0.5 if k in (0, steps) else 1.0) * math.sin(x * math.sin(k * h) - n * k * h)
        for k in range(steps + 1)
    )
    first *= h / math.pi
    second = 0.0
    limit = max(1.0, math.asinh(40.0 / x) + 1.0)
    dt = limit / steps
    for k in range(steps + 1):
        t = k * dt
        weight = 0.5 if k in (0, steps) else 1.0
        try:
            second += weight * (math.exp(n * t) + (-1) ** n * math.exp(-n * t)) * math.exp(-x * math.sinh(t))
        except OverflowError:
            break
    second *= dt / math.pi
    return first - second


_MATH1: dict[str, Callable[[float], float]] = {
    "abs": abs,
    "acos": _go_math(math.acos),
    "acosh": _go_math(math.acosh),
    "asin": _go_math(math.asin),
    "asinh": math.asinh,
    "atan": math.atan,
    "atanh": _go_math(math.atanh, _atanh_rule),
    "cbrt": math.cbrt,
    "ceil": lambda x: x if math.isinf(x) or math.isnan(x) else float(math.ceil(x)),
    "cos": _go_math(math.cos),
    "cosh": _exp_overflow(math.cosh),
    "erf": math.erf,
    "erfc": math.erfc,
    "exp": _exp_overflow(math.exp),
    "exp2": _exp_overflow(math.exp2),
    "expm1": _exp_overflow(math.expm1),
    "floor": lambda x: x if math.isinf(x) or math.isnan(x) else float(math.floor(x)),
    "gamma": _go_math(math.gamma, _gamma_rule),
    "j0": lambda x: _bessel_j(0, x),
    "j1": lambda x: _bessel_j(1, x),
    "log": _go_math(math.log, _log_rule),
    "log10": _go_math(math.log10, _log_rule),
    "log1p": _go_math(math.log1p, _log1p_rule),
    "log2": _go_math(math.log2, _log_rule),
    "logb": _logb,
    "sin": _go_math(math.sin),
    "sinh": _exp_overflow(math.sinh),
    "sqrt": _go_math(math.sqrt),
    "tan": _go_math(math.tan),
    "tanh": math.tanh,
    "trunc": lambda x: x if math.isinf(x) or math.isnan(x) else float(math.trunc(x)),
    "y0": lambda x: _bessel_y(0, x),
    "y1": lambda x: _bessel_y(1, x),
}
_MATH2: dict[str, Callable[[float, float], float]] = {
    "atan2": math.atan2,
    "hypot": math.hypot,
    "max": _max,
    "min": _min,
    "mod": _mod,
    "pow": _pow,
}


def _math1(name: str, f: Callable[[float], float]):
    def call(*args):
        if len(args) != 1:
            raise CallError(f"{name} expects exactly one argument")
        if not isinstance(args[0], float):
            raise CallError(f"cannot pass {go_type_name(args[0])} to {name}, must be float64")
        return float(f(args[0]))

    return call


def _math2(name: str, f: Callable[[float, float], float]):
    def call(*args):
        if len(args) != 2:
            raise CallError(f"{name} expects exactly two arguments")
        for arg in args:
            if not isinstance(arg, float):
                raise CallError(f"cannot pass {go_type_name(arg)} to {name}, must be float64")
        return float(f(*args))

    return call


for _name, _f in _MATH1.items():
    FUNCTIONS[_name] = Function(_name, {(FLOAT,): FLOAT}, _math1(_name, _f))
for _name, _f in _MATH2.items():
    FUNCTIONS[_name] = Function(_name, {(FLOAT, FLOAT): FLOAT}, _math2(_name, _f))


def _bessel_n(name: str, kind: Callable[[int, float], float]):
    def call(*args):
        if len(args) != 2:
            raise CallError(f"{name} expects exactly two arguments")
        if not isinstance(args[0], int) or isinstance(args[0], bool):
            raise CallError(f"cannot pass {go_type_name(args[0])} to {name} as first arg, must be int64")
        if not isinstance(args[1], float):
            raise CallError(f"cannot pass {go_type_name(args[1])} to {name} as second arg, must be float64")
        return float(kind(args[0], args[1]))

    return call


FUNCTIONS["jn"] = Function("jn", {(INT, FLOAT): FLOAT}, _bessel_n("jn", _bessel_j))
FUNCTIONS["yn"] = Function("yn", {(INT, FLOAT): FLOAT}, _bessel_n("yn", _bessel_y))


@_register("pow10", {(INT,): FLOAT})
def _pow10(*args):
    if len(args) != 1:
        raise CallError("pow10 expects exactly two arguments")  # sic: Kapacitor's text
    if not isinstance(args[0], int):
        raise CallError(f"cannot pass {go_type_name(args[0])} to pow10, must be int64")
    n = args[0]
    if n < -323:
        return 0.0
    if n > 308:
        return math.inf
    return float(f"1e{n}")


# strings: Go indexes strings by byte


_ORDINALS = ("first", "second", "third", "fourth")


def _strings(name: str, args: tuple, kinds: tuple[str, ...], words: str) -> None:
    _arity(name, args, len(kinds), words)
    for i, (arg, kind) in enumerate(zip(args, kinds, strict=True)):
        ok = isinstance(arg, str) if kind == STRING else isinstance(arg, int) and not isinstance(arg, bool)
        if not ok:
            wanted = "string" if kind == STRING else "int"
            given = go_type_name(arg)
            raise CallError(f"cannot pass {given} as {_ORDINALS[i]} arg to {name}, must be {wanted}")


def _byte_index(s: str, sub: str) -> int:
    return s.encode().find(sub.encode())


def _byte_rindex(s: str, sub: str) -> int:
    return s.encode().rfind(sub.encode())


def _index_any(s: str, chars: str, last: bool) -> int:
    positions = range(len(s) - 1, -1, -1) if last else range(len(s))
    for i in positions:
        if s[i] in chars:
            return len(s[:i].encode())
    return -1


def _go_upper(s: str) -> str:
    return "".join(ch.upper() if len(ch.upper()) == 1 else ch for ch in s)


def _go_lower(s: str) -> str:
    return "".join(ch.lower() if len(ch.lower()) == 1 else ch for ch in s)


_STRING2: dict[str, tuple[str, Callable[[str, str], Any]]] = {
    "strContains": (BOOL, lambda s, sub: sub in s),
    "strContainsAny": (BOOL, lambda s, chars: any(ch in s for ch in chars)),
    "strCount": (INT, lambda s, sub: s.count(sub)),
    "strHasPrefix": (BOOL, str.startswith),
    "strHasSuffix": (BOOL, str.endswith),
    "strIndex": (INT, _byte_index),
    "strIndexAny": (INT, lambda s, chars: _index_any(s, chars, False)),
    "strLastIndex": (INT, _byte_rindex),
    "strLastIndexAny": (INT, lambda s, chars: _index_any(s, chars, True)),
    "strTrim": (STRING, lambda s, cut: s.strip(cut) if cut else s),
    "strTrimLeft": (STRING, lambda s, cut: s.lstrip(cut) if cut else s),
    "strTrimPrefix": (STRING, str.removeprefix),
    "strTrimRight": (STRING, lambda s, cut: s.rstrip(cut) if cut else s),
    "strTrimSuffix": (STRING, str.removesuffix),
}
_STRING1: dict[str, Callable[[str], str]] = {
    "strToLower": _go_lower,
    "strToUpper": _go_upper,
    "strTrimSpace": go_trim_space,
}


def _string2(name: str, f: Callable[[str, str], Any]):
    def call(*args):
        _strings(name, args, (STRING, STRING), "two arguments")
        return f(*args)

    return call


def _string1(name: str, f: Callable[[str], str]):
    def call(*args):
        _strings(name, args, (STRING,), "one argument")
        return f(args[0])

    return call


for _name, (_result, _f) in _STRING2.items():
    FUNCTIONS[_name] = Function(_name, {(STRING, STRING): _result}, _string2(_name, _f))
for _name, _f in _STRING1.items():
    FUNCTIONS[_name] = Function(_name, {(STRING,): STRING}, _string1(_name, _f))


@_register("strLength", {(STRING,): INT})
def _str_length(*args):
    _strings("strLength", args, (STRING,), "one argument")
    return len(args[0].encode())


@_register("strReplace", {(STRING, STRING, STRING, INT): STRING})
def _str_replace(*args):
    _strings("strReplace", args, (STRING, STRING, STRING, INT), "four arguments")
    s, old, new, n = args
    return s.replace(old, new, n if n >= 0 else -1)


@_register("strSubstring", {(STRING, INT, INT): STRING})
def _str_substring(*args):
    _strings("strSubstring", args, (STRING, INT, INT), "three arguments")
    s, start, stop = args
    data = s.encode()
    for index in (start, stop):
        if index < 0:
            raise CallError(f"found negative index for strSubstring: {index}")
    if stop >= len(data):
        raise CallError(f"stop index too large for string in strSubstring: {stop}")
    if start > stop:
        raise CallError(f"runtime error: slice bounds out of range [{start}:{stop}]")
    return data[start:stop].decode(errors="replace")


@_register("regexReplace", {(REGEX, STRING, STRING): STRING})
def _regex_replace(*args):
    if len(args) != 3:
        raise CallError("regexReplace expects exactly three arguments")
    pattern, src, repl = args
    if not isinstance(pattern, re.Pattern):
        raise CallError(f"cannot pass {go_type_name(pattern)} as first arg to regexReplace, must be regex")
    for i, arg in ((1, src), (2, repl)):
        if not isinstance(arg, str):
            given = go_type_name(arg)
            raise CallError(f"cannot pass {given} as {_ORDINALS[i]} arg to regexReplace, must be string")
    return go_replace_all(pattern, src, repl)


_TEMPLATE_NAME = re.compile(r"[A-Za-z0-9_]+")


def go_expand(template: str, match: re.Match) -> str:
    """Go's Regexp.Expand: `$1`, `${1}`, `$name`, `${name}`, `$$`; an unknown group expands to nothing."""
    out = []
    i = 0
    while i < len(template):
        ch = template[i]
        if ch != "$" or i + 1 >= len(template):
            out.append(ch)
            i += 1
            continue
        if template[i + 1] == "$":
            out.append("$")
            i += 2
            continue
        if template[i + 1] == "{":
            close = template.find("}", i + 2)
            name = template[i + 2 : close] if close != -1 else ""
            if close == -1 or not _TEMPLATE_NAME.fullmatch(name):
                out.append("$")
                i += 1
                continue
            end = close + 1
        else:
            found = _TEMPLATE_NAME.match(template, i + 1)
            if not found:
                out.append("$")
                i += 1
                continue
            name = found.group()
            end = found.end()
        out.append(_group(match, name))
        i = end
    return "".join(out)


def _group(match: re.Match, name: str) -> str:
    try:
        value = match.group(int(name)) if name.isdigit() else match.group(name)
    except IndexError:
        return ""
    return value or ""


def go_replace_all(pattern: re.Pattern, src: str, template: str) -> str:
    """ReplaceAllString: an empty match right after the previous match is skipped, as Go skips it."""
    out = []
    last = 0
    previous_end = -1
    for match in pattern.finditer(src):
        if match.start() == match.end() == previous_end:
            continue
        out.append(src[last : match.start()])
        out.append(go_expand(template, match))
        last = match.end()
        previous_end = match.end()
    out.append(src[last:])
    return "".join(out)


# missing values, time, formatting, conditionals


@_register("isPresent", {(MISSING_TYPE,): BOOL, (BOOL,): BOOL, (STRING,): BOOL, (INT,): BOOL, (FLOAT,): BOOL})
def _is_present(*args):
    if len(args) != 1:
        raise CallError("isMissing expects exactly one argument")  # sic: Kapacitor's text
    return args[0] is not MISSING


def _time_part(name: str, part: Callable[[datetime, Time], int]):
    def call(*args):
        if len(args) != 1:
            raise CallError(f"{name} expects exactly one argument")
        if not isinstance(args[0], Time):
            raise CallError(f"cannot convert {go_type_name(args[0])} to time.Time")
        return part(args[0].datetime(), args[0])

    FUNCTIONS[name] = Function(name, {(TIME,): INT}, call)


_time_part("unixNano", lambda _dt, t: t.nanoseconds)
_time_part("minute", lambda dt, _t: dt.minute)
_time_part("hour", lambda dt, _t: dt.hour)
_time_part("weekday", lambda dt, _t: (dt.weekday() + 1) % 7)  # Sunday is 0, as in Go
_time_part("day", lambda dt, _t: dt.day)
_time_part("month", lambda dt, _t: dt.month)
_time_part("year", lambda dt, _t: dt.year)


@_register("now", {(): TIME})
def _now(*args):
    if args:
        raise CallError("now expects exactly zero argument")
    return Time(time.time_ns())


@_register("humanBytes", {(FLOAT,): STRING, (INT,): STRING})
def _human_bytes(*args):
    if len(args) != 1:
        raise CallError("humanBytes expects exactly one argument")
    value = args[0]
    if isinstance(value, float):
        size = float_to_uint64(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        size = value & ((1 << 64) - 1)
    else:
        raise CallError(f"cannot convert {go_type_name(value)} to humanBytes")
    return human_bytes(size)


def float_to_uint64(value: float) -> int:
    if math.isnan(value) or math.isinf(value) or value >= 2.0**64:
        return 1 << 63
    if value < 0:
        return float_to_int64(value) & ((1 << 64) - 1)
    return int(value)


def human_bytes(size: int) -> str:
    """go-humanize's Bytes: SI units, one decimal below 10."""
    if size < 10:
        return f"{size} B"
    units = ("B", "kB", "MB", "GB", "TB", "PB", "EB")
    exponent = math.floor(math.log(float(size)) / math.log(1000))
    value = math.floor(float(size) / math.pow(1000, exponent) * 10 + 0.5) / 10
    return f"{value:.0f} {units[exponent]}" if value >= 10 else f"{value:.1f} {units[exponent]}"


_IF_TYPES = (FLOAT, INT, STRING, BOOL, REGEX, TIME, DURATION)


@_register("if", {(BOOL, t, t): t for t in _IF_TYPES})
def _if(*args):
    if len(args) != 3:
        raise CallError("if expects exactly three arguments")
    condition, yes, no = args
    if not isinstance(condition, bool):
        given = go_type_name(condition)
        raise CallError(f"first argument to if must be a condition with type of bool - got {given}")
    if go_type_name(yes) != go_type_name(no):
        raise CallError(
            "Different return types are not supported - second argument is "
            f"{go_type_name(yes)} and third argument is {go_type_name(no)}"
        )
    return yes if condition else no


# stateful functions: their state is a dict in the expression's state


def _count(state: dict, *args):
    state["n"] = state.get("n", 0) + 1
    return state["n"]


def _sigma(state: dict, *args):
    if len(args) != 1:
        raise CallError("sigma expects exactly one argument")
    x = args[0]
    if not isinstance(x, float):
        raise CallError("value is not a float")
    n = state.get("n", 0.0) + 1
    mean = state.get("mean", 0.0)
    m2 = state.get("m2", 0.0)
    delta = x - mean
    mean += delta / n
    m2 += delta * (x - mean)
    variance = m2 / (n - 1) if n > 1 else math.nan  # Go divides 0 by 0 on the first value
    state.update(n=n, mean=mean, m2=m2, variance=_to_json_float(variance))
    if n < 2 or variance == 0:
        return 0.0
    return abs(x - mean) / math.sqrt(variance)


def _spread(state: dict, *args):
    if len(args) != 1:
        raise CallError("spread expects exactly one argument")
    x = args[0]
    if not isinstance(x, float):
        raise CallError("value is not a float")
    low = state.get("min")
    high = state.get("max")
    low = math.inf if low is None else low
    high = -math.inf if high is None else high
    if x < low:
        low = x
    if x > high:
        high = x
    state.update(min=_to_json_float(low), max=_to_json_float(high))
    return high - low


def _to_json_float(value: float) -> float | None:
    """State stays strict JSON: ±Inf and NaN are kept as None (and read back as their initial value)."""
    return None if math.isinf(value) or math.isnan(value) else value


def _rand(state: dict, *args):
    if len(args) > 1:
        raise CallError("rand expects zero or one argument")
    if args:
        if not isinstance(args[0], int) or isinstance(args[0], bool):
            raise CallError("value is not an int")
        bound = args[0] & ((1 << 64) - 1)
        if bound == 0:
            raise CallError("runtime error: integer divide by zero")
        return random.randrange(bound) & MAX_INT64
    return random.getrandbits(63)


FUNCTIONS["count"] = Function("count", {(): INT}, _count, stateful=True)
FUNCTIONS["sigma"] = Function("sigma", {(FLOAT,): FLOAT}, _sigma, stateful=True)
FUNCTIONS["spread"] = Function("spread", {(FLOAT,): FLOAT}, _spread, stateful=True)
FUNCTIONS["rand"] = Function("rand", {(): INT, (INT,): INT}, _rand, stateful=True)


def signature_text(types: tuple[str, ...]) -> str:
    return "(" + ",".join(types) + ")"


def signatures_text(function: Function) -> str:
    return "[" + ", ".join(signature_text(types) for types in function.signatures) + "]"


__all__ = [
    "FUNCTIONS",
    "MISSING",
    "CallError",
    "Function",
    "Time",
    "format_influxql_duration",
    "go_float_v",
    "is_space",
    "type_of",
]
