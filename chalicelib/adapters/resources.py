"""The `resources` and `sessions` tables: every InfluxDB v2 resource, stored the same way.

Items of `resources`, told apart by the partition key:
- `r|<kind>` / `<id>`: a resource document (JSON);
- `o|<kind>|<orgID>` / `<id>`: a copy of an org-owned document, written in the same transaction, so
  "the buckets of an org" is one Query however many orgs there are;
- `u|<kind>|<scope>` / `<name>`: a unique name (scope = org ID, or "" for global names) -> id;
- `l|<relation>|<from>` / `<to>` and `b|<relation>|<to>` / `<from>`: a relation (label, member,
  owner) and its reverse, so both "labels of a bucket" and "buckets of a user" are one Query.
"""

from __future__ import annotations

import json
import time
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.adapters.conditions import saved_if, transaction_condition_failed
from chalicelib.declarations import RESOURCES, SESSIONS
from chalicelib.kit.errors import CONFLICT, TicklessError


class ResourceItem(Model):
    class Meta:
        table_name = RESOURCES.physical_name

    pk = UnicodeAttribute(hash_key=True, attr_name=RESOURCES.hash_key)
    sk = UnicodeAttribute(range_key=True, attr_name=RESOURCES.range_key)
    doc = UnicodeAttribute(null=True)
    ref = UnicodeAttribute(null=True)


class SessionItem(Model):
    class Meta:
        table_name = SESSIONS.physical_name

    pk = UnicodeAttribute(hash_key=True, attr_name=SESSIONS.hash_key)
    user_id = UnicodeAttribute()
    expires = NumberAttribute(attr_name=SESSIONS.ttl_attribute)  # epoch seconds: DynamoDB's TTL


def _unique_pk(kind: str, scope: str) -> str:
    return f"u|{kind}|{scope}"


class DynamoResources:
    """ResourceRepository on the `resources` table."""

    def __init__(self) -> None:
        self._connection: Connection | None = None

    def _transaction(self) -> TransactWrite:
        if self._connection is None:
            self._connection = Connection()
        return TransactWrite(connection=self._connection)

    def get(self, kind: str, id: str) -> dict[str, Any] | None:
        if not id:
            return None
        try:
            item = ResourceItem.get(f"r|{kind}", id, consistent_read=True)
        except ResourceItem.DoesNotExist:
            return None
        return json.loads(item.doc)

    def list(self, kind: str, org_id: str | None = None) -> list[dict[str, Any]]:
        """Every document of a kind, or only those of one org."""
        pk = f"o|{kind}|{org_id}" if org_id else f"r|{kind}"
        return [json.loads(item.doc) for item in ResourceItem.query(pk, consistent_read=True)]

    def find(self, kind: str, scope: str, name: str) -> str | None:
        if not name:  # DynamoDB refuses empty key values; nothing is ever stored under one
            return None
        try:
            return ResourceItem.get(_unique_pk(kind, scope), name, consistent_read=True).ref
        except ResourceItem.DoesNotExist:
            return None

    def save(
        self,
        kind: str,
        doc: dict[str, Any],
        *,
        new: bool,
        unique: tuple[str, str] | None = None,
        old_unique: tuple[str, str] | None = None,
        conflict: str = "",
    ) -> None:
        """Create (new=True) or replace a document, claiming its unique name atomically; a name
        already taken raises `conflict` with the given message."""
        text = json.dumps(doc, separators=(",", ":"))
        item = ResourceItem(f"r|{kind}", doc["id"], doc=text)
        try:
            with self._transaction() as transaction:
                if new:
                    transaction.save(item, condition=ResourceItem.pk.does_not_exist())
                else:
                    transaction.save(item, condition=ResourceItem.pk.exists())
                if doc.get("orgID"):
                    transaction.save(ResourceItem(f"o|{kind}|{doc['orgID']}", doc["id"], doc=text))
                if unique != old_unique:
                    if unique is not None:
                        claim = ResourceItem(_unique_pk(kind, unique[0]), unique[1], ref=doc["id"])
                        transaction.save(claim, condition=ResourceItem.pk.does_not_exist())
                    if old_unique is not None:
                        transaction.delete(ResourceItem(_unique_pk(kind, old_unique[0]), old_unique[1]))
        except TransactWriteError as exc:
            if transaction_condition_failed(exc):
                raise TicklessError(CONFLICT, conflict or f"{kind} conflict") from exc
            raise

    def delete(
        self, kind: str, id: str, unique: tuple[str, str] | None = None, org_id: str | None = None
    ) -> None:
        with self._transaction() as transaction:
            transaction.delete(ResourceItem(f"r|{kind}", id))
            if org_id:
                transaction.delete(ResourceItem(f"o|{kind}|{org_id}", id))
            if unique is not None:
                transaction.delete(ResourceItem(_unique_pk(kind, unique[0]), unique[1]))

    # -- relations ---------------------------------------------------------------------------------

    def relate(self, relation: str, source: str, target: str) -> None:
        with ResourceItem.batch_write() as batch:
            batch.save(ResourceItem(f"l|{relation}|{source}", target))
            batch.save(ResourceItem(f"b|{relation}|{target}", source))

    def unrelate(self, relation: str, source: str, target: str) -> None:
        with ResourceItem.batch_write() as batch:
            batch.delete(ResourceItem(f"l|{relation}|{source}", target))
            batch.delete(ResourceItem(f"b|{relation}|{target}", source))

    def related(self, relation: str, source: str) -> list[str]:
        return [i.sk for i in ResourceItem.query(f"l|{relation}|{source}", consistent_read=True)]

    def referring(self, relation: str, target: str) -> list[str]:
        return [i.sk for i in ResourceItem.query(f"b|{relation}|{target}", consistent_read=True)]

    # -- flags -------------------------------------------------------------------------------------

    def claim_flag(self, name: str) -> bool:
        """Set a one-time flag; False when it was already set (e.g. onboarding completed)."""
        return saved_if(ResourceItem("flag", name), ResourceItem.pk.does_not_exist())

    def has_flag(self, name: str) -> bool:
        try:
            ResourceItem.get("flag", name, consistent_read=True)
        except ResourceItem.DoesNotExist:
            return False
        return True


class DynamoSessions:
    def create(self, key: str, user_id: str, lifetime_seconds: int) -> None:
        SessionItem(key, user_id=user_id, expires=int(time.time()) + lifetime_seconds).save()

    def user(self, key: str) -> str | None:
        try:
            item = SessionItem.get(key, consistent_read=True)
        except SessionItem.DoesNotExist:
            return None
        # TTL removal is lazy (up to days on AWS): an expired session must not authenticate meanwhile.
        return item.user_id if item.expires > time.time() else None

    def delete(self, key: str) -> None:
        SessionItem(key).delete()
