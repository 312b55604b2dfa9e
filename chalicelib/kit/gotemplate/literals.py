"""Go's string, character and number literals as strconv reads them."""

from __future__ import annotations

import math

_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}


def _unquote(text: str) -> str:
    """strconv.Unquote for "...", `...` and '...'."""
    quote, body = text[0], text[1:-1]
    if len(text) < 2 or text[-1] != quote:
        raise ValueError
    if quote == "`":
        if "`" in body:
            raise ValueError
        return body.replace("\r", "")
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == quote or ch == "\n":
            raise ValueError
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        esc = body[i + 1 : i + 2]
        i += 2
        if esc in _ESCAPES:
            out.append(_ESCAPES[esc])
        elif esc == quote:
            out.append(esc)
        elif esc in ("x", "u", "U"):
            size = {"x": 2, "u": 4, "U": 8}[esc]
            digits = body[i : i + size]
            if len(digits) != size or not all(c in "0123456789abcdefABCDEF" for c in digits):
                raise ValueError
            code = int(digits, 16)
            if esc != "x" and (code > 0x10FFFF or 0xD800 <= code <= 0xDFFF):
                raise ValueError
            out.append(chr(code))
            i += size
        elif esc and esc in "01234567":
            digits = body[i - 1 : i + 2]
            if len(digits) != 3 or not all(c in "01234567" for c in digits) or int(digits, 8) > 255:
                raise ValueError
            out.append(chr(int(digits, 8)))
            i += 2
        else:
            raise ValueError
    return "".join(out)


def _parse_number(text: str) -> int | float | None:
    """Go's number literal: an int when it is one (any base, underscores), else a float."""
    if text.endswith("i"):
        return None  # complex numbers are not supported
    body = text.lstrip("+-")
    negative = text.startswith("-")
    if "_" in body and (body.startswith("_") or body.endswith("_") or "__" in body):
        return None
    clean = body.replace("_", "")
    try:
        lower = clean.lower()
        if lower.startswith("0x") and "p" not in lower and "." not in lower:
            value: int | float = int(clean[2:], 16)
        elif lower.startswith("0o"):
            value = int(clean[2:], 8)
        elif lower.startswith("0b"):
            value = int(clean[2:], 2)
        elif clean.isdigit() and len(clean) > 1 and clean.startswith("0"):
            value = int(clean, 8)
        elif clean.isdigit():
            value = int(clean)
        elif lower.startswith("0x"):
            value = float.fromhex(clean)
        else:
            value = float(clean)
    except ValueError:
        return None
    if isinstance(value, float) and math.isinf(value):
        return None  # out of range, as strconv.ParseFloat reports it
    return -value if negative else value
