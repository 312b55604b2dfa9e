"""The proxy's write fan-out, rewrite and health checks, over the ports (ports.py).

Every line goes to its measurement's backend in every circle. A backend that is inactive or still has a
backlog gets the lines appended to its backlog (so they reach it in order), one that fails a write gets
the rest of them there and is marked inactive; the rewrite drains a backlog, oldest first, once the
backend answers a ping again. influxd overwrites a point written twice, so a retried batch stores
nothing twice."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from chalicelib.proxy.ports import Backends, BackendUnavailable, Backlog, HealthStore
from chalicelib.proxy.ring import backend_for

Log = Callable[[str, str, dict[str, Any]], None]


@dataclass(frozen=True, slots=True)
class WriteBatch:
    """What one /write accepted: its lines with their measurements, for one db, rp and precision."""

    db: str
    rp: str
    precision: str
    lines: list[tuple[str, bytes]]


class ProxyFanout:
    def __init__(
        self,
        config: Any,
        backends: Backends,
        backlog: Backlog,
        health: HealthStore,
        log: Log = lambda level, message, extra: None,
    ) -> None:
        self.config = config
        self.backends = backends
        self.backlog = backlog
        self.health = health
        self.log = log
        self.by_url = {b.url: b for circle in config.circles for b in circle.backends}

    # -- writes ---------------------------------------------------------------------------------------

    def deliver(self, batches: Iterable[WriteBatch]) -> None:
        grouped: dict[str, dict[tuple[str, str, str], list[bytes]]] = {}
        for batch in batches:
            target = (batch.db, batch.rp, batch.precision)
            for index in range(len(self.config.circles)):
                for measurement, line in batch.lines:
                    backend = backend_for(self.config, index, batch.db, measurement)
                    grouped.setdefault(backend.url, {}).setdefault(target, []).append(line)
        if not grouped:
            return
        health = self.health.health()
        for url, targets in grouped.items():
            entries = [
                (db, rp, precision, chunk)
                for (db, rp, precision), lines in targets.items()
                for chunk in _chunks(lines, self.config.flush_size)
            ]
            if not health.get(url, {}).get("active", True) or self.backlog.waiting(url):
                self.backlog.append(url, entries)  # behind what waits already: order is kept
                continue
            self._write_or_keep(url, entries)

    def _write_or_keep(self, url: str, entries: list[tuple[str, str, str, bytes]]) -> None:
        backend = self.by_url[url]
        for i, (db, rp, precision, lines) in enumerate(entries):
            try:
                self.backends.write(backend, db, rp, precision, lines)
            except BackendUnavailable as exc:
                self.backlog.append(url, entries[i:])
                self.health.set_health(url, active=False)
                self.log(
                    "warning", "backend write failed, kept in its backlog", {"url": url, "error": str(exc)}
                )
                return
            except ValueError as exc:  # the backend refused the data itself: influx-proxy logs and drops it
                self.log("error", "backend refused the write", {"url": url, "db": db, "error": str(exc)})

    # -- backlog and health ---------------------------------------------------------------------------

    def check(self) -> dict[str, bool]:
        """Ping every backend; record who answers. Returns URL -> active."""
        known = self.health.health()
        found = {}
        for url, backend in self.by_url.items():
            active = self.backends.ping(backend)
            found[url] = active
            if known.get(url, {}).get("active", True) != active or url not in known:
                self.health.set_health(url, active=active)
        return found

    def rewrite(self, keep_going: Callable[[], bool] = lambda: True, batch: int = 10) -> int:
        """Drain the backlog of every backend that answers a ping, oldest first; returns entries sent."""
        sent = 0
        for url, backend in self.by_url.items():
            if not keep_going() or not self.backlog.waiting(url):
                continue
            if not self.backends.ping(backend):
                self.health.set_health(url, active=False)
                continue
            self.health.set_health(url, active=True, rewrite=True)
            try:
                sent += self._drain(url, backend, keep_going, batch)
            finally:
                self.health.set_health(url, rewrite=False)
        return sent

    def _drain(self, url: str, backend: Any, keep_going: Callable[[], bool], batch: int) -> int:
        sent = 0
        while keep_going():
            entries = self.backlog.oldest(url, batch)
            if not entries:
                return sent
            for entry in entries:
                try:
                    self.backends.write(backend, entry.db, entry.rp, entry.precision, entry.lines)
                except BackendUnavailable as exc:
                    self.health.set_health(url, active=False)
                    self.log("warning", "backlog rewrite failed", {"url": url, "error": str(exc)})
                    return sent
                except ValueError as exc:
                    self.log("error", "backend refused backlog data", {"url": url, "error": str(exc)})
                self.backlog.remove(url, entry.key)
                sent += 1
        return sent


def _chunks(lines: list[bytes], size: int) -> list[bytes]:
    """The lines as bodies of at most `size` lines (influx-proxy's flush_size)."""
    size = max(1, size)
    return [b"\n".join(lines[i : i + size]) for i in range(0, len(lines), size)]
