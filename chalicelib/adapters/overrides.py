"""Kapacitor's config overrides on the `resources` table: one item per overridden section element under
`k|override|<org>`, keyed by Kapacitor's override ID (`smtp/`, `influxdb/remote`), so an org's overrides
are one Query. Read strongly consistent: an override applies to the next event without a restart."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.definitions import DynamoDefinitions

_KIND = "override"


class DynamoOverrides:
    """overrides.OverrideStore."""

    def __init__(self) -> None:
        self._items = DynamoDefinitions()

    def get(self, org_id: str, id: str) -> dict[str, Any] | None:
        return self._items.get(_KIND, org_id, id)

    def list(self, org_id: str) -> list[dict[str, Any]]:
        return self._items.list(_KIND, org_id)

    def put(self, org_id: str, doc: dict[str, Any]) -> None:
        self._items.replace(_KIND, org_id, doc)

    def delete(self, org_id: str, id: str) -> None:
        self._items.delete(_KIND, org_id, id)
