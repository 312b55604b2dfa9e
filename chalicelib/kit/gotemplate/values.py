"""The Go values templates see: structs, maps, time.Time and time.Duration, and the helpers that name
and order them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class GoStruct:
    """A Go struct value: `fields` in declaration order; names in `embedded` are anonymous fields whose own
    fields are promoted (and flattened in JSON), as Kapacitor's messageInfo embeds idInfo."""

    type_name: str
    fields: dict[str, Any]
    embedded: frozenset[str] = frozenset()

    def lookup(self, name: str) -> tuple[bool, Any]:
        if name in self.fields and name not in self.embedded:
            return True, self.fields[name]
        for inner in self.embedded:
            value = self.fields.get(inner)
            if isinstance(value, GoStruct):
                found, got = value.lookup(name)
                if found:
                    return True, got
        return False, None


class GoMap(dict):  # type: ignore[type-arg]
    """A map whose Go type and element zero value matter: `index` of a missing key yields `zero`
    (`""` for Kapacitor's map[string]string tags, nil for map[string]interface{} fields)."""

    __slots__ = ("type_name", "zero")

    def __init__(
        self, items: dict[str, Any] | None = None, type_name: str = "map[string]string", zero: Any = ""
    ) -> None:
        super().__init__(items or {})
        self.type_name = type_name
        self.zero = zero


@dataclass(frozen=True, slots=True)
class GoTime:
    """time.Time in UTC, nanoseconds since the epoch."""

    ns: int


@dataclass(frozen=True, slots=True)
class GoDuration:
    """time.Duration: an int64 of nanoseconds that prints as `1m30s`."""

    ns: int


class _Missing:
    """No value came down the pipeline (Go's missingVal)."""

    __slots__ = ()


_MISSING = _Missing()


def type_name(value: Any) -> str:
    """The Go type a value stands for, as errors name it."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, GoMap):
        return value.type_name
    if isinstance(value, dict):
        return "map[string]interface {}"
    if isinstance(value, list | tuple):
        return "[]interface {}"
    if isinstance(value, GoStruct):
        return value.type_name
    if isinstance(value, GoTime):
        return "time.Time"
    if isinstance(value, GoDuration):
        return "time.Duration"
    return type(value).__name__


def _sort_keys(keys: list[Any]) -> list[Any]:
    try:
        return sorted(keys)
    except TypeError:
        return sorted(keys, key=lambda k: (type(k).__name__, str(k)))
