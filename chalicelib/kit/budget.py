"""What one query may use, shared by the query languages: the deployment's limits (`QueryLimits`, read
from settings by the composition root) and a query's `Budget` (the time it has left and the memory its
tables are estimated to hold), with InfluxDB's errors when either runs out."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import ClassVar

from chalicelib.kit.errors import INVALID, TicklessError

MiB = 1024 * 1024
# What a value held in a query's tables costs in CPython, on average: a list slot (8 bytes) plus a
# share of the int/float it points to (measured on storage tables and window results: 8 to 20).
CELL_BYTES = 16


@dataclass(frozen=True)
class QueryLimits:
    """The bounds of every query; 0 means unlimited. Names and errors are influxd's where it has the
    setting (`query-timeout`, `max-select-*` of 1.x, `query-memory-bytes` of 2.x)."""

    timeout: float = 25.0  # seconds; API Gateway gives up on a request after 29
    memory_bytes: int = 256 * MiB  # estimated bytes of the tables a query holds at once
    max_select_point: int = 10_000_000  # points an InfluxQL statement reads
    max_select_series: int = 100_000  # series an InfluxQL statement reads
    max_select_buckets: int = 1_000_000  # GROUP BY time() windows of an InfluxQL statement
    max_response_bytes: int = 6_000_000  # an answer's body as Lambda returns it (6 MiB in all)

    # the setting of each field: its environment variable suffix and its key in /api/v2/config
    SETTINGS: ClassVar[dict[str, tuple[str, str]]] = {
        "timeout": ("TIMEOUT", "query-timeout"),
        "memory_bytes": ("MEMORY_BYTES", "query-memory-bytes"),
        "max_select_point": ("MAX_SELECT_POINT", "max-select-point"),
        "max_select_series": ("MAX_SELECT_SERIES", "max-select-series"),
        "max_select_buckets": ("MAX_SELECT_BUCKETS", "max-select-buckets"),
        "max_response_bytes": ("MAX_RESPONSE_BYTES", "query-max-response-bytes"),
    }

    @classmethod
    def from_settings(cls, settings: Mapping[str, str], prefix: str = "TICKLESS_QUERY_") -> QueryLimits:
        """The limits `settings` (e.g. the environment) name, the defaults for the others; a value that is
        not a number (a duration for the timeout: `30`, `30s`, `1500ms`, `2m`) raises ValueError."""
        values: dict[str, float | int] = {}
        for f in fields(cls):
            name = prefix + cls.SETTINGS[f.name][0]
            raw = settings.get(name)
            if raw is None or not raw.strip():
                continue
            values[f.name] = _seconds(raw, name) if f.name == "timeout" else _count(raw, name)
        return cls(**values)  # type: ignore[arg-type]

    def shown(self) -> dict[str, int | str]:
        """The limits as `/api/v2/config` shows them (the timeout as a Go duration)."""
        out: dict[str, int | str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[self.SETTINGS[f.name][1]] = _duration_text(value) if f.name == "timeout" else value
        return out


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def _seconds(raw: str, name: str) -> float:
    m = _DURATION.match(raw)
    if m is None:
        raise ValueError(f"{name}: {raw!r} is not a duration (e.g. 25, 25s, 1500ms, 2m)")
    return float(m.group(1)) * _UNIT_SECONDS[m.group(2)]


def _count(raw: str, name: str) -> int:
    try:
        value = int(raw.strip().replace("_", ""))
    except ValueError:
        raise ValueError(f"{name}: {raw!r} is not a whole number") from None
    if value < 0:
        raise ValueError(f"{name}: {raw!r} must be 0 (unlimited) or more")
    return value


UNLIMITED = QueryLimits(
    timeout=0,
    memory_bytes=0,
    max_select_point=0,
    max_select_series=0,
    max_select_buckets=0,
    max_response_bytes=0,
)


def _duration_text(seconds: float) -> str:
    if seconds == int(seconds):
        return f"{int(seconds)}s"
    return f"{round(seconds * 1000)}ms"


class QueryTimeout(TicklessError):
    """The query ran out of time (influxd 1.x's `query-timeout` error), or its caller went away."""

    def __init__(self) -> None:
        super().__init__(INVALID, "query-timeout limit exceeded")


class MemoryLimitExceeded(TicklessError):
    """The query would hold more than `query-memory-bytes` (the words of Flux's memory allocator)."""

    def __init__(self, limit: int, allocated: int, wanted: int) -> None:
        super().__init__(
            INVALID,
            f"memory allocation limit reached: limit {limit} bytes, allocated: {allocated}, wanted: {wanted}",
        )
        self.limit, self.allocated, self.wanted = limit, allocated, wanted


class Budget:
    """One query's time and memory. `check()` raises QueryTimeout once the time is up: the limits'
    timeout, or sooner when `remaining()` (seconds the caller still waits: a Lambda invocation's time
    left, 0 once the client is gone) drops to `margin`. `charge(n)` counts n more bytes held and raises
    MemoryLimitExceeded past `query-memory-bytes`; `ensure(n)` refuses n bytes before they are built.
    Estimates, not measurements: callers charge `CELL_BYTES` per value their tables hold."""

    PROBE_EVERY = 0.05  # seconds between calls of `remaining` (it may be a system call)

    def __init__(
        self,
        limits: QueryLimits | None = None,
        remaining: Callable[[], float] | None = None,
        *,
        margin: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = limits or UNLIMITED
        self._clock = clock
        self._remaining = remaining
        self._margin = margin
        now = clock()
        self._deadline = now + self.limits.timeout if self.limits.timeout else math.inf
        self._next_probe = now
        self.allocated = 0

    @classmethod
    def unlimited(cls) -> Budget:
        return cls(UNLIMITED)

    def check(self) -> None:
        now = self._clock()
        if now >= self._deadline:
            raise QueryTimeout()
        if self._remaining is not None and now >= self._next_probe:
            self._next_probe = now + self.PROBE_EVERY
            left = self._remaining()
            if left <= self._margin:
                self._deadline = now  # every later check fails too, without probing
                raise QueryTimeout()

    def ensure(self, nbytes: int) -> None:
        """Refuse `nbytes` more (about to be built) if they would pass the limit; counts nothing."""
        limit = self.limits.memory_bytes
        if limit and self.allocated + nbytes > limit:
            raise MemoryLimitExceeded(limit, self.allocated, nbytes)
        self.check()

    def charge(self, nbytes: int) -> None:
        """Count `nbytes` more held by the query."""
        self.ensure(nbytes)
        if self.limits.memory_bytes:
            self.allocated += nbytes

    def charge_cells(self, cells: int) -> None:
        self.charge(cells * CELL_BYTES)
