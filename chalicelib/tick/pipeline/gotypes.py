"""The Go types Kapacitor's TICKscript evaluator sees, and how its reflection-based calls judge arguments.

Kapacitor calls pipeline methods through Go's reflect package, so a wrong argument surfaces as reflect's
panic text (`reflect: Call using int64 as type float64`); this module reproduces those texts."""

from __future__ import annotations

from typing import Any

from chalicelib.tick.values import Duration, Lambda, Regex, Star

STRING = "string"
INT = "int64"
FLOAT = "float64"
BOOL = "bool"
DURATION = "time.Duration"
LAMBDA = "*ast.LambdaNode"
ANY = "interface {}"
NODE = "pipeline.Node"
LIST = "[]interface {}"
STRINGS = "[]string"
LAMBDAS = "[]*ast.LambdaNode"


class GoPanic(Exception):
    """A panic inside a called method; Kapacitor reports it as `error calling func ...: <text>`."""


class GoError(Exception):
    """An error a called method returns; Kapacitor reports its text as is."""


def go_type_of(value: Any) -> str:
    """The Go type name (`%T`) of a script value."""
    # bool before int: Python's bool is an int.
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return INT
    if isinstance(value, float):
        return FLOAT
    if isinstance(value, str):
        return STRING
    if isinstance(value, Duration):
        return DURATION
    if isinstance(value, Lambda):
        return LAMBDA
    if isinstance(value, Regex):
        return "*regexp.Regexp"
    if isinstance(value, Star):
        return "*ast.StarNode"
    if isinstance(value, list):
        return LIST
    go_type = getattr(value, "go_type", None)
    if isinstance(go_type, str):
        return go_type
    if value is None:
        return "<nil>"
    # Anything else is a syntax node the evaluator passed through (e.g. a "reference").
    return f"*ast.{type(value).__name__}"


def is_receiver(value: Any) -> bool:
    return getattr(value, "is_pipeline_receiver", False) is True


def assignable(value: Any, target: str) -> bool:
    if target == ANY:
        return True
    if target == NODE:
        return is_receiver(value)
    return go_type_of(value) == target


def check_call(params: tuple[str, ...], variadic: str | None, args: list[Any]) -> None:
    """Judge a call's arguments as reflect.Value.Call does, raising its panic text."""
    if len(args) < len(params):
        raise GoPanic("reflect: Call with too few input arguments")
    if variadic is None and len(args) > len(params):
        raise GoPanic("reflect: Call with too many input arguments")
    for arg, target in zip(args, params, strict=False):
        if not assignable(arg, target):
            raise GoPanic(f"reflect: Call using {go_type_of(arg)} as type {target}")
    if variadic is not None:
        for arg in args[len(params) :]:
            if not assignable(arg, variadic):
                raise GoPanic(f"reflect: cannot use {go_type_of(arg)} as type {variadic} in Call")


def check_set(value: Any, target: str) -> None:
    """Judge a direct field assignment as reflect.Value.Set does."""
    if not assignable(value, target):
        raise GoPanic(f"reflect.Set: value of type {go_type_of(value)} is not assignable to type {target}")


def native(value: Any, target: str) -> Any:
    """What the pipeline stores: durations as nanoseconds when the Go type is time.Duration."""
    if target == DURATION and isinstance(value, Duration):
        return value.nanoseconds
    return value


def quote(text: str) -> str:
    """Go's %q of a string: double quotes, backslash escapes, \\x.. for other control bytes."""
    out = ['"']
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}
