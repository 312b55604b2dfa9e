"""influx-proxy's migrations (rebalance, recovery, resync, clear) as planned chunks: the plan lists, per
source backend, database and measurement, what to do (copy the measurement to its home in some circle,
or drop it where it does not belong); each chunk is one step of a Step Functions execution (the
`proxy-migration` workflow), so a job survives a worker that dies mid-way (its chunk runs again: a copy
rewrites the same points, a drop drops nothing more), and `cpus` bounds how many chunks run at once.

Unlike 2.4.7, a copy first creates the database and its retention policies on the destination (2.5 does:
a wiped backend otherwise answers "database not found")."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from chalicelib.kit.errors import INVALID, TicklessError
from chalicelib.lineprotocol.serializer import format_point
from chalicelib.proxy.config import Backend, ProxyConfig
from chalicelib.proxy.ports import Backends, BackendUnavailable
from chalicelib.proxy.ring import backend_for

KINDS = ("rebalance", "recovery", "resync", "clear")
# A plan's chunks travel to the steps in pages: at most this many pages, so the execution's state (a
# list of page numbers) stays far below Step Functions' 256 KB whatever the number of measurements.
MAX_PAGES = 2_000
STATS_KEYS = (
    "database_total",
    "database_done",
    "measurement_total",
    "measurement_done",
    "migrate_count",
    "inplace_count",
)
# influxd answers a float column's values as JSON numbers; these are the types SHOW FIELD KEYS names
_TYPE_ORDER = ("float", "integer", "string", "boolean")  # influxd's choice when shards disagree


class MigrationState(Protocol):
    def migrating(self) -> dict[int, bool]: ...

    def set_migrating(self, circle_id: int, migrating: bool) -> None: ...

    def resyncing(self) -> bool: ...

    def set_resyncing(self, resyncing: bool) -> None: ...

    def stats(self, circle_id: int) -> dict[str, dict[str, int]]: ...

    def add_stats(self, circle_id: int, url: str, **deltas: int) -> None: ...

    def reset_stats(self, circle_ids: Iterable[int]) -> None: ...


@dataclass(frozen=True)
class Job:
    kind: str
    circle_id: int = 0  # rebalance, clear: the circle; recovery: the circle recovered (to)
    from_circle_id: int = 0  # recovery
    backend_urls: tuple[str, ...] = ()  # recovery: the backends to recover (all of the circle if empty)
    databases: tuple[str, ...] = ()  # every database if empty
    seconds: int = 0  # resync: only the last seconds (0: everything)
    removed: tuple[dict[str, str], ...] = ()  # rebalance rm: backends leaving the circle
    started: int = 0  # ns, when the job was accepted

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Job:
        return cls(
            str(data["kind"]),
            int(data.get("circle_id", 0)),
            int(data.get("from_circle_id", 0)),
            tuple(data.get("backend_urls") or ()),
            tuple(data.get("databases") or ()),
            int(data.get("seconds", 0)),
            tuple(dict(b) for b in data.get("removed") or ()),
            int(data.get("started", 0)),
        )

    @property
    def stats_circle(self) -> int:
        """The circle whose /migrate/stats shows the job (influx-proxy counts by source circle)."""
        return self.from_circle_id if self.kind == "recovery" else self.circle_id


@dataclass
class Chunk:
    """One measurement of one source backend: `copy` it to `dsts`, or `drop` it from `src`."""

    action: str
    src: str
    db: str
    measurement: str
    dsts: list[str] = field(default_factory=list)
    stats_circle: int = 0
    seconds: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Chunk:
        return cls(
            str(data["action"]),
            str(data["src"]),
            str(data["db"]),
            str(data["measurement"]),
            list(data.get("dsts") or []),
            int(data.get("stats_circle", 0)),
            int(data.get("seconds", 0)),
        )


class Migrations:
    def __init__(
        self,
        config: ProxyConfig,
        backends: Backends,
        state: MigrationState,
        log: Callable[[str, str, dict[str, Any]], None] = lambda level, message, extra: None,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.config = config
        self.backends = backends
        self.state = state
        self.log = log
        self.clock = clock

    # -- accepting a job (the API) ------------------------------------------------------------------

    def busy(self, job: Job) -> str | None:
        """influx-proxy's 202 answer when the job cannot start now, else None."""
        migrating = self.state.migrating()
        if job.kind == "recovery":
            if migrating.get(job.from_circle_id) or migrating.get(job.circle_id):
                return f"circle {job.from_circle_id} or {job.circle_id} is migrating"
        elif job.kind != "resync" and migrating.get(job.circle_id):
            return f"circle {job.circle_id} is migrating"
        if self.state.resyncing():
            return "proxy is resyncing"
        return None

    def accept(self, job: Job) -> None:
        """Mark what the job migrates (reads avoid a migrating circle) and start its statistics."""
        self.state.reset_stats(range(len(self.config.circles)))
        if job.kind == "resync":
            self.state.set_resyncing(True)
        else:
            self.state.set_migrating(job.circle_id, True)

    # -- the workflow's steps -----------------------------------------------------------------------

    def plan(self, job: Job) -> list[Chunk]:
        chunks: list[Chunk] = []
        for circle_id, source in self._sources(job):
            if not self.backends.ping(source):
                self.log("warning", "migration source not active", {"url": source.url})
                continue
            databases = list(job.databases) or self._databases()
            per_db = {db: self._values(source, db, "SHOW MEASUREMENTS") for db in databases}
            total = sum(len(ms) for ms in per_db.values())
            stats_circle = job.stats_circle if job.kind != "resync" else circle_id
            inplace = 0
            for db, measurements in per_db.items():
                for measurement in measurements:
                    chunk = self._chunk(job, circle_id, source, db, measurement)
                    if chunk is None:
                        inplace += 1
                    else:
                        chunk.stats_circle = stats_circle
                        chunks.append(chunk)
            self.state.add_stats(
                stats_circle,
                source.url,
                database_total=len(databases),
                measurement_total=total,
                inplace_count=inplace,
                measurement_done=inplace,
            )
        return chunks

    def run(self, chunk: Chunk) -> None:
        src = self._backend(chunk.src)
        if chunk.action == "drop":
            self._query(src, chunk.db, f'DROP MEASUREMENT "{_quoted(chunk.measurement)}"', "POST")
        else:
            self._copy(src, [self._backend(url) for url in chunk.dsts], chunk)
        self.state.add_stats(chunk.stats_circle, chunk.src, measurement_done=1, migrate_count=1)

    def finish(self, job: Job, error: str = "") -> None:
        """The job is over (done or failed): its circles take reads again; databases count as done."""
        if error:
            self.log("error", "migration failed", {"kind": job.kind, "error": error})
        if job.kind == "resync":
            self.state.set_resyncing(False)
            circles = range(len(self.config.circles))
        else:
            self.state.set_migrating(job.circle_id, False)
            circles = range(job.stats_circle, job.stats_circle + 1)
        for circle_id in circles:
            for url, values in self.state.stats(circle_id).items():
                missing = values.get("database_total", 0) - values.get("database_done", 0)
                if missing > 0:
                    self.state.add_stats(circle_id, url, database_done=missing)

    # -- planning ------------------------------------------------------------------------------------

    def _sources(self, job: Job) -> list[tuple[int, Backend]]:
        circles = self.config.circles
        if job.kind == "rebalance":
            removed = [
                Backend(b.get("name", ""), b["url"], b.get("username", ""), b.get("password", ""))
                for b in job.removed
            ]
            return [(job.circle_id, b) for b in (*removed, *circles[job.circle_id].backends)]
        if job.kind == "recovery":
            return [(job.from_circle_id, b) for b in circles[job.from_circle_id].backends]
        if job.kind == "clear":
            return [(job.circle_id, b) for b in circles[job.circle_id].backends]
        return [(i, b) for i, circle in enumerate(circles) for b in circle.backends]  # resync

    def _chunk(self, job: Job, circle_id: int, source: Backend, db: str, measurement: str) -> Chunk | None:
        if job.kind in ("rebalance", "clear"):
            home = backend_for(self.config, job.circle_id, db, measurement).url
            if home == source.url:
                return None
            if job.kind == "clear":
                return Chunk("drop", source.url, db, measurement)
            return Chunk("copy", source.url, db, measurement, [home])
        if job.kind == "recovery":
            home = backend_for(self.config, job.circle_id, db, measurement).url
            wanted = set(job.backend_urls) or {b.url for b in self.config.circles[job.circle_id].backends}
            return Chunk("copy", source.url, db, measurement, [home]) if home in wanted else None
        others = [  # resync: its home in every other circle
            backend_for(self.config, i, db, measurement).url
            for i in range(len(self.config.circles))
            if i != circle_id
        ]
        return Chunk("copy", source.url, db, measurement, others, seconds=job.seconds) if others else None

    def _databases(self) -> list[str]:
        """The databases of the first backend that answers (influx-proxy's GetDatabases)."""
        for circle in self.config.circles:
            for backend in circle.backends:
                if self.backends.ping(backend):
                    return [db for db in self._values(backend, "", "SHOW DATABASES") if db != "_internal"]
        return []

    # -- copying -------------------------------------------------------------------------------------

    def _copy(self, src: Backend, dsts: list[Backend], chunk: Chunk) -> None:
        where = ""
        if chunk.seconds > 0:
            where = f" WHERE time >= {self.clock() // 1_000_000_000 - chunk.seconds}s"
        name = _quoted(chunk.measurement)
        body = self._json(self._query(src, chunk.db, f'SELECT * FROM "{name}"{where}', "GET", epoch="ns"))
        series = _series(body)
        if not series:
            return
        tag_keys = set(self._values(src, chunk.db, f'SHOW TAG KEYS FROM "{name}"'))
        field_types = self._field_types(src, chunk.db, name)
        for dst in dsts:
            self._ensure_database(src, dst, chunk.db)
        columns = series[0]["columns"]
        values = series[0].get("values") or []
        batch = max(1, self.config.migrate_batch)
        for start in range(0, len(values), batch):
            lines = [
                _line(chunk.measurement, columns, row, tag_keys, field_types)
                for row in values[start : start + batch]
            ]
            payload = "\n".join(line for line in lines if line).encode()
            if not payload:
                continue
            for dst in dsts:
                self.backends.write(dst, chunk.db, "", "ns", payload)

    def _ensure_database(self, src: Backend, dst: Backend, db: str) -> None:
        """The database and the source's retention policies on the destination (what 2.4.7 forgot)."""
        self._query(dst, "", f'CREATE DATABASE "{_quoted(db)}"', "POST")
        body = self._json(self._query(src, db, f'SHOW RETENTION POLICIES ON "{_quoted(db)}"', "GET"))
        for rp in _rows(body):
            name, duration, shard, replication, default = (rp + [None] * 5)[:5]
            statement = (
                f'CREATE RETENTION POLICY "{_quoted(str(name))}" ON "{_quoted(db)}" DURATION {duration} '
                f"REPLICATION {replication or 1} SHARD DURATION {shard}" + (" DEFAULT" if default else "")
            )
            answer = self._json(self._query(dst, db, statement, "POST"))
            error = (answer.get("results") or [{}])[0].get("error")
            if error and "already exists" not in error:
                # an existing policy that differs: make it the source's
                alter = statement.replace("CREATE", "ALTER", 1)
                self._query(dst, db, alter, "POST")

    def _field_types(self, src: Backend, db: str, name: str) -> dict[str, str]:
        types: dict[str, set[str]] = {}
        for row in _rows(self._json(self._query(src, db, f'SHOW FIELD KEYS FROM "{name}"', "GET"))):
            if len(row) >= 2:
                types.setdefault(str(row[0]), set()).add(str(row[1]))
        return {k: next((t for t in _TYPE_ORDER if t in ts), "float") for k, ts in types.items()}

    # -- backend calls -------------------------------------------------------------------------------

    def _backend(self, url: str) -> Backend:
        for circle in self.config.circles:
            for backend in circle.backends:
                if backend.url == url:
                    return backend
        return Backend(url, url)  # a backend removed from the config (rebalance rm)

    def _query(self, backend: Backend, db: str, q: str, method: str, **extra: str) -> bytes:
        params = {"q": q, "db": db, **extra} if db else {"q": q, **extra}
        answer = self.backends.query(backend, params, method)
        if answer.status >= 500:
            raise BackendUnavailable(f"{backend.url} answered {answer.status}")
        return answer.body

    def _values(self, backend: Backend, db: str, q: str) -> list[str]:
        return [str(row[0]) for row in _rows(self._json(self._query(backend, db, q, "GET"))) if row]

    @staticmethod
    def _json(body: bytes) -> dict[str, Any]:
        try:
            doc = json.loads(body or b"{}")
        except ValueError:
            raise TicklessError(INVALID, f"a backend answered what is not JSON: {body[:200]!r}") from None
        return doc if isinstance(doc, dict) else {}


def _series(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    results = body.get("results") or [{}]
    return list(results[0].get("series") or [])


def _rows(body: Mapping[str, Any]) -> list[list[Any]]:
    return [list(row) for s in _series(body) for row in s.get("values") or []]


def _quoted(name: str) -> str:
    return name.replace("\\", "\\\\").replace('"', '\\"')


_CONVERT: dict[str, Callable[[Any], Any]] = {"integer": int, "string": str, "boolean": bool, "float": float}


def _line(
    measurement: str, columns: list[str], row: list[Any], tags: set[str], types: Mapping[str, str]
) -> str:
    """One point of `SELECT *` as line protocol: fields typed as SHOW FIELD KEYS says (influxd answers
    floats that happen to be whole as JSON integers), time in ns; "" for a point with no field left."""
    point_tags, fields = {}, {}
    for column, value in zip(columns[1:], row[1:], strict=False):
        if value is None:
            continue
        if column in tags:
            point_tags[column] = str(value)
        elif column in types:
            fields[column] = _CONVERT.get(types[column], float)(value)
    if not fields:
        return ""
    try:
        return format_point(measurement, point_tags, fields, int(row[0]))
    except ValueError as exc:  # what line protocol cannot carry: say which point, do not drop it quietly
        raise TicklessError(INVALID, f"cannot copy a point of {measurement!r}: {exc}") from None


def page_size(chunks: int, max_pages: int = MAX_PAGES) -> int:
    """Chunks per page: one (every chunk its own step, as parallel as `cpus` allows) until there are
    more chunks than `max_pages`."""
    return max(1, -(-chunks // max_pages))


def page_of(chunks: list[Any], page: int, size: int) -> list[Any]:
    return chunks[page * size : (page + 1) * size]
