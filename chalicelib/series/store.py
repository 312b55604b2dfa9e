"""The series store: compressed segments of points plus a series index, over two repositories.

Writes: the consumer turns each Kinesis record into segments keyed by the record's sequence number,
so redelivery rewrites the same items (idempotent) and the sort order is the arrival order.
Deletes: each leaves tombstones, so a record that reached the stream before a delete and is consumed
(or redelivered) after it cannot bring the deleted points back.
Reads: segments of a measurement are read by time block in key order and merged, newest write
winning per field, one block at a time so memory follows what a query reads, not the bucket's size.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from operator import itemgetter
from typing import Protocol

from chalicelib.ingest.records import PointBatch, SeriesRows
from chalicelib.kit.cache import TimedCache
from chalicelib.kit.time import MAX_TIME, MIN_TIME
from chalicelib.series import codec, columns, keys
from chalicelib.series.columns import SeriesColumns
from chalicelib.series.ports import (
    CompactionLog,
    IndexRepository,
    Segment,
    SegmentRepository,
    SeriesEntry,
    TagEquals,
    Tombstone,
    TombstoneLog,
)

# Segments are split (by series, then time, then a point's fields) at this size, so a read fetches items
# of a useful size. One value may make a larger one: the repository spreads it over several items.
MAX_SEGMENT_BYTES = 350_000
HOT_BLOCK_SEGMENTS = 32  # a block still being written is compacted once it has this many new segments
COMPACTED_BYTES = 64_000  # compacted segments: big enough to amortise an item, small to skip
_KNOWN_SERIES_CACHE = 200_000
# Another process may drop a series from the index; re-announcing series after this long heals that.
_KNOWN_SERIES_SECONDS = 300.0


class SeriesSelection(Protocol):
    """Which points a delete means: measurements by name, series by their tags."""

    def measurement_matches(self, measurement: str) -> bool: ...

    def tags_match(self, tags: Mapping[str, str]) -> bool: ...

    @property
    def has_tag_conditions(self) -> bool: ...

    @property
    def tag_equals(self) -> TagEquals | None:
        """A tag every selected series has with one of a few values, if the selection pins one."""


class SeriesStore:
    """Implements SeriesReader, the read port the query engines use."""

    def __init__(
        self,
        segments: SegmentRepository,
        index: IndexRepository,
        compaction: CompactionLog,
        tombstones: TombstoneLog,
        on_forget: Callable[[str], None] = lambda namespace: None,
    ) -> None:
        self.segments = segments
        self.index = index
        self.compaction = compaction
        self.tombstones = tombstones
        # Called with a namespace whose index lost series, measurements or fields, so caches of the
        # index elsewhere in this process (the field type guard's) forget it too.
        self._on_forget = on_forget
        # Series already written to the index by this process: skips rewriting index items on every
        # point. Only an optimisation; index writes are idempotent.
        self._known: TimedCache[tuple[str, str], bool] = TimedCache(
            _KNOWN_SERIES_SECONDS, _KNOWN_SERIES_CACHE
        )

    # -- writes ------------------------------------------------------------------------------------

    def ingest(self, sequence: str, batch: PointBatch, arrived: float | None = None) -> int:
        """Store a record's points under its sequence number, but not those a delete that began after
        the record reached the stream (`arrived`, epoch seconds) removed. Returns the points stored."""
        return self.ingest_many([(sequence, batch, arrived)])

    def ingest_many(self, records: Sequence[tuple[str, PointBatch, float | None]]) -> int:
        """`ingest` for several records (sequence, batch, arrived) at once, with the same outcome as
        ingesting them one by one: each record's segments are keyed by its own sequence number (a
        redelivery rewrites the same items) and each keeps the points no delete that began after its
        own arrival removed. The DynamoDB calls are shared: tombstones are read once per namespace (from
        the earliest arrival, each record then keeping those that began after its own), the segments go
        in one put, compaction marks and new index entries once. All or nothing as far as the caller
        knows: on an exception some records may be stored, none is known to be, and storing them again
        is idempotent. Returns the points stored."""
        moments: list[int | None] = [
            None if arrived is None else round(arrived * 1000) for _, _, arrived in records
        ]
        earliest: dict[str, int] = {}  # namespace -> the earliest arrival of its records checked for deletes
        for (_, batch, _), moment in zip(records, moments, strict=True):
            namespace = batch.destination.namespace
            if namespace is not None and batch.series and moment is not None:
                earliest[namespace] = min(moment, earliest.get(namespace, moment))
        first_look = {
            namespace: self.tombstones.since(namespace, moment) for namespace, moment in earliest.items()
        }
        segments: list[Segment] = []
        new_series: dict[tuple[str, str], dict[str, SeriesEntry]] = {}
        written: list[tuple[str, int, set[str]]] = []  # (namespace, moment, measurements) to re-check
        count = 0
        for (sequence, batch, _), moment in zip(records, moments, strict=True):
            namespace = batch.destination.namespace
            if namespace is None or not batch.series:
                continue
            # What `since(namespace, moment)` would have answered this record alone: deletes that began
            # after it reached the stream.
            seen = [] if moment is None else [t for t in first_look[namespace] if t.at > moment]
            blocks: dict[tuple[str, int], dict[str, list[tuple[int, dict]]]] = {}
            for series in batch.series:
                rows = _surviving(series, seen) if seen else series.rows
                if not rows:
                    continue
                count += len(rows)
                times = list(map(itemgetter(0), rows))
                first_block = keys.block_of(min(times))
                if first_block == keys.block_of(max(times)):  # the usual case: no per-point work
                    by_key = blocks.setdefault((series.measurement, first_block), {})
                    by_key.setdefault(series.key, []).extend(rows)
                else:
                    for point_time, fields in rows:
                        by_key = blocks.setdefault((series.measurement, keys.block_of(point_time)), {})
                        by_key.setdefault(series.key, []).append((point_time, fields))
                if not self._is_known((namespace, series.key)):
                    entries = new_series.setdefault((namespace, series.measurement), {})
                    entries.setdefault(series.key, SeriesEntry(series.key, series.tags))
            for (measurement, block), rows_by_key in blocks.items():
                series_columns = {key: columns.from_rows(rows) for key, rows in rows_by_key.items()}
                partition = keys.chunk_partition(namespace, measurement)
                for part, data in enumerate(_encode_bounded(series_columns)):
                    segments.append(_segment(partition, keys.segment_sort_key(block, sequence, part), data))
            if moment is not None and blocks:
                written.append((namespace, moment, {measurement for measurement, _ in blocks}))
        # Index before data: a series is findable no later than its points are readable.
        for (namespace, measurement), entries in new_series.items():
            self.index.add_series(namespace, measurement, list(entries.values()))
        if segments:
            self.segments.put(segments)
            # After the put: a crash in between redelivers the records, which put and mark again.
            self.compaction.mark(
                {(s.partition, keys.block_from_key(s.sort_key)) for s in segments}, time.time()
            )
        for (namespace, _), entries in new_series.items():
            for key in entries:
                self._remember((namespace, key))
        # A delete may have begun after the first look and finished before the put: its passes missed
        # these segments, so apply it here (idempotent, as every delete pass is), for the measurements
        # of the records that reached the stream before it began.
        for namespace in {namespace for namespace, _, _ in written}:
            looked = first_look[namespace]
            late = [t for t in self.tombstones.since(namespace, earliest[namespace]) if t not in looked]
            for tombstone in late:
                measurements = {
                    name
                    for ns, moment, names in written
                    if ns == namespace and moment < tombstone.at
                    for name in names
                }
                for measurement in sorted(measurements):
                    if tombstone.covers_measurement(measurement):
                        self._erase(namespace, measurement, tombstone.tmin, tombstone.tmax, tombstone.series)
        return count

    def _is_known(self, key: tuple[str, str]) -> bool:
        return self._known.get(key) is not None

    def _remember(self, key: tuple[str, str]) -> None:
        self._known.put(key, True)

    def forget(self, namespace: str) -> None:
        self._known.forget(lambda key: key[0] == namespace)
        self._on_forget(namespace)

    # -- reads -------------------------------------------------------------------------------------

    def measurements(self, namespace: str) -> list[str]:
        return self.index.measurements(namespace)

    def series(
        self, namespace: str, measurement: str, tag_equals: TagEquals | None = None
    ) -> list[SeriesEntry]:
        """The measurement's series; given `tag_equals`, possibly only those it names (the index reads
        just their postings when it has them): callers check the tags of what they get."""
        return self.index.series(namespace, measurement, tag_equals)

    def tag_keys(self, namespace: str, measurement: str) -> list[str] | None:
        return self.index.tag_keys(namespace, measurement)

    def field_types(self, namespace: str, measurement: str) -> dict[str, str]:
        return self.index.field_types(namespace, measurement)

    def scan(
        self,
        namespace: str,
        measurement: str,
        tmin: int = MIN_TIME,
        tmax: int = MAX_TIME,
        series_keys: Collection[str] | None = None,
        fields: Collection[str] | None = None,
        descending: bool = False,
    ) -> Iterator[dict[str, SeriesColumns]]:
        """Yield, block by block in time order, the merged columns of the wanted series with points
        in [tmin, tmax]. Within a block every series is complete and sorted ascending. `series_keys`
        is read afresh for every block: a caller may drop keys it needs no more between blocks."""
        if series_keys is not None and not series_keys:
            return
        partition = keys.chunk_partition(namespace, measurement)
        first, last = keys.sort_key_range(tmin, tmax)
        wanted = (min(series_keys), max(series_keys)) if series_keys is not None else None
        current: int | None = None
        pending: list[Segment] = []
        for segment in self.segments.query(partition, first, last, tmin, tmax, descending, wanted):
            block = keys.block_from_key(segment.sort_key)
            if block != current and pending:
                merged = self._merge_block(pending, tmin, tmax, series_keys, fields, descending)
                if merged:
                    yield merged
                pending = []
            current = block
            pending.append(segment)
        if pending:
            merged = self._merge_block(pending, tmin, tmax, series_keys, fields, descending)
            if merged:
                yield merged

    @staticmethod
    def _merge_block(
        segments: list[Segment],
        tmin: int,
        tmax: int,
        series_keys: Collection[str] | None,
        fields: Collection[str] | None,
        descending: bool,
    ) -> dict[str, SeriesColumns]:
        if descending:  # segments came newest first; the merge wants oldest first
            segments = segments[::-1]
        parts: dict[str, list[SeriesColumns]] = {}
        for segment in segments:
            for key, cols in codec.decode_segment(segment.data, series_keys, fields).items():
                parts.setdefault(key, []).append(cols)
        merged: dict[str, SeriesColumns] = {}
        for key in sorted(parts):
            cols = columns.slice_time(columns.merge(parts[key]), tmin, tmax + 1)
            if cols.times:
                merged[key] = cols
        return merged

    # -- compaction --------------------------------------------------------------------------------

    def compact_dirty(self, quiet_seconds: float, keep_going: Callable[[], bool] = lambda: True) -> int:
        """Compact the blocks that received segments, while `keep_going()`: those quiet for
        `quiet_seconds`, and those still being written once they gather HOT_BLOCK_SEGMENTS segments
        (the current hour of a live flow, which dashboards read most). Returns segments merged."""
        merged = 0
        horizon = time.time() - quiet_seconds
        for dirty in self.compaction.dirty():
            if not keep_going():
                break
            quiet = dirty.written <= horizon
            removed = self.compact(dirty.partition, dirty.block, 1 if quiet else HOT_BLOCK_SEGMENTS)
            if removed is not None:
                if quiet:
                    self.compaction.clear(dirty)
                merged += removed
        return merged

    def compact(self, partition: str, block: int, min_segments: int = 1) -> int | None:
        """Merge a block's segments into as few as fit in an item, keyed right after the newest one
        merged, then remove the merged ones. Reads see the same points throughout: the merge is what
        newest-write-wins gives, and it sorts after everything it replaces. Returns the segments
        removed, or None when a concurrent delete rewrote one (the merge is undone: it may hold points
        that delete removed; the block stays marked for a later attempt)."""
        first = keys.block_key(block)
        found = list(self.segments.query(partition, first, first + "~", MIN_TIME, MAX_TIME))
        if not found:
            return 0
        newest = keys.sequence_part(found[-1].sort_key)
        if all(keys.is_compacted(s.sort_key) and keys.sequence_part(s.sort_key) == newest for s in found):
            return 0  # compacted already, nothing written since
        if min_segments > 1 and sum(not keys.is_compacted(s.sort_key) for s in found) < min_segments:
            return 0  # still being written, and not enough new segments yet to be worth a rewrite
        parts: dict[str, list[SeriesColumns]] = {}
        for segment in found:
            for key, cols in codec.decode_segment(segment.data).items():
                parts.setdefault(key, []).append(cols)
        merged = {key: columns.merge(parts[key]) for key in sorted(parts)}
        compacted = [
            _segment(partition, keys.compacted_sort_key(block, newest, part), data)
            for part, data in enumerate(_encode_by_series(merged))
        ]
        self.segments.put(compacted)
        written = {s.sort_key for s in compacted}
        for old in found:
            if old.sort_key in written:  # overwritten by the put itself
                continue
            if not self.segments.replace(old, None):
                previous = {s.sort_key for s in found}
                self.segments.delete(s for s in compacted if s.sort_key not in previous)
                return None
        return len(found)

    # -- deletes and retention ---------------------------------------------------------------------

    def delete_selected(
        self, namespace: str, selection: SeriesSelection, tmin: int = MIN_TIME, tmax: int = MAX_TIME
    ) -> int:
        """Remove the points in [tmin, tmax] of the series `selection` names (`/api/v2/delete`,
        InfluxQL's DELETE and DROP SERIES). Returns points removed."""
        removed = 0
        for measurement in self.index.measurements(namespace):
            if not selection.measurement_matches(measurement):
                continue
            series_keys = None
            if selection.has_tag_conditions:
                entries = self.index.series(namespace, measurement, selection.tag_equals)
                series_keys = {e.key for e in entries if selection.tags_match(dict(e.tags))}
                if not series_keys:
                    continue
            removed += self.delete(namespace, measurement, tmin, tmax, series_keys)
        return removed

    def delete(
        self,
        namespace: str,
        measurement: str,
        tmin: int = MIN_TIME,
        tmax: int = MAX_TIME,
        series_keys: Collection[str] | None = None,
    ) -> int:
        """Remove the points of the given series (None: all) in [tmin, tmax]. Returns points removed.
        Tombstones first, so records consumed from now on leave those points out; then segments are
        rewritten with a version check, so a concurrent rewrite makes us retry."""
        if series_keys is not None and not series_keys:
            return 0
        at = _now_ms()
        series = [None] if series_keys is None else sorted(series_keys)
        self.tombstones.record(namespace, [Tombstone(measurement, key, tmin, tmax, at) for key in series])
        return self._erase(namespace, measurement, tmin, tmax, series_keys)

    def _erase(
        self,
        namespace: str,
        measurement: str,
        tmin: int,
        tmax: int,
        series_keys: Collection[str] | str | None,
    ) -> int:
        if isinstance(series_keys, str):
            series_keys = {series_keys}
        partition = keys.chunk_partition(namespace, measurement)
        removed = 0
        while True:  # again until a pass finds nothing: a compaction may have copied points meanwhile
            found = self._delete_pass(partition, tmin, tmax, series_keys)
            removed += found
            if not found:
                break
        if tmin <= MIN_TIME and tmax >= MAX_TIME:
            if series_keys is None:
                self.index.remove_measurement(namespace, measurement)
            else:
                self.index.remove_series(namespace, measurement, series_keys)
            self.forget(namespace)
        return removed

    def _delete_pass(self, partition: str, tmin: int, tmax: int, series_keys: Collection[str] | None) -> int:
        first, last = keys.sort_key_range(tmin, tmax)
        removed = 0
        for segment in list(self.segments.query(partition, first, last, tmin, tmax)):
            for _attempt in range(5):
                outcome = _without(segment, tmin, tmax, series_keys)
                if outcome is None:
                    break
                replacement, dropped = outcome
                if self.segments.replace(segment, replacement):
                    removed += dropped
                    break
                fresh = list(self.segments.query(partition, segment.sort_key, segment.sort_key, tmin, tmax))
                if not fresh:
                    break
                segment = fresh[0]
            else:
                raise RuntimeError(f"segment {segment.sort_key} kept changing during a delete")
        return removed

    def purge(self, namespace: str) -> None:
        """Remove every point and index entry stored under a namespace (a removed bucket's)."""
        self.tombstones.record(namespace, [Tombstone(None, None, MIN_TIME, MAX_TIME, _now_ms())])
        for measurement in self.index.measurements(namespace):
            self._erase(namespace, measurement, MIN_TIME, MAX_TIME, None)
        self.forget(namespace)

    def enforce_retention(self, retentions: Iterable[tuple[str, int]], now: int) -> int:
        """Expire each (namespace, retention in ns): the blocks that ended a retention ago. Returns
        segments removed."""
        return sum(self.expire(namespace, now - retention) for namespace, retention in retentions)

    def expire(self, namespace: str, before: int) -> int:
        """Remove whole blocks that end at or before `before`. Returns segments removed."""
        limit = keys.block_key(keys.block_of(before))
        removed = 0
        for measurement in self.index.measurements(namespace):
            removed += self.segments.delete_before(keys.chunk_partition(namespace, measurement), limit)
        return removed


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _surviving(series: SeriesRows, tombstones: list[Tombstone]) -> list[tuple[int, dict]]:
    """The rows of a series that no tombstone covers."""
    ranges = [(t.tmin, t.tmax) for t in tombstones if t.covers(series.measurement, series.key)]
    if not ranges:
        return series.rows
    return [row for row in series.rows if not any(lo <= row[0] <= hi for lo, hi in ranges)]


def _segment(partition: str, sort_key: str, data: bytes) -> Segment:
    summaries = codec.segment_index(data)
    return Segment(
        partition=partition,
        sort_key=sort_key,
        data=data,
        min_time=min(s.min_time for s in summaries),
        max_time=max(s.max_time for s in summaries),
        count=sum(s.count for s in summaries),
        first_series=min(s.key for s in summaries),
        last_series=max(s.key for s in summaries),
    )


def _encode_by_series(series: dict[str, SeriesColumns]) -> list[bytes]:
    """Encode series (in key order) into segments of consecutive series of about COMPACTED_BYTES
    each, so a read of one series fetches one small item, not the whole block's."""
    groups: list[dict[str, SeriesColumns]] = [{}]
    size = 0
    for key in sorted(series):
        alone = len(codec.encode_segment({key: series[key]}))
        if groups[-1] and size + alone > COMPACTED_BYTES:
            groups.append({})
            size = 0
        groups[-1][key] = series[key]
        size += alone
    return [data for group in groups for data in _encode_bounded(group)]


def _encode_bounded(series: dict[str, SeriesColumns]) -> list[bytes]:
    """Encode series into one or more segments under MAX_SEGMENT_BYTES, splitting deterministically
    (by series, then by time, then a point by its fields: reads merge them back field by field) so a
    redelivered record produces the same parts. One value larger than that stays one segment: the
    repository spreads it over items (a string of 1 MiB, as InfluxDB allows, takes three or four)."""
    data = codec.encode_segment(series)
    if len(data) <= MAX_SEGMENT_BYTES:
        return [data]
    if len(series) > 1:
        names = sorted(series)
        half = len(names) // 2
        return _encode_bounded({k: series[k] for k in names[:half]}) + _encode_bounded(
            {k: series[k] for k in names[half:]}
        )
    ((key, cols),) = series.items()
    if len(cols.times) < 2:
        if len(cols.fields) < 2:
            return [data]
        names = sorted(cols.fields)
        half = len(names) // 2
        halves = (columns.select_fields(cols, names[:half]), columns.select_fields(cols, names[half:]))
        return [data for part in halves if part.times for data in _encode_bounded({key: part})]
    middle = cols.times[len(cols.times) // 2]
    first = columns.slice_time(cols, MIN_TIME, middle)
    second = columns.slice_time(cols, middle, MAX_TIME + 1)
    return _encode_bounded({key: first}) + _encode_bounded({key: second})


def _without(
    segment: Segment, tmin: int, tmax: int, series_keys: Collection[str] | None
) -> tuple[Segment | None, int] | None:
    """The segment with the points removed, or None when it holds none of them."""
    decoded = codec.decode_segment(segment.data)
    kept: dict[str, SeriesColumns] = {}
    dropped = 0
    for key, cols in decoded.items():
        if series_keys is None or key in series_keys:
            remaining = columns.remove(cols, tmin, tmax + 1)
            dropped += len(cols.times) - len(remaining.times)
            if remaining.times:
                kept[key] = remaining
        else:
            kept[key] = cols
    if not dropped:
        return None
    if not kept:
        return None, dropped
    replacement = _segment(segment.partition, segment.sort_key, codec.encode_segment(kept))
    replacement.version = segment.version + 1
    return replacement, dropped
