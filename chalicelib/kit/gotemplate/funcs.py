"""The functions templates call: Go's builtins, Kapacitor's JSON ones, and the methods of time.Time and
time.Duration."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalicelib.kit.gotemplate.escape import _eval_args, html_escape, js_escape
from chalicelib.kit.gotemplate.jsonenc import _json_compact_func, _json_func
from chalicelib.kit.gotemplate.printf import format_value, go_sprint, go_sprintf, go_sprintln
from chalicelib.kit.gotemplate.timefmt import _parts, time_format, time_string
from chalicelib.kit.gotemplate.values import GoDuration, GoMap, GoStruct, GoTime, type_name
from chalicelib.kit.time import SECOND, go_duration

if TYPE_CHECKING:
    from chalicelib.kit.gotemplate.execute import _State


class _CallError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class _Func:
    fn: Callable[[_State, list[Any]], Any]
    fixed: int
    variadic: bool = False
    types: tuple[str | None, ...] = ()


def _truth(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str | list | tuple | dict) and not isinstance(value, GoStruct):
        return len(value) > 0
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, GoDuration):
        return value.ns != 0
    return True  # structs, times


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | GoDuration):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    return "invalid"


def _basic(value: Any) -> Any:
    return value.ns if isinstance(value, GoDuration) else value


def _eq(_: _State, args: list[Any]) -> bool:
    first = args[0]
    if len(args) < 2:
        raise _CallError("missing argument for comparison")
    k1 = _kind(first)
    for arg in args[1:]:
        k2 = _kind(arg)
        if k1 != k2:
            if first is not None and arg is not None:
                raise _CallError(
                    f"incompatible types for comparison: {type_name(first)} and {type_name(arg)}"
                )
            truth = False
        elif k1 != "invalid":
            truth = _basic(first) == _basic(arg)
        elif first is None or arg is None:
            truth = first is None and arg is None
        elif isinstance(first, dict | list | tuple) or isinstance(arg, dict | list | tuple):
            bad = arg if isinstance(arg, dict | list | tuple) else first
            raise _CallError(f"non-comparable type {format_value(bad)}: {type_name(bad)}")
        elif type(first) is not type(arg):
            raise _CallError(
                f"non-comparable types {format_value(first)}: {type_name(first)}, "
                f"{type_name(arg)}: {format_value(arg)}"
            )
        else:
            truth = first == arg
        if truth:
            return True
    return False


def _lt(_: _State, args: list[Any]) -> bool:
    a, b = args
    k1, k2 = _kind(a), _kind(b)
    if k1 == "invalid" or k2 == "invalid":
        raise _CallError("invalid type for comparison")
    if k1 != k2:
        raise _CallError(f"incompatible types for comparison: {type_name(a)} and {type_name(b)}")
    if k1 == "bool":
        raise _CallError("invalid type for comparison")
    return bool(_basic(a) < _basic(b))


def _le(state: _State, args: list[Any]) -> bool:
    return _lt(state, args) or _eq(state, args)


def _index_arg(value: Any, cap: int) -> int:
    if value is None:
        raise _CallError("cannot index slice/array with nil")
    if not isinstance(value, int) or isinstance(value, bool):
        raise _CallError(f"cannot index slice/array with type {type_name(value)}")
    if value < 0 or value > cap:
        raise _CallError(f"index out of range: {value}")
    return value


def _index(_: _State, args: list[Any]) -> Any:
    item = args[0]
    if item is None:
        raise _CallError("index of untyped nil")
    for key in args[1:]:
        if item is None:
            raise _CallError("index of nil pointer")
        key = _basic(key)
        if isinstance(item, str):
            position = _index_arg(key, len(item.encode()))
            data = item.encode("utf-8", "surrogatepass")
            if position == len(data):
                raise _CallError(f"index out of range: {position}")
            item = data[position]
        elif isinstance(item, list | tuple):
            position = _index_arg(key, len(item))
            if position == len(item):
                raise _CallError(f"index out of range: {position}")
            item = item[position]
        elif isinstance(item, dict) and not isinstance(item, GoStruct):
            if not isinstance(key, str):
                if key is None:
                    raise _CallError("value is nil; should be of type string")
                raise _CallError(f"value has type {type_name(key)}; should be string")
            item = item[key] if key in item else (item.zero if isinstance(item, GoMap) else None)
        else:
            raise _CallError(f"can't index item of type {type_name(item)}")
    return item


def _slice(_: _State, args: list[Any]) -> Any:
    item, indexes = args[0], [_basic(i) for i in args[1:]]
    if item is None:
        raise _CallError("slice of untyped nil")
    if len(indexes) > 3:
        raise _CallError(f"too many slice indexes: {len(indexes)}")
    if isinstance(item, str):
        if len(indexes) == 3:
            raise _CallError("cannot 3-index slice a string")
        data = item.encode("utf-8", "surrogatepass")
        length = len(data)
    elif isinstance(item, list | tuple):
        length = len(item)
    else:
        raise _CallError(f"can't slice item of type {type_name(item)}")
    bounds = [0, length]
    for i, index in enumerate(indexes):
        if i < 2:
            bounds[i] = _index_arg(index, length)
        else:
            _index_arg(index, length)
    if bounds[0] > bounds[1]:
        raise _CallError(f"invalid slice index: {bounds[0]} > {bounds[1]}")
    if isinstance(item, str):
        return data[bounds[0] : bounds[1]].decode("utf-8", "replace")
    return list(item[bounds[0] : bounds[1]])


def _len(_: _State, args: list[Any]) -> int:
    item = args[0]
    if isinstance(item, str):
        return len(item.encode("utf-8", "surrogatepass"))
    if isinstance(item, list | tuple) or (isinstance(item, dict) and not isinstance(item, GoStruct)):
        return len(item)
    if item is None:
        raise _CallError("len of nil pointer")
    raise _CallError(f"len of type {type_name(item)}")


def _call(_: _State, args: list[Any]) -> Any:
    if args[0] is None:
        raise _CallError("call of nil")
    raise _CallError(f"non-function of type {type_name(args[0])}")


def _printf(_: _State, args: list[Any]) -> str:
    return go_sprintf(args[0], args[1:])


def _json_html(state: _State, args: list[Any]) -> str:
    return _json_func(args[0])


_FUNCS: dict[str, _Func] = {
    "call": _Func(_call, 1, True),
    "html": _Func(lambda s, a: html_escape(_eval_args(a)), 0, True),
    "index": _Func(_index, 1, True),
    "slice": _Func(_slice, 1, True),
    "js": _Func(lambda s, a: js_escape(_eval_args(a)), 0, True),
    "len": _Func(_len, 1),
    "not": _Func(lambda s, a: not _truth(a[0]), 1),
    "print": _Func(lambda s, a: go_sprint(a), 0, True),
    "printf": _Func(_printf, 1, True, ("string",)),
    "println": _Func(lambda s, a: go_sprintln(a), 0, True),
    "urlquery": _Func(lambda s, a: urllib.parse.quote_plus(_eval_args(a), safe=""), 0, True),
    "eq": _Func(_eq, 1, True),
    "ne": _Func(lambda s, a: not _eq(s, a), 2),
    "lt": _Func(_lt, 2),
    "le": _Func(_le, 2),
    "gt": _Func(lambda s, a: not _le(s, a), 2),
    "ge": _Func(lambda s, a: not _lt(s, a), 2),
    "json": _Func(_json_html, 1),
    "jsonCompact": _Func(lambda s, a: _json_compact_func(a[0]), 1),
}


def _method(receiver: Any, name: str) -> _Func | None:
    """Methods of time.Time and time.Duration that templates call."""
    if isinstance(receiver, GoTime):
        ns = receiver.ns
        table: dict[str, Callable[[], Any]] = {
            "Unix": lambda: ns // SECOND,
            "UnixNano": lambda: ns,
            "UnixMilli": lambda: ns // 1_000_000,
            "UnixMicro": lambda: ns // 1_000,
            "String": lambda: time_string(ns),
            "UTC": lambda: receiver,
            "Local": lambda: receiver,
            "Year": lambda: _parts(ns).year,
            "YearDay": lambda: _parts(ns).yearday,
            "Day": lambda: _parts(ns).day,
            "Hour": lambda: _parts(ns).hour,
            "Minute": lambda: _parts(ns).minute,
            "Second": lambda: _parts(ns).second,
            "Nanosecond": lambda: _parts(ns).nanos,
            "IsZero": lambda: ns == _ZERO_TIME,
        }
        if name == "Format":
            return _Func(lambda s, a: time_format(ns, a[0]), 1, False, ("string",))
        if name in table:
            fn = table[name]
            return _Func(lambda s, a: fn(), 0)
        return None
    if isinstance(receiver, GoDuration):
        ns = receiver.ns
        durations: dict[str, Callable[[], Any]] = {
            "String": lambda: go_duration(ns),
            "Nanoseconds": lambda: ns,
            "Microseconds": lambda: int(ns / 1_000),
            "Milliseconds": lambda: int(ns / 1_000_000),
            "Seconds": lambda: ns / SECOND,
            "Minutes": lambda: ns / (60 * SECOND),
            "Hours": lambda: ns / (3600 * SECOND),
        }
        if name in durations:
            fn2 = durations[name]
            return _Func(lambda s, a: fn2(), 0)
    return None


_ZERO_TIME = -62135596800 * SECOND  # 0001-01-01T00:00:00Z, Go's zero time
