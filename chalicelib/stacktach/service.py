"""StackTach's ingest and reads over a store port: notifications are distilled into events (a
`message_id` seen before changes nothing and triggers nothing), each event joins the active stream of
every trigger it matches, keyed by the trigger and the event's distinguishing traits, created when there
is none. The store's conditional writes make one active stream per key however many consumers run."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from chalicelib.kit.errors import CONFLICT, NOT_FOUND, TicklessError
from chalicelib.stacktach import query as q
from chalicelib.stacktach.distiller import Distiller, Event
from chalicelib.stacktach.records import event_doc, event_of, stream_doc, stream_of
from chalicelib.stacktach.streams import Stream, stream_key
from chalicelib.stacktach.triggers import TriggerDefinition

_PAGE = 500  # items a store read returns at most
MAX_ATTEMPTS = 8  # saves of one stream lost to concurrent ones before giving up (the batch is retried)


Member = tuple[int, str]  # an event in a stream: its position and message_id


class StackTachStore(Protocol):
    def add_event(self, doc: dict[str, Any], position: int, index_keys: list[str]) -> bool:
        """False when an event of that message_id is stored already; else stored and filed under each
        of `index_keys`."""

    def joined(self, message_id: str) -> bool:
        """Whether the event has joined all its streams (`mark_joined`)."""

    def mark_joined(self, message_id: str) -> None: ...

    def event(self, message_id: str) -> dict[str, Any] | None: ...

    def events(
        self, newest_first: bool, bound: int | None, limit: int, index: str | None = None
    ) -> list[dict[str, Any]]:
        """Events by position, beyond `bound` in the direction asked (of those filed under `index`)."""

    def next_stream_id(self) -> int: ...

    def active_stream(self, key: str) -> dict[str, Any] | None: ...

    def create_stream(
        self, key: str, doc: dict[str, Any], replacing: int | None, member: Member, index_keys: list[str]
    ) -> bool:
        """Make `doc` the key's active stream holding its first event `member`, if the key still names
        `replacing` (None: no stream); filed under each of `index_keys`."""

    def save_stream(self, doc: dict[str, Any], expected_version: int, member: Member) -> str:
        """Save the stream with `member` added, if still at `expected_version`: "saved", "conflict" (another
        writer saved first), or "member" (the event is in this stream already)."""

    def stream(self, stream_id: int) -> dict[str, Any] | None: ...

    def streams(
        self, newest_first: bool, bound: int | None, limit: int, index: str | None = None
    ) -> list[dict[str, Any]]: ...

    def stream_event_ids(self, stream_id: int) -> list[str]: ...

    def delete_stream(self, doc: dict[str, Any], key: str, index_keys: list[str]) -> None:
        """Remove the stream, its index entries (and the key's pointer if it names it); events stay."""

    def replace_stream(self, doc: dict[str, Any], expected_version: int) -> bool:
        """Save the stream's new state if it is still at `expected_version`."""


@dataclass(frozen=True)
class IngestResult:
    stored: int = 0
    duplicates: int = 0
    dropped: int = 0  # matched no event definition
    refused: tuple[str, ...] = ()  # why each refused notification was refused


class StackTach:
    def __init__(
        self,
        distiller: Distiller,
        triggers: list[TriggerDefinition],
        store: StackTachStore,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        pause: Callable[[int], None] = lambda attempt: time.sleep(random.uniform(0, 0.02 * 2**attempt)),
    ) -> None:
        self.distiller = distiller
        self.triggers = triggers
        self.store = store
        self.clock = clock
        self.pause = pause

    # -- ingest ------------------------------------------------------------------------------------------

    def ingest(self, notifications: Iterable[Any]) -> IngestResult:
        stored = duplicates = dropped = 0
        refused: list[str] = []
        for notification in notifications:
            try:
                event = self.distiller.to_event(notification)
            except TicklessError as exc:
                refused.append(exc.message)
                continue
            if event is None:
                dropped += 1
                continue
            position = q.event_position(event)
            if not self.store.add_event(event_doc(event), position, q.event_index_keys(event)):
                duplicates += 1
                if self.store.joined(event.message_id):
                    continue  # seen before and in its streams: nothing changes
            else:
                stored += 1
            # (a redelivery of an event whose joining failed half-way joins what it missed: a stream
            # already holding it is left as it is)
            for trigger in self.triggers:
                self._join(trigger, event, position)
            self.store.mark_joined(event.message_id)
        return IngestResult(stored, duplicates, dropped, tuple(refused))

    def _join(self, trigger: TriggerDefinition, event: Event, position: int) -> None:
        if not trigger.match(event):
            return
        traits = trigger.distinguishing(event)
        if traits is None:
            return
        key = stream_key(trigger.name, traits)
        member = (position, event.message_id)
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                self.pause(attempt)  # concurrent writers of one stream: spread the retries
            now = self.clock()
            found = self.store.active_stream(key)
            current = stream_of(found) if found is not None else None
            if current is not None and current.accepts_events(now):
                grown = current.add_event(trigger, event, now)
                version = int(found["version"])  # type: ignore[index]
                if self.store.save_stream(stream_doc(grown, version + 1), version, member) == "conflict":
                    continue
                return
            fresh = Stream.start(self.store.next_stream_id(), trigger, event, traits, now)
            replacing = current.id if current is not None else None
            filed = q.stream_index_keys(fresh)
            if self.store.create_stream(key, stream_doc(fresh, 1), replacing, member, filed):  # type: ignore[arg-type]
                return
        raise TicklessError(
            CONFLICT, f"stream of {trigger.name} kept changing under event {event.message_id}"
        )

    # -- reads -------------------------------------------------------------------------------------------

    def event(self, message_id: str) -> dict[str, Any]:
        doc = self.store.event(q.parse_message_id(message_id))
        if doc is None:
            raise TicklessError(NOT_FOUND, f"event {message_id} not found")
        return q.event_json(event_of(doc))

    def events(self, params: dict[str, Any], *, counting: bool = False) -> Any:
        found = q.EventQuery.from_params(params)
        enough = None if counting else found.limit
        candidates = self._scan(self.store.events, found, lambda e: q.event_position(e), event_of, enough)
        if counting:
            return q.count_json(q.count(candidates, found))
        return q.events_json(candidates, found)

    def stream(self, stream_id: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        number = q.parse_stream_id(stream_id)
        doc = self.store.stream(number)
        if doc is None:
            raise TicklessError(NOT_FOUND, f"stream {number} not found")
        stream = stream_of(doc)
        events = None
        if q.parse_details(params):
            events = [event_of(e) for m in self.store.stream_event_ids(number) if (e := self.store.event(m))]
        return [q.stream_json(stream, details=events is not None, events=events)]

    def delete_stream(self, stream_id: str) -> None:
        """DELETE /v1/streams/<id>: the stream goes, its events stay (StackTach's DELETE)."""
        number = q.parse_stream_id(stream_id)
        doc = self.store.stream(number)
        if doc is None:
            raise TicklessError(NOT_FOUND, f"stream {number} not found")
        stream = stream_of(doc)
        key = stream_key(stream.trigger_name, stream.distinguishing_traits)
        self.store.delete_stream(doc, key, q.stream_index_keys(stream))

    def reset_stream(self, stream_id: str) -> None:
        """PUT /v1/streams/<id>: error -> retry_fire, expire_error -> retry_expire (other states: as is)."""
        number = q.parse_stream_id(stream_id)
        for _ in range(MAX_ATTEMPTS):
            doc = self.store.stream(number)
            if doc is None:
                raise TicklessError(NOT_FOUND, f"stream {number} not found")
            stream = stream_of(doc)
            reset = stream.reset(self.clock())
            if reset is stream or reset == stream:
                return
            version = int(doc["version"])
            if self.store.replace_stream(stream_doc(reset, version + 1), version):
                return
        raise TicklessError(CONFLICT, f"stream {number} kept changing")

    def streams(self, params: dict[str, Any], *, counting: bool = False) -> Any:
        found = q.StreamQuery.from_params(params)
        enough = None if counting else found.limit
        candidates = self._scan(self.store.streams, found, q.stream_position, stream_of, enough)
        if counting:
            return q.count_json(q.count(candidates, found))
        return q.streams_json(candidates, found)

    @staticmethod
    def _scan(
        read: Callable[[bool, int | None, int, str | None], list[dict[str, Any]]],
        found: Any,
        position: Callable[[Any], int],
        decode: Callable[[dict[str, Any]], Any],
        enough: int | None,
    ) -> list[Any]:
        """Stored items from the query's mark on, in its direction, read a page at a time from the index
        the query names (all items otherwise) until `enough` match (None: all of them) or the query's
        time window ends; the query filters, orders and limits them."""
        ascending = found.mark.ascending
        low, high = found.window()
        bound = found.mark.position
        if ascending and low is not None:  # ascending reads positions above the bound
            bound = low if bound is None else max(bound, low)
        if not ascending and high is not None:  # descending reads positions below it
            bound = high + 1 if bound is None else min(bound, high + 1)
        index = found.index_key()
        out: list[Any] = []
        matched = 0
        while True:
            docs = read(not ascending, bound, _PAGE, index)
            items = [decode(d) for d in docs]
            out += items
            matched += sum(1 for item in items if found.matches(item))
            if len(docs) < _PAGE or (enough is not None and matched >= enough) or not items:
                return out
            bound = position(items[-1])
            if (ascending and high is not None and bound > high) or (
                not ascending and low is not None and bound <= low
            ):
                return out
