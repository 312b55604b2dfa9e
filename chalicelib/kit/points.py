"""The point model shared by the line protocol, the series store and the query engines."""

from __future__ import annotations

from typing import NamedTuple


class UInt(int):
    """An unsigned 64-bit field value (line protocol `u` suffix); a distinct type so it survives
    the trip through the store without being mistaken for a signed integer."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"UInt({int(self)})"


FieldValue = float | int | bool | str  # UInt is an int

# InfluxDB's names for field types, as SHOW FIELD KEYS and type conflict messages spell them.
FLOAT = "float"
INTEGER = "integer"
UNSIGNED = "unsigned"
BOOLEAN = "boolean"
STRING = "string"
FIELD_TYPES = (FLOAT, INTEGER, UNSIGNED, BOOLEAN, STRING)


def field_type(value: FieldValue) -> str:
    """The InfluxDB type name of a field value (bool before int: bool is an int in Python)."""
    kind = type(value)
    if kind is float:
        return FLOAT
    if kind is bool:
        return BOOLEAN
    if kind is int:
        return INTEGER
    if kind is str:
        return STRING
    if kind is UInt:
        return UNSIGNED
    raise TypeError(f"not a field value: {value!r}")


class Point(NamedTuple):
    key: str  # canonical series key: escaped measurement, then tags sorted by key: `cpu,host=a`
    measurement: str  # unescaped
    tags: tuple[tuple[str, str], ...]  # unescaped, sorted by key
    fields: dict[str, FieldValue]  # unescaped names, in line order
    time: int  # nanoseconds since the epoch
