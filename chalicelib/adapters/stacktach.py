"""StackTach's events and streams on the `stacktach` table:
- `e|<message_id>` / `e`: an event (JSON), written only if absent: a redelivered notification changes
  nothing; `ev` / `<position, 30 digits>|<message_id>`: the events in generated-time order (a copy:
  events never change);
- `s|<id>` / `s`: a stream (JSON) with its `version`, saved only over the version it was read at;
  `st` / `<id, 20 digits>`: the streams by id; `k|<sha256 of trigger and distinguishing traits>` / `k`:
  that key's active stream, moved to a new stream only if it still names the one the writer saw;
  `se|<id>` / `<position>|<message_id>`: a stream's events; `counter` / `streams`: the last stream id."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import DeleteError, TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.adapters.conditions import condition_failed, saved_if, transaction_condition_failed
from chalicelib.declarations import STACKTACH

_EVENTS, _STREAMS = "ev", "st"


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

    def add_event(self, doc: dict[str, Any], position: int) -> bool:
        message_id = doc["message_id"]
        text = _dumps(doc)
        try:
            with self._transaction() as tx:
                tx.save(
                    StackTachItem(f"e|{message_id}", "e", doc=text),
                    condition=StackTachItem.pk.does_not_exist(),
                )
                tx.save(StackTachItem(_EVENTS, f"{_position(position)}|{message_id}", doc=text))
        except TransactWriteError as exc:
            if transaction_condition_failed(exc):
                return False
            raise
        return True

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

    def events(self, newest_first: bool, bound: int | None, limit: int) -> list[dict[str, Any]]:
        condition = _after(bound, newest_first)
        items = StackTachItem.query(
            _EVENTS, condition, scan_index_forward=not newest_first, limit=limit, consistent_read=True
        )
        return [json.loads(i.doc) for i in items]

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
        self, key: str, doc: dict[str, Any], replacing: int | None, member: tuple[int, str]
    ) -> bool:
        stream_id = int(doc["id"])
        pointer = StackTachItem(_key_pk(key), "k", stream_id=stream_id)
        condition = (
            StackTachItem.pk.does_not_exist() if replacing is None else StackTachItem.stream_id == replacing
        )
        try:
            with self._transaction() as tx:
                tx.save(pointer, condition=condition)
                tx.save(StackTachItem(f"s|{stream_id}", "s", doc=_dumps(doc), version=int(doc["version"])))
                tx.save(StackTachItem(_STREAMS, f"{stream_id:020d}", stream_id=stream_id))
                tx.save(_member(stream_id, member))
        except TransactWriteError as exc:
            if transaction_condition_failed(exc):
                return False
            raise
        return True

    def save_stream(self, doc: dict[str, Any], expected_version: int, member: tuple[int, str]) -> str:
        stream_id = int(doc["id"])
        item = StackTachItem(f"s|{stream_id}", "s", doc=_dumps(doc), version=int(doc["version"]))
        try:
            with self._transaction() as tx:
                tx.save(item, condition=StackTachItem.version == expected_version)
                tx.save(_member(stream_id, member), condition=StackTachItem.pk.does_not_exist())
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

    def streams(self, newest_first: bool, bound: int | None, limit: int) -> list[dict[str, Any]]:
        condition = None
        if bound is not None:
            condition = (
                StackTachItem.sk < f"{bound:020d}" if newest_first else StackTachItem.sk > f"{bound:020d}"
            )
        ids = [
            int(i.stream_id)
            for i in StackTachItem.query(
                _STREAMS, condition, scan_index_forward=not newest_first, limit=limit, consistent_read=True
            )
        ]
        found = {
            int(json.loads(i.doc)["id"]): json.loads(i.doc)
            for i in StackTachItem.batch_get([(f"s|{n}", "s") for n in ids])
        }
        return [found[n] for n in ids if n in found]

    def delete_stream(self, doc: dict[str, Any], key: str) -> None:
        stream_id = int(doc["id"])
        StackTachItem(f"s|{stream_id}", "s").delete()
        StackTachItem(_STREAMS, f"{stream_id:020d}").delete()
        try:  # the key moves on to a new stream only if it still names this one
            StackTachItem(_key_pk(key), "k").delete(condition=StackTachItem.stream_id == stream_id)
        except DeleteError as exc:
            if not condition_failed(exc):
                raise

    def replace_stream(self, doc: dict[str, Any], expected_version: int) -> bool:
        item = StackTachItem(f"s|{doc['id']}", "s", doc=_dumps(doc), version=int(doc["version"]))
        return saved_if(item, StackTachItem.version == expected_version)

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


def _member(stream_id: int, member: tuple[int, str]) -> StackTachItem:
    position, message_id = member
    return StackTachItem(f"se|{stream_id}", f"{_position(position)}|{message_id}")
