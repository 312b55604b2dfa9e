"""The write path's domain: validate a batch of line protocol, guard field types, hand the accepted
points to the stream. Nothing here knows HTTP or AWS."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from chalicelib import lineprotocol
from chalicelib.ingest import records
from chalicelib.ingest.fieldtypes import FieldConflict, FieldTypeGuard
from chalicelib.ingest.records import Destination
from chalicelib.kit.errors import INVALID, TicklessError


class Publisher(Protocol):
    def publish(self, records: Sequence[tuple[str, bytes]]) -> None: ...


@dataclass(frozen=True, slots=True)
class WriteResult:
    written: int
    dropped: int = 0
    conflict: FieldConflict | None = None

    @property
    def partial_message(self) -> str:
        """InfluxDB's text for a write that dropped conflicting points."""
        return f"partial write: {self.conflict} dropped={self.dropped}"


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
