"""Log records as Kapacitor's diagnostic writes its lines, before they are stamped: `{"lvl", "msg",
"keys": [[key, value], ...]}`, the keys in order (the context, `service`, `task`, `node`, then the line's
fields). A value is a string, number, boolean or None, or a group of those (`tag`, `field`).

Writers (task runs in chalicelib/tick, the alert `log` handler in chalicelib/alert) make them and hand
them to a `LogSink`; chalicelib/kapacitor/logs.py reads, filters and encodes the stamped entries. They
live here, below both, as the kapacitor package builds on tick and alert."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from chalicelib.kit.gofloat import format_float

LEVELS = ("debug", "info", "error")  # Kapacitor's diagnostic levels, lowest first
KAPACITOR, ALERT = "kapacitor", "alert"  # the `service` of task lines and of alert handler lines
MAX_ENTRY_BYTES = 4096  # a record's JSON; longer values are cut and trailing keys left out
MAX_VALUE_CHARS = 256  # what a value is cut to when its record is too long
_MAX_GROUP = 16  # members a cut group keeps

Value = Any  # str | int | float | bool | None | dict[str, scalar]


class LogSink(Protocol):
    def append(self, org_id: str, records: list[dict[str, Any]]) -> None:
        """Keep the organization's records (never raises: a log line must not fail its writer)."""


class NoLogs:
    def append(self, org_id: str, records: list[dict[str, Any]]) -> None:
        return None


def diagnostic_level(name: str) -> str:
    """The level Kapacitor's diagnostic logs a line at: a log node's WARN (or anything else) is info."""
    lowered = name.lower()
    return lowered if lowered in LEVELS else "info"


def record(lvl: str, msg: str, keys: Iterable[tuple[str, Value]]) -> dict[str, Any]:
    """An unstamped entry, cut to `MAX_ENTRY_BYTES`."""
    pairs = [[str(key), _plain(value)] for key, value in keys]
    return _bounded({"lvl": diagnostic_level(lvl), "msg": msg, "keys": pairs})


def with_context(rec: dict[str, Any], context: Iterable[tuple[str, Value]]) -> dict[str, Any]:
    """The record with context keys (`service`, `task`, ...) before its own, as Kapacitor orders them."""
    return {**rec, "keys": [[key, value] for key, value in context] + list(rec["keys"])}


def _plain(value: Value) -> Value:
    """A value as a record keeps it (JSON's types): groups of scalars, anything else as its text."""
    if isinstance(value, dict):
        return {str(k): _scalar(v) for k, v in value.items()}
    return _scalar(value)


def _scalar(value: Value) -> Value:
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else format_float(value)  # JSON has no NaN or Inf
    return str(value)


def _size(rec: Mapping[str, Any]) -> int:
    return len(json.dumps(rec, ensure_ascii=False, separators=(",", ":")).encode())


def _bounded(rec: dict[str, Any]) -> dict[str, Any]:
    """Cut long values, then leave out trailing keys, until the record fits; say that it was cut."""
    if _size(rec) <= MAX_ENTRY_BYTES:
        return rec
    keys = [[key, _cut(value)] for key, value in rec["keys"]]
    cut = {**rec, "msg": _cut(rec["msg"]), "keys": keys}
    while keys and _size(cut) > MAX_ENTRY_BYTES - 20:
        keys.pop()
    keys.append(["truncated", True])
    return cut


def _cut(value: Value) -> Value:
    if isinstance(value, dict):
        return {k: _cut(v) for k, v in list(value.items())[:_MAX_GROUP]}
    if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
        return value[:MAX_VALUE_CHARS] + "..."
    return value
