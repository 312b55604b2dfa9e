"""InfluxDB line protocol parser: `measurement[,tag=v...] field=v[,field=v...] [timestamp]` per line.

The whole batch is validated; the first bad line raises `LineProtocolError` with InfluxDB's message
(`unable to parse '<line>': <reason>`). See docs/LINEPROTOCOL.md for the rules and the decisions.

Speed (this is the write hot path) comes from three tiers:

1. Series cache: the text before the first space of a line (measurement and tags, as written) maps to
   its parsed, validated and canonicalised series, so a series seen before costs one dict lookup.
2. Shapes: lines of a series almost always carry the same sequence of field types. For each type
   sequence seen often enough, one regular expression is compiled that validates the whole field set
   and timestamp and captures the bare values; the field dict is then built with C-level calls only
   (`dict(zip(keys, map(call, converters, values)))`). A series remembers the last shape it matched.
3. The general parser: escape-aware and strict, it runs for everything else (first lines of a shape,
   escaped field keys or strings, exponents, unusual spacing, comments, errors) and feeds tier 2.
"""

from __future__ import annotations

import gc
import re
import time as _time
from operator import call as _call

from chalicelib.kit.points import Point, UInt
from chalicelib.kit.time import MAX_TIME, MIN_TIME, NS_PER_UNIT, V1_PRECISIONS

from .serializer import escape_key, escape_measurement

__all__ = [
    "MAX_KEY_LENGTH",
    "MAX_TIME",
    "MIN_TIME",
    "PRECISIONS",
    "RESERVED_FIELD_KEYS",
    "RESERVED_TAG_KEYS",
    "LineProtocolError",
    "parse",
]

# Multiplier from a write precision to nanoseconds.
PRECISIONS: dict[str, int] = {name: NS_PER_UNIT[unit] for name, unit in V1_PRECISIONS.items()}

MAX_KEY_LENGTH = 65535
RESERVED_TAG_KEYS = frozenset({"_field", "_measurement", "time"})
RESERVED_FIELD_KEYS = frozenset({"time"})

_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1
_UINT64_MAX = (1 << 64) - 1

# Reasons, in InfluxDB's words where it has them.
MISSING_MEASUREMENT = "missing measurement"
MISSING_FIELDS = "missing fields"
MISSING_TAG_KEY = "missing tag key"
MISSING_TAG_VALUE = "missing tag value"
INVALID_TAG_FORMAT = "invalid tag format"
DUPLICATE_TAGS = "duplicate tags"
MISSING_FIELD_KEY = "missing field key"
MISSING_FIELD_VALUE = "missing field value"
INVALID_FIELD_FORMAT = "invalid field format"
INVALID_NUMBER = "invalid number"
INVALID_FLOAT = "invalid float"
INVALID_BOOLEAN = "invalid boolean"
UNBALANCED_QUOTES = "unbalanced quotes"
BAD_TIMESTAMP = "bad timestamp"
TIME_OUT_OF_RANGE = f"time outside range {MIN_TIME} - {MAX_TIME}"
INVALID_UTF8 = "invalid UTF-8"


class LineProtocolError(Exception):
    """A line of the batch does not parse; `str(e)` is InfluxDB's message for it."""

    def __init__(self, lineno: int, line: str, reason: str) -> None:
        super().__init__(f"unable to parse '{line}': {reason}")
        self.lineno = lineno
        self.line = line
        self.reason = reason


class _Bad(Exception):
    """Internal: the current line is invalid for `reason`; `line` is set once the line text is known."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line: str | None = None


def _int_range_reason(digits: str) -> str:
    return f'unable to parse integer {digits}: strconv.ParseInt: parsing "{digits}": value out of range'


def _uint_range_reason(digits: str) -> str:
    return f'unable to parse unsigned {digits}: strconv.ParseUint: parsing "{digits}": value out of range'


# --------------------------------------------------------------------------------------------------
# Value grammar

_BOOLS: dict[str, bool] = {
    "t": True,
    "T": True,
    "true": True,
    "True": True,
    "TRUE": True,
    "f": False,
    "F": False,
    "false": False,
    "False": False,
    "FALSE": False,
}
_NUMBER_START = frozenset("0123456789.-Nn")  # InfluxDB scans these as numbers, anything else as a boolean

_INT_RE = re.compile(r"(-?[0-9]+)i")
_UINT_RE = re.compile(r"(-?[0-9]+)u")
_FLOAT_RE = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_TIMESTAMP_RE = re.compile(r"-?[0-9]+")


def _number_reason(tok: str) -> str:
    """Why `tok` is not a valid number, following InfluxDB's scanner (`invalid number` for a bad shape,
    `invalid float` for one that only the float conversion rejects)."""
    n = len(tok)
    i = 0
    if tok[0] == "-":
        i = 1
        if n == 1:
            return INVALID_NUMBER
    start = 0
    decimal = scientific = is_int = False
    while i < n:
        c = tok[i]
        if c in "iu" and i > start and not is_int:
            is_int = True
        elif c == ".":
            if decimal:
                return INVALID_NUMBER
            decimal = True
        elif c in "eE" and i > start:
            scientific = True
        elif c in "+-" and tok[i - 1] in "eE":
            pass
        elif c not in "0123456789":
            return INVALID_NUMBER
        i += 1
    if is_int and (decimal or scientific or tok[-1] not in "iu"):
        return INVALID_NUMBER
    digits = n - (1 if tok[0] == "-" else 0) - (1 if decimal else 0) - (1 if is_int else 0)
    if digits == 0:
        return INVALID_NUMBER
    if is_int and tok[-1] == "u" and tok[0] == "-":
        return INVALID_NUMBER
    return INVALID_FLOAT


def _convert(tok: str) -> tuple[object, str]:
    """Convert a non-string field value; returns (value, type code) or raises _Bad."""
    if tok[0] in _NUMBER_START:
        last = tok[-1]
        if last == "i":
            m = _INT_RE.fullmatch(tok)
            if m is not None:
                digits = m.group(1)
                if len(digits) > 21:
                    raise _Bad(_int_range_reason(digits))
                v = int(digits)
                if not _INT64_MIN <= v <= _INT64_MAX:
                    raise _Bad(_int_range_reason(digits))
                return v, "i"
        elif last == "u":
            m = _UINT_RE.fullmatch(tok)
            if m is not None:
                digits = m.group(1)
                if digits[0] == "-":
                    raise _Bad(INVALID_NUMBER)
                if len(digits) > 21 or int(digits) > _UINT64_MAX:
                    raise _Bad(_uint_range_reason(digits))
                return UInt(digits), "u"
        elif _FLOAT_RE.fullmatch(tok) is not None:
            v = float(tok)
            if v in (_INF, _NINF):
                raise _Bad(INVALID_FLOAT)
            return v, "f"
        raise _Bad(_number_reason(tok))
    b = _BOOLS.get(tok)
    if b is None:
        raise _Bad(INVALID_BOOLEAN)
    return b, "b"


_INF = float("inf")
_NINF = float("-inf")

# --------------------------------------------------------------------------------------------------
# Escapes

# The key (measurement and tags) runs to the first space that a backslash does not escape.
_KEY_SCAN = re.compile(r"[^ \\]*+(?:\\(?:.|\Z)[^ \\]*+)*+", re.S)
# Unescaped delimiters inside a key; a backslash pair is skipped as a whole.
_KEY_DELIM = re.compile(r"\\.|([,=])", re.S)
_UNESCAPE_MEASUREMENT = re.compile(r"\\([\\, ])")
_UNESCAPE_KEY = re.compile(r"\\([\\,= ])")
_UNESCAPE_STRING = re.compile(r'\\([\\"])')

# A field key (escape-aware) and the raw token of a non-string value.
_FIELD_KEY = re.compile(r"[^\\,= ]*+(?:\\(?:.|\Z)[^\\,= ]*+)*+", re.S)
_VALUE_TOKEN = re.compile(r"[^, \t]*+")
# The body of a string value after its opening quote, up to and including the closing quote if any.
_STRING_BODY = re.compile(r'([^"\\]*+(?:\\.[^"\\]*+)*+)(")?', re.S)
_WS = " \t\x00"


def _unescape_measurement(raw: str) -> str:
    return _UNESCAPE_MEASUREMENT.sub(r"\1", raw) if "\\" in raw else raw


def _unescape_key(raw: str) -> str:
    return _UNESCAPE_KEY.sub(r"\1", raw) if "\\" in raw else raw


def _split_unescaped(s: str, sep: str) -> list[str]:
    """Split raw text at each `sep` that no backslash escapes."""
    out = []
    start = 0
    for m in _KEY_DELIM.finditer(s):
        if m.group(1) == sep:
            out.append(s[start : m.start()])
            start = m.end()
    out.append(s[start:])
    return out


def _utf8_len(s: str) -> int:
    return len(s) if s.isascii() else len(s.encode("utf-8", "surrogatepass"))


# --------------------------------------------------------------------------------------------------
# Series keys


def _parse_key(kt: str) -> list:
    """Parse and validate `measurement[,tag=value...]` (raw, escaped text). Returns the series entry
    `[key, measurement, tags, shape fullmatch, field keys, converters, key bytes]` (no shape yet)."""
    if "\\" not in kt:
        parts = kt.split(",")
        meas = parts[0]
        if not meas:
            raise _Bad(MISSING_MEASUREMENT)
        tags = []
        for part in parts[1:]:
            k, eq, v = part.partition("=")
            if not k:
                raise _Bad(MISSING_TAG_KEY)
            if not eq:
                raise _Bad(MISSING_TAG_VALUE)
            if "=" in v:
                raise _Bad(INVALID_TAG_FORMAT)
            if not v:
                raise _Bad(MISSING_TAG_VALUE)
            if k in RESERVED_TAG_KEYS:
                raise _Bad(f'invalid tag key "{k}"')
            tags.append((k, v))
        plain = True
    else:
        parts = _split_unescaped(kt, ",")
        if not parts[0]:
            raise _Bad(MISSING_MEASUREMENT)
        meas = _unescape_measurement(parts[0])
        tags = []
        for part in parts[1:]:
            kv = _split_unescaped(part, "=")
            if not kv[0]:
                raise _Bad(MISSING_TAG_KEY)
            if len(kv) == 1:
                raise _Bad(MISSING_TAG_VALUE)
            if len(kv) > 2:
                raise _Bad(INVALID_TAG_FORMAT)
            if not kv[1]:
                raise _Bad(MISSING_TAG_VALUE)
            k = _unescape_key(kv[0])
            if k in RESERVED_TAG_KEYS:
                raise _Bad(f'invalid tag key "{k}"')
            tags.append((k, _unescape_key(kv[1])))
        plain = False
    if len(tags) > 1:
        ordered = sorted(tags)
        for i in range(1, len(ordered)):
            if ordered[i][0] == ordered[i - 1][0]:
                raise _Bad(DUPLICATE_TAGS)
        if plain and ordered == tags:
            key = kt
        else:
            key = escape_measurement(meas) + "".join(f",{escape_key(k)}={escape_key(v)}" for k, v in ordered)
        tags = ordered
    elif plain:
        key = kt
    else:
        key = escape_measurement(meas) + "".join(f",{escape_key(k)}={escape_key(v)}" for k, v in tags)
    nbytes = _utf8_len(key)
    if nbytes > MAX_KEY_LENGTH:
        raise _Bad(f"max key length exceeded: {nbytes} > {MAX_KEY_LENGTH}")
    return [key, meas, tuple(tags), None, None, None, nbytes]


# --------------------------------------------------------------------------------------------------
# Shapes: one compiled pattern per sequence of (field key, value type)


def _unescape_string(s: str) -> str:
    return _UNESCAPE_STRING.sub(r"\1", s) if "\\" in s else s


_SHAPE_VALUE = {
    # at most 200 integer digits and a two-digit exponent, so the value cannot overflow to inf; the
    # rarer forms (`.5`, longer numbers or exponents) are left to the general parser
    "f": r"(-?[0-9]{1,200}+(?:\.[0-9]*+)?(?:[eE][+-]?[0-9]{1,2}+)?)",
    "i": r"(-?[0-9]{1,18}+)i",  # 18 digits always fit int64
    "u": r"([0-9]{1,19}+)u",  # 19 digits always fit uint64
    "s": r'"([^"\\]*+(?:\\.[^"\\]*+)*+)"',
    "b": r"(true|True|TRUE|t|T|false|False|FALSE|f|F)",
}
_SHAPE_CONVERT = {"f": float, "i": int, "u": UInt, "s": _unescape_string, "b": _BOOLS.__getitem__}
_SHAPE_TS = r"(?: (-?[0-9]++))? *+"
_SHAPE_MAX_FIELDS = 100
_SHAPE_MIN_SEEN = 3  # compile a shape once the general parser has produced it this often
# (raw field keys, type codes) -> (fullmatch, field keys, converters, longest raw key in bytes)
_SHAPES: dict[tuple, tuple] = {}
_SHAPES_MAX = 512
_SEEN: dict[tuple, int] = {}
_SEEN_MAX = 8192


def _shape_for(raw_keys: tuple, codes: str, keys: tuple) -> tuple | None:
    """The compiled shape for this field layout, once it has been seen often enough (kept across
    batches, bounded)."""
    sig = (raw_keys, codes)
    shape = _SHAPES.get(sig)
    if shape is not None:
        return shape
    seen = _SEEN.get(sig, 0) + 1
    if seen < _SHAPE_MIN_SEEN:
        if len(_SEEN) >= _SEEN_MAX:
            _SEEN.clear()
        _SEEN[sig] = seen
        return None
    _SEEN.pop(sig, None)
    if len(_SHAPES) >= _SHAPES_MAX:
        _SHAPES.clear()
    pattern = ",".join(f"{re.escape(k)}={_SHAPE_VALUE[c]}" for k, c in zip(raw_keys, codes, strict=True))
    shape = (
        re.compile(pattern + _SHAPE_TS, re.S).fullmatch,
        keys,
        tuple(_SHAPE_CONVERT[c] for c in codes),
        max(_utf8_len(k) for k in raw_keys),
    )
    _SHAPES[sig] = shape
    return shape


def _take_shape(e: list, shape: tuple) -> bool:
    """Give series entry `e` the shape if every field key fits the key length limit with it."""
    if e[6] + 4 + shape[3] > MAX_KEY_LENGTH:
        return False
    e[3], e[4], e[5] = shape[0], shape[1], shape[2]
    return True


# --------------------------------------------------------------------------------------------------
# The general parser


def _parse_fields(
    s: str, pos: int, more, text: list[str]
) -> tuple[str, dict, str | None, list[str], list[str], list[str]]:
    """Parse the field set and timestamp of `s` from `pos` (just after the key's space).

    Returns (line text, fields, raw timestamp or None, raw field keys, field keys, type codes). A
    string value left open at the end of the line continues on the next lines (`more()` returns the
    next raw line or None); the returned line text then spans them, and so does `text[0]` (for
    the error message) as soon as it does.
    """
    n = len(s)
    while pos < n and s[pos] in _WS:
        pos += 1
    if pos >= n:
        raise _Bad(MISSING_FIELDS)
    fields: dict = {}
    raws: list[str] = []
    keys: list[str] = []
    codes: list[str] = []
    while True:
        m = _FIELD_KEY.match(s, pos)
        raw = m.group()
        pos = m.end()
        if pos >= n or s[pos] != "=":
            raise _Bad(INVALID_FIELD_FORMAT)
        if not raw:
            raise _Bad(MISSING_FIELD_KEY)
        pos += 1
        if pos >= n or s[pos] in ", ":
            raise _Bad(MISSING_FIELD_VALUE)
        if s[pos] == '"':
            m = _STRING_BODY.match(s, pos + 1)
            if m.group(2) is None:
                s, n = _continue_string(s, pos + 1, more)
                text[0] = s
                m = _STRING_BODY.match(s, pos + 1)
            body = m.group(1)
            pos = m.end()
            if pos < n and s[pos] != "," and s[pos] not in _WS:
                raise _Bad(INVALID_FIELD_FORMAT)
            value: object = _UNESCAPE_STRING.sub(r"\1", body) if "\\" in body else body
            codes.append("s")
        else:
            m = _VALUE_TOKEN.match(s, pos)
            pos = m.end()
            value, code = _convert(m.group())
            codes.append(code)
        key = _unescape_key(raw)
        if key in RESERVED_FIELD_KEYS:
            raise _Bad(f'invalid field key "{key}"')
        fields[key] = value
        raws.append(raw)
        keys.append(key)
        if pos >= n:
            return s, fields, None, raws, keys, codes
        if s[pos] != ",":
            break
        pos += 1
    # the timestamp: after whitespace, one integer, then only whitespace
    rest = s[pos:].strip(_WS)
    if not rest:
        return s, fields, None, raws, keys, codes
    if _TIMESTAMP_RE.fullmatch(rest) is None:
        raise _Bad(BAD_TIMESTAMP)
    return s, fields, rest, raws, keys, codes


def _continue_string(s: str, body_start: int, more) -> tuple[str, int]:
    """A string value opened in `s` is not closed on its line: append the following lines (joined by
    newlines) until an unescaped quote closes it. Returns the joined text and its length."""
    m = _STRING_BODY.match(s, body_start)
    pending = m.end() < len(s)  # a lone trailing backslash escapes the newline
    parts = [s]
    while True:
        nxt = more()
        if nxt is None:
            raise _Bad(UNBALANCED_QUOTES)
        parts.append(nxt)
        chunk = "\n" + nxt
        if '"' not in nxt and "\\" not in nxt:
            pending = False
            continue
        m = _STRING_BODY.match(chunk, 1 if pending else 0)
        if m.group(2) is not None:
            joined = "\n".join(parts)
            return joined, len(joined)
        pending = m.end() < len(chunk)


# --------------------------------------------------------------------------------------------------
# parse


def parse(data: bytes | bytearray | memoryview | str, precision: str = "ns", now: int | None = None) -> list:
    """Parse a batch of line protocol into `Point`s, validating every line.

    `precision` is one of PRECISIONS (ValueError otherwise); timestamps are multiplied by it. `now` is
    the server time in ns (default: the clock); a line without timestamp gets it truncated to the
    precision. Raises LineProtocolError for the first bad line.
    """
    mult = PRECISIONS.get(precision)
    if mult is None:
        raise ValueError(f"invalid precision {precision!r}: expected one of {', '.join(PRECISIONS)}")
    if now is None:
        now = _time.time_ns()
    default_time = now - now % mult
    if isinstance(data, str):
        text = data
    else:
        raw = bytes(data)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            _raise_utf8(raw, exc, precision, now)
            raise  # not reached: _raise_utf8 always raises
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    # The batch allocates many objects and no reference cycles: pausing the cyclic collector meanwhile
    # saves about a fifth of the time on large batches.
    collecting = gc.isenabled()
    if collecting:
        gc.disable()
    try:
        return _parse_lines(text.split("\n"), mult, default_time)
    finally:
        if collecting:
            gc.enable()


def _parse_lines(lines: list[str], mult: int, default_time: int) -> list:
    out: list = []
    append = out.append
    series: dict[str, list] = {}  # raw key text -> entry (see _parse_key)
    hints: dict[str, tuple] = {}  # measurement -> the shape its last series took
    new = tuple.__new__
    call = _call
    lo, hi = MIN_TIME, MAX_TIME
    it = enumerate(lines, 1)
    for lineno, line in it:
        sp = line.find(" ")
        if sp > 0:
            e = series.get(line[:sp])
            if e is not None:
                match = e[3]
                if match is not None:
                    m = match(line, sp + 1)
                    if m is not None:
                        vals = m.groups()
                        ts = vals[-1]
                        if ts is None:
                            t = default_time
                        else:
                            t = int(ts) * mult
                            if not lo <= t <= hi:
                                raise LineProtocolError(lineno, _clean(line), TIME_OUT_OF_RANGE)
                        # vals: the field values, then the timestamp (zip stops at the keys)
                        fields = dict(zip(e[4], map(call, e[5], vals), strict=False))
                        append(new(Point, (e[0], e[1], e[2], fields, t)))
                        continue
        try:
            p = _parse_slow(line, it, series, hints, mult, default_time)
        except _Bad as exc:
            raise LineProtocolError(
                lineno, exc.line if exc.line is not None else _clean(line), exc.reason
            ) from None
        if p is not None:
            append(p)
    return out


def _clean(line: str) -> str:
    return line.strip(_WS)


def _parse_slow(line: str, it, series: dict, hints: dict, mult: int, default_time: int) -> Point | None:
    s = line.lstrip(_WS)
    if not s or s[0] == "#" or not s.strip(" \t\r\x00"):
        return None
    text: list[str] = []
    try:
        m = _KEY_SCAN.match(s)
        kt = m.group()
        pos = m.end()
        e = series.get(kt)
        if e is None:
            e = _parse_key(kt)
            shape = hints.get(e[1])
            if shape is not None:
                _take_shape(e, shape)
            series[kt] = e
        if pos >= len(s):
            raise _Bad(MISSING_FIELDS)
        if e[3] is not None:
            m = e[3](s, pos + 1)
            if m is not None:
                vals = m.groups()
                fields = dict(zip(e[4], map(_call, e[5], vals), strict=False))
                t = _time_of(vals[-1], mult, default_time)
                return tuple.__new__(Point, (e[0], e[1], e[2], fields, t))

        def more() -> str | None:
            return next(it, (0, None))[1]

        text = [s]
        s, fields, ts, raws, keys, codes = _parse_fields(s, pos + 1, more, text)
        room = MAX_KEY_LENGTH - 4 - e[6]
        for k in fields:
            if len(k) * 8 > room:  # an escaped UTF-8 field key takes at most 8 bytes a character
                size = _utf8_len(escape_key(k))
                if size > room:
                    raise _Bad(f"max key length exceeded: {e[6] + 4 + size} > {MAX_KEY_LENGTH}")
        t = _time_of(ts, mult, default_time)
    except _Bad as exc:
        exc.line = _clean(text[0] if text else s)
        raise
    if len(codes) <= _SHAPE_MAX_FIELDS and "\n" not in s:
        shape = _shape_for(tuple(raws), "".join(codes), tuple(keys))
        if shape is not None and _take_shape(e, shape):
            hints[e[1]] = shape
    return tuple.__new__(Point, (e[0], e[1], e[2], fields, t))


def _time_of(ts: str | None, mult: int, default_time: int) -> int:
    if ts is None:
        return default_time
    if len(ts) > 24:
        raise _Bad(TIME_OUT_OF_RANGE)
    t = int(ts) * mult
    if not MIN_TIME <= t <= MAX_TIME:
        raise _Bad(TIME_OUT_OF_RANGE)
    return t


def _raise_utf8(raw: bytes, exc: UnicodeDecodeError, precision: str, now: int) -> None:
    """Invalid UTF-8: the lines before are validated first (the first bad line wins), then the line
    holding the bad bytes is named."""
    start = raw.rfind(b"\n", 0, exc.start) + 1
    end = raw.find(b"\n", exc.start)
    if end < 0:
        end = len(raw)
    if start:
        parse(raw[:start].decode("utf-8"), precision, now)
    lineno = raw.count(b"\n", 0, start) + 1
    line = raw[start:end].decode("utf-8", "replace").rstrip("\r")
    raise LineProtocolError(lineno, _clean(line), INVALID_UTF8) from None
