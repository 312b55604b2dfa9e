"""encoding/json.Marshal of template values, and Kapacitor's `json` and `jsonCompact` functions."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

from chalicelib.kit.gotemplate.errors import TemplateError
from chalicelib.kit.gotemplate.limits import MAX_DEPTH
from chalicelib.kit.gotemplate.printf import go_float
from chalicelib.kit.gotemplate.timefmt import time_rfc3339nano
from chalicelib.kit.gotemplate.values import GoDuration, GoStruct, GoTime, _sort_keys


class JSONUnsupportedError(TemplateError):
    """encoding/json refuses NaN and infinities (and, here, data nested too deep)."""


_JSON_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def _json_string(text: str) -> str:
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch in _JSON_ESCAPES:
            out.append(_JSON_ESCAPES[ch])
        elif code < 0x20 or ch in "<>&" or code in (0x2028, 0x2029):
            out.append(f"\\u{code:04x}")
        elif 0xD800 <= code <= 0xDFFF:
            out.append("\\ufffd")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _json_float(v: float) -> str:
    if math.isnan(v) or math.isinf(v):
        raise JSONUnsupportedError(f"json: unsupported value: {go_float(v)}")
    magnitude = abs(v)
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        return re.sub(r"e-0(\d)$", r"e-\1", go_float(v, "e"))
    return go_float(v, "f")


def json_encode(value: Any, depth: int = 0) -> str:
    """encoding/json.Marshal (HTML-safe, sorted map keys); NaN and infinities raise JSONUnsupportedError."""
    if depth > MAX_DEPTH:
        raise JSONUnsupportedError("json: value nested too deep")
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _json_float(value)
    if isinstance(value, str):
        return _json_string(value)
    if isinstance(value, GoTime):
        return '"' + time_rfc3339nano(value.ns) + '"'
    if isinstance(value, GoDuration):
        return str(value.ns)
    if isinstance(value, GoStruct):
        return "{" + ",".join(f"{_json_string(k)}:{v}" for k, v in _struct_items(value, depth)) + "}"
    if isinstance(value, dict):
        keys = _sort_keys([str(k) for k in value])
        by_text = {str(k): v for k, v in value.items()}
        return "{" + ",".join(f"{_json_string(k)}:{json_encode(by_text[k], depth + 1)}" for k in keys) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(json_encode(v, depth + 1) for v in value) + "]"
    return _json_string(str(value))


def _struct_items(value: GoStruct, depth: int) -> Iterator[tuple[str, str]]:
    for name, item in value.fields.items():
        if name in value.embedded and isinstance(item, GoStruct):
            yield from _struct_items(item, depth + 1)
        else:
            yield name, json_encode(item, depth + 1)


def _json_func(value: Any) -> str:
    try:
        return json_encode(value) + "\n"
    except JSONUnsupportedError:
        return ""  # Kapacitor drops the encoder's error: nothing is written


def _json_compact_func(value: Any) -> str:
    try:
        return json_encode(value)
    except JSONUnsupportedError:
        return ""
