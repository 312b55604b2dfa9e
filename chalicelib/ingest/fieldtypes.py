"""Field types stay fixed per measurement, as in InfluxDB: a point whose field has another type than the
one recorded is refused (a partial write), and a new field's type is claimed before its points are
acknowledged, so concurrent writers agree."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from chalicelib.kit.points import Point, field_type

_TYPES_TTL_SECONDS = 60.0


class FieldTypes(Protocol):
    """Where field types are recorded (the series index)."""

    def field_types(self, namespace: str, measurement: str) -> dict[str, str]: ...

    def claim_field(self, namespace: str, measurement: str, field: str, field_type: str) -> str:
        """Record the field's type unless one is recorded; return the recorded type."""


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


class FieldTypeGuard:
    """Keeps each field's type fixed per measurement, as InfluxDB does. A new field's type is claimed
    with a conditional write before its points are acknowledged, so concurrent writers agree."""

    def __init__(self, index: FieldTypes) -> None:
        self.index = index
        self._cache: dict[tuple[str, str], tuple[float, dict[str, str]]] = {}

    def admit(self, namespace: str, points: Sequence[Point]) -> tuple[list[Point], list[FieldConflict]]:
        known: dict[str, dict[str, str]] = {}
        accepted: list[Point] = []
        conflicts: list[FieldConflict] = []
        for point in points:
            types = known.get(point.measurement)
            if types is None:
                types = known[point.measurement] = self._types(namespace, point.measurement)
            conflict = None
            for name, value in point.fields.items():
                kind = field_type(value)
                existing = types.get(name)
                if existing is None:
                    existing = types[name] = self.index.claim_field(namespace, point.measurement, name, kind)
                if existing != kind and conflict is None:
                    conflict = FieldConflict(name, point.measurement, kind, existing)
            if conflict is None:
                accepted.append(point)
            else:
                conflicts.append(conflict)
        now = time.monotonic()
        for measurement, types in known.items():
            self._cache[(namespace, measurement)] = (now, types)
        return accepted, conflicts

    def _types(self, namespace: str, measurement: str) -> dict[str, str]:
        cached = self._cache.get((namespace, measurement))
        if cached and time.monotonic() - cached[0] < _TYPES_TTL_SECONDS:
            return dict(cached[1])
        return self.index.field_types(namespace, measurement)

    def forget(self, namespace: str) -> None:
        for key in [k for k in self._cache if k[0] == namespace]:
            del self._cache[key]
