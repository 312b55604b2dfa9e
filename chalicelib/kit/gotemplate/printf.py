"""Go's fmt and strconv as templates use them: Sprint, Sprintln, Sprintf, %v, FormatFloat and Quote."""

from __future__ import annotations

import math
import re
import unicodedata
from decimal import Decimal
from typing import Any

from chalicelib.kit.gotemplate.errors import TemplateError
from chalicelib.kit.gotemplate.limits import MAX_OUTPUT
from chalicelib.kit.gotemplate.timefmt import time_string
from chalicelib.kit.gotemplate.values import GoDuration, GoStruct, GoTime, _sort_keys, type_name
from chalicelib.kit.time import go_duration


def _shortest(v: float) -> tuple[str, int]:
    """Shortest round-trip digits of |v| (no trailing zeros, "0" for zero) and the decimal point position:
    |v| = 0.DIGITS x 10^dp."""
    _, digit_tuple, exponent = Decimal(repr(abs(v))).as_tuple()
    digits = "".join(map(str, digit_tuple)).lstrip("0")
    exp = int(exponent)
    stripped = digits.rstrip("0")
    exp += len(digits) - len(stripped)
    if not stripped:
        return "0", 1
    return stripped, len(stripped) + exp


def go_float(v: float, verb: str = "g", prec: int = -1, exp_limit: int = 6) -> str:
    """strconv.FormatFloat(v, verb, prec, 64) for verbs e, E, f, g, G; `exp_limit` is the exponent from
    which shortest %g switches to %e (6 for fmt, 21 for encoding/json)."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    if prec >= 0:
        return format(v, f".{prec}{verb}")
    digits, dp = _shortest(v)
    sign = "-" if math.copysign(1.0, v) < 0 else ""
    exp = dp - 1
    if verb in "eE" or (verb in "gG" and digits != "0" and (exp < -4 or exp >= exp_limit)):
        if digits == "0":
            exp = 0
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        text = f"{sign}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
        return text.upper() if verb.isupper() else text
    if dp <= 0:
        return f"{sign}0.{'0' * -dp}{digits}"
    if dp >= len(digits):
        return sign + digits + "0" * (dp - len(digits))
    return f"{sign}{digits[:dp]}.{digits[dp:]}"


def _is_stringer(value: Any) -> bool:
    return isinstance(value, GoTime | GoDuration)


def _stringer(value: Any) -> str:
    if isinstance(value, GoTime):
        return time_string(value.ns)
    return go_duration(value.ns)


def format_value(value: Any, top: bool = True) -> str:
    """fmt's %v of a value; nil prints `<nil>`."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_float(value)
    if _is_stringer(value):
        return _stringer(value)
    if isinstance(value, GoStruct):
        return "{" + " ".join(format_value(v, False) for v in value.fields.values()) + "}"
    if isinstance(value, dict):
        keys = _sort_keys(list(value))
        return (
            "map[" + " ".join(f"{format_value(k, False)}:{format_value(value[k], False)}" for k in keys) + "]"
        )
    if isinstance(value, list | tuple):
        return "[" + " ".join(format_value(v, False) for v in value) + "]"
    return str(value)


def go_sprint(args: list[Any]) -> str:
    """fmt.Sprint: a space between operands when neither is a string."""
    out: list[str] = []
    for i, arg in enumerate(args):
        if i and not isinstance(arg, str) and not isinstance(args[i - 1], str):
            out.append(" ")
        out.append(format_value(arg))
    return "".join(out)


def go_sprintln(args: list[Any]) -> str:
    return " ".join(format_value(a) for a in args) + "\n"


def go_quote(text: str) -> str:
    """strconv.Quote."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch in "\a\b\f\n\r\t\v":
            out.append("\\" + "abfnrtv"["\a\b\f\n\r\t\v".index(ch)])
        elif 0xD800 <= code <= 0xDFFF:
            out.append("\\ufffd")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif code < 0x80 or _printable(ch):
            out.append(ch)
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def _printable(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LMNPS" or ch == " "


_VERB = re.compile(r"%([-+# 0]*)(\*|\d+)?(?:\.(\*|\d+)?)?(.?)", re.S)


def go_sprintf(fmt: str, args: list[Any]) -> str:
    """fmt.Sprintf for the verbs templates use (v s d f e g t q x X o b c U and %%)."""
    out: list[str] = []
    used = 0
    pos = 0
    size = 0
    while pos < len(fmt):
        cut = fmt.find("%", pos)
        if cut < 0:
            out.append(fmt[pos:])
            break
        out.append(fmt[pos:cut])
        match = _VERB.match(fmt, cut)
        assert match is not None
        flags, width_text, prec_text, verb = match.groups()
        pos = match.end()
        has_prec = "." in match.group(0)[: len(match.group(0)) - len(verb)]
        width = prec = -1
        if width_text == "*":
            if used < len(args) and isinstance(args[used], int) and not isinstance(args[used], bool):
                width = args[used]
                if width < 0:
                    flags += "-"
                    width = -width
            else:
                out.append("%!(BADWIDTH)")
            used += 1
        elif width_text:
            width = int(width_text)
        if has_prec:
            if prec_text == "*":
                if used < len(args) and isinstance(args[used], int) and not isinstance(args[used], bool):
                    prec = max(args[used], -1)
                else:
                    out.append("%!(BADPREC)")
                used += 1
            else:
                prec = int(prec_text or "0")
        if width > 1_000_000 or prec > 1_000_000:
            out.append("%!(BADWIDTH)")
            continue
        if not verb:
            out.append("%!(NOVERB)")
            break
        if verb == "%":
            out.append("%")
            continue
        if used >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        out.append(_format_verb(args[used], verb, flags, width, prec))
        used += 1
        size += len(out[-1])
        if size > MAX_OUTPUT:
            raise TemplateError("template: printf: output exceeded its limit")
    if used < len(args):
        extra = ", ".join("<nil>" if a is None else f"{type_name(a)}={format_value(a)}" for a in args[used:])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)


def _pad(text: str, flags: str, width: int, zero_ok: bool = False) -> str:
    if width <= len(text):
        return text
    if "-" in flags:
        return text + " " * (width - len(text))
    if zero_ok and "0" in flags:
        sign = text[0] if text[:1] in "+-" else ""
        return sign + "0" * (width - len(text)) + text[len(sign) :]
    return " " * (width - len(text)) + text


def _bad(value: Any, verb: str) -> str:
    if value is None:
        return f"%!{verb}(<nil>)"
    return f"%!{verb}({type_name(value)}={format_value(value)})"


def _format_verb(value: Any, verb: str, flags: str, width: int, prec: int) -> str:
    if verb in "vsxXq" and _is_stringer(value):
        value = _stringer(value)
    if isinstance(value, GoDuration):
        value = value.ns
    if verb == "v":
        if isinstance(value, float) and prec >= 0:
            return _pad(go_float(value, "g", prec), flags, width, True)
        text = format_value(value)
        if "+" in flags and isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            text = "+" + text
        return _pad(text, flags, width, isinstance(value, int | float) and not isinstance(value, bool))
    if isinstance(value, bool):
        return _pad("true" if value else "false", flags, width) if verb == "t" else _bad(value, verb)
    if isinstance(value, int):
        return _format_int(value, verb, flags, width, prec)
    if isinstance(value, float):
        if verb not in "eEfFgG":
            return _bad(value, verb)
        text = go_float(
            value, "f" if verb == "F" else verb, prec if prec >= 0 else (6 if verb in "eEfF" else -1)
        )
        if "+" in flags and not text.startswith("-"):
            text = "+" + text
        elif " " in flags and not text.startswith("-"):
            text = " " + text
        return _pad(text, flags, width, True)
    if isinstance(value, str):
        if verb == "s":
            return _pad(value if prec < 0 else value[:prec], flags, width)
        if verb == "q":
            return _pad(go_quote(value if prec < 0 else value[:prec]), flags, width)
        if verb in "xX":
            data = value.encode("utf-8", "replace")
            text = data.hex() if verb == "x" else data.hex().upper()
            return _pad(text, flags, width)
        return _bad(value, verb)
    if isinstance(value, dict | list | tuple | GoStruct) and verb in "sdxXq":
        return _pad(format_value(value), flags, width)
    return _bad(value, verb)


def _format_int(value: int, verb: str, flags: str, width: int, prec: int) -> str:
    sign = "-" if value < 0 else ("+" if "+" in flags else (" " if " " in flags else ""))
    magnitude = abs(value)
    if verb == "d":
        digits = str(magnitude)
    elif verb in "xX":
        digits = format(magnitude, verb)
        if "#" in flags:
            digits = "0" + verb + digits
    elif verb == "o":
        digits = format(magnitude, "o")
        if "#" in flags and digits[0] != "0":
            digits = "0" + digits
    elif verb == "O":
        digits = "0o" + format(magnitude, "o")
    elif verb == "b":
        digits = format(magnitude, "b")
    elif verb == "c":
        return _pad(_rune(value), flags, width)
    elif verb == "q":
        return _pad(
            "'" + go_quote(_rune(value))[1:-1].replace('\\"', '"').replace("'", "\\'") + "'", flags, width
        )
    elif verb == "U":
        return _pad(f"U+{value:04X}" if value >= 0 else _bad(value, verb), flags, width)
    elif verb in "eEfFgG":
        return _bad(value, verb)
    else:
        return _bad(value, verb)
    if prec >= 0:
        digits = digits.rjust(prec, "0") if prec or magnitude else ""
    return _pad(sign + digits, flags, width, prec < 0)


def _rune(value: int) -> str:
    return chr(value) if 0 <= value <= 0x10FFFF and not 0xD800 <= value <= 0xDFFF else "\ufffd"
