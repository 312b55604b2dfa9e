"""Winchester's stream life cycle: collecting events, firing, expiring, errors, resets, purge, recovery."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.kit.errors import TicklessError
from chalicelib.stacktach.streams import (
    STUCK_AFTER,
    TRANSITIONS,
    Stream,
    StreamState,
    decode_value,
    encode_value,
    stream_key,
)
from chalicelib.stacktach.timex import TimeRange
from chalicelib.stacktach.triggers import load_triggers

INSTANCE = "86def971-f2a2-4b1d-b379-fca1b0ddf0d7"
TRIGGER = """
- name: test_trigger
  distinguished_by:
  - instance_id
  - timestamp: "day"
  expiration: "$last + 2d"
  fire_delay: 60
  fire_pipeline: usage_fire
  expire_pipeline: usage_expire
  match_criteria:
  - event_type: ["compute.instance.*", "!compute.instance.exists"]
  - event_type: compute.instance.exists
    map_distinguished_by: {timestamp: audit_period_beginning}
  fire_criteria:
  - event_type: compute.instance.exists
"""
(DEF,) = load_triggers(TRIGGER)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def event(event_type: str, when: str, **traits: Any) -> dict[str, Any]:
    return {"event_type": event_type, "timestamp": at(when), "instance_id": INSTANCE, **traits}


UPDATE = event("compute.instance.update", "2015-02-27T15:27:18.603932")
CREATE_END = event("compute.instance.create.end", "2015-02-27T15:33:56.771932")
EXISTS = event(
    "compute.instance.exists", "2015-02-28T00:27:18.603932", audit_period_beginning=at("2015-02-27T00:00:00")
)
NOW = at("2015-02-27T16:00:00")


def started() -> Stream:
    traits = DEF.distinguishing(UPDATE)
    assert traits is not None
    return Stream.start(1, DEF, UPDATE, traits, NOW)


def test_new_stream() -> None:
    s = started()
    assert s.state is StreamState.active
    assert s.first_event == s.last_event == UPDATE["timestamp"]
    assert s.expire_timestamp == UPDATE["timestamp"] + timedelta(days=2)
    assert s.fire_timestamp is None
    assert s.event_count == 1
    assert s.state_serial_no == 0


def test_events_move_expiry_and_meet_fire_criteria() -> None:
    s = started().add_event(DEF, CREATE_END, NOW)
    assert s.last_event == CREATE_END["timestamp"]
    assert s.expire_timestamp == CREATE_END["timestamp"] + timedelta(days=2)
    assert s.fire_timestamp is None
    later = at("2015-02-28T00:30:00")
    s = s.add_event(DEF, EXISTS, later)
    assert s.event_count == 3
    assert s.fire_counts == (1,)
    assert s.fire_timestamp == later + timedelta(seconds=60)  # fire_delay from when the criteria were met
    assert s.expire_timestamp == at("2015-03-02T00:27:18.603932")
    # fire_timestamp is set once
    assert s.add_event(DEF, EXISTS, later + timedelta(hours=1)).fire_timestamp == s.fire_timestamp


def test_out_of_order_event_moves_first_event() -> None:
    s = Stream.start(1, DEF, CREATE_END, DEF.distinguishing(CREATE_END), NOW).add_event(DEF, UPDATE, NOW)
    assert s.first_event == UPDATE["timestamp"]
    assert s.last_event == CREATE_END["timestamp"]


def test_only_active_unexpired_streams_take_events() -> None:
    s = started()
    assert s.accepts_events(NOW)
    assert not s.accepts_events(s.expire_timestamp)
    with pytest.raises(TicklessError):
        s.add_event(DEF, CREATE_END, s.expire_timestamp + timedelta(seconds=1))
    with pytest.raises(TicklessError):
        s.fire(NOW).add_event(DEF, CREATE_END, NOW)


def test_fire_path_with_and_without_purge() -> None:
    s = started().add_event(DEF, EXISTS, NOW)
    assert s.due(NOW) is None  # fire_delay not over yet
    due = NOW + timedelta(minutes=2)
    assert s.due(due) is StreamState.firing
    firing = s.fire(due)
    assert firing.state is StreamState.firing
    assert firing.state_serial_no == 1
    assert firing.state_changed_at == due
    done = firing.finish(True, due, purge_completed=False)
    assert done is not None
    assert done.state is StreamState.completed
    assert done.state_serial_no == 2
    assert firing.finish(True, due, purge_completed=True) is None  # purged: delete the stream
    assert done.due(due + timedelta(days=9)) is None


def test_fire_error_reset_and_retry() -> None:
    s = started().add_event(DEF, EXISTS, NOW)
    due = NOW + timedelta(minutes=2)
    error = s.fire(due).finish(False, due)
    assert error.state is StreamState.error
    assert error.due(due + timedelta(days=9)) is None  # errors wait for a reset
    retry = error.reset(due)
    assert retry.state is StreamState.retry_fire
    assert retry.due(due) is StreamState.firing
    assert retry.fire(due).state is StreamState.firing
    with pytest.raises(TicklessError):
        retry.expire(due)


def test_expire_path_error_and_retry() -> None:
    s = started()
    assert s.due(s.expire_timestamp) is None  # strictly after
    after = s.expire_timestamp + timedelta(seconds=1)
    assert s.due(after) is StreamState.expiring
    expiring = s.expire(after)
    failed = expiring.finish(False, after)
    assert failed.state is StreamState.expire_error
    retry = failed.reset(after)
    assert retry.state is StreamState.retry_expire
    assert retry.due(after) is StreamState.expiring
    assert retry.expire(after).finish(True, after, purge_completed=False).state is StreamState.completed


def test_fire_wins_over_expire() -> None:
    s = started().add_event(DEF, EXISTS, NOW)
    assert s.due(s.expire_timestamp + timedelta(days=1)) is StreamState.firing


def test_reset_leaves_other_states_alone() -> None:
    s = started()
    assert s.reset(NOW) is s


def test_illegal_transitions() -> None:
    s = started()
    with pytest.raises(TicklessError) as err:
        s.transition(StreamState.completed, NOW)
    assert err.value.code == "conflict"
    with pytest.raises(TicklessError):
        s.finish(True, NOW)
    completed = s.fire(NOW).finish(True, NOW, purge_completed=False)
    for state in StreamState:
        with pytest.raises(TicklessError):
            completed.transition(state, NOW)


def test_transition_table_is_winchesters() -> None:
    assert TRANSITIONS[StreamState.active] == {StreamState.firing, StreamState.expiring}
    assert TRANSITIONS[StreamState.firing] == {StreamState.completed, StreamState.error}
    assert TRANSITIONS[StreamState.expiring] == {StreamState.completed, StreamState.expire_error}
    assert TRANSITIONS[StreamState.error] == {StreamState.retry_fire}
    assert TRANSITIONS[StreamState.expire_error] == {StreamState.retry_expire}
    assert [s.number for s in StreamState] == [1, 2, 3, 4, 5, 6, 7, 8]


def test_stuck_streams_are_recovered() -> None:
    firing = started().fire(NOW)
    assert not firing.is_stuck(NOW + STUCK_AFTER)
    late = NOW + STUCK_AFTER + timedelta(seconds=1)
    assert firing.is_stuck(late)
    recovered = firing.recover(late)
    assert recovered.state is StreamState.retry_fire
    assert recovered.state_serial_no == firing.state_serial_no + 1
    expiring = started().expire(NOW)
    assert expiring.recover(late).state is StreamState.retry_expire
    with pytest.raises(TicklessError):
        started().recover(late)
    with pytest.raises(TicklessError):
        firing.recover(NOW)


def test_json_as_the_api_writes_it() -> None:
    s = started().add_event(DEF, EXISTS, at("2015-02-27T14:57:32.330963"))
    assert s.to_json() == {
        "distinguishing_traits": {
            "instance_id": INSTANCE,
            "timestamp": {
                "__type__": "timex.TimeRange",
                "begin": "2015-02-27T00:00:00",
                "end": "2015-02-28T00:00:00",
            },
        },
        "expire_timestamp": {"__type__": "datetime", "datetime": "2015-03-02T00:27:18.603932"},
        "fire_timestamp": {"__type__": "datetime", "datetime": "2015-02-27T14:58:32.330963"},
        "first_event": {"__type__": "datetime", "datetime": "2015-02-27T15:27:18.603932"},
        "id": 1,
        "last_event": {"__type__": "datetime", "datetime": "2015-02-28T00:27:18.603932"},
        "name": "test_trigger",
        "state": "active",
    }


def test_value_encoding_round_trips() -> None:
    rng = TimeRange(datetime(2015, 2, 27), datetime(2015, 2, 28))
    assert decode_value(encode_value(rng)) == rng
    assert decode_value(encode_value(datetime(2015, 2, 27, 1))) == datetime(2015, 2, 27, 1)
    assert encode_value(None) is None
    assert decode_value(7) == 7


def test_stream_key_is_canonical() -> None:
    a = DEF.distinguishing(UPDATE)
    b = DEF.distinguishing(EXISTS)
    assert stream_key(DEF.name, a) == stream_key(DEF.name, dict(reversed(list(b.items()))))
    assert stream_key(DEF.name, a) != stream_key("other", a)


def test_next_due_follows_the_state() -> None:
    """The agenda time: expiry while active, the earlier of fire and expiry once fire criteria are met,
    the stuck bound while a worker holds it, nothing once completed or in error."""
    stream = started()
    assert stream.next_due() == stream.expire_timestamp
    fired = stream.add_event(DEF, EXISTS, NOW)
    assert fired.fire_timestamp is not None
    assert fired.next_due() == min(fired.fire_timestamp, fired.expire_timestamp)
    firing = fired.fire(fired.fire_timestamp + timedelta(seconds=1))
    assert firing.next_due() == firing.state_changed_at + STUCK_AFTER
    done = firing.finish(True, NOW)
    assert done is not None and done.state is StreamState.completed and done.next_due() is None
    failed = firing.finish(False, NOW)
    assert failed is not None and failed.state is StreamState.error and failed.next_due() is None
    retry = failed.reset(NOW)
    assert retry.state is StreamState.retry_fire and retry.next_due() == fired.fire_timestamp
