"""What the series store needs from persistence. The DynamoDB adapters implement these; the domain
only sees these protocols."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
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


# A read's hint (tag key, its wanted values): the index may return only the series whose tag `key` has
# one of these (non-empty) values instead of all of them. A hint only narrows the read: callers still
# check every entry's tags, so an index that ignores it (or returns more) answers the same.
TagEquals = tuple[str, frozenset[str]]


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

    def delete_before(self, partition: str, sort_key: str) -> int:
        """Remove every segment whose sort key is below `sort_key`. Returns segments removed."""

    def delete(self, segments: Iterable[Segment]) -> None:
        """Remove these segments, whatever their version."""

    def replace(self, old: Segment, new: Segment | None) -> bool:
        """Replace (or delete, when new is None) a segment if it is still at old.version."""


class SeriesReader(Protocol):
    """The read port of the series store, the one way a query engine (InfluxQL, Flux, TICKscript batch
    queries) reads: the index of a namespace, then points streamed block by block."""

    def measurements(self, namespace: str) -> list[str]: ...

    def series(
        self, namespace: str, measurement: str, tag_equals: TagEquals | None = None
    ) -> list[SeriesEntry]:
        """The measurement's series, or (given `tag_equals`) possibly only those it names: check tags."""

    def tag_keys(self, namespace: str, measurement: str) -> list[str] | None:
        """The tag keys of the measurement's series, when the index tells them without reading every
        series; else None (`series` then tells them)."""

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

    def series(
        self, namespace: str, measurement: str, tag_equals: TagEquals | None = None
    ) -> list[SeriesEntry]:
        """The measurement's series sorted by key; given `tag_equals`, possibly only those it names."""

    def tag_keys(self, namespace: str, measurement: str) -> list[str] | None:
        """The tag keys of the measurement's series, sorted, if known without reading every series."""

    def add_series(self, namespace: str, measurement: str, entries: Iterable[SeriesEntry]) -> None: ...

    def remove_series(self, namespace: str, measurement: str, keys: Iterable[str]) -> None: ...

    def field_types(self, namespace: str, measurement: str) -> dict[str, str]: ...

    def claim_fields(self, namespace: str, measurement: str, fields: Mapping[str, str]) -> dict[str, str]:
        """Record each field's type (name -> type) unless one is recorded; return the recorded types.
        Concurrent callers agree: a field's first recorded type stays."""

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


@dataclass(frozen=True, slots=True)
class Tombstone:
    """A delete, remembered for as long as the stream keeps records, so that a record which reached the
    stream before it and is consumed (or redelivered) after it cannot bring the deleted points back."""

    measurement: str | None  # None: every measurement of the namespace
    series: str | None  # None: every series of the measurement
    tmin: int
    tmax: int
    at: int  # when the delete began, epoch milliseconds

    def covers_measurement(self, measurement: str) -> bool:
        return self.measurement is None or self.measurement == measurement

    def covers(self, measurement: str, series: str) -> bool:
        return self.covers_measurement(measurement) and (self.series is None or self.series == series)


class TombstoneLog(Protocol):
    def record(self, namespace: str, tombstones: Iterable[Tombstone]) -> None:
        """Remember deletes; they are forgotten once no record older than them can still be delivered."""

    def since(self, namespace: str, moment: int) -> list[Tombstone]:
        """The namespace's tombstones of deletes that began after `moment` (epoch ms), read consistently."""
