"""Winchester streams: the events of one trigger sharing distinguishing traits, and their state machine.

A stream collects events while `active` and unexpired; meeting the fire criteria sets `fire_timestamp`
(fire_delay later). Once due it is fired (`active|retry_fire -> firing -> completed|error`) or expired
(`active|retry_expire -> expiring -> completed|expire_error`), firing taking precedence as in Winchester's
worker loop. An API reset moves `error -> retry_fire` and `expire_error -> retry_expire`. Every state change
bumps `state_serial_no`, the optimistic lock Winchester takes so one worker owns a stream. StackTach leaves
a stream whose worker died in `firing`/`expiring` forever; tickless sends it back to retry after a bound.
Streams are immutable values: each operation returns the next one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from chalicelib.kit.errors import CONFLICT, TicklessError, invalid
from chalicelib.stacktach.timex import JSON_TYPE, TimeRange
from chalicelib.stacktach.triggers import DistinguishingValue, Event, TriggerDefinition, event_view

# Completed streams are kept (the API lists them and DELETE removes them, as StackTach's API documents
# with purge_completed_streams off); a deployment may purge them (Winchester's own default).
PURGE_COMPLETED_DEFAULT = False
# A worker that has held a stream in firing/expiring this long is presumed dead.
STUCK_AFTER = timedelta(minutes=15)


class StreamState(StrEnum):
    active = "active"
    firing = "firing"
    expiring = "expiring"
    error = "error"
    expire_error = "expire_error"
    completed = "completed"
    retry_fire = "retry_fire"
    retry_expire = "retry_expire"

    @property
    def number(self) -> int:
        """Winchester's stored integer for the state."""
        return list(StreamState).index(self) + 1


S = StreamState
TRANSITIONS: dict[StreamState, frozenset[StreamState]] = {
    S.active: frozenset({S.firing, S.expiring}),
    S.retry_fire: frozenset({S.firing}),
    S.retry_expire: frozenset({S.expiring}),
    S.firing: frozenset({S.completed, S.error}),
    S.expiring: frozenset({S.completed, S.expire_error}),
    S.error: frozenset({S.retry_fire}),
    S.expire_error: frozenset({S.retry_expire}),
    S.completed: frozenset(),
}
# Tickless-only: recovering a stuck stream hands it back for another attempt.
RECOVER = {S.firing: S.retry_fire, S.expiring: S.retry_expire}
RESET = {S.error: S.retry_fire, S.expire_error: S.retry_expire}
FIRE_FROM = frozenset({S.active, S.retry_fire})
EXPIRE_FROM = frozenset({S.active, S.retry_expire})


def _event_time(event: Event) -> datetime:
    when = event_view(event).get("timestamp")
    if not isinstance(when, datetime):
        raise invalid("event has no timestamp")
    return when


@dataclass(frozen=True, slots=True)
class Stream:
    id: int | str
    trigger_name: str
    first_event: datetime
    last_event: datetime
    expire_timestamp: datetime
    distinguishing_traits: Mapping[str, DistinguishingValue] = field(default_factory=dict)
    state: StreamState = StreamState.active
    fire_timestamp: datetime | None = None
    state_serial_no: int = 0
    state_changed_at: datetime | None = None
    event_count: int = 0
    fire_counts: tuple[int, ...] = ()  # per fire criterion, the stream's events that meet it

    @classmethod
    def start(
        cls,
        stream_id: int | str,
        trigger: TriggerDefinition,
        event: Event,
        traits: Mapping[str, DistinguishingValue],
        now: datetime,
    ) -> Stream:
        """A new stream holding its first event (fire criteria may already be met)."""
        when = _event_time(event)
        stream = cls(
            id=stream_id,
            trigger_name=trigger.name,
            first_event=when,
            last_event=when,
            expire_timestamp=trigger.expiration(when, when, now),
            distinguishing_traits=dict(traits),
            state_changed_at=now,
            fire_counts=(0,) * len(trigger.fire_criteria),
        )
        return stream._counted(trigger, event, now)

    def accepts_events(self, now: datetime) -> bool:
        """Winchester adds events only to an active stream that has not expired yet."""
        return self.state is S.active and self.expire_timestamp > now

    def add_event(self, trigger: TriggerDefinition, event: Event, now: datetime) -> Stream:
        if trigger.name != self.trigger_name:
            raise invalid(f"stream {self.id} belongs to trigger {self.trigger_name!r}, not {trigger.name!r}")
        if not self.accepts_events(now):
            raise TicklessError(CONFLICT, f"stream {self.id} no longer accepts events ({self.state})")
        when = _event_time(event)
        first, last = min(self.first_event, when), max(self.last_event, when)
        grown = replace(
            self, first_event=first, last_event=last, expire_timestamp=trigger.expiration(first, last, now)
        )
        return grown._counted(trigger, event, now)

    def _counted(self, trigger: TriggerDefinition, event: Event, now: datetime) -> Stream:
        counts = self.fire_counts or (0,) * len(trigger.fire_criteria)
        counts = tuple(a + b for a, b in zip(counts, trigger.fire_hits(event), strict=True))
        fire_at = self.fire_timestamp
        if fire_at is None and trigger.counts_fire(counts):
            fire_at = trigger.fire_timestamp(now)
        return replace(self, event_count=self.event_count + 1, fire_counts=counts, fire_timestamp=fire_at)

    def ready_to_fire(self, now: datetime) -> bool:
        return self.state in FIRE_FROM and self.fire_timestamp is not None and self.fire_timestamp < now

    def ready_to_expire(self, now: datetime) -> bool:
        return self.state in EXPIRE_FROM and self.expire_timestamp < now

    def due(self, now: datetime) -> StreamState | None:
        """What a worker should do now: `firing`, `expiring` or nothing (firing wins when both are due)."""
        if self.ready_to_fire(now):
            return S.firing
        if self.ready_to_expire(now):
            return S.expiring
        return None

    def next_due(self, after: timedelta = STUCK_AFTER) -> datetime | None:
        """When a worker should next look at the stream: its fire or expire time while it may fire or
        expire, the moment it counts as stuck while a worker holds it; None once nothing is left to do."""
        times: list[datetime] = []
        if self.state in FIRE_FROM and self.fire_timestamp is not None:
            times.append(self.fire_timestamp)
        if self.state in EXPIRE_FROM:
            times.append(self.expire_timestamp)
        if self.state in RECOVER and self.state_changed_at is not None:
            times.append(self.state_changed_at + after)
        return min(times, default=None)

    def transition(self, to: StreamState, now: datetime) -> Stream:
        """The stream in state `to`, its serial bumped; stores write it only if the serial is unchanged."""
        to = StreamState(to)
        if to not in TRANSITIONS[self.state]:
            raise TicklessError(CONFLICT, f"stream {self.id} cannot go from {self.state} to {to}")
        return self._moved(to, now)

    def _moved(self, to: StreamState, now: datetime) -> Stream:
        return replace(self, state=to, state_serial_no=self.state_serial_no + 1, state_changed_at=now)

    def fire(self, now: datetime) -> Stream:
        if self.state not in FIRE_FROM:
            raise TicklessError(CONFLICT, f"stream {self.id} cannot fire from {self.state}")
        return self.transition(S.firing, now)

    def expire(self, now: datetime) -> Stream:
        if self.state not in EXPIRE_FROM:
            raise TicklessError(CONFLICT, f"stream {self.id} cannot expire from {self.state}")
        return self.transition(S.expiring, now)

    def finish(
        self, ok: bool, now: datetime, purge_completed: bool = PURGE_COMPLETED_DEFAULT
    ) -> Stream | None:
        """After the pipeline ran: completed (None = delete it, with purge) or error/expire_error."""
        if self.state not in (S.firing, S.expiring):
            raise TicklessError(CONFLICT, f"stream {self.id} is not being processed ({self.state})")
        if ok:
            return None if purge_completed else self.transition(S.completed, now)
        return self.transition(S.error if self.state is S.firing else S.expire_error, now)

    def reset(self, now: datetime) -> Stream:
        """The API's PUT: error streams go back for retry; any other stream is left as it is."""
        to = RESET.get(self.state)
        return self if to is None else self.transition(to, now)

    def is_stuck(self, now: datetime, after: timedelta = STUCK_AFTER) -> bool:
        changed = self.state_changed_at
        return self.state in RECOVER and changed is not None and now - changed > after

    def recover(self, now: datetime, after: timedelta = STUCK_AFTER) -> Stream:
        if not self.is_stuck(now, after):
            raise TicklessError(CONFLICT, f"stream {self.id} is not stuck ({self.state})")
        return self._moved(RECOVER[self.state], now)

    def to_json(self) -> dict[str, Any]:
        """The StackTach API's stream object (without `_mark`)."""
        return {
            "distinguishing_traits": {k: encode_value(v) for k, v in self.distinguishing_traits.items()},
            "expire_timestamp": encode_value(self.expire_timestamp),
            "fire_timestamp": encode_value(self.fire_timestamp),
            "first_event": encode_value(self.first_event),
            "id": self.id,
            "last_event": encode_value(self.last_event),
            "name": self.trigger_name,
            "state": str(self.state),
        }


def _iso(dt: datetime) -> str:
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    return dt.isoformat()


def encode_value(value: Any) -> Any:
    """StackTach's JSON type hints: `{"__type__": "datetime", ...}` and `timex.TimeRange`."""
    if isinstance(value, datetime):
        return {"__type__": "datetime", "datetime": _iso(value)}
    if isinstance(value, TimeRange):
        return value.to_json()
    return value


def decode_value(value: Any) -> Any:
    if isinstance(value, Mapping):
        kind = value.get("__type__")
        if kind == "datetime":
            try:
                return datetime.fromisoformat(value["datetime"])
            except (KeyError, TypeError, ValueError) as e:
                raise invalid(f"invalid datetime {value!r}") from e
        if kind == JSON_TYPE:
            return TimeRange.from_json(dict(value))
    return value


def stream_key(trigger_name: str, traits: Mapping[str, DistinguishingValue]) -> str:
    """A canonical string for (trigger, distinguishing traits): the lookup for the one active stream."""
    encoded = {k: encode_value(v) for k, v in traits.items()}
    return json.dumps([trigger_name, encoded], sort_keys=True, separators=(",", ":"), default=str)
