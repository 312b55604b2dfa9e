"""A service test's options as Kapacitor's `POST /service-tests/<name>` decodes them: encoding/json into the
service's `testOptions` struct, filled beforehand with the defaults the GET shows.

Go's rules are kept: a key names its field exactly or ignoring case, `null` leaves a field as it is (a list
or map becomes nil), an object merges into a map field, an array replaces a list, the body's first JSON
value is read and the rest ignored. One rule is not: Go ignores a key no field has, tickless refuses it
with json.Decoder.DisallowUnknownFields's words (`json: unknown field "x"`), so no option is dropped
silently (docs/DECISIONS.md).

Decoded values stay JSON-shaped (a level as its name, a time as its RFC 3339 text), as the GET shows them."""

from __future__ import annotations

import copy
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.alert.levels import level_name, parse_level
from chalicelib.kit.errors import TicklessError, invalid
from chalicelib.kit.gojson import first_value, go_json_error, json_kind
from chalicelib.kit.gotemplate import go_quote
from chalicelib.kit.gotime import GoTimeError, parse_rfc3339

_INT64 = 1 << 63


class FieldType(enum.Enum):
    """A testOptions field's Go type; the value is how Go's decode errors name it."""

    STRING = "string"
    BOOL = "bool"
    STRING_LIST = "[]string"
    STRING_MAP = "map[string]string"
    LEVEL = "alert.Level"
    DURATION = "time.Duration"
    TIME = "time.Time"
    LINKS = "[]pagerduty2.LinkTemplate"
    EVENT_DATA = "alert.EventData"


@dataclass(frozen=True, slots=True)
class Field:
    name: str  # the JSON key
    type: FieldType


# alert.EventData has no JSON tags: its keys are the Go field names.
_EVENT_DATA: tuple[Field, ...] = (
    Field("Name", FieldType.STRING),
    Field("TaskName", FieldType.STRING),
    Field("Category", FieldType.STRING),
    Field("Group", FieldType.STRING),
    Field("Tags", FieldType.STRING_MAP),
    Field("Fields", FieldType.STRING_MAP),  # map[string]interface{}: decoded by _decode_any_map
    Field("Recoverable", FieldType.BOOL),
    Field("Result", FieldType.EVENT_DATA),  # models.Result: decoded by _decode_result
)
_LINK: tuple[Field, ...] = (Field("href", FieldType.STRING), Field("text", FieldType.STRING))


class _Failed(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def decode_options(struct: str, fields: tuple[Field, ...], defaults: Mapping[str, Any], raw: bytes) -> dict:
    """`raw` decoded over a copy of `defaults` into the Go struct `struct` (`slack.testOptions`); a body Go
    would refuse raises INVALID `failed to decode JSON body:<Go's error>`, Kapacitor's 400."""
    problem = go_json_error(raw, stream=True)
    if problem is not None:
        raise invalid(f"failed to decode JSON body:{problem}")
    options = copy.deepcopy(dict(defaults))
    doc = first_value(raw)
    if doc is None:
        return options
    if not isinstance(doc, dict):
        what = f"json: cannot unmarshal {json_kind(doc)} into Go value of type {struct}"
        raise invalid(f"failed to decode JSON body:{what}")
    try:
        _decode_struct(fields, options, doc, struct.rsplit(".", 1)[-1])
    except _Failed as err:
        raise invalid(f"failed to decode JSON body:{err.message}") from None
    return options


def parse_time(text: str) -> int:
    """RFC 3339 text (time.Time's JSON) as nanoseconds since the epoch; raises TicklessError in Go's words."""
    try:
        return parse_rfc3339(text)
    except GoTimeError as err:
        raise invalid(str(err)) from None


# --- decoding ------------------------------------------------------------------------------------------


def _decode_struct(
    fields: tuple[Field, ...], target: dict[str, Any], doc: Mapping[str, Any], path: str
) -> None:
    for key, value in doc.items():
        found = next((f for f in fields if f.name == key), None)
        found = found or next((f for f in fields if f.name.casefold() == key.casefold()), None)
        if found is None:
            raise _Failed(f"json: unknown field {go_quote(key)}")
        where = f"{path}.{found.name}"
        if value is None:  # Go leaves the field alone, except that a slice or map becomes nil
            if found.type in (FieldType.STRING_LIST, FieldType.STRING_MAP, FieldType.LINKS):
                target[found.name] = None
            continue
        target[found.name] = _decode(found, target.get(found.name), value, where)


def _decode(found: Field, current: Any, value: Any, where: str) -> Any:
    kind = found.type
    if kind is FieldType.STRING:
        return _typed(value, str, where, kind.value)
    if kind is FieldType.BOOL:
        return _typed(value, bool, where, kind.value)
    if kind is FieldType.STRING_LIST:
        items = _typed(value, list, where, kind.value)
        return [_typed(item, str, where, "string") for item in items]
    if kind is FieldType.STRING_MAP:
        merged = dict(current or {})
        for key, item in _typed(value, dict, where, kind.value).items():
            merged[key] = _typed(item, str, where, "string")
        return merged
    if kind is FieldType.LEVEL:
        return _level(_typed(value, str, where, kind.value))
    if kind is FieldType.DURATION:
        return _duration(value, where)
    if kind is FieldType.TIME:
        if not isinstance(value, str):
            raise _Failed("Time.UnmarshalJSON: input is not a JSON string")
        try:
            parse_time(value)
        except TicklessError as err:
            raise _Failed(err.message) from None
        return value
    if kind is FieldType.LINKS:
        links = []
        for item in _typed(value, list, where, kind.value):
            link = {"href": "", "text": ""}
            if item is not None:
                _decode_struct(_LINK, link, _typed(item, dict, where, "pagerduty2.LinkTemplate"), where)
            links.append(link)
        return links
    return _event_data(dict(current or {}), _typed(value, dict, where, kind.value), where)


def _typed(value: Any, expected: type, where: str, go_type: str) -> Any:
    if isinstance(value, expected) and (expected is bool or not isinstance(value, bool)):
        return value
    raise _Failed(f"json: cannot unmarshal {json_kind(value)} into Go struct field {where} of type {go_type}")


def _level(text: str) -> str:
    """alert.Level's UnmarshalText: the level's name exactly, in capitals (ParseLevel upper-cases first)."""
    if text != text.upper():
        raise _Failed(f"unknown alert level '{text}'")
    try:
        return level_name(parse_level(text))
    except TicklessError as err:
        raise _Failed(err.message) from None


def _duration(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Failed(
            f"json: cannot unmarshal {json_kind(value)} into Go struct field {where} of type time.Duration"
        )
    if isinstance(value, float) or not -_INT64 <= value < _INT64:
        raise _Failed(
            f"json: cannot unmarshal number {value} into Go struct field {where} of type time.Duration"
        )
    return value


def _event_data(target: dict[str, Any], doc: Mapping[str, Any], path: str) -> dict[str, Any]:
    for key, value in doc.items():
        found = next((f for f in _EVENT_DATA if f.name == key), None)
        found = found or next((f for f in _EVENT_DATA if f.name.casefold() == key.casefold()), None)
        if found is None:
            raise _Failed(f"json: unknown field {go_quote(key)}")
        where = f"{path}.{found.name}"
        if value is None:
            if found.name in ("Tags", "Fields"):
                target[found.name] = None
            continue
        if found.name == "Fields":
            target[found.name] = {
                **(target.get(found.name) or {}),
                **_typed(value, dict, where, "map[string]interface {}"),
            }
        elif found.name == "Result":
            target[found.name] = _result(_typed(value, dict, where, "models.Result"))
        else:
            target[found.name] = _decode(found, target.get(found.name), value, where)
    return target


def _result(doc: Mapping[str, Any]) -> dict[str, Any]:
    """models.Result's own UnmarshalJSON: its series (rows as given) and error text, nothing else kept."""
    result: dict[str, Any] = {"series": None}
    for key, value in doc.items():
        if key.casefold() == "series" and value is not None:
            rows = _typed(value, list, ".series", "models.Rows")
            result["series"] = [
                _typed(row, dict, ".series", "models.Row") if row is not None else None for row in rows
            ]
        elif key.casefold() == "error" and value is not None:
            error = _typed(value, str, ".error", "string")
            if error:
                result["error"] = error
    return result
