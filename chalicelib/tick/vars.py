"""Task vars as Kapacitor's API carries them: `{"name": {"type": ..., "value": ..., "description": ...}}`,
read into `Var`s (values as the pipeline takes them) and written back in the same JSON shape."""

from __future__ import annotations

import re
from typing import Any

from chalicelib.kit.errors import TicklessError, invalid
from chalicelib.tick.evaluate import VAR_TYPES, Var
from chalicelib.tick.formatter import expression_text
from chalicelib.tick.parser import parse_influxql_duration, parse_lambda
from chalicelib.tick.values import Duration, Lambda, Regex, Star

_INT64 = (-(2**63), 2**63 - 1)


def read_vars(body: Any) -> dict[str, Var]:
    """The vars of a request body. A shape Kapacitor's JSON decoding refuses answers "invalid JSON", as
    its decoder fails the whole body; a value of the wrong kind for its type is Kapacitor's later check."""
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise invalid("invalid JSON")
    return {name: _read_var(name, spec) for name, spec in body.items()}


def _read_var(name: str, spec: Any) -> Var:
    if not isinstance(spec, dict) or spec.get("type") not in VAR_TYPES:
        raise invalid("invalid JSON")
    kind, value = spec["type"], spec.get("value")
    description = spec.get("description") or ""
    if not isinstance(description, str):
        raise invalid("invalid JSON")
    try:
        return Var(kind, _value(kind, value), description)
    except TicklessError as exc:
        raise invalid(f"invalid var {name}: {exc.message}") from None


def _value(kind: str, value: Any) -> Any:
    if kind == "star":
        return Star()
    if kind == "list":
        if not isinstance(value, list) or not all(isinstance(v, dict) and "type" in v for v in value):
            raise invalid("invalid JSON")
        items = [_read_var("", item) for item in value]
        if any(item.type not in ("string", "star") for item in items):
            raise invalid("lists may only contain string or star vars")
        return [item.value for item in items]
    if kind == "duration":
        if isinstance(value, int) and not isinstance(value, bool):
            return Duration(value)
        if isinstance(value, str):
            try:
                return Duration(parse_influxql_duration(value))
            except (TicklessError, ValueError):
                raise invalid(f"invalid duration string {value!r}") from None
        raise invalid("invalid JSON")
    if kind == "int":
        if isinstance(value, int) and not isinstance(value, bool) and _INT64[0] <= value <= _INT64[1]:
            return value
        raise invalid("invalid JSON")
    if kind == "float":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise invalid("invalid JSON")
    if kind == "bool":
        if isinstance(value, bool):
            return value
        raise invalid(f"mismatched type and value: {_go_kind(value)} bool")
    if not isinstance(value, str):
        raise invalid(f"mismatched type and value: {_go_kind(value)} {kind}")
    if kind == "regex":
        try:
            return Regex.of(value)
        except re.error as exc:
            raise invalid(f"invalid regex pattern: {exc}") from None
    if kind == "lambda":
        try:
            node = parse_lambda(value)
        except TicklessError as exc:
            raise invalid(f"invalid lambda expression: {exc.message}") from None
        return Lambda(node.expression, expression_text(node))
    return value


def _go_kind(value: Any) -> str:
    for kind, name in ((bool, "bool"), (int, "int64"), (float, "float64"), (str, "string"), (list, "[]")):
        if isinstance(value, kind):
            return name
    return "<nil>" if value is None else "map[string]interface {}"


def var_json(var: Var) -> dict[str, Any]:
    return {"value": _json_value(var.value), "type": var.type, "description": var.description}


def _json_value(value: Any) -> Any:
    if isinstance(value, Duration):
        return value.nanoseconds
    if isinstance(value, Regex):
        return value.pattern
    if isinstance(value, Lambda):
        return value.text
    if isinstance(value, Star):
        return None
    if isinstance(value, list):
        return [{"value": _json_value(v), "type": _list_item_type(v), "description": ""} for v in value]
    return value


def _list_item_type(value: Any) -> str:
    return "star" if isinstance(value, Star) else "string"


def vars_json(vars: dict[str, Var]) -> dict[str, Any]:
    return {name: var_json(var) for name, var in vars.items()}
