"""StackTach's events and streams on the `stacktach` table:
- `e|<message_id>` / `e`: an event (JSON), written only if absent: a redelivered notification changes
  nothing; `ev` / `<position, 30 digits>|<message_id>`: the events in generated-time order (a copy:
  events never change);
- `s|<id>` / `s`: a stream (JSON) with its `version`, saved only over the version it was read at;
  `st` / `<id, 20 digits>`: the streams by id; `k|<sha256 of trigger and distinguishing traits>` / `k`:
  that key's active stream, moved to a new stream only if it still names the one the writer saw;
  `se|<id>` / `<position>|<message_id>`: a stream's events; `counter` / `streams`: the last stream id;
- `ei|<sha256 of an index key>` / `<position>|<message_id>`: the events filed under a key (their type,
  their instance_id, request_id, tenant_id: stacktach/query.py), `si|<sha256 of an index key>` /
  `<id, 20 digits>`: the streams filed under a distinguishing trait, so a query on one reads only those;
- `du|<id mod 4>` / `<due time, microseconds since the epoch, 20 digits>|<id>`: the pipeline worker's
  agenda, one entry per stream save that left something to do (the stream doc's `due`), with the version
  that wrote it. Entries are only added by saves (a stream whose due time moved has an entry for each
  time) and removed by the worker once passed, only if no later save of the same due time rewrote them."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import DeleteError, TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.adapters.conditions import (
    condition_failed,
    saved_if,
    transaction_condition_failed,
    written_if,
)
from chalicelib.declarations import STACKTACH
from chalicelib.stacktach.pipeline import DueEntry

_EVENTS, _STREAMS = "ev", "st"
DUE_SHARDS = 4  # agenda partitions: saves of many streams spread their writes
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class StackTachItem(Model):
    class Meta:
        table_name = STACKTACH.physical_name

    pk = UnicodeAttribute(hash_key=True, attr_name=STACKTACH.hash_key)
    sk = UnicodeAttribute(range_key=True, attr_name=STACKTACH.range_key)
    doc = UnicodeAttribute(null=True)
    version = NumberAttribute(null=True)
    stream_id = NumberAttribute(null=True)
    n = NumberAttribute(null=True)


def _dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, separators=(",", ":"))


def _position(position: int) -> str:
    return f"{position:030d}"


def _index_pk(kind: str, key: str) -> str:
    return f"{kind}|" + hashlib.sha256(key.encode()).hexdigest()


def _key_pk(key: str) -> str:
    return "k|" + hashlib.sha256(key.encode()).hexdigest()


class DynamoStackTach:
    """stacktach.service.StackTachStore."""

    def __init__(self) -> None:
        self._connection: Connection | None = None

    def _transaction(self) -> TransactWrite:
        if self._connection is None:
            self._connection = Connection()
        return TransactWrite(connection=self._connection)

    # -- events ------------------------------------------------------------------------------------------

    def add_event(self, doc: dict[str, Any], position: int, index_keys: list[str]) -> bool:
        message_id = doc["message_id"]
        text = _dumps(doc)
        sk = f"{_position(position)}|{message_id}"

        def fill(tx: TransactWrite) -> None:
            tx.save(
                StackTachItem(f"e|{message_id}", "e", doc=text), condition=StackTachItem.pk.does_not_exist()
            )
            tx.save(StackTachItem(_EVENTS, sk, doc=text))
            for key in index_keys:
                tx.save(StackTachItem(_index_pk("ei", key), sk))

        return written_if(self._transaction(), fill)

    def joined(self, message_id: str) -> bool:
        try:
            return bool(StackTachItem.get(f"e|{message_id}", "e", consistent_read=True).n)
        except StackTachItem.DoesNotExist:
            return False

    def mark_joined(self, message_id: str) -> None:
        StackTachItem(f"e|{message_id}", "e").update(actions=[StackTachItem.n.set(1)])

    def event(self, message_id: str) -> dict[str, Any] | None:
        try:
            return json.loads(StackTachItem.get(f"e|{message_id}", "e", consistent_read=True).doc)
        except StackTachItem.DoesNotExist:
            return None

    def events(
        self, newest_first: bool, bound: int | None, limit: int, index: str | None = None
    ) -> list[dict[str, Any]]:
        condition = _after(bound, newest_first)
        if index is None:
            items = StackTachItem.query(
                _EVENTS, condition, scan_index_forward=not newest_first, limit=limit, consistent_read=True
            )
            return [json.loads(i.doc) for i in items]
        entries = StackTachItem.query(
            _index_pk("ei", index),
            condition,
            scan_index_forward=not newest_first,
            limit=limit,
            consistent_read=True,
        )
        ids = [i.sk.split("|", 1)[1] for i in entries]
        return self._events_by_id(ids)

    def _events_by_id(self, ids: list[str]) -> list[dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for item in StackTachItem.batch_get([(f"e|{m}", "e") for m in dict.fromkeys(ids)]):
            doc = json.loads(item.doc)
            found[doc["message_id"]] = doc
        return [found[m] for m in ids if m in found]

    # -- streams -----------------------------------------------------------------------------------------

    def next_stream_id(self) -> int:
        item = StackTachItem("counter", "streams")
        item.update(actions=[StackTachItem.n.add(1)])
        return int(item.n)

    def active_stream(self, key: str) -> dict[str, Any] | None:
        try:
            pointer = StackTachItem.get(_key_pk(key), "k", consistent_read=True)
        except StackTachItem.DoesNotExist:
            return None
        return self.stream(int(pointer.stream_id))

    def create_stream(
        self,
        key: str,
        doc: dict[str, Any],
        replacing: int | None,
        member: tuple[int, str],
        index_keys: list[str],
    ) -> bool:
        stream_id = int(doc["id"])
        pointer = StackTachItem(_key_pk(key), "k", stream_id=stream_id)
        condition = (
            StackTachItem.pk.does_not_exist() if replacing is None else StackTachItem.stream_id == replacing
        )

        def fill(tx: TransactWrite) -> None:
            tx.save(pointer, condition=condition)
            tx.save(StackTachItem(f"s|{stream_id}", "s", doc=_dumps(doc), version=int(doc["version"])))
            tx.save(StackTachItem(_STREAMS, f"{stream_id:020d}", stream_id=stream_id))
            tx.save(_member(stream_id, member))
            for index_key in index_keys:
                tx.save(StackTachItem(_index_pk("si", index_key), f"{stream_id:020d}"))
            _file_due(tx, doc)

        return written_if(self._transaction(), fill)

    def save_stream(self, doc: dict[str, Any], expected_version: int, member: tuple[int, str]) -> str:
        stream_id = int(doc["id"])
        item = StackTachItem(f"s|{stream_id}", "s", doc=_dumps(doc), version=int(doc["version"]))
        try:
            with self._transaction() as tx:
                tx.save(item, condition=StackTachItem.version == expected_version)
                tx.save(_member(stream_id, member), condition=StackTachItem.pk.does_not_exist())
                _file_due(tx, doc)
        except TransactWriteError as exc:
            reasons = getattr(exc, "cancellation_reasons", None) or [None, None]
            if len(reasons) > 1 and reasons[1] is not None and reasons[1].code == "ConditionalCheckFailed":
                return "member"  # the event is in this stream already (a redelivery)
            if transaction_condition_failed(exc):
                return "conflict"
            raise
        return "saved"

    def stream(self, stream_id: int) -> dict[str, Any] | None:
        try:
            return json.loads(StackTachItem.get(f"s|{stream_id}", "s", consistent_read=True).doc)
        except StackTachItem.DoesNotExist:
            return None

    def streams(
        self, newest_first: bool, bound: int | None, limit: int, index: str | None = None
    ) -> list[dict[str, Any]]:
        condition = None
        if bound is not None:
            condition = (
                StackTachItem.sk < f"{bound:020d}" if newest_first else StackTachItem.sk > f"{bound:020d}"
            )
        partition = _STREAMS if index is None else _index_pk("si", index)
        ids = [
            int(i.sk)
            for i in StackTachItem.query(
                partition, condition, scan_index_forward=not newest_first, limit=limit, consistent_read=True
            )
        ]
        found = {
            int(json.loads(i.doc)["id"]): json.loads(i.doc)
            for i in StackTachItem.batch_get([(f"s|{n}", "s") for n in ids])
        }
        return [found[n] for n in ids if n in found]

    def delete_stream(self, doc: dict[str, Any], key: str, index_keys: list[str]) -> None:
        stream_id = int(doc["id"])
        StackTachItem(f"s|{stream_id}", "s").delete()
        StackTachItem(_STREAMS, f"{stream_id:020d}").delete()
        for index_key in index_keys:
            StackTachItem(_index_pk("si", index_key), f"{stream_id:020d}").delete()
        try:  # the key moves on to a new stream only if it still names this one
            StackTachItem(_key_pk(key), "k").delete(condition=StackTachItem.stream_id == stream_id)
        except DeleteError as exc:
            if not condition_failed(exc):
                raise

    def replace_stream(self, doc: dict[str, Any], expected_version: int) -> bool:
        item = StackTachItem(f"s|{doc['id']}", "s", doc=_dumps(doc), version=int(doc["version"]))
        if not doc.get("due"):
            return saved_if(item, StackTachItem.version == expected_version)

        def fill(tx: TransactWrite) -> None:
            tx.save(item, condition=StackTachItem.version == expected_version)
            _file_due(tx, doc)

        return written_if(self._transaction(), fill)

    def stream_events(self, stream_id: int) -> list[dict[str, Any]]:
        return self._events_by_id(self.stream_event_ids(stream_id))

    # -- the pipeline worker's agenda --------------------------------------------------------------------

    def due(self, until: datetime, after: DueEntry | None, limit: int) -> list[DueEntry]:
        high = f"{_micros(until):020d}|\uffff"
        low = "0" if after is None else f"{_micros(after.at):020d}|{after.stream_id + 1:020d}"
        entries: list[DueEntry] = []
        for shard in range(DUE_SHARDS):
            for item in StackTachItem.query(
                f"du|{shard}", StackTachItem.sk.between(low, high), limit=limit, consistent_read=True
            ):
                at = _EPOCH + timedelta(microseconds=int(item.sk.split("|", 1)[0]))
                entries.append(DueEntry(int(item.stream_id), at, int(item.version), f"{shard}/{item.sk}"))
        entries.sort(key=lambda e: (e.at, e.stream_id))
        return entries[:limit]

    def drop_due(self, entry: DueEntry) -> None:
        shard, sk = entry.token.split("/", 1)
        try:  # a save after the worker's read may have filed the same time again: that one stays
            StackTachItem(f"du|{shard}", sk).delete(condition=StackTachItem.version == entry.version)
        except DeleteError as exc:
            if not condition_failed(exc):
                raise

    def stream_event_ids(self, stream_id: int) -> list[str]:
        return [i.sk.split("|", 1)[1] for i in StackTachItem.query(f"se|{stream_id}", consistent_read=True)]


def _after(bound: int | None, newest_first: bool) -> Any:
    """The sort-key condition of events beyond position `bound` (exclusive) in the reading direction."""
    if bound is None:
        return None
    return (
        StackTachItem.sk < _position(bound)
        if newest_first
        else StackTachItem.sk > _position(bound) + "|\uffff"
    )


def _micros(when: datetime) -> int:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - _EPOCH) // timedelta(microseconds=1)


def _file_due(tx: TransactWrite, doc: dict[str, Any]) -> None:
    """Put the saved stream on the agenda at its `due` time (nothing when it has nothing left to do)."""
    if not doc.get("due"):
        return
    stream_id = int(doc["id"])
    sk = f"{_micros(datetime.fromisoformat(doc['due'])):020d}|{stream_id:020d}"
    tx.save(
        StackTachItem(f"du|{stream_id % DUE_SHARDS}", sk, stream_id=stream_id, version=int(doc["version"]))
    )


def _member(stream_id: int, member: tuple[int, str]) -> StackTachItem:
    position, message_id = member
    return StackTachItem(f"se|{stream_id}", f"{_position(position)}|{message_id}")
