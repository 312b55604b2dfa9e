"""What every statement handler shares: the execution context, the per-statement error, and helpers
to resolve and page sources."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from chalicelib.influxql import ast
from chalicelib.ingest.writer import PointWriter
from chalicelib.kit.budget import Budget
from chalicelib.series.columns import SeriesColumns
from chalicelib.series.ports import SeriesReader
from chalicelib.series.store import SeriesStore
from chalicelib.tenancy.dbrp import Catalog, RetentionPolicy
from chalicelib.tenancy.service import Principal

Series = dict[str, Any]  # one InfluxDB result series: name, tags, columns, values


class StatementError(Exception):
    """An error reported inside the statement's result, as influxd does (`{"statement_id", "error"}`)."""


@dataclass(frozen=True)
class Services:
    """What statements reach beyond their own text."""

    catalog: Catalog  # v1 databases and retention policies
    series: SeriesReader  # what statements read
    store: SeriesStore  # what DELETE, DROP SERIES and DROP MEASUREMENT remove points from
    writer: PointWriter  # where SELECT ... INTO writes


@dataclass
class Context:
    principal: Principal
    database: str
    retention_policy: str
    now: int
    format_time: Callable[[int], Any]
    services: Services
    epoch: str | None = None
    budget: Budget = field(default_factory=Budget.unlimited)  # the query's time, memory and max-select-*
    points_read: int = 0  # by the running statement
    series_read: int = 0  # by the running statement

    def begin_statement(self) -> None:
        """influxd's max-select-point and max-select-series count per statement."""
        self.points_read = self.series_read = 0

    def read(self, blocks: Iterator[dict[str, SeriesColumns]]) -> Iterator[dict[str, SeriesColumns]]:
        """The store's blocks as a statement reads them: its points counted against max-select-point,
        the query's time checked at every block."""
        limit = self.budget.limits.max_select_point
        try:
            for block in blocks:
                self.budget.check()
                self.points_read += sum(len(cols.times) * max(1, len(cols.fields)) for cols in block.values())
                if limit and self.points_read > limit:  # "exceeed": influxd's own spelling
                    raise StatementError(f"max-select-point limit exceeed: ({self.points_read}/{limit})")
                yield block
        finally:
            close = getattr(blocks, "close", None)
            if close is not None:
                close()

    def select_series(self, n: int) -> None:
        """A statement reads `n` more series: counted against max-select-series."""
        self.series_read += n
        limit = self.budget.limits.max_select_series
        if limit and self.series_read > limit:
            raise StatementError(f"max-select-series limit exceeded: ({self.series_read}/{limit})")

    @property
    def catalog(self) -> Catalog:
        return self.services.catalog

    @property
    def series(self) -> SeriesReader:
        return self.services.series

    @property
    def store(self) -> SeriesStore:
        return self.services.store

    @property
    def writer(self) -> PointWriter:
        return self.services.writer


def policy(context: Context, database: str, retention_policy: str, action: str = "read") -> RetentionPolicy:
    """The bucket a statement reads (or, for deletes, writes), checked against the caller's rights."""
    database = database or context.database
    if not database:
        raise StatementError("database name required")
    rp = context.catalog.resolve(
        context.principal, database, retention_policy or context.retention_policy or None
    )
    context.principal.require(action, "buckets", id=rp.namespace, org_id=rp.org_id)
    return rp


def measurement_matches(source: ast.Measurement, name: str) -> bool:
    if source.regex is not None:
        return source.regex.compiled.search(name) is not None
    return source.name == name


def measurements(context: Context, rp: RetentionPolicy, sources: list[ast.Source]) -> list[str]:
    """The measurements of `rp` named by `sources` (all of them when there are none), sorted."""
    names = context.series.measurements(rp.namespace)
    if sources:
        names = [
            n
            for n in names
            if any(measurement_matches(s, n) for s in sources if isinstance(s, ast.Measurement))
        ]
    return sorted(names)


def page(items: list, limit: int, offset: int) -> list:
    if offset:
        items = items[offset:]
    if limit:
        items = items[:limit]
    return items
