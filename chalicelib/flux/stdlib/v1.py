"""The `influxdata/influxdb/v1` package: the schema functions (see `schema`) under their v1 path, and
`databases()`, the org's DBRP mappings as influxd 2.x lists them."""

from __future__ import annotations

from chalicelib.flux.interpreter import Interpreter
from chalicelib.flux.stdlib.library import package
from chalicelib.flux.stdlib.schema import schema_functions
from chalicelib.flux.tables import Stream, Table
from chalicelib.flux.values import FluxError
from chalicelib.kit.errors import NOT_FOUND, TicklessError

schema_functions("influxdata/influxdb/v1")

# influxd's localDatabases source: these columns in this order, `organizationID` the group key
DATABASE_COLUMNS = [
    ("organizationID", "string"),
    ("databaseName", "string"),
    ("retentionPolicy", "string"),
    ("retentionPeriod", "int"),
    ("default", "bool"),
    ("bucketId", "string"),
]


def _retention_ns(bucket: dict) -> int:
    rules = bucket.get("retentionRules") or []
    return int(rules[0].get("everySeconds") or 0) * 1_000_000_000 if rules else 0


@package("influxdata/influxdb/v1", "databases", "org orgID host token")
def v1_databases(
    interp: Interpreter,
    org: str | None = None,
    orgID: str | None = None,
    host: str | None = None,
    token: str | None = None,
) -> Stream:
    if host is not None:
        raise FluxError("v1.databases: host is not supported (only this InfluxDB is read)")
    own = interp.context.org or {}
    if (org is not None and org != own.get("name")) or (orgID is not None and orgID != own.get("id")):
        # influxd's LocalDatabasesRule refuses an organization other than the request's, word for word
        raise FluxError(
            "buckets cannot list from a separate organization; "
            "please specify a host or remove the organization"
        )
    buckets = interp.context.buckets
    mappings = buckets.dbrps() if buckets is not None else []
    if not mappings:
        # influxd fails the query rather than answer an empty table
        raise TicklessError(NOT_FOUND, "no 1.x databases found")
    columns: list[list] = [[] for _ in DATABASE_COLUMNS]
    for m in mappings:
        row = (
            m["orgID"],
            m["database"],
            m["retention_policy"],
            _retention_ns(m["bucket"]),
            bool(m["default"]),
            m["bucketID"],
        )
        for column, value in zip(columns, row, strict=True):
            column.append(value)
    # one table whose key is the first mapping's organization (all of them are the request's here)
    table = Table(list(DATABASE_COLUMNS), columns, ["organizationID"], {"organizationID": columns[0][0]})
    return Stream(tables=[table])
