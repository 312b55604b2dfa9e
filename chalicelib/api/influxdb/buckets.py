"""The bucket a v2 write or delete names in its query string, as the caller may write it."""

from __future__ import annotations

from collections.abc import Mapping

from chalicelib import compose
from chalicelib.kit.errors import FORBIDDEN, INVALID, NOT_FOUND, TicklessError
from chalicelib.tenancy.service import Principal


def require_write(principal: Principal, bucket_id: str, org_id: str) -> None:
    if not principal.can("write", "buckets", id=bucket_id, org_id=org_id):
        raise TicklessError(FORBIDDEN, "insufficient permissions for write")


def writable_bucket(principal: Principal, query: Mapping[str, str]) -> dict:
    """The bucket named by `org`/`orgID`, then `bucket` (name or ID) or `bucketID`, which `principal`
    must be allowed to write."""
    if not query.get("org") and not query.get("orgID"):
        raise TicklessError(INVALID, "Please provide either orgID or org")
    tenancy = compose.tenancy()
    org = tenancy.org_of(query)
    name = query.get("bucket") or query.get("bucketID")
    if not name:
        raise TicklessError(INVALID, "Please provide bucket")
    bucket = tenancy.find_bucket(org["id"], name)
    if bucket is None:
        raise TicklessError(NOT_FOUND, f'bucket "{name}" not found')
    require_write(principal, bucket["id"], bucket["orgID"])
    return bucket
