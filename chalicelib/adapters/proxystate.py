"""The InfluxDB proxy's shared state on the `proxy` table:
- `backlog|<backend url>` / `<time ns, 20 digits>|<place>|<append>`: a write a backend did not take,
  gzipped, in the order it must reach the backend (a body too large for one item is split by lines);
- `health` / `<backend url>`: whether the backend answers (`active`) and whether its backlog is being
  rewritten (`rewrite`);
- `state` / `<name>`: migration state (`resyncing`, `circle|<id>`: "true" or "false");
- `stats|<circle>` / `<backend url>`: the last migration's counters for that source backend."""

from __future__ import annotations

import gzip
import time
import uuid
from collections.abc import Iterable
from typing import Any

from pynamodb.attributes import BinaryAttribute, BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.declarations import PROXY
from chalicelib.proxy.ports import BacklogEntry

_MAX_ITEM_BODY = 350_000  # compressed bytes per backlog item (DynamoDB items hold 400 KB)


class ProxyItem(Model):
    class Meta:
        table_name = PROXY.physical_name

    pk = UnicodeAttribute(hash_key=True, attr_name=PROXY.hash_key)
    sk = UnicodeAttribute(range_key=True, attr_name=PROXY.range_key)
    db = UnicodeAttribute(null=True)
    rp = UnicodeAttribute(null=True)
    precision = UnicodeAttribute(null=True)
    body = BinaryAttribute(null=True, legacy_encoding=False)
    active = BooleanAttribute(null=True)
    rewrite = BooleanAttribute(null=True)
    value = UnicodeAttribute(null=True)
    # a migration's statistics (`stats|<circle>` / `<backend url>`), added to atomically by every step
    database_total = NumberAttribute(null=True)
    database_done = NumberAttribute(null=True)
    measurement_total = NumberAttribute(null=True)
    measurement_done = NumberAttribute(null=True)
    migrate_count = NumberAttribute(null=True)
    inplace_count = NumberAttribute(null=True)


def _backlog_pk(url: str) -> str:
    return f"backlog|{url}"


class DynamoProxyState:
    """proxy.ports.Backlog and HealthStore."""

    def append(self, url: str, entries: list[tuple[str, str, str, bytes]]) -> None:
        start, token = time.time_ns(), uuid.uuid4().hex
        with ProxyItem.batch_write() as batch:
            parts = [
                (db, rp, precision, body) for db, rp, precision, lines in entries for body in _bodies(lines)
            ]
            for n, (db, rp, precision, body) in enumerate(parts):
                # time first (a later append sorts after), then its place in this append
                key = f"{start:020d}|{n:06d}|{token}"
                batch.save(ProxyItem(_backlog_pk(url), key, db=db, rp=rp, precision=precision, body=body))

    def waiting(self, url: str) -> bool:
        return any(True for _ in ProxyItem.query(_backlog_pk(url), limit=1, consistent_read=True))

    def oldest(self, url: str, limit: int) -> list[BacklogEntry]:
        items = ProxyItem.query(_backlog_pk(url), limit=limit, consistent_read=True)
        return [
            BacklogEntry(i.sk, i.db or "", i.rp or "", i.precision or "", gzip.decompress(i.body or b""))
            for i in items
        ]

    def remove(self, url: str, key: str) -> None:
        ProxyItem(_backlog_pk(url), key).delete()

    def health(self) -> dict[str, dict[str, Any]]:
        return {
            i.sk: {"active": i.active if i.active is not None else True, "rewrite": bool(i.rewrite)}
            for i in ProxyItem.query("health", consistent_read=True)
        }

    def set_health(self, url: str, **values: Any) -> None:
        actions = [getattr(ProxyItem, name).set(bool(value)) for name, value in values.items()]
        ProxyItem("health", url).update(actions=actions)

    def state(self) -> dict[str, str]:
        return {i.sk: i.value or "" for i in ProxyItem.query("state", consistent_read=True)}

    def set_state(self, name: str, value: str) -> None:
        ProxyItem("state", name, value=value).save()


def _bodies(lines: bytes) -> list[bytes]:
    """`lines` gzipped, split by lines until every part fits an item."""
    body = gzip.compress(lines, compresslevel=6)
    if len(body) <= _MAX_ITEM_BODY or b"\n" not in lines:
        return [body]
    parts = lines.split(b"\n")
    half = len(parts) // 2
    return _bodies(b"\n".join(parts[:half])) + _bodies(b"\n".join(parts[half:]))


_STATS = (
    "database_total",
    "database_done",
    "measurement_total",
    "measurement_done",
    "migrate_count",
    "inplace_count",
)


class DynamoMigrationState:
    """proxy.migration.MigrationState."""

    def migrating(self) -> dict[int, bool]:
        return {
            int(i.sk.split("|", 1)[1]): i.value == "true"
            for i in ProxyItem.query("state", ProxyItem.sk.startswith("circle|"), consistent_read=True)
        }

    def set_migrating(self, circle_id: int, migrating: bool) -> None:
        ProxyItem("state", f"circle|{circle_id}", value="true" if migrating else "false").save()

    def resyncing(self) -> bool:
        try:
            return ProxyItem.get("state", "resyncing", consistent_read=True).value == "true"
        except ProxyItem.DoesNotExist:
            return False

    def set_resyncing(self, resyncing: bool) -> None:
        ProxyItem("state", "resyncing", value="true" if resyncing else "false").save()

    def stats(self, circle_id: int) -> dict[str, dict[str, int]]:
        return {
            i.sk: {name: int(getattr(i, name) or 0) for name in _STATS}
            for i in ProxyItem.query(f"stats|{circle_id}", consistent_read=True)
        }

    def add_stats(self, circle_id: int, url: str, **deltas: int) -> None:
        actions = [
            getattr(ProxyItem, name).add(int(value)) for name, value in deltas.items() if name in _STATS
        ]
        if actions:
            ProxyItem(f"stats|{circle_id}", url).update(actions=actions)

    def reset_stats(self, circle_ids: Iterable[int]) -> None:
        with ProxyItem.batch_write() as batch:
            for circle_id in circle_ids:
                for item in ProxyItem.query(f"stats|{circle_id}"):
                    batch.delete(item)
