"""A handler kind's options: their schema, and the decoding of a JSON `options` object into it, with the
errors Kapacitor's decoder (mapstructure, strict about unknown keys, never converting types) reports.

Values arrive as JSON decodes them (every number a Go float64); decoding yields plain Python values:
str, bool, int (nanoseconds for a duration, permission bits for a file mode), lists and dicts."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.alert.handler_json import go_f, go_kind_name, go_type_name, go_v
from chalicelib.kit.errors import TicklessError, invalid

_MAX_ITEMS = 10_000  # a list or map option longer than this is hostile, not a configuration
_UINT32 = 1 << 32
_INT64 = 1 << 63


class OptionType(enum.Enum):
    """The Go type of a handler option field; the value is the name reflect prints for it."""

    STRING = "string"
    BOOL = "bool"
    DURATION = "time.Duration"
    FILE_MODE = "fs.FileMode"
    STRING_LIST = "[]string"
    STRING_MAP = "map[string]string"
    LINK_LIST = "[]pagerduty2.LinkTemplate"


@dataclass(frozen=True, slots=True)
class Option:
    name: str
    type: OptionType
    default: Any = None

    def zero(self) -> Any:
        if self.default is not None:
            return self.default
        return {
            OptionType.STRING: "",
            OptionType.BOOL: False,
            OptionType.DURATION: 0,
            OptionType.FILE_MODE: 0,
            OptionType.STRING_LIST: [],
            OptionType.STRING_MAP: {},
            OptionType.LINK_LIST: [],
        }[self.type]


def decode_options(go_type: str, fields: tuple[Option, ...], options: Any) -> dict[str, Any]:
    """Every field with its decoded value (or default); raises Kapacitor's "failed to decode options into
    *<go_type>: N error(s) decoding:\\n\\n* ..." listing every problem, sorted."""
    result = {f.name: _copy(f.zero()) for f in fields}
    if options is None:
        return result
    errors: list[str] = []
    if not isinstance(options, Mapping):
        errors.append(f"'' expected a map, got '{go_kind_name(options)}'")
    else:
        _decode_struct("", fields, options, result, errors)
    if errors:
        raise decode_error(go_type, errors)
    return result


def decode_error(go_type: str, errors: list[str]) -> TicklessError:
    points = sorted(f"* {e}" for e in errors)
    return invalid(
        f"failed to decode options into *{go_type}: {len(errors)} error(s) decoding:\n\n" + "\n".join(points)
    )


def _copy(value: Any) -> Any:
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    return value


def _decode_struct(
    prefix: str, fields: tuple[Option, ...], data: Mapping[str, Any], out: dict[str, Any], errors: list[str]
) -> None:
    if len(data) > _MAX_ITEMS:
        errors.append(f"'{prefix}' has too many keys")
        return
    unused = [k for k in data if isinstance(k, str)]
    for f in fields:
        key = (
            f.name
            if f.name in data
            else next((k for k in data if isinstance(k, str) and k.lower() == f.name.lower()), None)
        )
        if key is None:
            continue
        unused.remove(key)
        name = f"{prefix}.{f.name}" if prefix else f.name
        value = data[key]
        if value is None:  # a JSON null leaves the default in place
            continue
        decoded = _decode_value(name, f.type, value, errors)
        if decoded is not _FAILED:
            out[f.name] = decoded
    if unused:
        errors.append(f"'{prefix}' has invalid keys: {', '.join(sorted(unused))}")


_FAILED = object()


def _unconvertible(name: str, expected: str, value: Any) -> str:
    got = go_type_name(value)
    return f"'{name}' expected type '{expected}', got unconvertible type '{got}', value: '{go_v(value)}'"


def _decode_value(name: str, kind: OptionType, value: Any, errors: list[str]) -> Any:
    if kind is OptionType.STRING:
        if isinstance(value, str):
            return value
        errors.append(_unconvertible(name, "string", value))
        return _FAILED
    if kind is OptionType.BOOL:
        if isinstance(value, bool):
            return value
        errors.append(_unconvertible(name, "bool", value))
        return _FAILED
    if kind is OptionType.DURATION:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return _to_int64(value)
        errors.append(_unconvertible(name, kind.value, value))
        return _FAILED
    if kind is OptionType.FILE_MODE:
        if isinstance(value, int | float) and not isinstance(value, bool):
            if value < 0:
                errors.append(f"cannot parse '{name}', {go_f(float(value))} overflows uint")
                return _FAILED
            return _to_uint(value) % _UINT32
        errors.append(_unconvertible(name, kind.value, value))
        return _FAILED
    if kind is OptionType.STRING_LIST:
        return _decode_list(
            name, value, errors, "", lambda n, item: _decode_value(n, OptionType.STRING, item, errors)
        )
    if kind is OptionType.STRING_MAP:
        return _decode_map(name, value, errors)
    return _decode_list(
        name, value, errors, {"href": "", "text": ""}, lambda n, item: _decode_link(n, item, errors)
    )


def _decode_list(name: str, value: Any, errors: list[str], zero: Any, decode_item: Any) -> Any:
    if not isinstance(value, list | tuple):
        errors.append(f"'{name}': source data must be an array or slice, got {go_kind_name(value)}")
        return _FAILED
    if len(value) > _MAX_ITEMS:
        errors.append(f"'{name}' has too many items")
        return _FAILED
    before = len(errors)
    items = []
    for i, item in enumerate(value):
        if item is None:  # nil leaves the element's zero value
            items.append(_copy(zero))
            continue
        items.append(decode_item(f"{name}[{i}]", item))
    return _FAILED if len(errors) > before else items


def _decode_map(name: str, value: Any, errors: list[str]) -> Any:
    if not isinstance(value, Mapping):
        errors.append(f"'{name}' expected a map, got '{go_kind_name(value)}'")
        return _FAILED
    if len(value) > _MAX_ITEMS:
        errors.append(f"'{name}' has too many keys")
        return _FAILED
    before = len(errors)
    result: dict[str, str] = {}
    for key, item in value.items():
        if item is None:
            result[str(key)] = ""
            continue
        decoded = _decode_value(f"{name}[{key}]", OptionType.STRING, item, errors)
        if decoded is not _FAILED:
            result[str(key)] = decoded
    return _FAILED if len(errors) > before else result


_LINK_FIELDS = (Option("href", OptionType.STRING), Option("text", OptionType.STRING))


def _decode_link(name: str, value: Any, errors: list[str]) -> Any:
    if not isinstance(value, Mapping):
        errors.append(f"'{name}' expected a map, got '{go_kind_name(value)}'")
        return _FAILED
    link = {"href": "", "text": ""}
    before = len(errors)
    _decode_struct(name, _LINK_FIELDS, value, link, errors)
    return _FAILED if len(errors) > before else link


def _to_int64(value: int | float) -> int:
    """Go's int64(float64) conversion of a JSON number: truncation, wrapping as amd64 does."""
    number = int(value) if abs(value) < 2**63 else -_INT64
    return number


def _to_uint(value: int | float) -> int:
    return int(value) if value < 2**64 else 0
