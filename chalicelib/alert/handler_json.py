"""Values written as Go writes them: JSON as encoding/json marshals it (what every handler sends) and
`%v` as fmt prints it (what mapstructure puts in its option errors)."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

from chalicelib.kit.errors import invalid
from chalicelib.kit.gofloat import format_float

# encoding/json escapes these even inside valid strings: HTML-safe output and JS line separators.
_HTML_SAFE = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)
_MAX_DEPTH = 200


def go_json(value: Any, *, newline: bool = False) -> str:
    """json.Marshal (or json.Encoder.Encode with `newline`): compact, HTML-escaped, Go float formatting.
    Dicts keep their order: build struct-shaped dicts in field order and sort map-shaped ones."""
    out: list[str] = []
    _encode(value, out, 0)
    text = "".join(out)
    return text + "\n" if newline else text


def _encode(value: Any, out: list[str], depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise invalid("json: exceeded max depth")
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(str(int(value)))  # an int subclass may print otherwise
    elif isinstance(value, float):
        out.append(_json_float(value))
    elif isinstance(value, str):
        out.append(_json_string(value))
    elif isinstance(value, dict):
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            if i:
                out.append(",")
            out.append(_json_string(str(key)))
            out.append(":")
            _encode(item, out, depth + 1)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _encode(item, out, depth + 1)
        out.append("]")
    else:
        raise invalid(f"json: unsupported type: {type(value).__name__}")


def _json_string(text: str) -> str:
    # Lone surrogates cannot be UTF-8: Go writes U+FFFD for invalid text.
    text = text.encode("utf-8", "replace").decode("utf-8") if _has_surrogate(text) else text
    return json.dumps(text, ensure_ascii=False).translate(_HTML_SAFE)


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _json_float(v: float) -> str:
    if math.isnan(v) or math.isinf(v):
        raise invalid(f"json: unsupported value: {format_float(v)}")
    magnitude = abs(v)
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        # repr always uses an exponent in these ranges; Go trims the exponent's leading zeros.
        mantissa, exponent = repr(v).split("e")
        number = int(exponent)
        return f"{mantissa}e{'-' if number < 0 else '+'}{abs(number)}"
    return format_float(v)


def go_type_name(value: Any) -> str:
    """The Go type a JSON-decoded value has (`interface{}` holding it), as %T / reflect print it."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "[]interface {}"
    if isinstance(value, dict):
        return "map[string]interface {}"
    return "interface {}"


def go_kind_name(value: Any) -> str:
    """reflect.Kind of a JSON-decoded value: `string`, `float64`, `bool`, `slice`, `map`."""
    if isinstance(value, list | tuple):
        return "slice"
    if isinstance(value, dict):
        return "map"
    return go_type_name(value)


def go_v(value: Any, depth: int = 0) -> str:
    """fmt's %v of a JSON-decoded value: `5`, `1e+06`, `true`, `[a b]`, `map[a:1 b:x]`."""
    if depth > 50:
        return "..."
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return go_g(float(value))
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        return "[" + " ".join(go_v(item, depth + 1) for item in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_v(value[k], depth + 1)}" for k in sorted(value)) + "]"
    return str(value)


def go_g(v: float) -> str:
    """strconv.FormatFloat(v, 'g', -1, 64) as %v uses it: an exponent below 1e-4 and from 1e6 up."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    if v == 0:
        return "-0" if math.copysign(1, v) < 0 else "0"
    sign, digits, exponent = Decimal(repr(v)).as_tuple()
    text_digits = "".join(map(str, digits)).rstrip("0") or "0"
    assert isinstance(exponent, int)
    # decimal point position: value = 0.d1d2... * 10**point
    point = len(digits) + exponent
    exp10 = point - 1
    prefix = "-" if sign else ""
    if exp10 < -4 or exp10 >= 6:
        mantissa = text_digits[0] + ("." + text_digits[1:] if len(text_digits) > 1 else "")
        return f"{prefix}{mantissa}e{'-' if exp10 < 0 else '+'}{abs(exp10):02d}"
    return prefix + format_float(abs(v))


def go_f(v: float) -> str:
    """fmt's %f: six decimals."""
    return f"{v:.6f}"
