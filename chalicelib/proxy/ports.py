"""What the proxy needs from outside, as the adapters provide it: the InfluxDB backends over HTTP, and
the state every proxy instance shares (each backend's backlog of failed writes, backend health,
migration state)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol


class BackendUnavailable(Exception):
    """A backend did not take a request (refused, timed out, answered 5xx): its data waits in the
    backlog, and it counts as inactive until a ping answers."""


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes


class Backends(Protocol):
    def write(self, backend: Any, db: str, rp: str, precision: str, lines: bytes) -> None:
        """POST lines to the backend's /write (gzipped); raises BackendUnavailable, or ValueError when
        the backend refused the data itself (4xx: writing it again would not help)."""

    def query(self, backend: Any, params: Mapping[str, str], method: str = "GET") -> Answer:
        """The backend's /query answer; raises BackendUnavailable."""

    def ping(self, backend: Any) -> bool: ...


@dataclass(frozen=True, slots=True)
class BacklogEntry:
    key: str  # its place in the backend's backlog (sortable: oldest first)
    db: str
    rp: str
    precision: str
    lines: bytes


class Backlog(Protocol):
    def append(self, url: str, entries: list[tuple[str, str, str, bytes]]) -> None:
        """Add (db, rp, precision, lines) after everything already waiting for the backend at `url`."""

    def waiting(self, url: str) -> bool: ...

    def oldest(self, url: str, limit: int) -> list[BacklogEntry]: ...

    def remove(self, url: str, key: str) -> None: ...


class HealthStore(Protocol):
    def health(self) -> dict[str, dict[str, Any]]:
        """By backend URL: `active` (its last ping or write succeeded), `rewrite` (its backlog is being
        written)."""

    def set_health(self, url: str, **values: Any) -> None: ...
