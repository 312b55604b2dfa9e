"""Go's time.Time read from JSON (Time.UnmarshalJSON): RFC 3339 text parsed as time.Parse parses it, with
its error wording, to nanoseconds since the epoch.

Go's layout parser is more lenient than RFC 3339 (a one-digit hour, a comma before the fraction, a zone
hour up to 24) and Go 1.25 keeps that leniency for JSON; so does this. Years 0000-9999 parse; a time out
of int64 nanoseconds is still returned as a Python int."""

from __future__ import annotations

from typing import Any

from chalicelib.kit.time import days_from_civil, days_in_month

RFC3339 = "2006-01-02T15:04:05Z07:00"
NOT_A_STRING = "Time.UnmarshalJSON: input is not a JSON string"
_SECOND = 1_000_000_000


class GoTimeError(ValueError):
    """A time Go refuses; `str()` is Go's message."""


def unmarshal_json_time(value: Any) -> int | None:
    """A decoded JSON value as time.Time's UnmarshalJSON takes it: None for null (Go leaves the field),
    nanoseconds for RFC 3339 text; GoTimeError otherwise."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise GoTimeError(NOT_A_STRING)
    return parse_rfc3339(value)


def parse_rfc3339(text: str) -> int:
    """time.Parse(time.RFC3339, text) in nanoseconds since the epoch; GoTimeError with Go's message."""
    return _Parser(text.encode("utf-8", "replace")).run()


def go_time_quote(raw: bytes) -> str:
    """The time package's own quoting: bytes outside printable ASCII as \\x escapes."""
    out = ['"']
    for byte in raw:
        if byte >= 0x80 or byte < 0x20:
            out.append(f"\\x{byte:02x}")
        else:
            ch = chr(byte)
            out.append("\\" + ch if ch in '"\\' else ch)
    out.append('"')
    return "".join(out)


def _digit(s: bytes, i: int) -> bool:
    return i < len(s) and 0x30 <= s[i] <= 0x39


def _getnum(s: bytes, fixed: bool) -> tuple[int, bytes]:
    """One or two digits (`fixed`: exactly two) and the rest; _Bad without a digit."""
    if not _digit(s, 0):
        raise _Bad
    if not _digit(s, 1):
        if fixed:
            raise _Bad
        return s[0] - 0x30, s[1:]
    return (s[0] - 0x30) * 10 + s[1] - 0x30, s[2:]


class _Bad(Exception):
    """errBad: the current layout element failed; the parser names it."""


class _Parser:
    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self.value = raw

    def fail(self, layout_elem: str, value_elem: bytes) -> GoTimeError:
        return GoTimeError(
            f"parsing time {go_time_quote(self.raw)} as {go_time_quote(RFC3339.encode())}: "
            f"cannot parse {go_time_quote(value_elem)} as {go_time_quote(layout_elem.encode())}"
        )

    def message(self, text: str) -> GoTimeError:
        return GoTimeError(f"parsing time {go_time_quote(self.raw)}{text}")

    def skip(self, prefix: str) -> None:
        if not self.value.startswith(prefix.encode()):
            raise self.fail(prefix, self.value)
        self.value = self.value[len(prefix) :]

    def getnum(self, fixed: bool) -> int:
        number, self.value = _getnum(self.value, fixed)
        return number

    def element(self, layout_elem: str, read: Any) -> int:
        """One layout element: `read` returns the number (or raises _Bad) and may name a range error."""
        hold = self.value
        try:
            number, out_of_range = read()
        except _Bad:
            raise self.fail(layout_elem, hold) from None
        if out_of_range:
            raise self.message(f": {out_of_range} out of range")
        return number

    def run(self) -> int:
        year = self.element("2006", self._year)
        self.skip("-")
        month = self.element("01", lambda: self._ranged(True, lambda n: n <= 0 or n > 12, "month"))
        self.skip("-")
        day = self.element("02", lambda: (self.getnum(True), ""))
        self.skip("T")
        hour = self.element("15", lambda: self._ranged(False, lambda n: n >= 24, "hour"))
        self.skip(":")
        minute = self.element("04", lambda: self._ranged(True, lambda n: n >= 60, "minute"))
        self.skip(":")
        second = self.element("05", lambda: self._ranged(True, lambda n: n >= 60, "second"))
        nanos = self._fraction()
        offset = self.element("Z07:00", self._zone)
        if self.value:
            raise self.message(f": extra text: {go_time_quote(self.value)}")
        if day < 1 or day > days_in_month(year, month):
            raise self.message(": day out of range")
        seconds = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
        return (seconds - offset) * _SECOND + nanos

    def _year(self) -> tuple[int, str]:
        s = self.value
        if len(s) < 4 or not _digit(s, 0) or not s[:4].isdigit():
            raise _Bad
        self.value = s[4:]
        return int(s[:4]), ""

    def _ranged(self, fixed: bool, out: Any, name: str) -> tuple[int, str]:
        number = self.getnum(fixed)
        return number, name if out(number) else ""

    def _fraction(self) -> int:
        """A fraction after the seconds, which Go takes though the layout has none (`.` or `,`)."""
        s = self.value
        if len(s) < 2 or s[0] not in b".," or not _digit(s, 1):
            return 0
        n = 2
        while _digit(s, n):
            n += 1
        self.value = s[n:]
        digits = s[1 : min(n, 10)]  # beyond nanoseconds, digits are dropped
        return int(digits) * 10 ** (9 - len(digits))

    def _zone(self) -> tuple[int, str]:
        s = self.value
        if s[:1] == b"Z":
            self.value = s[1:]
            return 0, ""
        if len(s) < 6 or s[3:4] != b":":
            raise _Bad
        self.value = s[6:]
        hour = minute = None
        try:
            hour = _getnum(s[1:3], True)[0]
            minute = _getnum(s[4:6], True)[0]
        except _Bad:
            pass
        out_of_range = ""  # Go checks the ranges even when a number did not parse; the minute's wins
        if (hour or 0) > 24:
            out_of_range = "time zone offset hour"
        if (minute or 0) > 60:
            out_of_range = "time zone offset minute"
        if out_of_range:
            return 0, out_of_range
        if hour is None or minute is None or s[:1] not in (b"+", b"-"):
            raise _Bad
        offset = (hour * 60 + minute) * 60
        return (offset if s[:1] == b"+" else -offset), ""
