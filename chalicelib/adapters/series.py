"""The series store's repositories on DynamoDB: segments (`chunks`), the series index, the compaction
marks and the tombstones of deletes (`series`), as the ports in chalicelib.series.ports describe them.

Table and key names come from chalicelib.declarations; the endpoint comes from the environment
(AWS_ENDPOINT_URL points at moto locally and in tests, unset on AWS).

DynamoDB's limits are met here: names longer than a key may be are keyed by `keys.bounded` (the real
name kept in an attribute), and a segment larger than an item is spread over continuation items.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import zlib
from collections.abc import Iterable, Iterator, Mapping

from pynamodb.attributes import BinaryAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DeleteError, PutError, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.adapters.conditions import condition_failed
from chalicelib.declarations import CHUNKS, POINTS, SERIES
from chalicelib.lineprotocol import series_key
from chalicelib.series import keys
from chalicelib.series.keys import bounded, is_digest, utf8_length
from chalicelib.series.ports import DirtyBlock, Segment, SeriesEntry, TagEquals, Tombstone

# DynamoDB items stop at 400 KB (409,600 bytes), attribute names and values counted; stay below.
_ITEM_BYTES = 400_000
_ITEM_OVERHEAD = 256  # attribute names, numbers and the continuation bookkeeping


class ChunkItem(Model):
    """A segment's item (its head), or one of its continuation items when its data exceeds an item:
    `<sort key>+<token>+<n>` (n from 1), holding the rest of the data in order. The token is a digest
    of the whole data, so writes of different data never share continuation items."""

    class Meta:
        table_name = CHUNKS.physical_name

    pk = UnicodeAttribute(hash_key=True, attr_name=CHUNKS.hash_key)
    sk = UnicodeAttribute(range_key=True, attr_name=CHUNKS.range_key)
    data = BinaryAttribute(legacy_encoding=False)
    # lo and hi are on continuation items too, so the reads' filters let them through with their head
    lo = NumberAttribute()  # earliest point time (ns)
    hi = NumberAttribute()  # latest point time (ns)
    n = NumberAttribute(null=True)  # points
    ver = NumberAttribute(null=True)
    k0 = UnicodeAttribute(null=True)  # least series key inside
    k1 = UnicodeAttribute(null=True)  # greatest series key inside
    more = NumberAttribute(null=True)  # continuation items
    tok = UnicodeAttribute(null=True)  # their token

    @classmethod
    def head(cls, s: Segment, data: bytes) -> ChunkItem:
        return cls(
            s.partition,
            s.sort_key,
            data=data,
            lo=s.min_time,
            hi=s.max_time,
            n=s.count,
            ver=s.version,
            k0=s.first_series or None,
            k1=s.last_series or None,
        )


def _continuation_key(sort_key: str, token: str, number: int) -> str:
    return f"{sort_key}+{token}+{number:04d}"


def _is_continuation(sort_key: str) -> bool:
    return "+" in sort_key  # segment sort keys are hex, digits, `#` and `c`


def _items(s: Segment) -> list[ChunkItem]:
    """The items of a segment: its head, then its continuation items if the data does not fit one.
    Deterministic, so the items of a segment read back can be found again to delete them."""
    keys_bytes = utf8_length(s.partition) + utf8_length(s.sort_key)
    room = (
        _ITEM_BYTES - _ITEM_OVERHEAD - keys_bytes - utf8_length(s.first_series) - utf8_length(s.last_series)
    )
    if len(s.data) <= room:
        return [ChunkItem.head(s, s.data)]
    token = hashlib.sha256(s.data).hexdigest()[:16]
    step = _ITEM_BYTES - _ITEM_OVERHEAD - keys_bytes - len(_continuation_key("", token, 0))
    pieces = [s.data[:room]] + [s.data[i : i + step] for i in range(room, len(s.data), step)]
    head = ChunkItem.head(s, pieces[0])
    head.more = len(pieces) - 1
    head.tok = token
    continuations = [
        ChunkItem(
            s.partition, _continuation_key(s.sort_key, token, n), data=piece, lo=s.min_time, hi=s.max_time
        )
        for n, piece in enumerate(pieces[1:], 1)
    ]
    return [head, *continuations]


# A read's first Query asks for this many items, each next one for twice as many (DynamoDB's 1 MB page
# limit applies as well). Reads that stop early (last(), first(), LIMIT) then fetch the newest (oldest)
# block or so instead of a megabyte of segments, and whole-range reads take a few more round trips
# only at their start. Measured on moto: a 1 MB descending page of as-written segments took 70-100 ms,
# 4 items 15-20 ms.
_FIRST_PAGE_ITEMS = 8
_MAX_PAGE_ITEMS = 1024


def _growing_pages(
    partition: str, range_condition: Condition, condition: Condition, descending: bool
) -> Iterator[ChunkItem]:
    """The items of a Query, fetched in pages of _FIRST_PAGE_ITEMS items, doubling."""
    size, start = _FIRST_PAGE_ITEMS, None
    while True:
        pages = ChunkItem.query(
            partition,
            range_condition,
            filter_condition=condition,
            scan_index_forward=not descending,
            page_size=size,
            last_evaluated_key=start,
        ).page_iter
        page = next(pages)
        for raw in page.get("Items", ()):
            yield ChunkItem.from_raw_data(raw)
        start = page.get("LastEvaluatedKey")
        if start is None:
            return
        size = min(2 * size, _MAX_PAGE_ITEMS)


def _segment(head: ChunkItem, data: bytes) -> Segment:
    return Segment(
        head.pk,
        head.sk,
        data,
        int(head.lo),
        int(head.hi),
        int(head.n or 0),
        int(head.ver or 0),
        head.k0 or "",
        head.k1 or "",
    )


class DynamoSegments:
    """SegmentRepository on the `chunks` table. A segment spread over several items is written, rewritten
    and removed in one transaction, so no reader or writer ever sees a head without the rest of its
    data; unconditional removals take continuation items before heads, so they can only leave
    continuation items behind (ignored), never a head without them."""

    def put(self, segments: Iterable[Segment]) -> None:
        spread = []
        with ChunkItem.batch_write() as batch:
            for segment in segments:
                items = _items(segment)
                if len(items) == 1:
                    batch.save(items[0])
                else:
                    spread.append(items)
        for items in spread:
            with _transaction(items) as transaction:
                for item in items:
                    transaction.save(item)

    @staticmethod
    def _remove(items: Iterable[ChunkItem]) -> None:
        with ChunkItem.batch_write() as batch:
            for item in sorted(items, key=lambda i: not _is_continuation(i.sk)):
                batch.delete(item)

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
            # items written before k0/k1 existed, and continuation items, have neither: always read
            overlaps = (ChunkItem.k0 <= greatest) & (ChunkItem.k1 >= least)
            condition &= ChunkItem.k0.does_not_exist() | overlaps
        found = _growing_pages(partition, ChunkItem.sk.between(first_key, last_key), condition, descending)
        # a head and its continuation items are adjacent in either order
        for _, group in itertools.groupby(found, key=lambda item: item.sk.split("+", 1)[0]):
            items = list(group)
            head = next((item for item in items if not _is_continuation(item.sk)), None)
            if head is None:  # continuation items whose head the filter left out, or left behind
                continue
            segment = self._assemble(head, {item.sk: item.data for item in items})
            if segment is not None:
                yield segment

    @staticmethod
    def _assemble(head: ChunkItem, parts: Mapping[str, bytes]) -> Segment | None:
        """The segment of a head and its continuation items. A query reads eventually consistently:
        missing ones are read consistently, with the head again if it was rewritten meanwhile."""
        for _attempt in range(5):
            if not head.more:
                return _segment(head, head.data)
            wanted = [_continuation_key(head.sk, head.tok, n) for n in range(1, int(head.more) + 1)]
            missing = [(head.pk, sk) for sk in wanted if sk not in parts]
            if missing:
                parts = {
                    **parts,
                    **{i.sk: i.data for i in ChunkItem.batch_get(missing, consistent_read=True)},
                }
            if all(sk in parts for sk in wanted):
                return _segment(head, b"".join([head.data, *(parts[sk] for sk in wanted)]))
            fresh = list(ChunkItem.batch_get([(head.pk, head.sk)], consistent_read=True))
            if not fresh:
                return None  # removed meanwhile
            head = fresh[0]
        raise RuntimeError(f"segment {head.sk} kept changing while it was read")

    def delete_before(self, partition: str, sort_key: str) -> int:
        expired = list(ChunkItem.query(partition, ChunkItem.sk < sort_key, attributes_to_get=["pk", "sk"]))
        self._remove(expired)
        return sum(not _is_continuation(item.sk) for item in expired)

    def delete(self, segments: Iterable[Segment]) -> None:
        self._remove(item for segment in segments for item in _items(segment))

    def replace(self, old: Segment, new: Segment | None) -> bool:
        was = _items(old)
        now = _items(new) if new is not None else []
        version = ChunkItem.ver == old.version
        try:
            if len(was) == 1 and len(now) <= 1:
                if now:
                    now[0].save(condition=version)
                else:
                    was[0].delete(condition=version)
                return True
            kept = {item.sk for item in now}
            with _transaction(now, len(was)) as transaction:
                if now:
                    transaction.save(now[0], condition=version)
                else:
                    transaction.delete(was[0], condition=version)
                for item in now[1:]:
                    transaction.save(item)
                for item in was[1:]:
                    if item.sk not in kept:
                        transaction.delete(item)
        except (PutError, DeleteError) as exc:
            if condition_failed(exc):
                return False
            raise
        except TransactWriteError as exc:
            reasons = {reason.code for reason in exc.cancellation_reasons if reason is not None}
            if exc.cause_response_code == _CANCELLED and reasons <= _LOST_RACE:
                return False
            raise
        return True


_CANCELLED = "TransactionCanceledException"
_LOST_RACE = {"ConditionalCheckFailed", "TransactionConflict"}
# One TransactWriteItems holds at most 100 items and 4 MB. Segments are split by series, time and
# field to MAX_SEGMENT_BYTES; only one value larger than that (a string of 1 MiB at most) makes a
# segment of a few items.
_TRANSACTION_ITEMS = 100
_TRANSACTION_BYTES = 4_000_000


def _transaction(written: list[ChunkItem], removed: int = 0) -> TransactWrite:
    size = sum(len(i.data) + utf8_length(f"{i.sk}{i.k0 or ''}{i.k1 or ''}") for i in written)
    if len(written) + removed > _TRANSACTION_ITEMS or size > _TRANSACTION_BYTES:
        raise ValueError(f"a segment of {size} bytes is larger than the store can write at once")
    return TransactWrite(connection=ChunkItem._get_connection().connection)


class SeriesIndexItem(Model):
    """One table, four kinds of items, told apart by the partition key:
    `<ns>|m` -> measurement names; `<ns>|s|<m>` -> series keys (with tags); `<ns>|f|<m>` -> fields;
    `<ns>|p|<m>` -> tag postings (`_posting_key`: tag key, value, series; with the series' tags).
    Names are keyed by `keys.bounded`; one longer than that keeps its real name in `name` (a series
    item or posting only when its key is not the canonical key of its tags, which it is rebuilt from).
    A measurement item with `postings` set says every series of the measurement has its postings."""

    class Meta:
        table_name = SERIES.physical_name

    pk = UnicodeAttribute(hash_key=True, attr_name=SERIES.hash_key)
    sk = UnicodeAttribute(range_key=True, attr_name=SERIES.range_key)
    name = UnicodeAttribute(null=True)  # the real name when `sk` is a digest of it
    tags = UnicodeAttribute(null=True)  # JSON [[key, value], ...] on series items
    ftype = UnicodeAttribute(null=True)  # field type on (older) field items
    claims = BinaryAttribute(null=True, legacy_encoding=False)  # zlib JSON [[field, type], ...]
    postings = NumberAttribute(null=True)  # on measurement items: 1 when its postings are complete


def _measurements_pk(ns: str) -> str:
    return f"{ns}|m"


def _series_pk(ns: str, measurement: str) -> str:
    return f"{ns}|s|{bounded(measurement)}"


def _fields_pk(ns: str, measurement: str) -> str:
    return f"{ns}|f|{bounded(measurement)}"


def _postings_pk(ns: str, measurement: str) -> str:
    return f"{ns}|p|{bounded(measurement)}"


# A posting's sort key `<tag key>\0<tag value>\0<digest of the series key>`: a read of `host='h42'`
# Queries begins_with `host\0h42\0`. Each part is bounded apart so the key stays under DynamoDB's 1,024
# bytes (at most 225 + 1 + 425 + 1 + 32); the series is told by a digest, its key being in the item.
# NUL cannot end a tag key or value early: line protocol takes it for whitespace, so names lack it.
_POSTING_TAG_BYTES = 200
_POSTING_VALUE_BYTES = 400
_SEP = "\0"
# Above every posting key (at most 684 bytes, below this at their first differing byte), within a key's
# 1,024 bytes: `BETWEEN x AND _TOP` reads as `>= x`, which the local engine bisects as DynamoDB does.
_TOP = "\U0010ffff" * 256


def _posting_prefix(tag: str, value: str) -> str:
    return f"{bounded(tag, _POSTING_TAG_BYTES)}{_SEP}{bounded(value, _POSTING_VALUE_BYTES)}{_SEP}"


def _posting_key(tag: str, value: str, series: str) -> str:
    digest = hashlib.sha256(series.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return _posting_prefix(tag, value) + digest


def _entry(measurement: str, item: SeriesIndexItem, posting: bool = False) -> SeriesEntry:
    """The series of a series item or (`posting`) a posting, whose sort key never is the series key."""
    tags = tuple(tuple(t) for t in json.loads(item.tags or "[]"))
    if item.name:
        return SeriesEntry(item.name, tags)
    if posting or is_digest(item.sk):
        return SeriesEntry(series_key(measurement, tags), tags)
    return SeriesEntry(item.sk, tags)


def _named(sk: str, name: str) -> str | None:
    """The `name` attribute of an item keyed by `sk` = bounded(name)."""
    return name if sk != name else None


# Field types are claimed in a log per measurement: items `\n<number>` under the fields partition (no
# field name holds a newline), numbered 1, 2, ... without gaps, each written only if its number is free.
# A field's type is the one of the first claim naming it, so every reader agrees, and one put claims
# thousands of fields. Items of one field each (`ftype`), written before the log, come first.
_CLAIM = "\n"
_CLAIM_DIGITS = 12
_CLAIM_BYTES = 300_000  # JSON per claim item, before compression: well inside an item whatever it holds
_CLAIM_ATTEMPTS = 1_000  # each lost attempt means another writer's claim got in: the log moved on


def _claim_key(number: int) -> str:
    return f"{_CLAIM}{number:0{_CLAIM_DIGITS}d}"


class _FieldLog:
    """The field types recorded for a measurement, and the number of the last claim read."""

    def __init__(self) -> None:
        self.types: dict[str, str] = {}
        self.last = 0

    def read(self, item: SeriesIndexItem) -> None:
        if item.sk.startswith(_CLAIM):
            self.last = max(self.last, int(item.sk[1:]))
            for field, field_type in json.loads(zlib.decompress(item.claims)):
                self.types.setdefault(field, field_type)
        else:
            self.types.setdefault(item.name or item.sk, item.ftype)


def _claim_chunks(fields: Mapping[str, str]) -> Iterator[list[list[str]]]:
    chunk: list[list[str]] = []
    size = 0
    for field, field_type in fields.items():
        entry_bytes = 2 * utf8_length(field) + 16  # JSON escapes included, generously
        if chunk and size + entry_bytes > _CLAIM_BYTES:
            yield chunk
            chunk, size = [], 0
        chunk.append([field, field_type])
        size += entry_bytes
    if chunk:
        yield chunk


class DynamoIndex:
    """IndexRepository on the `series` table."""

    def measurements(self, namespace: str) -> list[str]:
        return sorted(item.name or item.sk for item in SeriesIndexItem.query(_measurements_pk(namespace)))

    def series(
        self, namespace: str, measurement: str, tag_equals: TagEquals | None = None
    ) -> list[SeriesEntry]:
        if tag_equals is not None and all(tag_equals[1]) and self._has_postings(namespace, measurement):
            tag, values = tag_equals
            pk = _postings_pk(namespace, measurement)
            found = {}
            for value in values:
                for item in SeriesIndexItem.query(
                    pk, SeriesIndexItem.sk.startswith(_posting_prefix(tag, value))
                ):
                    entry = _entry(measurement, item, posting=True)
                    found[entry.key] = entry
            return sorted(found.values(), key=lambda e: e.key)
        entries = [
            _entry(measurement, item) for item in SeriesIndexItem.query(_series_pk(namespace, measurement))
        ]
        return sorted(entries, key=lambda e: e.key)  # digests sort apart from the names they stand for

    @staticmethod
    def _has_postings(namespace: str, measurement: str) -> bool:
        """Whether the measurement's postings are complete (it was first written with postings)."""
        try:
            item = SeriesIndexItem.get(_measurements_pk(namespace), bounded(measurement))
        except SeriesIndexItem.DoesNotExist:
            return False
        return bool(item.postings)

    def tag_keys(self, namespace: str, measurement: str) -> list[str] | None:
        """Read from the postings, one Query of one item per tag key: the first posting after the
        previous key's (`\1` sorts right after the separator), whose tags name the key it stands for."""
        if not self._has_postings(namespace, measurement):
            return None
        pk = _postings_pk(namespace, measurement)
        found: list[str] = []
        after: str | None = None
        while True:
            condition = SeriesIndexItem.sk.between(after, _TOP) if after is not None else None
            items = list(SeriesIndexItem.query(pk, condition, limit=1))
            if not items:
                return sorted(found)
            item = items[0]
            entry = _entry(measurement, item, posting=True)
            tag = next(k for k, v in entry.tags if _posting_key(k, v, entry.key) == item.sk)
            found.append(tag)
            after = bounded(tag, _POSTING_TAG_BYTES) + "\1"

    @staticmethod
    def _announce(namespace: str, measurement: str) -> None:
        """Write the measurement's item, marked as having complete postings when it is new (or already
        marked): one written before postings existed stays unmarked, and its reads read every series."""
        sk = bounded(measurement)
        item = SeriesIndexItem(_measurements_pk(namespace), sk, name=_named(sk, measurement), postings=1)
        try:
            item.save(condition=SeriesIndexItem.sk.does_not_exist() | SeriesIndexItem.postings.exists())
        except PutError as exc:
            if not condition_failed(exc):
                raise

    def add_series(self, namespace: str, measurement: str, entries: Iterable[SeriesEntry]) -> None:
        self._announce(namespace, measurement)
        series_pk, postings_pk = _series_pk(namespace, measurement), _postings_pk(namespace, measurement)
        with SeriesIndexItem.batch_write() as batch:
            for entry in entries:
                tags = json.dumps([list(t) for t in entry.tags], ensure_ascii=False)
                canonical = entry.key == series_key(measurement, entry.tags)
                # postings before the series item: an interrupted write (retried on redelivery) leaves
                # at worst a posting of a series without points, never a series the postings miss
                for tag, value in entry.tags:
                    posting = _posting_key(tag, value, entry.key)
                    batch.save(
                        SeriesIndexItem(
                            postings_pk, posting, tags=tags, name=None if canonical else entry.key
                        )
                    )
                sk = bounded(entry.key)
                name = _named(sk, entry.key)
                if name is not None and canonical:
                    name = None  # rebuilt from the tags: keeps the largest items under the limit
                batch.save(SeriesIndexItem(series_pk, sk, tags=tags, name=name))

    def remove_series(self, namespace: str, measurement: str, keys: Iterable[str]) -> None:
        pk, postings_pk = _series_pk(namespace, measurement), _postings_pk(namespace, measurement)
        wanted = sorted({bounded(key) for key in keys})
        # the postings first, found from the series items' tags: the series item goes last, so a
        # removal interrupted and run again still finds the postings left
        found = [_entry(measurement, item) for item in SeriesIndexItem.batch_get([(pk, sk) for sk in wanted])]
        with SeriesIndexItem.batch_write() as batch:
            for entry in found:
                for tag, value in entry.tags:
                    batch.delete(SeriesIndexItem(postings_pk, _posting_key(tag, value, entry.key)))
        with SeriesIndexItem.batch_write() as batch:
            for sk in wanted:
                batch.delete(SeriesIndexItem(pk, sk))

    def field_types(self, namespace: str, measurement: str) -> dict[str, str]:
        return dict(sorted(self._field_log(namespace, measurement).types.items()))  # by name, as listed

    @staticmethod
    def _field_log(namespace: str, measurement: str, log: _FieldLog | None = None) -> _FieldLog:
        """The field log, read consistently (only the claims after `log.last`, given a log)."""
        pk = _fields_pk(namespace, measurement)
        if log is None:
            log, found = _FieldLog(), SeriesIndexItem.query(pk, consistent_read=True)
        else:
            later = SeriesIndexItem.sk.between(_claim_key(log.last + 1), _CLAIM + "~")
            found = SeriesIndexItem.query(pk, later, consistent_read=True)
        for item in found:
            log.read(item)
        return log

    def claim_fields(self, namespace: str, measurement: str, fields: Mapping[str, str]) -> dict[str, str]:
        """One consistent read of the log, then a claim of the fields it lacks under the next number;
        if a concurrent writer took that number, read its claim and claim what is still missing."""
        pk = _fields_pk(namespace, measurement)
        log = self._field_log(namespace, measurement)
        for _attempt in range(_CLAIM_ATTEMPTS):
            missing = {f: t for f, t in fields.items() if f not in log.types}
            if not missing:
                return {field: log.types[field] for field in fields}
            chunk = next(_claim_chunks(missing))
            data = zlib.compress(json.dumps(chunk, ensure_ascii=False).encode("utf-8", "surrogatepass"))
            claim = SeriesIndexItem(pk, _claim_key(log.last + 1), claims=data)
            try:
                claim.save(condition=SeriesIndexItem.sk.does_not_exist())
            except PutError as exc:
                if not condition_failed(exc):
                    raise
                self._field_log(namespace, measurement, log)
                continue
            log.read(claim)
        raise RuntimeError(f"field types of {measurement!r} kept being claimed by others")

    def remove_measurement(self, namespace: str, measurement: str) -> None:
        with SeriesIndexItem.batch_write() as batch:
            pks = (_postings_pk, _series_pk, _fields_pk)
            for pk in (partition(namespace, measurement) for partition in pks):
                for item in SeriesIndexItem.query(pk, attributes_to_get=["pk", "sk"]):
                    batch.delete(item)
            batch.delete(SeriesIndexItem(_measurements_pk(namespace), bounded(measurement)))


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


# Tombstones outlive every record that could still be delivered: the stream's retention, and a margin.
_TOMBSTONE_SECONDS = POINTS.retention_hours * 3600 + 3600


class TombstoneItem(Model):
    """In the `series` table: `<ns>|t` / `<moment, 15 digits>#<digest>` -> one delete's scope."""

    class Meta:
        table_name = SERIES.physical_name

    pk = UnicodeAttribute(hash_key=True, attr_name=SERIES.hash_key)
    sk = UnicodeAttribute(range_key=True, attr_name=SERIES.range_key)
    m = UnicodeAttribute(null=True)  # measurement; absent: all of them
    s = UnicodeAttribute(null=True)  # series key; absent: all of them
    lo = NumberAttribute()
    hi = NumberAttribute()
    at = NumberAttribute()  # epoch ms
    expires = NumberAttribute(attr_name=SERIES.ttl_attribute)  # epoch s


def _tombstones_pk(ns: str) -> str:
    return f"{ns}|t"


def _moment_key(moment: int) -> str:
    return f"{moment:015d}"


class DynamoTombstones:
    """TombstoneLog on the `series` table: one partition per namespace, sorted by the delete's moment,
    so a consumer asks for those after a record's arrival in one Query (usually answered empty)."""

    def record(self, namespace: str, tombstones: Iterable[Tombstone]) -> None:
        with TombstoneItem.batch_write() as batch:
            for t in tombstones:
                scope = json.dumps([t.measurement, t.series, t.tmin, t.tmax], ensure_ascii=False)
                digest = hashlib.sha256(scope.encode("utf-8", "surrogatepass")).hexdigest()[:32]
                batch.save(
                    TombstoneItem(
                        _tombstones_pk(namespace),
                        f"{_moment_key(t.at)}#{digest}",
                        m=t.measurement,
                        s=t.series,
                        lo=t.tmin,
                        hi=t.tmax,
                        at=t.at,
                        expires=t.at // 1000 + _TOMBSTONE_SECONDS,
                    )
                )

    def since(self, namespace: str, moment: int) -> list[Tombstone]:
        # `~` sorts after `#`: deletes that began in the same millisecond as the moment are left out
        after = TombstoneItem.sk > _moment_key(moment) + "~"
        return [
            Tombstone(item.m, item.s, int(item.lo), int(item.hi), int(item.at))
            for item in TombstoneItem.query(_tombstones_pk(namespace), after, consistent_read=True)
        ]
