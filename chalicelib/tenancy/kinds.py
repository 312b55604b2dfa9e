"""Declarations of the InfluxDB v2 resource kinds. Each kind says what it is called, how its name is
unique, which sub-resources it has (labels, members, owners), how a request body becomes a stored
document and how a document is shown. The generic service and routes do everything else."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from chalicelib.kit.errors import INVALID, TicklessError

Doc = dict[str, Any]


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Kind:
    name: str  # storage kind and permission resource type, e.g. "buckets"
    path: str  # collection URL, e.g. "/api/v2/buckets"
    id_param: str  # URL parameter of one item, e.g. "bucketID"
    list_key: str  # key of the list in list responses
    create: Callable[[Doc, Doc], Doc]  # (request body, context) -> new document fields
    update: Callable[[Doc, Doc], Doc]  # (current document, patch body) -> updated document
    links: Callable[[Doc], dict[str, str]]
    unique: str | None = None  # "org": names unique per org; "global": across the instance
    unique_field: str = "name"  # the field that must be unique
    org_owned: bool = True
    labels: bool = False
    members: bool = False  # members and owners
    what: str = ""  # singular name used in messages, e.g. "bucket"
    filters: Mapping[str, str] = field(default_factory=dict)  # query parameter -> document field
    wrap_one: str | None = None  # a single item is returned as {wrap_one: item} (labels, dbrps)
    hidden: tuple[str, ...] = ()  # stored fields never shown

    def unique_key(self, doc: Doc) -> tuple[str, str] | None:
        if self.unique is None:
            return None
        return (doc.get("orgID", "") if self.unique == "org" else "", doc[self.unique_field])

    def render(self, doc: Doc) -> Doc:
        shown = {k: v for k, v in doc.items() if k not in self.hidden}
        shown["links"] = self.links(doc)
        return shown


def text(body: Doc, key: str, *, required: bool = False, what: str = "") -> str | None:
    value = body.get(key)
    if value is None:
        if required:
            raise TicklessError(INVALID, f"{what or key} is required")
        return None
    if not isinstance(value, str):
        raise TicklessError(INVALID, f"{key} must be a string")
    return value


def status(body: Doc, default: str | None = "active") -> str | None:
    value = body.get("status", default)
    if value is not None and value not in ("active", "inactive"):
        raise TicklessError(INVALID, f'status must be "active" or "inactive", not {value!r}')
    return value


def merge(current: Doc, patch: Doc, allowed: tuple[str, ...]) -> Doc:
    updated = dict(current)
    for key in allowed:
        if key in patch and patch[key] is not None:
            updated[key] = patch[key]
    updated["updatedAt"] = now_iso()
    return updated
