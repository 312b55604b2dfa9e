"""What a Flux program reads and writes: the buckets it may name (`Buckets`), the points in them (the
series store's read port, `SeriesReader`, shared with InfluxQL), and the `Context` it runs in."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from chalicelib.kit.budget import Budget
from chalicelib.series.ports import SeriesReader


class Buckets(Protocol):
    """The buckets of the organization a program runs in, as its caller may use them."""

    def bucket(self, name: str | None, bucket_id: str | None = None, write: bool = False) -> dict:
        """The bucket doc (`id`, `name`, `orgID`, `retentionRules`) the caller may read (or write)."""

    def buckets(self) -> list[dict]:
        """The buckets the caller may read."""

    def write(self, bucket: dict, lines: str) -> None:
        """Write line protocol to a bucket (`to()`)."""

    def dbrps(self) -> list[dict]:
        """The org's v1 DBRP mappings (`database`, `retention_policy`, `default`, `bucketID`, `orgID`)
        whose bucket the caller may read, each with that bucket's doc as `bucket` (`v1.databases()`)."""


@dataclass
class Context:
    buckets: Buckets | None
    series: SeriesReader | None
    now_ns: int
    org: dict = field(default_factory=dict)
    budget: Budget | None = None  # the query's time and memory (None: unbounded)
