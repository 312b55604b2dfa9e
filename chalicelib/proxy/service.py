"""The proxy's requests, over its ports: /write accepts lines onto the stream (fanout.py sends them on),
/query goes where influx-proxy sends it (influxql.py) and merges what it must (results.py), /health and
/replica read the placement and the shared state."""

from __future__ import annotations

import gzip
import random
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from chalicelib.kit.errors import INVALID, UNAUTHORIZED, TicklessError
from chalicelib.proxy import records
from chalicelib.proxy.config import ProxyConfig
from chalicelib.proxy.fanout import WriteBatch
from chalicelib.proxy.influxql import (
    CIRCLES_UNAVAILABLE,
    DATABASE_NOT_FOUND,
    Merge,
    Route,
    backend_params,
    circle_not_healthy,
    database_forbidden,
    plan,
)
from chalicelib.proxy.lines import scan_body
from chalicelib.proxy.ports import Answer, Backends, BackendUnavailable, Backlog, HealthStore
from chalicelib.proxy.results import BackendHealth, CircleHealth, DbLoad, go_json, health_json, merge_bodies
from chalicelib.proxy.ring import backend_for, placement


class Publisher(Protocol):
    def publish(self, records: list[tuple[str, bytes]]) -> None: ...


class ProxyService:
    def __init__(
        self,
        config: ProxyConfig,
        backends: Backends,
        backlog: Backlog,
        health: HealthStore,
        publisher: Publisher,
        clock: Callable[[], int],
        choose: Callable[[list[int]], int] = random.choice,
    ) -> None:
        self.config = config
        self.backends = backends
        self.backlog = backlog
        self.health = health
        self.publisher = publisher
        self.clock = clock  # ns: the time of lines written without one
        self.choose = choose  # which healthy circle answers a read (influx-proxy: at random)

    # -- auth -----------------------------------------------------------------------------------------

    def check_auth(self, credentials: list[tuple[str, str]]) -> None:
        """influx-proxy's check: nothing configured lets everyone in; else `u`/`p` or Basic must match."""
        if not self.config.username and not self.config.password:
            return
        if (self.config.username, self.config.password) not in credentials:
            raise TicklessError(UNAUTHORIZED, "authentication failed")

    # -- /write ---------------------------------------------------------------------------------------

    def write(self, db: str, rp: str, precision: str, body: bytes) -> None:
        """Durable once this returns: the lines are on the stream, for every circle. Lines influx-proxy
        would drop (it only logs them) make a 400 naming them; the others are written all the same."""
        self._check_db(db)
        scanned = scan_body(body, db, precision or "ns", self.clock())
        lines = [(r.measurement, r.line.rstrip(b"\n")) for r in scanned.lines]
        if lines:
            batch = WriteBatch(db, rp, "ns", lines)  # influx-proxy makes every time nanoseconds
            self.publisher.publish([(db or "-", data) for data in records.encode(batch)])
        if scanned.dropped:
            first = scanned.dropped[0]
            raise TicklessError(
                INVALID, f"partial write: {first.reason} dropped={len(scanned.dropped)}", status=400
            )

    def _check_db(self, db: str) -> None:
        if not db:
            raise TicklessError(INVALID, DATABASE_NOT_FOUND)
        if self.config.db_list and db not in self.config.db_list:
            raise TicklessError(INVALID, database_forbidden(db))

    # -- /query ---------------------------------------------------------------------------------------

    def query(self, params: Mapping[str, str], method: str) -> Answer:
        found = plan(params.get("q", ""), params.get("db", ""), db_list=self.config.db_list)
        if found.route == Route.REFUSED:
            raise found.error()
        sent = backend_params(found.route, params)
        try:
            return self._run(found, sent, method)
        except BackendUnavailable as exc:
            raise TicklessError(INVALID, f"query error: {exc}") from None

    def _run(self, found: Any, sent: dict[str, str], method: str) -> Answer:
        health = self.health.health()
        if found.route == Route.MEASUREMENT:
            circle = self._healthy_circle(health)
            return self.backends.query(
                backend_for(self.config, circle, found.db, found.measurement), sent, method
            )
        if found.route == Route.MERGE:
            circle = self.config.circles[self._healthy_circle(health)]
            bodies = [_plain(self.backends.query(b, sent, method)) for b in circle.backends]
            merged = merge_bodies(found.merge, [a.body for a in bodies])
            text = go_json(merged, pretty=sent.get("pretty") == "true")
            return Answer(200, {"Content-Type": "application/json"}, text.encode())
        if found.route == Route.EVERY_CIRCLE:
            answers = [
                self.backends.query(backend, sent, method)
                for backend in placement(self.config).backends_for(found.db, found.measurement)
            ]
            return answers[-1]
        for index, circle in enumerate(self.config.circles):  # EVERY_BACKEND
            if not all(_active(health, b.url) for b in circle.backends):
                raise TicklessError(INVALID, circle_not_healthy(index))
        answers = [self.backends.query(b, sent, method) for c in self.config.circles for b in c.backends]
        return answers[-1]

    def _healthy_circle(self, health: Mapping[str, Mapping[str, Any]]) -> int:
        """A circle whose backends are all active, at random among them (influx-proxy's choice)."""
        healthy = [
            i for i, c in enumerate(self.config.circles) if all(_active(health, b.url) for b in c.backends)
        ]
        if not healthy:
            raise TicklessError(INVALID, CIRCLES_UNAVAILABLE)
        return self.choose(healthy)

    # -- /health, /replica ----------------------------------------------------------------------------

    def health_document(self) -> list[dict[str, Any]]:
        health = self.health.health()
        circles = []
        for index, circle in enumerate(self.config.circles):
            backends = []
            for backend in circle.backends:
                active = _active(health, backend.url)
                backends.append(
                    BackendHealth(
                        backend.name,
                        backend.url,
                        active,
                        self.backlog.waiting(backend.url),
                        bool(health.get(backend.url, {}).get("rewrite")),
                        self._load(index, backend) if active else {},
                    )
                )
            circles.append(CircleHealth(circle.name, backends))
        return health_json(circles)

    def _load(self, index: int, backend: Any) -> dict[str, DbLoad]:
        """Per database: its measurements on this backend, and how many belong here by placement."""
        load = {}
        try:
            for db in self._values(backend, "SHOW DATABASES", ""):
                if db == "_internal":
                    continue
                measurements = self._values(backend, "SHOW MEASUREMENTS", db)
                inplace = sum(
                    1 for m in measurements if backend_for(self.config, index, db, m).url == backend.url
                )
                load[db] = DbLoad(len(measurements), inplace, len(measurements) - inplace)
        except BackendUnavailable:
            return {}
        return load

    def _values(self, backend: Any, query: str, db: str) -> list[str]:
        answer = _plain(self.backends.query(backend, {"q": query, "db": db}, "GET"))
        merged = merge_bodies(Merge.VALUES, [answer.body])
        series = (merged.get("results") or [{}])[0].get("series") or []
        return [str(row[0]) for s in series for row in s.get("values") or []]

    def replica(self, db: str, measurement: str) -> list[dict[str, str]]:
        backends = placement(self.config).backends_for(db, measurement)
        return [
            {"circle": self.config.circles[i].name, "name": b.name, "url": b.url}
            for i, b in enumerate(backends)
        ]


def _active(health: Mapping[str, Mapping[str, Any]], url: str) -> bool:
    return bool(health.get(url, {}).get("active", True))


def _plain(answer: Answer) -> Answer:
    """The answer with its body un-gzipped (influxd gzips when asked; a merge reads the JSON)."""
    if any(k.lower() == "content-encoding" and v == "gzip" for k, v in answer.headers.items()):
        return Answer(answer.status, answer.headers, gzip.decompress(answer.body))
    return answer
