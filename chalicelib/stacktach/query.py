"""StackTach.v3's /v1/streams and /v1/events queries: parameters to typed filters, paging, JSON answers.

Semantics follow quincy (request parsing) and quince/Winchester (queries):

- Streams: `older_than` keeps `first_event < t`, `younger_than` keeps `last_event > t`; `state` is one of
  StreamState (any case); `trigger_name` is exact; `distinguishing_traits` must all match.
- Events: `from_datetime` keeps `timestamp > t`, `to_datetime` keeps `timestamp <= t` (Winchester's
  comparisons); `event_name` is the exact event_type; `traits` must all match (traits only, not the
  envelope fields).
- Marks are hex positions. A bare (or `-`) mark pages newest first, keeping positions below it; a `+`
  mark pages oldest first, keeping positions above it (`+` alone starts ascending from the beginning).
  Answers carry `_mark` as `%x`, or `+%x` when ascending. A stream's position is its integer id; tickless
  keeps no insertion sequence for events, so an event's position is its generated time (microseconds
  since 0001-01-01 UTC) shifted left 32 bits plus the CRC-32 of its message_id (a tie-break), which
  orders events by generated time as Winchester's ids roughly do.
- `limit` defaults to 200 and must be 1..1000. Counts answer `[{"count": n}]`, honouring the mark.

Beyond StackTach (which compares every filter value as a string, crashes on bad input and keeps only
the text up to a second `:`): a trait filter value is read as every type it can be written in (always
text; an int for `[+-]digits`; a float for a decimal or exponent literal; a datetime for ISO 8601 from
a full date on) and matches a trait holding the value of the trait's own type, so `memory_mb:512`,
`vcpus:1`, `launched_at:2015-03-04T22:41:40.771441` and `tenant_id:408577` (text) all work; a
`timex.TimeRange` distinguishing trait matches a datetime inside it. A value splits at its first `:`.
Empty parameters count as absent (Falcon's default). Bad dates, states, marks, limits, ids or trait
syntax raise TicklessError(INVALID) naming the parameter. A space where a `+` belongs (a `+` sent
unencoded in a query string decodes to one) is read as that `+`, in marks and before zone offsets.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from chalicelib.kit.errors import INTERNAL, INVALID, TicklessError
from chalicelib.stacktach.distiller import Event, parse_datetime
from chalicelib.stacktach.streams import Stream, StreamState, encode_value
from chalicelib.stacktach.timex import TimeRange

DEFAULT_LIMIT = 200
MAX_LIMIT = 1000
_MAX_MARK_DIGITS = 32
_MAX_STREAM_ID_DIGITS = 18
_ORIGIN = datetime(1, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_FULL_DATE = re.compile(r"\d{4}-?\d{2}-?\d{2}")
_MARK = re.compile(r"([+-]?)([0-9a-fA-F]*)")
# A zone offset whose `+` was decoded to a space: `2015-02-28T13:30 01:00`.
_SPACED_ZONE = re.compile(r"(.+[T ]\d{2}(?::?\d{2}){0,2}(?:[.,]\d+)?) (\d{2}(?::?\d{2})?)")
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})

T = TypeVar("T")


def _invalid(message: str) -> TicklessError:
    return TicklessError(INVALID, message)


def _short(value: str) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _utc(dt: datetime) -> datetime:
    """Aware UTC (naive datetimes are UTC, as StackTach stores them)."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _param(params: Mapping[str, Any], name: str) -> str | None:
    """A parameter's text; None when absent or empty."""
    value = params.get(name)
    if isinstance(value, list | tuple):
        if len(value) > 1:
            raise _invalid(f"{name}: give it once, not {len(value)} times")
        value = value[0] if value else None
    if value is None:
        return None
    if not isinstance(value, str):
        raise _invalid(f"{name}: expected text")
    return value if value.strip() else None


def parse_when(name: str, text: str) -> datetime:
    """An ISO 8601 date/time (`2015-02-28T13:30`; no zone means UTC) as aware UTC."""
    text = text.strip()
    for candidate in (text, _SPACED_ZONE.sub(r"\1+\2", text)):
        try:
            return parse_datetime(candidate)
        except ValueError:
            continue
    raise _invalid(f"{name}: {_short(text)} is not an ISO 8601 date and time, e.g. 2015-02-28T13:30")


def _optional_when(params: Mapping[str, Any], name: str) -> datetime | None:
    text = _param(params, name)
    return None if text is None else parse_when(name, text)


def parse_limit(params: Mapping[str, Any]) -> int:
    """`limit`: 200 when absent, else an integer from 1 to MAX_LIMIT."""
    text = _param(params, "limit")
    if text is None:
        return DEFAULT_LIMIT
    text = text.strip()
    if not _INT.fullmatch(text) or not 1 <= int(text) <= MAX_LIMIT:
        raise _invalid(f"limit: {_short(text)} is not a whole number from 1 to {MAX_LIMIT}")
    return int(text)


def parse_details(params: Mapping[str, Any]) -> bool:
    """`details` (or `detail`, as StackTach's sample spells it): true/false, 1/0, yes/no, on/off."""
    name = "details" if _param(params, "details") is not None else "detail"
    text = _param(params, name)
    if text is None:
        return False
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise _invalid(f"{name}: {_short(text)} is not true or false")


def parse_stream_id(text: str) -> int:
    """A stream id from a path: a non-negative decimal integer."""
    stripped = text.strip() if isinstance(text, str) else ""
    if not stripped.isascii() or not stripped.isdigit() or len(stripped) > _MAX_STREAM_ID_DIGITS:
        raise _invalid(f"stream id {_short(str(text))} is not an integer")
    return int(stripped)


def parse_message_id(text: str) -> str:
    """An event's message_id from a path: non-empty, no control characters, kept as given (case too)."""
    if not isinstance(text, str) or not text.strip() or any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise _invalid(f"message id {_short(str(text))} is not a message id")
    return text


def parse_state(text: str) -> StreamState:
    word = text.strip().lower()
    try:
        return StreamState(word)
    except ValueError:
        known = ", ".join(s.value for s in StreamState)
        raise _invalid(f"state: {_short(text)} is not a stream state ({known})") from None


# --- marks ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Mark:
    """Where a page starts: newest first unless `ascending`; after `position` (excluded), None = start."""

    ascending: bool = False
    position: int | None = None

    @classmethod
    def parse(cls, text: str | None) -> Mark:
        if text is None:
            return cls()
        raw = text
        if text.startswith(" ") and text.strip():  # an unencoded `+` decodes to a space
            text = "+" + text.lstrip(" ")
        m = _MARK.fullmatch(text.strip())
        if m is None or len(m.group(2)) > _MAX_MARK_DIGITS:
            raise _invalid(
                f"mark: {_short(raw)} is not a mark from a previous answer (hex digits, '+' first to page "
                "oldest first)"
            )
        sign, digits = m.groups()
        return cls(sign == "+", int(digits, 16) if digits else None)

    def admits(self, position: int) -> bool:
        if self.position is None:
            return True
        return position > self.position if self.ascending else position < self.position

    def format(self, position: int) -> str:
        """The `_mark` of an item at `position`, which continues this direction when sent back."""
        return f"+{position:x}" if self.ascending else f"{position:x}"


def stream_position(stream: Stream) -> int:
    """A stream's paging position: its integer id (StackTach's ids are integers)."""
    sid = stream.id
    if isinstance(sid, int) and not isinstance(sid, bool) and sid >= 0:
        return sid
    if isinstance(sid, str) and sid.isascii() and sid.isdigit():
        return int(sid)
    raise TicklessError(INTERNAL, f"stream id {sid!r} is not a non-negative integer")


def _micros(when: datetime) -> int:
    return (_utc(when) - _ORIGIN) // _MICROSECOND


def event_position(event: Event) -> int:
    """Generated time in microseconds since 0001-01-01 UTC, shifted 32 bits, plus CRC-32 of message_id."""
    return (_micros(event.when) << 32) | zlib.crc32(event.message_id.encode("utf-8"))


# --- indexes -------------------------------------------------------------------------------------------

# Traits StackTach's users look events up by; each event is also filed under its value of these (and
# under its type), so such a query reads what matches rather than every event.
INDEXED_TRAITS = ("instance_id", "request_id", "tenant_id")


def _index_value(value: Any) -> str | None:
    """The text a trait value is filed under: text and integers only (dates and ranges are not filed)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    return None


def _filter_value(f: TraitFilter) -> str:
    """What a filter looks up: its integer's canonical text when it reads as one ('007' finds 7)."""
    return str(f.int_value) if f.int_value is not None else f.text


def event_index_keys(event: Event) -> list[str]:
    keys = [f"type={event.event_type}"]
    for name in INDEXED_TRAITS:
        trait = event.traits.get(name)
        value = _index_value(trait.value) if trait is not None else None
        if value is not None:
            keys.append(f"trait:{name}={value}")
    return keys


def stream_index_keys(stream: Stream) -> list[str]:
    """A stream is filed under each of its text or integer distinguishing traits."""
    return [
        f"trait:{name}={value}"
        for name, raw in sorted(stream.distinguishing_traits.items())
        if (value := _index_value(raw)) is not None
    ]


# --- trait filters -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TraitFilter:
    """`name:value` read as each type the value can be written in; a trait matches by its own type."""

    name: str
    text: str
    int_value: int | None = None
    float_value: float | None = None
    datetime_value: datetime | None = None

    @classmethod
    def of(cls, name: str, text: str) -> TraitFilter:
        int_value = int(text) if _INT.fullmatch(text) else None
        float_value = None
        if _FLOAT.fullmatch(text):
            number = float(text)
            float_value = number if math.isfinite(number) else None
        datetime_value = None
        if _FULL_DATE.match(text):
            try:
                datetime_value = parse_datetime(text)
            except ValueError:
                datetime_value = None
        return cls(name, text, int_value, float_value, datetime_value)

    def matches(self, value: Any) -> bool:
        if isinstance(value, bool):
            return False
        if isinstance(value, int):
            return self.int_value is not None and value == self.int_value
        if isinstance(value, float):
            return self.float_value is not None and value == self.float_value
        if isinstance(value, datetime):
            return self.datetime_value is not None and _utc(value) == self.datetime_value
        if isinstance(value, TimeRange):
            when = self.datetime_value
            return when is not None and _utc(value.begin) <= when < _utc(value.end)
        if isinstance(value, str):
            return value == self.text
        return False


def parse_traits(name: str, text: str | None) -> tuple[TraitFilter, ...]:
    """`trait_name:value;trait_name:value` (names and values stripped; empty segments skipped)."""
    if text is None:
        return ()
    filters: dict[str, TraitFilter] = {}
    for segment in text.split(";"):
        if not segment.strip():
            continue
        trait, colon, value = segment.partition(":")
        trait, value = trait.strip(), value.strip()
        if not colon or not trait:
            raise _invalid(f"{name}: {_short(segment)} is not trait_name:value (pairs separated by ';')")
        if trait in filters:
            raise _invalid(f"{name}: trait {trait!r} is given more than once")
        filters[trait] = TraitFilter.of(trait, value)
    return tuple(filters.values())


def _all_match(filters: tuple[TraitFilter, ...], values: Mapping[str, Any]) -> bool:
    return all(f.name in values and f.matches(values[f.name]) for f in filters)


# --- queries -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StreamQuery:
    """GET /v1/streams (and /count) filters."""

    older_than: datetime | None = None
    younger_than: datetime | None = None
    state: StreamState | None = None
    trigger_name: str | None = None
    distinguishing_traits: tuple[TraitFilter, ...] = ()
    mark: Mark = field(default_factory=Mark)
    limit: int = DEFAULT_LIMIT

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> StreamQuery:
        state = _param(params, "state")
        return cls(
            older_than=_optional_when(params, "older_than"),
            younger_than=_optional_when(params, "younger_than"),
            state=None if state is None else parse_state(state),
            trigger_name=_param(params, "trigger_name"),
            distinguishing_traits=parse_traits(
                "distinguishing_traits", _param(params, "distinguishing_traits")
            ),
            mark=Mark.parse(_param(params, "mark")),
            limit=parse_limit(params),
        )

    def matches(self, stream: Stream) -> bool:
        """The filters (not the mark)."""
        if self.older_than is not None and not _utc(stream.first_event) < self.older_than:
            return False
        if self.younger_than is not None and not _utc(stream.last_event) > self.younger_than:
            return False
        if self.state is not None and stream.state != self.state:
            return False
        if self.trigger_name is not None and stream.trigger_name != self.trigger_name:
            return False
        return _all_match(self.distinguishing_traits, stream.distinguishing_traits)

    def position(self, stream: Stream) -> int:
        return stream_position(stream)

    def index_key(self) -> str | None:
        """The index that holds every stream this query can match (None: all streams must be read).
        A filter reading as an integer may match a text trait of other digits ('007'), so only a
        filter whose text is canonical uses the index."""
        for f in self.distinguishing_traits:
            if f.int_value is None or str(f.int_value) == f.text:
                return f"trait:{f.name}={_filter_value(f)}"
        return None

    def window(self) -> tuple[int | None, int | None]:
        return None, None

    def mark_of(self, stream: Stream) -> str:
        return self.mark.format(stream_position(stream))


@dataclass(frozen=True, slots=True)
class EventQuery:
    """GET /v1/events (and /count) filters."""

    from_datetime: datetime | None = None
    to_datetime: datetime | None = None
    event_name: str | None = None
    traits: tuple[TraitFilter, ...] = ()
    mark: Mark = field(default_factory=Mark)
    limit: int = DEFAULT_LIMIT

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> EventQuery:
        start = _optional_when(params, "from_datetime")
        end = _optional_when(params, "to_datetime")
        if start is not None and end is not None and start >= end:
            raise _invalid("from_datetime must be before to_datetime")
        return cls(
            from_datetime=start,
            to_datetime=end,
            event_name=_param(params, "event_name"),
            traits=parse_traits("traits", _param(params, "traits")),
            mark=Mark.parse(_param(params, "mark")),
            limit=parse_limit(params),
        )

    def matches(self, event: Event) -> bool:
        """The filters (not the mark)."""
        when = _utc(event.when)
        if self.from_datetime is not None and not when > self.from_datetime:
            return False
        if self.to_datetime is not None and not when <= self.to_datetime:
            return False
        if self.event_name is not None and event.event_type != self.event_name:
            return False
        values = {name: trait.value for name, trait in event.traits.items()}
        return _all_match(self.traits, values)

    def position(self, event: Event) -> int:
        return event_position(event)

    def index_key(self) -> str | None:
        """The index that holds every event this query can match (None: all events must be read)."""
        for f in self.traits:
            if f.name in INDEXED_TRAITS and (f.int_value is None or str(f.int_value) == f.text):
                return f"trait:{f.name}={_filter_value(f)}"
        return f"type={self.event_name}" if self.event_name is not None else None

    def window(self) -> tuple[int | None, int | None]:
        """The positions the time filters leave (low exclusive, high inclusive): events are kept in
        generated-time order, so reads start and stop there."""
        low = high = None
        if self.from_datetime is not None:
            low = (_micros(self.from_datetime) << 32) | 0xFFFFFFFF
        if self.to_datetime is not None:
            high = (_micros(self.to_datetime) << 32) | 0xFFFFFFFF
        return low, high

    def mark_of(self, event: Event) -> str:
        return self.mark.format(event_position(event))


Query = StreamQuery | EventQuery


def page(items: Iterable[T], query: Query) -> list[T]:
    """The items matching the query after its mark, in its direction (newest first unless `+`), at most
    `limit` of them."""
    kept = [(query.position(item), item) for item in items if query.matches(item)]  # type: ignore[arg-type]
    kept = [(pos, item) for pos, item in kept if query.mark.admits(pos)]
    kept.sort(key=lambda pair: pair[0], reverse=not query.mark.ascending)
    return [item for _, item in kept[: query.limit]]


def count(items: Iterable[Any], query: Query) -> int:
    """How many items match, the mark applied and the limit not (as Winchester counts)."""
    return sum(1 for item in items if query.matches(item) and query.mark.admits(query.position(item)))


# --- answers -------------------------------------------------------------------------------------------


def event_json(event: Event, mark: str | None = None) -> dict[str, Any]:
    """An event as StackTach shows it: traits, `message_id`, `event_type`, `timestamp` (the envelope hides
    a trait of the same name), datetimes as `__type__` objects, and `_mark` when given."""
    flat = {name: encode_value(value) for name, value in event.as_dict().items()}
    if mark is not None:
        flat["_mark"] = mark
    return dict(sorted(flat.items()))


def stream_json(
    stream: Stream, *, details: bool = False, events: Iterable[Event] | None = None, mark: str | None = None
) -> dict[str, Any]:
    """A stream as StackTach shows it, `_mark` its descending mark unless given; with `details`, its
    `events` (oldest first, without marks)."""
    body = stream.to_json()
    body["_mark"] = mark if mark is not None else Mark().format(stream_position(stream))
    if details:
        ordered = sorted(events or (), key=lambda e: (_utc(e.when), e.message_id))
        body["events"] = [event_json(e) for e in ordered]
    return dict(sorted(body.items()))


def streams_json(streams: Iterable[Stream], query: StreamQuery) -> list[dict[str, Any]]:
    """GET /v1/streams: the page of matching streams with their marks."""
    return [stream_json(s, mark=query.mark_of(s)) for s in page(streams, query)]


def events_json(events: Iterable[Event], query: EventQuery) -> list[dict[str, Any]]:
    """GET /v1/events: the page of matching events with their marks."""
    return [event_json(e, query.mark_of(e)) for e in page(events, query)]


def count_json(n: int) -> list[dict[str, int]]:
    """/v1/streams/count and /v1/events/count: Winchester's `[{"count": n}]`."""
    return [{"count": n}]
