"""The `Buckets` a Flux program runs against: one organization's buckets, as a caller may read, list and
write them (`from()`, `buckets()`, `to()`), over tenancy and the write path."""

from __future__ import annotations

from chalicelib.ingest.writer import PointWriter
from chalicelib.kit.errors import NOT_FOUND, UNPROCESSABLE, TicklessError
from chalicelib.tenancy import registry
from chalicelib.tenancy.dbrp import bucket_policy
from chalicelib.tenancy.principal import Principal
from chalicelib.tenancy.service import Tenancy


class OrgBuckets:
    def __init__(self, tenancy: Tenancy, writer: PointWriter, principal: Principal, org: dict) -> None:
        self.tenancy = tenancy
        self.writer = writer
        self.principal = principal
        self.org = org

    def bucket(self, name: str | None, bucket_id: str | None = None, write: bool = False) -> dict:
        wanted = bucket_id or name or ""
        doc = self.tenancy.find_bucket(self.org["id"], wanted)
        if doc is None:
            raise TicklessError(NOT_FOUND, f'could not find bucket "{wanted}"')
        self.principal.require("write" if write else "read", "buckets", id=doc["id"], org_id=doc["orgID"])
        return doc

    def buckets(self) -> list[dict]:
        return self.tenancy.list(registry.BUCKETS, self.principal, {"orgID": self.org["id"]})

    def dbrps(self) -> list[dict]:
        # the mappings /api/v2/dbrps lists (explicit, then virtual ones derived from bucket names); one
        # whose bucket the caller may not read is left out, as influxd's v1.databases() skips it
        org_id = self.org["id"]
        buckets = {b["id"]: b for b in self.tenancy.documents(registry.BUCKETS, org_id)}
        return [
            {**m, "bucket": buckets[m["bucketID"]]}
            for m in self.tenancy.documents(registry.DBRPS, org_id)
            if m["bucketID"] in buckets
            and self.principal.can("read", "buckets", id=m["bucketID"], org_id=org_id)
        ]

    def write(self, bucket: dict, lines: str) -> None:
        rp = bucket_policy(bucket)
        result = self.writer.write(rp.destination, lines.encode(), "ns", retention=rp.duration)
        if result.partial:
            raise TicklessError(
                UNPROCESSABLE, f"failure writing points to database: {result.partial_message}"
            )
