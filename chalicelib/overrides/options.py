"""Option kinds: how a JSON value from an override becomes an option value, and how it is shown.

Kapacitor copies a decoded JSON value into a typed Go struct field "weakly" (numbers convert between
numeric kinds, strings parse as numbers or through UnmarshalText, maps decode into nested structs); its
error texts name Go reflect kinds, so the conversion here keeps those names. Values are held internally
as the Go field would hold them: durations as int nanoseconds, nil slices and maps as None."""

from __future__ import annotations

import copy
import enum
import math
import numbers
import re
from dataclasses import dataclass
from typing import Any

from chalicelib.kit.gotemplate import go_quote
from chalicelib.kit.time import go_duration
from chalicelib.overrides.gotext import INT64_MAX, parse_duration


class Kind(enum.Enum):
    """The Go type of an option field."""

    STRING = "string"
    BOOL = "bool"
    INT = "int"
    DURATION = "toml.Duration"  # an int64 that unmarshals from text such as "30s"
    SUBSCRIPTION_MODE = "influxdb.SubscriptionMode"  # an int that (un)marshals as "cluster" / "server"
    STRINGS = "[]string"
    STRING_MAP = "map[string]string"
    STRINGS_MAP = "map[string][]string"
    BASIC_AUTH = "httppost.BasicAuth"  # a struct {Username, Password}

    @property
    def go_kind(self) -> str:
        """The reflect kind, as Go's error texts name it."""
        return _GO_KINDS[self]


_GO_KINDS: dict[Kind, str] = {
    Kind.STRING: "string",
    Kind.BOOL: "bool",
    Kind.INT: "int",
    Kind.DURATION: "int64",
    Kind.SUBSCRIPTION_MODE: "int",
    Kind.STRINGS: "slice",
    Kind.STRING_MAP: "map",
    Kind.STRINGS_MAP: "map",
    Kind.BASIC_AUTH: "struct",
}


@dataclass(frozen=True)
class Option:
    """One option of a section: its name in kapacitor.conf and the API, its kind, whether GET hides it."""

    name: str
    kind: Kind
    redact: bool = False


class CopyError(Exception):
    """A value that cannot be copied into an option, with Go's wording."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


_NIL_TYPE = "reflect: call of reflect.Value.Type on zero Value"  # Go panics, Kapacitor reports the panic
_MODES = ("cluster", "server")
_DECIMAL = re.compile(r"[+-]?[0-9]+")
_BASIC_AUTH_FIELDS = ("Username", "Password")


def zero(kind: Kind) -> Any:
    """The Go zero value: what a field of a newly created list element holds before overrides."""
    if kind is Kind.STRING:
        return ""
    if kind is Kind.BOOL:
        return False
    if kind in (Kind.INT, Kind.DURATION, Kind.SUBSCRIPTION_MODE):
        return 0
    if kind is Kind.BASIC_AUTH:
        return {"username": "", "password": ""}
    return None


def is_zero(kind: Kind, value: Any) -> bool:
    """Whether a redacted option is unset; GET shows `not is_zero` in its place."""
    if kind is Kind.BASIC_AUTH:
        return not value["username"] and not value["password"]
    return value == zero(kind) if value is not None else True


def json_kind(value: Any) -> str:
    """The reflect kind of a value decoded by encoding/json into interface{}."""
    if value is None:
        return "invalid"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, numbers.Number):  # int, float, or a Decimal read back from DynamoDB
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "slice"
    if isinstance(value, dict):
        return "map"
    return type(value).__name__


def json_type(value: Any) -> str:
    """Go's %T of a value decoded by encoding/json into interface{}."""
    names = {"invalid": "<nil>", "slice": "[]interface {}", "map": "map[string]interface {}"}
    kind = json_kind(value)
    return names.get(kind, kind)


def convert(kind: Kind, value: Any, current: Any) -> Any:
    """The option's new value after copying the JSON `value` over `current`, or CopyError."""
    if kind is Kind.STRING or kind is Kind.BOOL:
        if json_kind(value) == kind.go_kind:
            return value
        raise _wrong_kind(value, kind)
    if kind is Kind.INT:
        return _to_int(value)
    if kind is Kind.DURATION or kind is Kind.SUBSCRIPTION_MODE:
        return _unmarshal_text(kind, value, current)
    if kind is Kind.STRINGS:
        if not isinstance(value, list):
            raise _wrong_kind(value, kind)
        return [_element(Kind.STRING, item, "failed to copy slice value") for item in value]
    if kind is Kind.STRING_MAP or kind is Kind.STRINGS_MAP:
        if not isinstance(value, dict):
            raise _wrong_kind(value, kind)
        inner = Kind.STRING if kind is Kind.STRING_MAP else Kind.STRINGS
        return {key: _element(inner, value[key], "failed to copy map value") for key in sorted(value)}
    return _decode_struct(value, current)


def _element(kind: Kind, value: Any, context: str) -> Any:
    try:
        return convert(kind, value, zero(kind))
    except CopyError as err:
        raise CopyError(f"{context}: {err.message}") from None


def _wrong_kind(value: Any, kind: Kind) -> CopyError:
    return CopyError(f"wrong kind {json_kind(value)}, expected value of kind {kind.go_kind}: false")


def _to_int(value: Any) -> int:
    source = json_kind(value)
    if source == "float64":
        if not math.isfinite(value):  # type: ignore[arg-type]
            return -INT64_MAX - 1  # what Go's conversion gives on amd64
        number = int(value)  # Go's conversion truncates toward zero
        return number if -INT64_MAX - 1 <= number <= INT64_MAX else -INT64_MAX - 1
    if source == "string":
        if _DECIMAL.fullmatch(value) and -INT64_MAX - 1 <= int(value) <= INT64_MAX:
            return int(value)
        raise CopyError(f"cannot convert string {go_quote(value)} into int")
    if source == "invalid":
        raise CopyError(_NIL_TYPE)
    raise CopyError(f"cannot convert {source} into int")


def _unmarshal_text(kind: Kind, value: Any, current: Any) -> Any:
    source = json_kind(value)
    if source == "invalid":
        raise CopyError(_NIL_TYPE)
    if source != "string":
        raise CopyError(f"cannot unmarshal {source} into {kind.go_kind}")
    if kind is Kind.SUBSCRIPTION_MODE:
        if value not in _MODES:
            raise CopyError(f"failed to unmarshal text: unknown subscription mode {go_quote(value)}")
        return _MODES.index(value)
    if value == "":
        return current  # toml.Duration ignores empty text
    try:
        return parse_duration(value)
    except ValueError as err:
        raise CopyError(f"failed to unmarshal text: {err}") from None


def _decode_struct(value: Any, current: Any) -> dict[str, str]:
    """mapstructure into httppost.BasicAuth: field names match case-insensitively, extra keys fail."""
    if not isinstance(value, dict):
        raise _wrong_kind(value, Kind.BASIC_AUTH)
    result = dict(current)
    problems: list[str] = []
    unused: list[str] = []
    for key, item in value.items():
        field = next((f for f in _BASIC_AUTH_FIELDS if f.lower() == key.lower()), None)
        if field is None:
            unused.append(key)
        elif item is None:
            continue  # mapstructure leaves a field alone for a nil input
        elif isinstance(item, str):
            result[field.lower()] = item
        else:
            problems.append(
                f"'{field}' expected type 'string', got unconvertible type '{json_type(item)}',"
                f" value: '{_go_value(item)}'"
            )
    if unused:
        problems.append(f"'' has invalid keys: {', '.join(sorted(unused))}")
    if problems:
        lines = "\n".join(f"* {p}" for p in problems)
        count = len(problems)
        raise CopyError(
            f"failed to decode options into *httppost.BasicAuth: {count} error(s) decoding:\n\n{lines}"
        )
    return result


def _go_value(value: Any) -> str:
    """%v of a JSON value, enough for error texts."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    if isinstance(value, list):
        return "[" + " ".join(_go_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_go_value(value[k])}" for k in sorted(value)) + "]"
    return str(value)


def shown(option: Option, value: Any) -> Any:
    """The value as GET shows it: Go's JSON encoding of the field (durations as text, nil as null)."""
    if option.redact:
        return not is_zero(option.kind, value)
    if option.kind is Kind.DURATION:
        return go_duration(value)
    if option.kind is Kind.SUBSCRIPTION_MODE:
        return _MODES[value]
    return copy.deepcopy(value)


def resolved(option: Option, value: Any) -> Any:
    """The value as the alert handlers read it: durations in nanoseconds, nil lists and maps empty."""
    if option.kind is Kind.SUBSCRIPTION_MODE:
        return _MODES[value]
    if value is None:
        return [] if option.kind is Kind.STRINGS else {}
    return copy.deepcopy(value)


def from_file(option: Option, value: Any) -> Any:
    """A value from the file configuration: the JSON forms, or a duration already in nanoseconds."""
    if option.kind is Kind.DURATION and isinstance(value, int) and not isinstance(value, bool):
        return value
    if option.kind is Kind.SUBSCRIPTION_MODE and value in (0, 1) and not isinstance(value, bool):
        return int(value)
    if value is None and option.kind in (Kind.STRINGS, Kind.STRING_MAP, Kind.STRINGS_MAP):
        return None
    try:
        return convert(option.kind, value, zero(option.kind))
    except CopyError as err:
        raise ValueError(f"invalid file configuration for option {option.name}: {err.message}") from None
