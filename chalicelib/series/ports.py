"""What the series store needs from persistence. The DynamoDB adapters implement these; the domain
only sees these protocols."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from chalicelib.series.columns import SeriesColumns


@dataclass(slots=True)
class Segment:
    partition: str
    sort_key: str
    data: bytes
    min_time: int
    max_time: int
    count: int
    version: int = 0
    # the least and greatest series key inside, so a read of a few series can skip the item unread
    first_series: str = ""
    last_series: str = ""


@dataclass(frozen=True, slots=True)
class SeriesEntry:
    key: str
    tags: tuple[tuple[str, str], ...]


class SegmentRepository(Protocol):
    def put(self, segments: Iterable[Segment]) -> None:
        """Write segments (overwriting the same keys: writes are idempotent)."""

    def query(
        self,
        partition: str,
        first_key: str,
        last_key: str,
        tmin: int,
        tmax: int,
        descending: bool = False,
        series: tuple[str, str] | None = None,
    ) -> Iterator[Segment]:
        """Segments of a partition with first_key <= sort key <= last_key that may hold points in
        [tmin, tmax] (and, given `series` = (least, greatest), of series keys in that range), in sort
        key order."""

    def keys_before(self, partition: str, sort_key: str) -> Iterator[str]:
        """Sort keys below `sort_key`."""

    def delete(self, partition: str, sort_keys: Iterable[str]) -> None: ...

    def replace(self, old: Segment, new: Segment | None) -> bool:
        """Replace (or delete, when new is None) a segment if it is still at old.version."""


class SeriesReader(Protocol):
    """The read port of the series store, the one way a query engine (InfluxQL, Flux, TICKscript batch
    queries) reads: the index of a namespace, then points streamed block by block."""

    def measurements(self, namespace: str) -> list[str]: ...

    def series(self, namespace: str, measurement: str) -> list[SeriesEntry]: ...

    def field_types(self, namespace: str, measurement: str) -> dict[str, str]: ...

    def scan(
        self,
        namespace: str,
        measurement: str,
        tmin: int,
        tmax: int,
        series_keys: Collection[str] | None = None,
        fields: Collection[str] | None = None,
        descending: bool = False,
    ) -> Iterator[dict[str, SeriesColumns]]:
        """The merged columns of the wanted series with points in [tmin, tmax], one dict (series key ->
        columns) per time block, in time order (newest first when descending)."""


class IndexRepository(Protocol):
    def measurements(self, namespace: str) -> list[str]: ...

    def series(self, namespace: str, measurement: str) -> list[SeriesEntry]: ...

    def add_series(self, namespace: str, measurement: str, entries: Iterable[SeriesEntry]) -> None: ...

    def remove_series(self, namespace: str, measurement: str, keys: Iterable[str]) -> None: ...

    def field_types(self, namespace: str, measurement: str) -> dict[str, str]: ...

    def claim_field(self, namespace: str, measurement: str, field: str, field_type: str) -> str:
        """Record the field's type unless one is recorded; return the recorded type."""

    def remove_measurement(self, namespace: str, measurement: str) -> None:
        """Forget the measurement, its series and its fields."""


@dataclass(frozen=True, slots=True)
class DirtyBlock:
    """A time block of a partition that received segments since it was last compacted."""

    partition: str
    block: int
    written: float  # epoch seconds of the last write recorded


class CompactionLog(Protocol):
    def mark(self, blocks: Iterable[tuple[str, int]], written: float) -> None:
        """Record that these (partition, block) pairs received segments at `written`."""

    def dirty(self) -> Iterator[DirtyBlock]: ...

    def clear(self, block: DirtyBlock) -> bool:
        """Forget the mark unless a write was recorded after `block.written`; False if one was."""
