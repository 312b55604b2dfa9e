"""Kapacitor's task and template definitions on the `resources` table: one item per definition under
`k|<kind>|<org>`, sorted by ID (so an org's list is one Query, in Kapacitor's order). Creating is
conditional, so two creators of one ID cannot both succeed."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.adapters.conditions import saved_if
from chalicelib.adapters.resources import ResourceItem
from chalicelib.kit.errors import invalid

MAX_ID_BYTES = 1024  # DynamoDB's limit on a sort key: an ID beyond it (or an empty one) names nothing


def _storable(id: str) -> bool:
    return bool(id) and len(id.encode()) <= MAX_ID_BYTES


def _pk(kind: str, org_id: str) -> str:
    return f"k|{kind}|{org_id}"


class DynamoDefinitions:
    """tick.tasks.DefinitionStore."""

    def get(self, kind: str, org_id: str, id: str) -> dict[str, Any] | None:
        if not _storable(id):
            return None
        try:
            item = ResourceItem.get(_pk(kind, org_id), id, consistent_read=True)
        except ResourceItem.DoesNotExist:
            return None
        return json.loads(item.doc)

    def list(self, kind: str, org_id: str) -> list[dict[str, Any]]:
        return [json.loads(i.doc) for i in ResourceItem.query(_pk(kind, org_id), consistent_read=True)]

    def create(self, kind: str, org_id: str, doc: dict[str, Any]) -> bool:
        if not _storable(doc["id"]):
            raise invalid(f"an ID must be 1 to {MAX_ID_BYTES} bytes long")
        item = ResourceItem(_pk(kind, org_id), doc["id"], doc=json.dumps(doc, separators=(",", ":")))
        return saved_if(item, ResourceItem.pk.does_not_exist())

    def replace(self, kind: str, org_id: str, doc: dict[str, Any]) -> None:
        ResourceItem(_pk(kind, org_id), doc["id"], doc=json.dumps(doc, separators=(",", ":"))).save()

    def delete(self, kind: str, org_id: str, id: str) -> None:
        if not _storable(id):
            return
        ResourceItem(_pk(kind, org_id), id).delete()
