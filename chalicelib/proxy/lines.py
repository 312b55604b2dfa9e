"""What influx-proxy 2.4.7's /write does to a body before routing (HandlerWrite, WriteData, LineToNano).

The proxy does not parse line protocol: it scans bytes. Each non-empty line is trimmed, given a
nanosecond timestamp (its own, rescaled, or the proxy's clock, so every circle stores the same point),
its measurement is read up to the first unescaped space or comma, and it is kept only if exactly two
runs of blanks follow. Whatever fails is dropped with a log line; the request still answers 204.
The scanners keep the Go quirks on purpose (see docs/DECISIONS.md): placement and what is dropped must
match the proxy being replaced.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

_TRIM = b" \t\r\n"
_BLANKS = re.compile(rb"[ \t]+")
# Request precision -> what LineToNano multiplies a timestamp by (models.GetPrecisionMultiplier);
# "n"/"ns" are kept as written and "u", "ms", "s" get zeros appended instead.
_APPEND_ZEROS = {"ns": b"", "n": b"", "u": b"000", "ms": b"000000", "s": b"000000000"}
_MULTIPLIER = {"u": 1_000, "ms": 1_000_000, "s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000}


class RoutedLine(NamedTuple):
    """A line ready for the backends: nanosecond timestamp, trailing newline; measurement unescaped."""

    measurement: str
    line: bytes


@dataclass(frozen=True)
class DroppedLine:
    line: bytes
    reason: str  # influx-proxy's log message for it


@dataclass(frozen=True)
class ScannedBody:
    lines: list[RoutedLine]
    dropped: list[DroppedLine]


def route_lines(body: bytes, db: str, precision: str, now_ns: int) -> list[RoutedLine]:
    """The (measurement, line) pairs of a /write body that influx-proxy forwards, in body order."""
    return scan_body(body, db, precision, now_ns).lines


def scan_body(body: bytes, db: str, precision: str, now_ns: int) -> ScannedBody:
    """route_lines, also saying which lines were dropped and why (influx-proxy only logs them)."""
    precision = precision or "ns"
    kept: list[RoutedLine] = []
    dropped: list[DroppedLine] = []
    for raw in body.split(b"\n"):
        if not raw:
            continue
        line = line_to_nano(raw, precision, now_ns)
        meas = scan_key(line)
        if meas is None:
            dropped.append(DroppedLine(raw, "scan key error: EOF"))
            continue
        # Go slices at the length of the *unescaped* measurement; kept, since it decides what is dropped.
        if scan_space(line[len(meas) :]) != 2:
            text = line.decode("utf-8", "replace")
            dropped.append(DroppedLine(raw, f"invalid format, drop data: {db} {precision} {text}"))
            continue
        kept.append(RoutedLine(meas.decode("utf-8", "surrogateescape"), line + b"\n"))
    return ScannedBody(kept, dropped)


def scan_time(buf: bytes) -> tuple[int, bool]:
    """ScanTime: where the trailing digits start (minus one) and whether they form a timestamp, i.e. at
    least one digit preceded by a blank or NUL that is not the line's first byte."""
    i = len(buf) - 1
    while i >= 0 and 0x30 <= buf[i] <= 0x39:
        i -= 1
    return i, 0 < i < len(buf) - 1 and buf[i] in b" \t\x00"


def line_to_nano(line: bytes, precision: str, now_ns: int) -> bytes:
    """LineToNano: trim trailing blanks, then rescale the timestamp to ns or append the proxy's time.
    A negative timestamp is not seen as one, so it gets a second (and the line is then dropped)."""
    line = line.rstrip(_TRIM)
    pos, found = scan_time(line)
    if not found:
        return line + b" " + str(now_ns).encode()
    zeros = _APPEND_ZEROS.get(precision)
    if zeros is not None:
        return line + zeros
    # Other precisions (m, h, and unknown ones at 1x) are multiplied with int64 wrap-around, and the
    # separator before the timestamp becomes a space.
    nano = _wrap_int64(int(line[pos + 1 :]) * _MULTIPLIER.get(precision, 1))
    return line[:pos] + b" " + str(nano).encode()


def scan_key(line: bytes) -> bytes | None:
    """ScanKey: the measurement up to the first unescaped space or comma; a backslash keeps whatever
    byte follows it and is itself dropped. None where Go answers io.EOF (no separator)."""
    sep = _first_separator(line)
    head = line[: sep if sep >= 0 else len(line)]
    if b"\\" not in head:
        return head if sep >= 0 else None
    out = bytearray()
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if c == 0x5C:  # backslash
            i += 1
            if i == n:  # Go would index past the end; unreachable after line_to_nano (ends in a digit)
                return None
            out.append(line[i])
        elif c in (0x20, 0x2C):
            return bytes(out)
        else:
            out.append(c)
        i += 1
    return None


def _first_separator(line: bytes) -> int:
    positions = [p for p in (line.find(b" "), line.find(b",")) if p >= 0]
    return min(positions) if positions else -1


def scan_space(buf: bytes) -> int:
    """ScanSpace: runs of blanks outside quoted strings, stepping over backslash pairs. A blank right
    after an escaped one does not start a run; a quote that FindEndWithQuote rejects (unterminated, or
    any backslash escape but \\") stops the count where it is."""
    if b"\\" not in buf and b'"' not in buf:
        return len(_BLANKS.findall(buf))
    cnt, i, n = 0, 0, len(buf)
    while i < n:
        c = buf[i]
        if c == 0x5C:
            i += 2
        elif c == 0x22:  # double quote
            end = _end_of_quote(buf, i)
            if end < 0:
                return cnt
            i = end
        elif c in (0x20, 0x09):
            if i == 0 or buf[i - 1] not in (0x20, 0x09):
                cnt += 1
            i += 1
        else:
            i += 1
    return cnt


def _end_of_quote(buf: bytes, start: int) -> int:
    """FindEndWithQuote for '"': index after the closing quote, or -1 where Go returns an error."""
    i, n = start + 1, len(buf)
    while i < n:
        c = buf[i]
        if c == 0x22:
            return i + 1
        if c == 0x5C:
            if i + 1 >= n or buf[i + 1] != 0x22:
                return -1
            i += 1
        i += 1
    return -1


def _wrap_int64(n: int) -> int:
    n &= (1 << 64) - 1
    return n - (1 << 64) if n >= 1 << 63 else n
