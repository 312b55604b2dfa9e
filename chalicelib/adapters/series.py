"""The series store's repositories on DynamoDB: segments (`chunks`), the series index and the compaction
marks (`series`), as the ports in chalicelib.series.ports describe them.

Table and key names come from chalicelib.declarations; the endpoint comes from the environment
(AWS_ENDPOINT_URL points at moto locally and in tests, unset on AWS).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Iterator

from pynamodb.attributes import BinaryAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DeleteError, PutError
from pynamodb.models import Model

from chalicelib.adapters.conditions import condition_failed
from chalicelib.declarations import CHUNKS, SERIES
from chalicelib.series import keys
from chalicelib.series.ports import DirtyBlock, Segment, SeriesEntry


class ChunkItem(Model):
    class Meta:
        table_name = CHUNKS.physical_name

    pk = UnicodeAttribute(hash_key=True, attr_name=CHUNKS.hash_key)
    sk = UnicodeAttribute(range_key=True, attr_name=CHUNKS.range_key)
    data = BinaryAttribute(legacy_encoding=False)
    lo = NumberAttribute()  # earliest point time (ns)
    hi = NumberAttribute()  # latest point time (ns)
    n = NumberAttribute()  # points
    ver = NumberAttribute(default=0)
    k0 = UnicodeAttribute(null=True)  # least series key inside
    k1 = UnicodeAttribute(null=True)  # greatest series key inside

    def to_segment(self) -> Segment:
        return Segment(
            self.pk,
            self.sk,
            self.data,
            int(self.lo),
            int(self.hi),
            int(self.n),
            int(self.ver),
            self.k0 or "",
            self.k1 or "",
        )

    @classmethod
    def from_segment(cls, s: Segment) -> ChunkItem:
        return cls(
            s.partition,
            s.sort_key,
            data=s.data,
            lo=s.min_time,
            hi=s.max_time,
            n=s.count,
            ver=s.version,
            k0=s.first_series or None,
            k1=s.last_series or None,
        )


class DynamoSegments:
    """SegmentRepository on the `chunks` table."""

    def put(self, segments: Iterable[Segment]) -> None:
        with ChunkItem.batch_write() as batch:
            for segment in segments:
                batch.save(ChunkItem.from_segment(segment))

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
        condition = (ChunkItem.lo <= tmax) & (ChunkItem.hi >= tmin)
        if series is not None:
            least, greatest = series
            # items written before k0/k1 existed have neither: they are always read
            overlaps = (ChunkItem.k0 <= greatest) & (ChunkItem.k1 >= least)
            condition &= ChunkItem.k0.does_not_exist() | overlaps
        for item in ChunkItem.query(
            partition,
            ChunkItem.sk.between(first_key, last_key),
            filter_condition=condition,
            scan_index_forward=not descending,
        ):
            yield item.to_segment()

    def keys_before(self, partition: str, sort_key: str) -> Iterator[str]:
        for item in ChunkItem.query(partition, ChunkItem.sk < sort_key, attributes_to_get=["pk", "sk"]):
            yield item.sk

    def delete(self, partition: str, sort_keys: Iterable[str]) -> None:
        with ChunkItem.batch_write() as batch:
            for sort_key in sort_keys:
                batch.delete(ChunkItem(partition, sort_key))

    def replace(self, old: Segment, new: Segment | None) -> bool:
        try:
            if new is None:
                ChunkItem(old.partition, old.sort_key).delete(condition=ChunkItem.ver == old.version)
            else:
                ChunkItem.from_segment(new).save(condition=ChunkItem.ver == old.version)
        except (PutError, DeleteError) as exc:
            if condition_failed(exc):
                return False
            raise
        return True


class SeriesIndexItem(Model):
    """One table, three kinds of items, told apart by the partition key:
    `<ns>|m` -> measurement names; `<ns>|s|<m>` -> series keys (with tags); `<ns>|f|<m>` -> fields."""

    class Meta:
        table_name = SERIES.physical_name

    pk = UnicodeAttribute(hash_key=True, attr_name=SERIES.hash_key)
    sk = UnicodeAttribute(range_key=True, attr_name=SERIES.range_key)
    tags = UnicodeAttribute(null=True)  # JSON [[key, value], ...] on series items
    ftype = UnicodeAttribute(null=True)  # field type on field items


def _measurements_pk(ns: str) -> str:
    return f"{ns}|m"


def _series_pk(ns: str, measurement: str) -> str:
    return f"{ns}|s|{measurement}"


def _fields_pk(ns: str, measurement: str) -> str:
    return f"{ns}|f|{measurement}"


class DynamoIndex:
    """IndexRepository on the `series` table."""

    def measurements(self, namespace: str) -> list[str]:
        return [item.sk for item in SeriesIndexItem.query(_measurements_pk(namespace))]

    def series(self, namespace: str, measurement: str) -> list[SeriesEntry]:
        return [
            SeriesEntry(item.sk, tuple(tuple(t) for t in json.loads(item.tags or "[]")))
            for item in SeriesIndexItem.query(_series_pk(namespace, measurement))
        ]

    def add_series(self, namespace: str, measurement: str, entries: Iterable[SeriesEntry]) -> None:
        with SeriesIndexItem.batch_write() as batch:
            batch.save(SeriesIndexItem(_measurements_pk(namespace), measurement))
            for entry in entries:
                tags = json.dumps([list(t) for t in entry.tags], ensure_ascii=False)
                batch.save(SeriesIndexItem(_series_pk(namespace, measurement), entry.key, tags=tags))

    def remove_series(self, namespace: str, measurement: str, keys: Iterable[str]) -> None:
        pk = _series_pk(namespace, measurement)
        with SeriesIndexItem.batch_write() as batch:
            for key in keys:
                batch.delete(SeriesIndexItem(pk, key))

    def field_types(self, namespace: str, measurement: str) -> dict[str, str]:
        return {
            item.sk: item.ftype
            for item in SeriesIndexItem.query(_fields_pk(namespace, measurement), consistent_read=True)
        }

    def claim_field(self, namespace: str, measurement: str, field: str, field_type: str) -> str:
        item = SeriesIndexItem(_fields_pk(namespace, measurement), field, ftype=field_type)
        try:
            item.save(condition=SeriesIndexItem.pk.does_not_exist() | (SeriesIndexItem.ftype == field_type))
            return field_type
        except PutError as exc:
            if not condition_failed(exc):
                raise
        return SeriesIndexItem.get(item.pk, field, consistent_read=True).ftype

    def remove_measurement(self, namespace: str, measurement: str) -> None:
        with SeriesIndexItem.batch_write() as batch:
            for pk in (_series_pk(namespace, measurement), _fields_pk(namespace, measurement)):
                for item in SeriesIndexItem.query(pk, attributes_to_get=["pk", "sk"]):
                    batch.delete(item)
            batch.delete(SeriesIndexItem(_measurements_pk(namespace), measurement))


_COMPACTION_SHARDS = 4  # marks spread over a few partitions: every consumer batch writes some


class CompactionMarkItem(Model):
    """In the `series` table: `~compact|<n>` / `<block key>|<partition>` -> when it was last written."""

    class Meta:
        table_name = SERIES.physical_name

    pk = UnicodeAttribute(hash_key=True, attr_name=SERIES.hash_key)
    sk = UnicodeAttribute(range_key=True, attr_name=SERIES.range_key)
    at = NumberAttribute()


def _compaction_pk(partition: str) -> str:
    return f"~compact|{zlib.crc32(partition.encode()) % _COMPACTION_SHARDS}"


class DynamoCompactionLog:
    """CompactionLog on the `series` table."""

    def mark(self, blocks: Iterable[tuple[str, int]], written: float) -> None:
        with CompactionMarkItem.batch_write() as batch:
            for partition, block in blocks:
                sk = f"{keys.block_key(block)}|{partition}"
                batch.save(CompactionMarkItem(_compaction_pk(partition), sk, at=written))

    def dirty(self) -> Iterator[DirtyBlock]:
        for shard in range(_COMPACTION_SHARDS):
            for item in CompactionMarkItem.query(f"~compact|{shard}"):
                block, _, partition = item.sk.partition("|")
                yield DirtyBlock(partition, keys.block_from_key(block), float(item.at))

    def clear(self, block: DirtyBlock) -> bool:
        sk = f"{keys.block_key(block.block)}|{block.partition}"
        try:
            CompactionMarkItem(_compaction_pk(block.partition), sk).delete(
                condition=CompactionMarkItem.at == block.written
            )
        except DeleteError as exc:
            if condition_failed(exc):
                return False
            raise
        return True
