"""Each organization's Kapacitor log (chalicelib/kapacitor/logs.py) as a ring on the `series` table, the
table with a TTL: entries under `~kapacitor-logs|<org>`, sorted by `<ts ns, 19 digits>#<token>`, which
DynamoDB deletes an hour after (`expires`); readers never look further back than that either.

Writes are bounded: one batch write per call (a task's run, an alert delivery) and at most `per_minute`
entries per organization and minute, counted on `~kapacitor-logs-count|<org>` / `<minute>` (`n`: the
entries offered; `n - per_minute` of them were dropped). The call that first goes over the limit in a
minute adds one entry saying so. Every record also goes to the Powertools log (key `kapacitor_log`),
dropped or not. A write that fails is logged and forgotten: a log line never fails its task."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError
from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PynamoDBException
from pynamodb.models import Model

from chalicelib.declarations import SERIES
from chalicelib.kapacitor.logs import RETENTION, Entry
from chalicelib.kit.logrecords import record
from chalicelib.kit.time import MINUTE, SECOND

logger = Logger(child=True)
DEFAULT_PER_MINUTE = 600
_LAST = "~"  # after every token's characters (hex)


class LogEntryItem(Model):
    class Meta:
        table_name = SERIES.physical_name

    pk = UnicodeAttribute(hash_key=True, attr_name=SERIES.hash_key)
    sk = UnicodeAttribute(range_key=True, attr_name=SERIES.range_key)
    e = UnicodeAttribute()  # the record's JSON: {"lvl", "msg", "keys"}
    expires = NumberAttribute(attr_name=SERIES.ttl_attribute)  # epoch s


class LogCountItem(Model):
    class Meta:
        table_name = SERIES.physical_name

    pk = UnicodeAttribute(hash_key=True, attr_name=SERIES.hash_key)
    sk = UnicodeAttribute(range_key=True, attr_name=SERIES.range_key)
    n = NumberAttribute(null=True)  # entries offered in the minute
    expires = NumberAttribute(attr_name=SERIES.ttl_attribute, null=True)


def _ring(org_id: str) -> str:
    return f"~kapacitor-logs|{org_id}"


def _counts(org_id: str) -> str:
    return f"~kapacitor-logs-count|{org_id}"


def _key(ts: int) -> str:
    return f"{ts:019d}"


class DynamoLogRing:
    """kit.logrecords.LogSink (task and alert lines) and kapacitor.logs.LogRing (the API reads)."""

    def __init__(self, per_minute: int = DEFAULT_PER_MINUTE, clock: Callable[[], int] = time.time_ns) -> None:
        self.per_minute = per_minute
        self.clock = clock

    def append(self, org_id: str, records: list[dict[str, Any]]) -> None:
        if not records:
            return
        now = self.clock()
        entries = [Entry.stamped(now + i, r) for i, r in enumerate(records)]
        for entry in entries:
            _to_powertools(org_id, entry)
        try:
            kept, first_over = self._admit(org_id, now, len(entries))
            if first_over:
                entries.append(Entry.stamped(now + len(entries), self._over_limit(records)))
                kept.append(len(entries) - 1)
            self._write(org_id, [entries[i] for i in kept])
        except (PynamoDBException, BotoCoreError) as exc:
            logger.warning("kapacitor log entries not kept", extra={"org": org_id, "error": str(exc)})

    def _admit(self, org_id: str, now: int, count: int) -> tuple[list[int], bool]:
        """The entries the minute's limit leaves room for, and whether this call first went over it."""
        minute = now // MINUTE
        counter = LogCountItem(_counts(org_id), f"{minute:012d}")
        expires = (minute + 1) * MINUTE // SECOND + RETENTION // SECOND
        counter.update(actions=[LogCountItem.n.add(count), LogCountItem.expires.set(expires)])
        offered = int(counter.n or 0)
        before = offered - count
        room = max(0, min(count, self.per_minute - before))
        if room < count:
            logger.warning(
                "kapacitor log entries dropped",
                extra={"org": org_id, "dropped": count - room, "limit": self.per_minute},
            )
        return list(range(room)), before <= self.per_minute < offered

    def _over_limit(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        tasks = {dict(r["keys"]).get("task") for r in records}
        task = [("task", tasks.pop())] if len(tasks) == 1 and None not in tasks else []
        keys = [("service", "logs"), *task, ("limit", self.per_minute)]
        return record("error", "log entries dropped: over the limit per minute", keys)

    def _write(self, org_id: str, entries: list[Entry]) -> None:
        token = os.urandom(4).hex()  # two writers stamping the same ns never share a key
        with LogEntryItem.batch_write() as batch:
            for entry in entries:
                batch.save(
                    LogEntryItem(
                        _ring(org_id),
                        f"{_key(entry.ts)}#{token}",
                        e=json.dumps(entry.to_record(), ensure_ascii=False, separators=(",", ":")),
                        expires=entry.ts // SECOND + RETENTION // SECOND,
                    )
                )

    def read(self, org_id: str, after: int, limit: int, newest_first: bool = False) -> list[Entry]:
        items = LogEntryItem.query(
            _ring(org_id),
            LogEntryItem.sk > f"{_key(max(0, after))}#{_LAST}",
            consistent_read=True,  # a poll sees what was written before it
            scan_index_forward=not newest_first,
            limit=limit,
        )
        return [Entry.stamped(int(item.sk[:19]), json.loads(item.e)) for item in items]


def _to_powertools(org_id: str, entry: Entry) -> None:
    """The entry as a Powertools line, its keys under `kapacitor_log` (as top-level keys, `msg` and
    `name` would clash with the logging record's own)."""
    log = logger.error if entry.lvl == "error" else logger.debug if entry.lvl == "debug" else logger.info
    log(entry.msg, extra={"org": org_id, "kapacitor_log": entry.to_object()})
