"""Field types stay fixed per measurement, as in InfluxDB: a point whose field has another type than the
one recorded is refused (a partial write), and a new field's type is claimed before its points are
acknowledged, so concurrent writers agree. A string value longer than InfluxDB takes is refused the
same way."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from chalicelib.kit.cache import TimedCache
from chalicelib.kit.points import Point, field_type

_TYPES_TTL_SECONDS = 60.0
_TYPES_CACHED = 10_000  # measurements whose field types are kept
MAX_STRING_BYTES = 1_048_576  # influxd's MaxFieldValueLength: a longer string value drops its point
_SHORT_STRING = MAX_STRING_BYTES // 4  # characters: a string this short cannot exceed it in UTF-8


class FieldTypes(Protocol):
    """Where field types are recorded (the series index)."""

    def field_types(self, namespace: str, measurement: str) -> dict[str, str]: ...

    def claim_fields(self, namespace: str, measurement: str, fields: Mapping[str, str]) -> dict[str, str]:
        """Record each field's type (name -> type) unless one is recorded; return the recorded types."""


@dataclass(frozen=True, slots=True)
class FieldConflict:
    field: str
    measurement: str
    got: str
    existing: str

    def __str__(self) -> str:
        return (
            f'field type conflict: input field "{self.field}" on measurement "{self.measurement}" '
            f"is type {self.got}, already exists as type {self.existing}"
        )


@dataclass(frozen=True, slots=True)
class FieldTooLong:
    field: str
    measurement: str
    length: int  # UTF-8 bytes

    def __str__(self) -> str:
        return (
            f'input field "{self.field}" on measurement "{self.measurement}" is too long, '
            f"{self.length} > {MAX_STRING_BYTES}"
        )


# Why a point was dropped, as InfluxDB words it inside "partial write: ... dropped=N".
FieldRejection = FieldConflict | FieldTooLong


def _too_long(value: object) -> int | None:
    """The UTF-8 length of a string value longer than InfluxDB takes, else None."""
    if type(value) is not str or len(value) <= _SHORT_STRING:
        return None
    length = len(value.encode("utf-8", "surrogatepass"))
    return length if length > MAX_STRING_BYTES else None


class FieldTypeGuard:
    """Keeps each field's type fixed per measurement, as InfluxDB does. The new fields of a batch are
    claimed together, with conditional writes, before its points are acknowledged, so concurrent
    writers agree."""

    def __init__(self, index: FieldTypes) -> None:
        self.index = index
        self._cache: TimedCache[tuple[str, str], dict[str, str]] = TimedCache(
            _TYPES_TTL_SECONDS, _TYPES_CACHED
        )

    def admit(self, namespace: str, points: Sequence[Point]) -> tuple[list[Point], list[FieldRejection]]:
        known: dict[str, dict[str, str]] = {}
        new: dict[str, dict[str, str]] = {}  # per measurement, the type each new field first came with
        too_long: dict[int, tuple[str, int]] = {}  # point -> its first over-long field and its length
        for number, point in enumerate(points):
            types = known.get(point.measurement)
            if types is None:
                types = known[point.measurement] = self._types(namespace, point.measurement)
                new[point.measurement] = {}
            unknown = new[point.measurement]
            for name, value in point.fields.items():
                length = _too_long(value)
                if length is not None:  # InfluxDB checks a field's size before its type
                    too_long[number] = (name, length)
                    break
                if name not in types and name not in unknown:
                    unknown[name] = field_type(value)
        for measurement, fields in new.items():
            if fields:
                known[measurement].update(self.index.claim_fields(namespace, measurement, fields))
        accepted: list[Point] = []
        rejected: list[FieldRejection] = []
        for number, point in enumerate(points):
            rejection = _rejection(point, known[point.measurement], too_long.get(number))
            if rejection is None:
                accepted.append(point)
            else:
                rejected.append(rejection)
        for measurement, types in known.items():
            self._cache.put((namespace, measurement), types)
        return accepted, rejected

    def _types(self, namespace: str, measurement: str) -> dict[str, str]:
        cached = self._cache.get((namespace, measurement))
        if cached is not None:
            return dict(cached)
        return self.index.field_types(namespace, measurement)

    def forget(self, namespace: str) -> None:
        self._cache.forget(lambda key: key[0] == namespace)


def _rejection(
    point: Point, types: Mapping[str, str], too_long: tuple[str, int] | None
) -> FieldRejection | None:
    """The first field, in line order, that drops the point: too long, or of another type."""
    for name, value in point.fields.items():
        if too_long is not None and name == too_long[0]:
            return FieldTooLong(name, point.measurement, too_long[1])
        kind = field_type(value)
        if types[name] != kind:
            return FieldConflict(name, point.measurement, kind, types[name])
    return None
