"""The write path's domain: validate a batch of line protocol, guard field types, hand the accepted
points to the stream. Nothing here knows HTTP or AWS."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from chalicelib import lineprotocol
from chalicelib.ingest import records
from chalicelib.ingest.records import Destination
from chalicelib.kit.errors import INVALID, TicklessError
from chalicelib.kit.points import Point, field_type
from chalicelib.series.ports import IndexRepository

_TYPES_TTL_SECONDS = 60.0


class Publisher(Protocol):
    def publish(self, records: Sequence[tuple[str, bytes]]) -> None: ...


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
class WriteResult:
    written: int
    dropped: int = 0
    conflict: FieldConflict | None = None

    @property
    def partial_message(self) -> str:
        """InfluxDB's text for a write that dropped conflicting points."""
        return f"partial write: {self.conflict} dropped={self.dropped}"


class FieldTypeGuard:
    """Keeps each field's type fixed per measurement, as InfluxDB does. A new field's type is claimed
    with a conditional write before its points are acknowledged, so concurrent writers agree."""

    def __init__(self, index: IndexRepository) -> None:
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


class PointWriter:
    def __init__(self, publisher: Publisher, guard: FieldTypeGuard) -> None:
        self.publisher = publisher
        self.guard = guard

    def write(
        self, destination: Destination, body: bytes, precision: str = "ns", now: int | None = None
    ) -> WriteResult:
        """Parse and validate the whole batch (one bad line rejects it), then publish the points.
        Returns once they are durably on the stream."""
        if precision not in lineprotocol.PRECISIONS:
            raise TicklessError(INVALID, f'invalid precision "{precision}"')
        try:
            points = lineprotocol.parse(body, precision, time.time_ns() if now is None else now)
        except lineprotocol.LineProtocolError as exc:
            raise TicklessError(INVALID, str(exc)) from exc
        conflicts: list[FieldConflict] = []
        if destination.namespace is not None:
            points, conflicts = self.guard.admit(destination.namespace, points)
        if points:
            self.publisher.publish(records.encode(destination, points))
        return WriteResult(len(points), len(conflicts), conflicts[0] if conflicts else None)
