"""Kapacitor's recordings and replays as data (services/replay): what is stored, the JSON the API shows,
the list endpoint's filters and the option bodies of the create endpoints, with Kapacitor's messages.

Where Kapacitor's code and its documentation differ, the code wins: lists are newest first (its store
lists the date index backwards), a malformed `pattern` matches nothing rather than failing, an unknown
`fields` name fails only when some item is listed, and a replay batch does not require a start time."""

from __future__ import annotations

import json
import re
import unicodedata
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from chalicelib.kit.errors import invalid
from chalicelib.kit.gojson import go_json_error, json_kind
from chalicelib.kit.gopath import go_match
from chalicelib.kit.gotemplate import go_quote
from chalicelib.kit.gotime import GoTimeError, unmarshal_json_time
from chalicelib.kit.time import SECOND, format_rfc3339nano
from chalicelib.tick.exec.model import GO_ZERO_TIME

BASE_PATH = "/kapacitor/v1"
STREAM, BATCH = "stream", "batch"
RUNNING, FINISHED, FAILED = "running", "finished", "failed"
FAST, REAL = "fast", "real"
DEFAULT_LIMIT = 100

# Kapacitor's validID, `^[-\._\p{L}0-9]+$`: Go's `$` is the end of the text, as fullmatch is.
VALID_ID_PATTERN = r"^[-\._\p{L}0-9]+$"
_ID_PUNCTUATION = frozenset("-._0123456789")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class _ValidID:
    """validID as a regexp-like object: Python's `re` has no \\p{L}, so letters are found by category."""

    pattern = VALID_ID_PATTERN

    def fullmatch(self, text: str) -> bool:
        return bool(text) and all(c in _ID_PUNCTUATION or unicodedata.category(c)[0] == "L" for c in text)

    match = fullmatch

    def __str__(self) -> str:
        return self.pattern


VALID_ID = _ValidID()


def new_id() -> str:
    """A random id, as Kapacitor picks one (a version 4 UUID)."""
    return str(uuid.uuid4())


def _number(value: float) -> float | int:
    """A float64 as Go writes it in JSON: 0 and 1 without a fraction."""
    return int(value) if float(value).is_integer() else value


def _link(kind: str, id: str) -> dict[str, str]:
    return {"rel": "self", "href": f"{BASE_PATH}/{kind}/{id}"}


@dataclass
class Recording:
    id: str
    type: str  # STREAM | BATCH
    status: str  # RUNNING | FINISHED | FAILED
    date: int  # ns since the epoch: when it started, then when it ended
    size: int = 0
    error: str = ""
    progress: float = 0.0
    task: str = ""  # not shown by Kapacitor; kept for the workers

    def field_json(self, name: str) -> Any:
        """One field of the list endpoint; KeyError for a name Kapacitor does not list."""
        return {
            "link": lambda: _link("recordings", self.id),
            "id": lambda: self.id,
            "type": lambda: self.type,
            "size": lambda: self.size,
            "date": lambda: format_rfc3339nano(self.date),
            "error": lambda: self.error,
            "status": lambda: self.status,
            "progress": lambda: _number(self.progress),
        }[name]()

    def to_json(self) -> dict[str, Any]:
        """client.Recording, in its field order."""
        return {name: self.field_json(name) for name in RECORDING_FIELDS}

    def to_doc(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Recording:
        return cls(
            id=str(doc["id"]),
            type=str(doc.get("type", STREAM)),
            status=str(doc.get("status", RUNNING)),
            date=int(doc.get("date", 0)),
            size=int(doc.get("size", 0)),
            error=str(doc.get("error", "")),
            progress=float(doc.get("progress", 0.0)),
            task=str(doc.get("task", "")),
        )


@dataclass
class Replay:
    id: str
    task: str
    recording: str  # empty for a replay of a live batch or query run
    recording_time: bool
    clock: str  # FAST | REAL
    status: str
    date: int
    error: str = ""
    progress: float = 0.0
    stats: dict[str, Any] = field(default_factory=dict)  # {"task-stats": {...}, "node-stats": {...}}

    def field_json(self, name: str) -> Any:
        return {
            "link": lambda: _link("replays", self.id),
            "id": lambda: self.id,
            "task": lambda: self.task,
            "recording": lambda: self.recording,
            "recording-time": lambda: self.recording_time,
            "clock": lambda: self.clock,
            "date": lambda: format_rfc3339nano(self.date),
            "error": lambda: self.error,
            "status": lambda: self.status,
            "progress": lambda: _number(self.progress),
        }[name]()

    def to_json(self) -> dict[str, Any]:
        """client.Replay, in its field order. Stats show only once finished (convertReplay), and the
        empty maps of ExecutionStats are left out (`omitempty`), so a running replay shows `{}`."""
        out = {name: self.field_json(name) for name in _REPLAY_JSON_FIELDS}
        stats: dict[str, Any] = {}
        if self.status == FINISHED:
            for key in ("task-stats", "node-stats"):
                if self.stats.get(key):
                    stats[key] = self.stats[key]
        out["stats"] = stats
        return out

    def to_doc(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Replay:
        return cls(
            id=str(doc["id"]),
            task=str(doc.get("task", "")),
            recording=str(doc.get("recording", "")),
            recording_time=bool(doc.get("recording_time", False)),
            clock=str(doc.get("clock", FAST)),
            status=str(doc.get("status", RUNNING)),
            date=int(doc.get("date", 0)),
            error=str(doc.get("error", "")),
            progress=float(doc.get("progress", 0.0)),
            stats=dict(doc.get("stats") or {}),
        )


# The fields a list shows by default (allRecordingFields, allReplayFields): stats are never listed.
RECORDING_FIELDS = ("link", "id", "type", "size", "date", "error", "status", "progress")
REPLAY_FIELDS = (
    "link",
    "id",
    "recording",
    "task",
    "recording-time",
    "clock",
    "date",
    "error",
    "status",
    "progress",
)
# client.Replay's order (task before recording), stats after them.
_REPLAY_JSON_FIELDS = (
    "link",
    "id",
    "task",
    "recording",
    "recording-time",
    "clock",
    "date",
    "error",
    "status",
    "progress",
)

# --- listing -----------------------------------------------------------------------------------------

_INT64 = 1 << 63


def list_json(
    kind: str, items: Sequence[Recording | Replay], params: Mapping[str, Sequence[str] | str]
) -> dict[str, list[dict[str, Any]]]:
    """GET /recordings or /replays: `{kind: [...]}` filtered by `pattern` on ids, paged by `offset` and
    `limit` (100), each item with the `fields` asked (repeatable; `id` and `link` always) or all."""
    query = {key: [value] if isinstance(value, str) else list(value) for key, value in params.items()}
    pattern = _first(query, "pattern")
    fields = query.get("fields") or []
    fields = (
        [*fields, "id", "link"]
        if fields
        else list(RECORDING_FIELDS if kind == "recordings" else REPLAY_FIELDS)
    )
    offset = _parse_int(query, "offset", 0)
    limit = _parse_int(query, "limit", DEFAULT_LIMIT)
    listed = _page(_newest_first(items), pattern, offset, limit)
    out = []
    for item in listed:
        row: dict[str, Any] = {}
        for name in fields:
            try:
                row[name] = item.field_json(name)
            except KeyError:
                raise invalid(f"unsupported field {go_quote(name)}") from None
        out.append({name: row[name] for name in sorted(row)})  # a Go map: keys sorted
    return {kind: out}


def _first(query: Mapping[str, list[str]], name: str) -> str:
    values = query.get(name) or [""]
    return values[0]


_DECIMAL = re.compile(r"[+-]?[0-9]+")


def _parse_int(query: Mapping[str, list[str]], name: str, default: int) -> int:
    """strconv.ParseInt(text, 10, 64) with the handler's message; an empty parameter is the default."""
    text = _first(query, name)
    if not text:
        return default
    reason = "invalid syntax"
    if _DECIMAL.fullmatch(text):
        value = int(text)
        if -_INT64 <= value < _INT64:
            return value
        reason = "value out of range"
    raise invalid(
        f"invalid {name} parameter {go_quote(text)} must be an integer: "
        f"strconv.ParseInt: parsing {go_quote(text)}: {reason}"
    )


def _newest_first(items: Sequence[Recording | Replay]) -> list[Recording | Replay]:
    """The store's date index backwards: keys `<date to the second, RFC 3339>/<id>`, descending."""

    def key(item: Recording | Replay) -> str:
        return f"{format_rfc3339nano(item.date - item.date % SECOND)}/{item.id}"

    return sorted(items, key=key, reverse=True)


def _wrap(value: int) -> int:
    """Go's int64 arithmetic: overflow wraps."""
    return (value + _INT64) % (2 * _INT64) - _INT64


def _page(items: list[Recording | Replay], pattern: str, offset: int, limit: int) -> list[Recording | Replay]:
    """storage.DoListFunc: with a negative limit everything, unfiltered; otherwise the matches past
    `offset`, at most `limit`, the page size counted against all items as Go does."""
    if limit < 0:
        return items
    upper = min(_wrap(offset + limit), len(items))
    size = _wrap(upper - offset)
    if size <= 0:
        return []
    out: list[Recording | Replay] = []
    seen = 0
    for item in items:
        if pattern and not _matches(pattern, item.id):
            continue
        seen += 1
        if seen <= offset:
            continue
        out.append(item)
        if len(out) == size:
            break
    return out


def _matches(pattern: str, id: str) -> bool:
    try:
        return go_match(pattern, id)
    except ValueError:  # Kapacitor drops path.Match's error: a malformed pattern matches nothing
        return False


# --- create options ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordStream:
    id: str
    task: str
    stop: int  # ns; Go's zero time when absent: the first point ends the recording


@dataclass(frozen=True)
class RecordBatch:
    id: str
    task: str
    start: int
    stop: int
    cluster: str = ""  # RecordBatchOptions has no cluster: the task's queries name theirs


@dataclass(frozen=True)
class RecordQuery:
    id: str
    query: str
    type: str  # STREAM | BATCH
    cluster: str


@dataclass(frozen=True)
class CreateReplay:
    id: str
    task: str
    recording: str
    recording_time: bool
    clock: str


@dataclass(frozen=True)
class ReplayBatch:
    id: str
    task: str
    start: int  # Go's zero time when absent: Kapacitor does not require it here
    stop: int
    recording_time: bool
    clock: str
    cluster: str = ""


@dataclass(frozen=True)
class ReplayQuery:
    id: str
    task: str
    query: str
    cluster: str
    recording_time: bool
    clock: str


# What each handler says of an invalid id, before the id quoted: they differ, as in Kapacitor.
RECORDING_ID_MESSAGE = "recording ID must contain only letters, numbers, '-', '.' and '_'."
REPLAY_ID_MESSAGE = "replay ID must contain only letters, numbers, '-', '.' and '_'."


def parse_record_stream(body: bytes) -> RecordStream:
    opt = _decode(body, "RecordStreamOptions", {"id": "string", "task": "string", "stop": "time"})
    id = _checked_id(opt["id"], RECORDING_ID_MESSAGE)
    return RecordStream(id, opt["task"], opt["stop"])


def parse_record_batch(body: bytes, now: int) -> RecordBatch:
    kinds = {"id": "string", "task": "string", "start": "time", "stop": "time"}
    opt = _decode(body, "RecordBatchOptions", kinds)
    id = _checked_id(opt["id"], RECORDING_ID_MESSAGE)
    if opt["start"] == GO_ZERO_TIME:
        raise invalid("must provide start time")
    stop = now if opt["stop"] == GO_ZERO_TIME else opt["stop"]
    return RecordBatch(id, opt["task"], opt["start"], stop)


def parse_record_query(body: bytes) -> RecordQuery:
    kinds = {"id": "string", "query": "string", "type": "task-type", "cluster": "string"}
    opt = _decode(body, "RecordQueryOptions", kinds)
    id = _checked_id(opt["id"], RECORDING_ID_MESSAGE)
    if opt["query"] == "":
        raise invalid("must provide query")
    if opt["type"] not in (STREAM, BATCH):
        # Kapacitor takes a missing (or "invalid") type and leaves the recording running for ever.
        raise invalid(f"recording type must be stream or batch, got {opt['type']}")
    return RecordQuery(id, opt["query"], opt["type"], opt["cluster"])


def parse_create_replay(body: bytes) -> CreateReplay:
    kinds = {"id": "string", "recording": "string", "task": "string"}
    kinds |= {"recording-time": "bool", "clock": "clock"}
    opt = _decode(body, "CreateReplayOptions", kinds)
    id = _checked_id(opt["id"], REPLAY_ID_MESSAGE)
    return CreateReplay(id, opt["task"], opt["recording"], opt["recording-time"], opt["clock"])


def parse_replay_batch(body: bytes, now: int) -> ReplayBatch:
    kinds = {"id": "string", "task": "string", "start": "time", "stop": "time"}
    kinds |= {"recording-time": "bool", "clock": "clock"}
    opt = _decode(body, "ReplayBatchOptions", kinds)
    id = _checked_id(opt["id"], f"replay ID must match {VALID_ID_PATTERN}")
    # The batch node's Queries take a zero stop as now.
    stop = now if opt["stop"] == GO_ZERO_TIME else opt["stop"]
    return ReplayBatch(id, opt["task"], opt["start"], stop, opt["recording-time"], opt["clock"])


def parse_replay_query(body: bytes) -> ReplayQuery:
    kinds = {"id": "string", "task": "string", "query": "string", "cluster": "string"}
    kinds |= {"recording-time": "bool", "clock": "clock"}
    opt = _decode(body, "ReplayQueryOptions", kinds)
    # Kapacitor's wording here says "recording" though it is a replay's id.
    id = _checked_id(opt["id"], f"recording ID must match {VALID_ID_PATTERN}")
    if opt["query"] == "":
        raise invalid("must provide query")
    return ReplayQuery(id, opt["task"], opt["query"], opt["cluster"], opt["recording-time"], opt["clock"])


def _checked_id(id: str, message: str) -> str:
    if id == "":
        return new_id()
    if not VALID_ID.fullmatch(id):
        raise invalid(f"{message} {go_quote(id)}")
    return id


# --- Go's json.Decoder into the client's option structs ---------------------------------------------

_ZERO: dict[str, Any] = {
    "string": "",
    "bool": False,
    "time": GO_ZERO_TIME,
    "clock": FAST,
    "task-type": "invalid",
}
_GO_TYPES = {"string": "string", "bool": "bool", "clock": "client.Clock", "task-type": "client.TaskType"}
_TEXT_VALUES = {
    "clock": ("Clock", (FAST, REAL)),
    "task-type": ("TaskType", (STREAM, BATCH, "invalid")),
}


class _Object(list):
    """A JSON object as its (key, value) pairs in order, duplicates kept, as Go's decoder walks it."""


def _decode(body: bytes, struct: str, kinds: dict[str, str]) -> dict[str, Any]:
    """The first JSON value of `body` decoded into `struct` as json.Decoder does: unknown keys ignored,
    keys matched case-insensitively, null leaves a field, a wrong type is reported after the whole value
    is read (the first one), while a bad time or enum name stops decoding at once."""
    problem = go_json_error(body, stream=True)
    if problem is not None:
        raise invalid(problem)
    text = body.decode("utf-8", "replace")
    doc, _ = json.JSONDecoder(object_pairs_hook=_Object).raw_decode(text, len(text) - len(text.lstrip()))
    options = {name: _ZERO[kind] for name, kind in kinds.items()}  # a replay's clock defaults to fast
    if doc is None:
        return options
    if not isinstance(doc, _Object):
        raise invalid(f"json: cannot unmarshal {_kind(doc)} into Go value of type client.{struct}")
    saved: str | None = None
    for key, value in doc:
        name = key if key in kinds else next((n for n in kinds if n.casefold() == key.casefold()), None)
        if name is None or value is None:
            continue
        kind = kinds[name]
        if kind == "time":
            try:
                options[name] = unmarshal_json_time(value)
            except GoTimeError as err:
                raise invalid(str(err)) from None
        elif kind in _TEXT_VALUES and isinstance(value, str):  # an UnmarshalText error stops decoding
            type_name, allowed = _TEXT_VALUES[kind]
            if value not in allowed:
                raise invalid(f"unknown {type_name} {value}")
            options[name] = value
        elif kind == "string" and isinstance(value, str):
            options[name] = _LONE_SURROGATE.sub("\ufffd", value)  # as Go decodes a lone \ud800
        elif kind == "bool" and isinstance(value, bool):
            options[name] = value
        elif saved is None:
            where = f"Go struct field {struct}.{name} of type {_GO_TYPES[kind]}"
            saved = f"json: cannot unmarshal {_kind(value)} into {where}"
    if saved is not None:
        raise invalid(saved)
    return options


def _kind(value: Any) -> str:
    return "object" if isinstance(value, _Object) else json_kind(value)
