"""An in-memory `Buckets` and `SeriesReader` for the Flux engine's unit tests (points given as tuples), and
its own check."""

from __future__ import annotations

from chalicelib.flux.values import FluxError
from chalicelib.kit.points import field_type
from chalicelib.lineprotocol.serializer import series_key
from chalicelib.series.columns import from_rows
from chalicelib.series.ports import SeriesEntry

BUCKET = {"id": "0000000000000b01", "name": "first", "orgID": "00000000000000a1", "retentionRules": []}


class MemorySource:
    """points: [(measurement, {tag: v}, {field: v}, time_ns)]."""

    def __init__(self, points, buckets=(BUCKET,), block: int | None = None) -> None:
        self.buckets_ = list(buckets)
        self.block = block  # with a block length, scans yield one block per time block, as the store
        self.data: dict[str, dict[str, dict[str, list]]] = {}  # m -> key -> rows
        self.tags: dict[str, dict[str, tuple]] = {}
        self.types: dict[str, dict[str, str]] = {}
        self.scans: list[tuple] = []
        self.blocks_read: list[list[list[str]]] = []
        self.written: list[tuple[str, str]] = []
        for m, tags, fields, t in points:
            key = series_key(m, sorted(tags.items()))
            self.data.setdefault(m, {}).setdefault(key, []).append((t, fields))
            self.tags.setdefault(m, {})[key] = tuple(sorted(tags.items()))
            for f, v in fields.items():
                self.types.setdefault(m, {})[f] = field_type(v)

    def bucket(self, name, bucket_id=None, write=False):
        for b in self.buckets_:
            if b["name"] == name or b["id"] == bucket_id:
                return b
        raise FluxError(f'could not find bucket "{name}"')

    def buckets(self):
        return self.buckets_

    def measurements(self, namespace):
        return sorted(self.data)

    def series(self, namespace, measurement, tag_equals=None):
        return [SeriesEntry(k, t) for k, t in sorted(self.tags.get(measurement, {}).items())]

    def field_types(self, namespace, measurement):
        return dict(self.types.get(measurement, {}))

    def scan(self, namespace, measurement, tmin, tmax, series_keys=None, fields=None, descending=False):
        """As SeriesStore.scan: block by block (newest first when descending), `series_keys` read afresh
        for every block; each scan is recorded with the series keys read in each block."""
        read: list[list[str]] = []
        self.scans.append((measurement, tmin, tmax, sorted(series_keys or []), sorted(fields or [])))
        self.blocks_read.append(read)
        rows_of = self.data.get(measurement, {})
        times = sorted({t for rows in rows_of.values() for t, _ in rows if tmin <= t <= tmax})
        if self.block is None:
            spans = [(tmin, tmax)] if times else []
        else:
            starts = sorted({t - t % self.block for t in times}, reverse=descending)
            spans = [(max(s, tmin), min(s + self.block - 1, tmax)) for s in starts]
        for lo, hi in spans:
            block = {}
            for key, rows in sorted(rows_of.items()):
                if series_keys is not None and key not in series_keys:
                    continue
                chosen = [
                    (t, {f: v for f, v in fs.items() if fields is None or f in fields})
                    for t, fs in sorted(rows, key=lambda row: row[0])
                    if lo <= t <= hi
                ]
                cols = from_rows(chosen)
                if cols.times:
                    block[key] = cols
            read.append(sorted(block))
            if block:
                yield block

    def write(self, bucket, lines):
        self.written.append((bucket["name"], lines))


def test_memory_source_scan_selects_series_fields_and_time():
    source = MemorySource([("m", {"t": "1"}, {"a": 1.0, "b": 2}, 5), ("m", {"t": "2"}, {"a": 3.0}, 7)])
    (block,) = source.scan("ns", "m", 0, 6, {"m,t=1"}, {"a"})
    assert list(block) == ["m,t=1"]
    assert block["m,t=1"].times == [5] and list(block["m,t=1"].fields) == ["a"]
    assert source.field_types("ns", "m") == {"a": "float", "b": "integer"}
