"""The write path's domain: validate a batch of line protocol, guard field types, hand the accepted
points to the stream. Nothing here knows HTTP or AWS."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from chalicelib import lineprotocol
from chalicelib.ingest import records
from chalicelib.ingest.fieldtypes import FieldRejection, FieldTypeGuard
from chalicelib.ingest.records import Destination
from chalicelib.kit import collector
from chalicelib.kit.errors import INVALID, TicklessError


class Publisher(Protocol):
    def publish(self, records: Sequence[tuple[str, bytes]]) -> None: ...


@dataclass(frozen=True, slots=True)
class WriteResult:
    written: int
    conflicts: int = 0  # points dropped for a field type conflict or an over-long string
    conflict: FieldRejection | None = None  # the first of them
    expired: int = 0  # points dropped for being older than the retention policy keeps

    @property
    def partial(self) -> bool:
        """Whether points were dropped: InfluxDB answers such a write as a partial write."""
        return bool(self.conflicts or self.expired)

    @property
    def partial_message(self) -> str:
        """InfluxDB's text for a partial write; a type conflict is reported before expired points, as
        influxd 1.6.7 does when a batch has both."""
        if self.conflict is not None:
            return f"partial write: {self.conflict} dropped={self.conflicts}"
        return f"partial write: points beyond retention policy dropped={self.expired}"


class PointWriter:
    def __init__(self, publisher: Publisher, guard: FieldTypeGuard) -> None:
        self.publisher = publisher
        self.guard = guard

    def write(
        self,
        destination: Destination,
        body: bytes,
        precision: str = "ns",
        now: int | None = None,
        retention: int = 0,
    ) -> WriteResult:
        """Parse and validate the whole batch (one bad line rejects it), drop the points older than
        `retention` (ns; 0 keeps everything) and those with a conflicting field type, then publish the
        rest. Returns once they are durably on the stream."""
        if precision not in lineprotocol.PRECISIONS:
            raise TicklessError(INVALID, f'invalid precision "{precision}"')
        now = time.time_ns() if now is None else now
        with collector.paused():  # a Point and a dict per line, all alive until published
            try:
                points = lineprotocol.parse(body, precision, now)
            except lineprotocol.LineProtocolError as exc:
                raise TicklessError(INVALID, str(exc)) from exc
            expired = 0
            if retention:
                cutoff = now - retention
                kept = [p for p in points if p.time >= cutoff]
                expired, points = len(points) - len(kept), kept
            conflicts: list[FieldRejection] = []
            if destination.namespace is not None:
                points, conflicts = self.guard.admit(destination.namespace, points)
            encoded = records.encode(destination, points) if points else []
        if encoded:
            self.publisher.publish(encoded)
        return WriteResult(len(points), len(conflicts), conflicts[0] if conflicts else None, expired)
