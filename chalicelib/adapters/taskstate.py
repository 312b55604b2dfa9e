"""Task execution state on the `taskstate` table: one head item per task (`<org>|<task>`, `head`) with
a version, and the zlib-compressed JSON state over parts written with it. A save is one
TransactWriteItems conditioned on the version it read, so two invocations that ran the same task at once
cannot both win; parts are named by a token new at each save and the old ones go in the same
transaction, so a reader never mixes two saves."""

from __future__ import annotations

import uuid
import zlib
from typing import Any

from pynamodb.attributes import BinaryAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.adapters.conditions import written_if
from chalicelib.declarations import TASK_STATE
from chalicelib.kit import fastjson
from chalicelib.tick.execution import StateTooLarge, StoredState

_PART_BYTES = 350_000  # of compressed state per item (400 KB each, keys and attributes included)
_MAX_PARTS = 10  # one TransactWriteItems carries at most 4 MB: the state's bound
_HEAD = "head"


class TaskStateItem(Model):
    class Meta:
        table_name = TASK_STATE.physical_name

    pk = UnicodeAttribute(hash_key=True, attr_name=TASK_STATE.hash_key)
    sk = UnicodeAttribute(range_key=True, attr_name=TASK_STATE.range_key)
    version = NumberAttribute(null=True)
    parts = NumberAttribute(null=True)
    token = UnicodeAttribute(null=True)
    data = BinaryAttribute(null=True, legacy_encoding=False)


def _pk(org_id: str, task_id: str) -> str:
    return f"{org_id}|{task_id}"


def _part_key(token: str, number: int) -> str:
    return f"part|{token}|{number:03d}"


class DynamoTaskStates:
    """tick.execution.TaskStateStore. The head last loaded per task (version, parts, token) is kept to
    name the parts a save replaces; a save's version condition makes a stale one harmless (it is read
    again only when the version moved)."""

    def __init__(self) -> None:
        self._heads: dict[str, tuple[int, int, str]] = {}

    def load(self, org_id: str, task_id: str) -> StoredState | None:
        pk = _pk(org_id, task_id)
        for _ in range(3):  # a save between reading the head and its parts: read again
            try:
                head = TaskStateItem.get(pk, _HEAD, consistent_read=True)
            except TaskStateItem.DoesNotExist:
                return None
            pieces = [head.data or b""]
            if (head.parts or 1) > 1:
                prefix = f"part|{head.token}|"
                found = TaskStateItem.query(pk, TaskStateItem.sk.startswith(prefix), consistent_read=True)
                pieces += [item.data or b"" for item in found]
                if len(pieces) != head.parts:
                    continue
            self._heads[pk] = (int(head.version or 0), int(head.parts or 1), head.token or "")
            return StoredState(int(head.version or 0), fastjson.loads(zlib.decompress(b"".join(pieces))))
        raise RuntimeError(f"task state of {task_id} kept changing while read")

    def save(self, org_id: str, task_id: str, state: dict[str, Any], expected: int | None) -> bool:
        data = zlib.compress(fastjson.dumps(state), 6)
        pieces = [data[i : i + _PART_BYTES] for i in range(0, len(data), _PART_BYTES)] or [b""]
        if len(pieces) > _MAX_PARTS:
            raise StateTooLarge(len(data), _PART_BYTES * _MAX_PARTS)
        pk = _pk(org_id, task_id)
        old = None if expected is None else self._head(pk, expected)
        token = uuid.uuid4().hex
        head = TaskStateItem(
            pk, _HEAD, version=(expected or 0) + 1, parts=len(pieces), token=token, data=pieces[0]
        )
        condition = (
            TaskStateItem.pk.does_not_exist() if expected is None else TaskStateItem.version == expected
        )

        def fill(transaction: TransactWrite) -> None:
            transaction.save(head, condition=condition)
            for number, piece in enumerate(pieces[1:], start=1):
                transaction.save(TaskStateItem(pk, _part_key(token, number), data=piece))
            if old is not None:
                old_parts, old_token = old
                for number in range(1, old_parts):
                    transaction.delete(TaskStateItem(pk, _part_key(old_token, number)))

        if not written_if(TransactWrite(connection=TaskStateItem._get_connection().connection), fill):
            return False
        self._heads[pk] = ((expected or 0) + 1, len(pieces), token)
        return True

    def _head(self, pk: str, version: int) -> tuple[int, str] | None:
        """The parts and token of the head at `version` (None when there is none at that version)."""
        known = self._heads.get(pk)
        if known is not None and known[0] == version:
            return known[1], known[2]
        try:
            head = TaskStateItem.get(pk, _HEAD, consistent_read=True)
        except TaskStateItem.DoesNotExist:
            return None
        return int(head.parts or 1), head.token or ""

    def delete(self, org_id: str, task_id: str) -> None:
        pk = _pk(org_id, task_id)
        self._heads.pop(pk, None)
        with TaskStateItem.batch_write() as batch:
            for item in TaskStateItem.query(pk, consistent_read=True):
                batch.delete(item)
