"""The data port of the Flux engine: the `Source` protocol and the `Context` a program runs in."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol


class Source(Protocol):
    def bucket(self, name: str | None, bucket_id: str | None = None, write: bool = False) -> dict:
        """The bucket doc (`id`, `name`, `orgID`, `retentionRules`) the caller may read (or write)."""

    def buckets(self) -> list[dict]: ...

    def measurements(self, namespace: str) -> list[str]: ...

    def series(self, namespace: str, measurement: str) -> list: ...  # [SeriesEntry]

    def field_types(self, namespace: str, measurement: str) -> dict[str, str]: ...

    def scan(self, namespace, measurement, tmin, tmax, series_keys=None, fields=None) -> Iterator[dict]: ...

    def write(self, bucket: dict, lines: str) -> None: ...


@dataclass
class Context:
    source: Source | None
    now_ns: int
    org: dict = field(default_factory=dict)
