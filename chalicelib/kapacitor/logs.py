"""Kapacitor's log entries and its logging API (`GET /kapacitor/v1preview/logs`), bounded for Lambda.

An entry is what Kapacitor's diagnostic writes: `ts`, `lvl` (debug, info or error), `msg`, then its keys
in order: the context (`service`, `task`, `node`, ...) and the line's own fields. A key's value is a
string, number, boolean or nil, or a group (`tag`, `field`) that logfmt spreads as `tag_host=a` and JSON
nests as `"tag":{"host":"a"}`.

Writers hand unstamped records (chalicelib/kit/logrecords.py) to a log sink; the ring that keeps them
stamps them (`Entry.stamped`). Readers ask `LogTail` for the entries of an organization
that match a `LogQuery`: every query parameter is a `key=value` an entry must show (Kapacitor's filter),
`lvl=<level>+` a minimum level. Kapacitor's session stays open and streams what is logged after it; a
Lambda answer ends, so the tail answers what the ring holds in a recent window (or after `since`), waits
for new entries at most `wait` seconds when none match yet, and ends (docs/KAPACITOR.md, "Logs")."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from chalicelib.kit.errors import invalid
from chalicelib.kit.gofloat import format_float
from chalicelib.kit.gotemplate import go_quote
from chalicelib.kit.gotime import GoTimeError, parse_rfc3339
from chalicelib.kit.logrecords import LEVELS, Value
from chalicelib.kit.time import MINUTE, SECOND

RETENTION = 60 * MINUTE  # how long the ring keeps an entry
WINDOW = 5 * MINUTE  # what an answer without `since` looks back over
MAX_READ = 1000  # entries one answer reads at most (each poll too)
DEFAULT_WAIT = 10.0  # seconds an answer waits for a first matching entry
MAX_WAIT = 20.0  # well inside API Gateway's 29 s, with the request's own work
POLL_INTERVAL = 1.0  # seconds between reads of the ring while waiting

JSON_TYPE, LOGFMT_TYPE = "application/json", "application/logfmt"


class LogRing(Protocol):
    def read(self, org_id: str, after: int, limit: int, newest_first: bool = False) -> list[Entry]:
        """Up to `limit` of the org's entries stamped after `after` (ns), oldest first, or the newest
        `limit` of them (still returned newest first) when `newest_first`."""


# -- entries --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entry:
    ts: int  # ns since the epoch
    lvl: str
    msg: str
    keys: tuple[tuple[str, Value], ...] = ()

    @classmethod
    def stamped(cls, ts: int, rec: Mapping[str, Any]) -> Entry:
        return cls(ts, rec["lvl"], rec["msg"], tuple((k, v) for k, v in rec.get("keys", ())))

    def to_record(self) -> dict[str, Any]:
        return {"lvl": self.lvl, "msg": self.msg, "keys": [[k, v] for k, v in self.keys]}

    def to_object(self) -> dict[str, Any]:
        """The entry as one JSON object (a later key of the same name wins)."""
        return {"ts": format_ts(self.ts), "lvl": self.lvl, "msg": self.msg, **dict(self.keys)}

    def flat(self) -> Iterable[tuple[str, Value]]:
        """The keys as logfmt shows them: a group's members as `<group>_<member>`."""
        for key, value in self.keys:
            if isinstance(value, dict):
                for member, inner in value.items():
                    yield f"{key}_{member}", inner
            else:
                yield key, value


# -- encodings ------------------------------------------------------------------------------------------


def format_ts(ns: int) -> str:
    """Kapacitor's RFC3339Milli (`2006-01-02T15:04:05.000Z07:00`), in UTC."""
    seconds, rest = divmod(ns, SECOND)
    clock = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    return f"{clock}.{rest // 1_000_000:03d}Z"


def text(value: Value) -> str:
    """A scalar as logfmt shows it, before quoting (what a filter compares)."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format_float(value)
    return str(value)


def _needs_quotes(value: str) -> bool:
    # Kapacitor quotes on a space or a quote; `=` and control characters too, so a logfmt parser reads it
    return any(c in ' "=' or c < " " or c == "\x7f" for c in value)


def logfmt_value(value: Value) -> str:
    shown = text(value)
    return go_quote(shown) if isinstance(value, str) and _needs_quotes(shown) else shown


def logfmt(entry: Entry) -> str:
    """One line, `\\n`-ended: `ts=... lvl=... msg=... key=value ...`."""
    parts = [f"ts={format_ts(entry.ts)}", f"lvl={entry.lvl}", f"msg={logfmt_value(entry.msg)}"]
    parts += [f"{key}={logfmt_value(value)}" for key, value in entry.flat()]
    return " ".join(parts) + "\n"


def _json_value(value: Value) -> str:
    if isinstance(value, dict):
        return "{" + ",".join(f"{_json_string(k)}:{_json_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_float(value)  # Go's FormatFloat 'f': 100, never 100.0 or 1e+21
    return _json_string(text(value))


def _json_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def json_line(entry: Entry) -> str:
    """One JSON object, `\\n`-ended, keys in the entry's order after `ts`, `lvl` and `msg`."""
    head = [("ts", format_ts(entry.ts)), ("lvl", entry.lvl), ("msg", entry.msg)]
    fields = [f"{_json_string(k)}:{_json_value(v)}" for k, v in (*head, *entry.keys)]
    return "{" + ",".join(fields) + "}\n"


# -- the query ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LogQuery:
    tags: tuple[tuple[str, str], ...] = ()  # key=value pairs an entry must all show
    min_level: str | None = None  # `lvl=info+`
    since: int | None = None  # ns: only entries stamped after it
    wait: float = DEFAULT_WAIT
    as_json: bool = False

    def matches(self, entry: Entry) -> bool:
        if self.min_level is not None and _rank(entry.lvl) < _rank(self.min_level):
            return False
        if not self.tags:
            return True
        shown: dict[str, set[str]] = {"lvl": {entry.lvl}, "msg": {entry.msg}}
        for key, value in entry.flat():
            shown.setdefault(key, set()).add(text(value))
        return all(value in shown.get(key, ()) for key, value in self.tags)


def _rank(level: str) -> int:
    return LEVELS.index(level) if level in LEVELS else 0


def parse_query(params: Mapping[str, Sequence[str]], accept: str = "", content_type: str = "") -> LogQuery:
    """The query of a request: its parameters (each given once, as Kapacitor requires) and whether it
    asks for JSON (`Accept` or, as Kapacitor's docs say, `Content-Type`: application/json)."""
    tags: list[tuple[str, str]] = []
    min_level, since, wait = None, None, DEFAULT_WAIT
    for key, values in params.items():
        if len(values) != 1:
            raise invalid("query params cannot contain duplicate params")
        value = values[0]
        if key == "lvl" and value.endswith("+"):
            min_level = value[:-1].lower()
            if min_level not in LEVELS:
                raise invalid(f"invalid log level {go_quote(value)}: want debug+, info+ or error+")
        elif key == "since":
            since = parse_time(value)
        elif key == "wait":
            wait = _seconds(value)
        else:
            tags.append((key, value))
    as_json = JSON_TYPE in (_media_type(accept), _media_type(content_type))
    return LogQuery(tuple(tags), min_level, since, wait, as_json)


def _media_type(header: str) -> str:
    return header.split(";", 1)[0].strip().lower()


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= MAX_WAIT:  # NaN too
        raise invalid(f"invalid wait {go_quote(value)}: want seconds from 0 to {MAX_WAIT:g}")
    return seconds


def parse_time(value: str) -> int:
    """An RFC 3339 time, to the nanosecond, as ns since the epoch."""
    try:
        return parse_rfc3339(value)
    except GoTimeError:
        raise invalid(f"invalid since {go_quote(value)}: want an RFC 3339 time") from None


# -- the bounded tail -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LogAnswer:
    entries: list[Entry]
    next_since: int  # ns: `since` for the next request, to go on where this one stopped reading

    def body(self, as_json: bool) -> str:
        encode = json_line if as_json else logfmt
        return "".join(encode(entry) for entry in self.entries)


class LogTail:
    """An organization's matching entries, read from its ring: those of the last `WINDOW` (the newest
    `MAX_READ` of them) or, with `since`, the first `MAX_READ` after it. When none match, the ring is read
    again every `POLL_INTERVAL` for what came since, until one does or `wait` seconds have passed."""

    def __init__(
        self,
        ring: LogRing,
        clock: Callable[[], int] = time.time_ns,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.ring = ring
        self.clock = clock
        self.sleep = sleep

    def tail(self, org_id: str, query: LogQuery) -> LogAnswer:
        start = self.clock()
        oldest = start - RETENTION
        if query.since is None:
            after = max(oldest, start - WINDOW)
            read = list(reversed(self.ring.read(org_id, after, MAX_READ, newest_first=True)))
        else:
            after = max(oldest, query.since)
            read = self.ring.read(org_id, after, MAX_READ)
        cursor = read[-1].ts if read else after
        matched = [e for e in read if query.matches(e)]
        deadline = start + int(query.wait * SECOND)
        while not matched:
            left = deadline - self.clock()
            if left <= 0:
                break
            self.sleep(min(POLL_INTERVAL, left / SECOND))
            read = self.ring.read(org_id, cursor, MAX_READ)
            cursor = read[-1].ts if read else cursor
            matched = [e for e in read if query.matches(e)]
        return LogAnswer(matched, cursor)
