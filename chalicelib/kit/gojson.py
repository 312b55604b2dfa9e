"""Go's encoding/json as Kapacitor's handlers meet it: the wording of its decode errors, and json.Decoder's
habit of reading the first value of a body and leaving the rest."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.kit.gotemplate.printf import go_quote


def go_json_error(raw: bytes, *, stream: bool) -> str | None:
    """Go's encoding/json wording for a body that is not one JSON value, or None when it is one.
    `stream` words it as json.Decoder does (Kapacitor's handler bodies: EOF, trailing data ignored),
    otherwise as json.Unmarshal (its patch bodies)."""
    text = raw.decode("utf-8", "replace")
    try:
        json.loads(text)
        return None
    except json.JSONDecodeError as err:
        return _go_syntax(text, err, stream=stream)
    except RecursionError:
        return "exceeded max depth"


def _go_syntax(text: str, err: json.JSONDecodeError, *, stream: bool) -> str | None:
    if not text.strip():
        return "EOF" if stream else "unexpected end of JSON input"
    if err.msg == "Extra data":
        return None if stream else f"invalid character {_go_char(text[err.pos])} after top-level value"
    if err.pos >= len(text) or err.msg.startswith("Unterminated string"):
        return "unexpected EOF" if stream else "unexpected end of JSON input"
    char = _go_char(text[err.pos])
    contexts = {
        "Expecting value": "looking for beginning of value",
        "Expecting property name enclosed in double quotes": "looking for beginning of object key string",
        "Expecting ':' delimiter": "after object key",
    }
    if err.msg in contexts:
        return f"invalid character {char} {contexts[err.msg]}"
    if err.msg == "Expecting ',' delimiter":
        opener = _innermost_open(text, err.pos)
        where = "after object key:value pair" if opener == "{" else "after array element"
        return f"invalid character {char} {where}"
    return f"invalid character {char} in string literal"


def _innermost_open(text: str, pos: int) -> str:
    stack: list[str] = []
    in_string = escaped = False
    for ch in text[:pos]:
        if in_string:
            escaped = not escaped and ch == "\\"
            in_string = escaped or ch != '"'
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            stack.append(ch)
        elif ch in "]}" and stack:
            stack.pop()
    return stack[-1] if stack else ""


def _go_char(ch: str) -> str:
    if ch == "'":
        return "'\\''"
    if ch == '"':
        return "'\"'"
    return "'" + go_quote(ch)[1:-1] + "'"


def json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return {str: "string", list: "array", dict: "object"}.get(type(value), "null")


def first_value(body: bytes) -> Any:
    """The first JSON value of a body (json.Decoder reads one and leaves the rest)."""
    text = body.decode("utf-8", "replace")
    value, _ = json.JSONDecoder().raw_decode(text, len(text) - len(text.lstrip()))
    return value
