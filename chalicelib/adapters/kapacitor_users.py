"""Kapacitor's users on the `resources` table: one item per user under the single partition `k|users`,
keyed by name, so a name is unique across the instance (Basic credentials carry no organization) and
creating is one conditional write. The owning organization is the item's `ref`, which conditions every
change and filters an organization's list (users are few: one Query of the partition)."""

from __future__ import annotations

import json
from typing import Any

from pynamodb.exceptions import DeleteError

from chalicelib.adapters.conditions import condition_failed, saved_if
from chalicelib.adapters.resources import ResourceItem

_PK = "k|users"


def _item(org_id: str, doc: dict[str, Any]) -> ResourceItem:
    return ResourceItem(_PK, doc["name"], doc=json.dumps(doc, separators=(",", ":")), ref=org_id)


class DynamoKapacitorUsers:
    """kapacitor.users.UserStore."""

    def get(self, name: str) -> dict[str, Any] | None:
        try:
            item = ResourceItem.get(_PK, name, consistent_read=True)
        except ResourceItem.DoesNotExist:
            return None
        return json.loads(item.doc)

    def create(self, org_id: str, doc: dict[str, Any]) -> bool:
        return saved_if(_item(org_id, doc), ResourceItem.pk.does_not_exist())

    def replace(self, org_id: str, doc: dict[str, Any]) -> bool:
        # a missing item has no `ref`, so this never recreates a user deleted meanwhile
        return saved_if(_item(org_id, doc), ResourceItem.ref == org_id)

    def delete(self, org_id: str, name: str) -> None:
        try:
            ResourceItem(_PK, name).delete(condition=ResourceItem.ref == org_id)
        except DeleteError as exc:
            if not condition_failed(exc):
                raise

    def list(self, org_id: str) -> list[dict[str, Any]]:
        items = ResourceItem.query(_PK, filter_condition=ResourceItem.ref == org_id, consistent_read=True)
        return [json.loads(item.doc) for item in items]
