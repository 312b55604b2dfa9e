"""InfluxDB 1.x query output: JSON exactly as influxd encodes it (Go's float formatting, RFC3339Nano
times or epoch integers)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from chalicelib.kit.time import EPOCHS, NS_PER_UNIT, SECOND, format_rfc3339nano

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def time_formatter(epoch: str | None):
    """A function turning ns timestamps into the value the `epoch` parameter asks for."""
    unit = EPOCHS.get(epoch or "")
    if unit is None:
        return format_rfc3339nano  # no epoch, or one influxd ignores
    divisor = NS_PER_UNIT[unit]
    if divisor == 1:
        return int
    return lambda t: t // divisor


def go_float(value: float) -> str:
    """A float as Go's encoding/json writes it: positional between 1e-6 and 1e21, shortest digits."""
    if value != value or value in (float("inf"), float("-inf")):
        return "null"
    magnitude = abs(value)
    if magnitude == 0 or 1e-6 <= magnitude < 1e21:
        text = repr(value)
        if "e" in text or "E" in text:
            text = format(Decimal(text), "f")
        if text.endswith(".0"):
            text = text[:-2]
        return text
    return repr(value)


def _scalar(value: Any) -> str:
    kind = type(value)
    if kind is float:
        return go_float(value)
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    return json.dumps(value, ensure_ascii=False)


def _encode(value: Any, out: list[str]) -> None:
    if isinstance(value, dict):
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            if i:
                out.append(",")
            out.append(json.dumps(key, ensure_ascii=False))
            out.append(":")
            _encode(item, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        if not any(isinstance(item, dict | list | tuple) for item in value):  # a row of values
            out.append("[" + ",".join(map(_scalar, value)) + "]")
            return
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _encode(item, out)
        out.append("]")
    else:
        out.append(_scalar(value))


def to_json(payload: Any, pretty: bool = False) -> str:
    if pretty:
        return json.dumps(json.loads(to_json(payload)), indent=4, ensure_ascii=False)
    out: list[str] = []
    _encode(payload, out)
    return "".join(out)


def format_duration(ns: int) -> str:
    """A duration as InfluxDB 1.x shows retention policies: `0s`, `168h0m0s`, `1h0m0s`."""
    seconds = ns // 1_000_000_000
    if seconds == 0:
        return "0s"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


def zoned_formatter(location: str):
    """RFC3339Nano in the `tz()` zone, as influxd writes times of a query with a time zone."""
    import zoneinfo

    zone = zoneinfo.ZoneInfo(location)

    def format_time(time_ns: int) -> str:
        seconds, nanos = divmod(time_ns, SECOND)
        moment = (_EPOCH + timedelta(seconds=seconds)).astimezone(zone)
        text = moment.strftime("%Y-%m-%dT%H:%M:%S")
        if nanos:
            text += "." + f"{nanos:09d}".rstrip("0")
        offset = moment.utcoffset()
        minutes = int(offset.total_seconds()) // 60 if offset else 0
        if minutes == 0:
            return text + "Z"
        sign = "+" if minutes > 0 else "-"
        hours, mins = divmod(abs(minutes), 60)
        return f"{text}{sign}{hours:02d}:{mins:02d}"

    return format_time
