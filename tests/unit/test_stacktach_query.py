"""StackTach.v3's /v1/streams and /v1/events queries: parameters, filters, marks, paging and JSON shapes."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from chalicelib.kit.errors import INVALID, TicklessError
from chalicelib.stacktach.distiller import Event, Trait, TraitType
from chalicelib.stacktach.query import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    EventQuery,
    Mark,
    StreamQuery,
    count,
    count_json,
    event_json,
    event_position,
    events_json,
    page,
    parse_details,
    parse_message_id,
    parse_stream_id,
    stream_json,
    streams_json,
)
from chalicelib.stacktach.streams import Stream, StreamState, decode_value
from chalicelib.stacktach.timex import TimeRange

# StackTach's API samples (stacktach-sandbox docs/api.html), verbatim.

STREAMS_SAMPLE: list[dict[str, Any]] = [
    {
        "_mark": "2",
        "distinguishing_traits": {
            "instance_id": "8f81562e-70c9-4541-b054-3826121dc75b",
            "timestamp": {
                "__type__": "timex.TimeRange",
                "begin": "2015-02-27T00:00:00",
                "end": "2015-02-28T00:00:00",
            },
        },
        "expire_timestamp": {"__type__": "datetime", "datetime": "2015-03-02T00:27:18.603932"},
        "fire_timestamp": {"__type__": "datetime", "datetime": "2015-02-27T14:57:32.731196"},
        "first_event": {"__type__": "datetime", "datetime": "2015-02-27T18:27:18.603932"},
        "id": 2,
        "last_event": {"__type__": "datetime", "datetime": "2015-02-28T00:27:18.603932"},
        "name": "test_trigger",
        "state": "completed",
    },
    {
        "_mark": "1",
        "distinguishing_traits": {
            "instance_id": "86def971-f2a2-4b1d-b379-fca1b0ddf0d7",
            "timestamp": {
                "__type__": "timex.TimeRange",
                "begin": "2015-02-27T00:00:00",
                "end": "2015-02-28T00:00:00",
            },
        },
        "expire_timestamp": {"__type__": "datetime", "datetime": "2015-03-02T00:27:18.603932"},
        "fire_timestamp": {"__type__": "datetime", "datetime": "2015-02-27T14:57:32.330963"},
        "first_event": {"__type__": "datetime", "datetime": "2015-02-27T15:27:18.603932"},
        "id": 1,
        "last_event": {"__type__": "datetime", "datetime": "2015-02-28T00:27:18.603932"},
        "name": "test_trigger",
        "state": "completed",
    },
]

STREAM_1_EVENTS_SAMPLE: list[dict[str, Any]] = [
    {
        "disk_gb": 20,
        "ephemeral_gb": 0,
        "event_type": "compute.instance.update",
        "instance_flavor": "512MB Standard Instance",
        "instance_flavor_id": 2,
        "instance_id": "86def971-f2a2-4b1d-b379-fca1b0ddf0d7",
        "instance_type": "512MB Standard Instance",
        "memory_mb": 512,
        "message_id": "936a849a-6eb3-4750-a431-7ca1aec9d611",
        "os_architecture": "x64",
        "os_distro": "com.ubuntu",
        "os_version": "12.04",
        "request_id": "req-028c51c6-e26e-4fd7-9347-bc1b2a7eb11a",
        "root_gb": 20,
        "service": "publisher-482147",
        "state": "building",
        "tenant_id": "408577",
        "timestamp": {"__type__": "datetime", "datetime": "2015-02-27T15:27:18.603932"},
        "user_id": "863985",
        "vcpus": 1,
    },
    {
        "disk_gb": 20,
        "ephemeral_gb": 0,
        "event_type": "compute.instance.create.start",
        "instance_flavor": "512MB Standard Instance",
        "instance_flavor_id": 2,
        "instance_id": "86def971-f2a2-4b1d-b379-fca1b0ddf0d7",
        "instance_type": "512MB Standard Instance",
        "memory_mb": 512,
        "message": "",
        "message_id": "d359a6db-a488-4522-8b94-2ad17fb7ac38",
        "os_architecture": "x64",
        "os_distro": "com.ubuntu",
        "os_version": "12.04",
        "request_id": "req-028c51c6-e26e-4fd7-9347-bc1b2a7eb11a",
        "root_gb": 20,
        "service": "publisher-482147",
        "state": "building",
        "tenant_id": "408577",
        "timestamp": {"__type__": "datetime", "datetime": "2015-02-27T15:33:22.667932"},
        "user_id": "863985",
        "vcpus": 1,
    },
    {
        "disk_gb": 20,
        "ephemeral_gb": 0,
        "event_type": "compute.instance.update",
        "instance_flavor": "512MB Standard Instance",
        "instance_flavor_id": 2,
        "instance_id": "86def971-f2a2-4b1d-b379-fca1b0ddf0d7",
        "instance_type": "512MB Standard Instance",
        "launched_at": {"__type__": "datetime", "datetime": "2015-02-27T15:31:24.473932"},
        "memory_mb": 512,
        "message_id": "fa6f6302-e35e-4c21-a69d-5322497526ed",
        "os_architecture": "x64",
        "os_distro": "com.ubuntu",
        "os_version": "12.04",
        "request_id": "req-028c51c6-e26e-4fd7-9347-bc1b2a7eb11a",
        "root_gb": 20,
        "service": "publisher-482147",
        "state": "active",
        "tenant_id": "408577",
        "timestamp": {"__type__": "datetime", "datetime": "2015-02-27T15:33:24.565932"},
        "user_id": "863985",
        "vcpus": 1,
    },
    {
        "disk_gb": 20,
        "ephemeral_gb": 0,
        "event_type": "compute.instance.create.end",
        "instance_flavor": "512MB Standard Instance",
        "instance_flavor_id": 2,
        "instance_id": "86def971-f2a2-4b1d-b379-fca1b0ddf0d7",
        "instance_type": "512MB Standard Instance",
        "launched_at": {"__type__": "datetime", "datetime": "2015-02-27T15:31:24.473932"},
        "memory_mb": 512,
        "message": "Success",
        "message_id": "379cbd38-cae6-44cd-ae8e-5fb05777d1e0",
        "os_architecture": "x64",
        "os_distro": "com.ubuntu",
        "os_version": "12.04",
        "request_id": "req-028c51c6-e26e-4fd7-9347-bc1b2a7eb11a",
        "root_gb": 20,
        "service": "publisher-482147",
        "state": "active",
        "tenant_id": "408577",
        "timestamp": {"__type__": "datetime", "datetime": "2015-02-27T15:33:56.771932"},
        "user_id": "863985",
        "vcpus": 1,
    },
    {
        "disk_gb": 20,
        "ephemeral_gb": 0,
        "event_type": "compute.instance.update",
        "instance_flavor": "512MB Standard Instance",
        "instance_flavor_id": 2,
        "instance_id": "86def971-f2a2-4b1d-b379-fca1b0ddf0d7",
        "instance_type": "512MB Standard Instance",
        "memory_mb": 512,
        "message_id": "c0784af6-deb7-452d-b09e-5a1dc1ac138f",
        "os_architecture": "x64",
        "os_distro": "com.ubuntu",
        "os_version": "12.04",
        "request_id": "req-028c51c6-e26e-4fd7-9347-bc1b2a7eb11a",
        "root_gb": 20,
        "service": "publisher-482147",
        "state": "building",
        "tenant_id": "408577",
        "timestamp": {"__type__": "datetime", "datetime": "2015-02-27T15:40:34.186932"},
        "user_id": "863985",
        "vcpus": 1,
    },
    {
        "disk_gb": 20,
        "ephemeral_gb": 0,
        "event_type": "compute.instance.update",
        "instance_flavor": "512MB Standard Instance",
        "instance_flavor_id": 2,
        "instance_id": "86def971-f2a2-4b1d-b379-fca1b0ddf0d7",
        "instance_type": "512MB Standard Instance",
        "memory_mb": 512,
        "message_id": "e1c5ec1c-946d-422f-a890-3248fdf58cc0",
        "os_architecture": "x64",
        "os_distro": "com.ubuntu",
        "os_version": "12.04",
        "request_id": "req-028c51c6-e26e-4fd7-9347-bc1b2a7eb11a",
        "root_gb": 20,
        "service": "publisher-482147",
        "state": "building",
        "tenant_id": "408577",
        "timestamp": {"__type__": "datetime", "datetime": "2015-02-27T15:42:34.939932"},
        "user_id": "863985",
        "vcpus": 1,
    },
    {
        "disk_gb": 20,
        "ephemeral_gb": 0,
        "event_type": "compute.instance.update",
        "instance_flavor": "512MB Standard Instance",
        "instance_flavor_id": 2,
        "instance_id": "86def971-f2a2-4b1d-b379-fca1b0ddf0d7",
        "instance_type": "512MB Standard Instance",
        "memory_mb": 512,
        "message_id": "6df0588b-2cf2-4f0b-96f3-98c2046f29ff",
        "os_architecture": "x64",
        "os_distro": "com.ubuntu",
        "os_version": "12.04",
        "request_id": "req-028c51c6-e26e-4fd7-9347-bc1b2a7eb11a",
        "root_gb": 20,
        "service": "publisher-482147",
        "state": "building",
        "tenant_id": "408577",
        "timestamp": {"__type__": "datetime", "datetime": "2015-02-27T15:43:25.091932"},
        "user_id": "863985",
        "vcpus": 1,
    },
    {
        "audit_period_beginning": {"__type__": "datetime", "datetime": "2015-02-27T00:00:00"},
        "audit_period_ending": {"__type__": "datetime", "datetime": "2015-02-28T00:00:00"},
        "disk_gb": 620,
        "ephemeral_gb": 0,
        "event_type": "compute.instance.exists",
        "instance_flavor": "15GB Standard Instance",
        "instance_flavor_id": 7,
        "instance_id": "86def971-f2a2-4b1d-b379-fca1b0ddf0d7",
        "instance_type": "15GB Standard Instance",
        "launched_at": {"__type__": "datetime", "datetime": "2014-12-15T13:22:12.015932"},
        "memory_mb": 15360,
        "message_id": "a16aa892-6e62-47fd-8aee-5183ef71d605",
        "os_architecture": "x64",
        "os_distro": "com.ubuntu",
        "os_version": "12.04",
        "request_id": "req-d14c8981-db18-4d1e-b17c-e7931fd2a0e9",
        "root_gb": 620,
        "service": "publisher-262311",
        "state": "active",
        "tenant_id": "714200",
        "timestamp": {"__type__": "datetime", "datetime": "2015-02-28T00:27:18.603932"},
        "user_id": "960064",
        "vcpus": 6,
    },
]

EVENTS_SAMPLE: list[dict[str, Any]] = [
    {
        "_mark": "280",
        "disk_gb": 20,
        "display_name": "Instance_358720",
        "ephemeral_gb": 0,
        "event_type": "compute.instance.unrescue.start",
        "instance_type": "512MB Standard Instance",
        "launched_at": {"__type__": "datetime", "datetime": "2015-03-04T22:41:40.771441"},
        "memory_mb": 512,
        "message_id": "4e38d6aa-8fd3-4f26-9293-b621735ea322",
        "os_architecture": "x64",
        "os_distro": "org.centos",
        "os_version": "6.4",
        "request_id": "req-a71cc334-926a-45cb-9ca2-3644f143d0ad",
        "root_gb": 20,
        "service": "publisher-15829",
        "state": "rescued",
        "state_description": "",
        "tenant_id": "685053",
        "timestamp": {"__type__": "datetime", "datetime": "2015-03-04T22:33:55.204441"},
        "user_id": "701363",
        "vcpus": 1,
    },
    {
        "_mark": "27a",
        "disk_gb": 20,
        "display_name": "Instance_358720",
        "ephemeral_gb": 0,
        "event_type": "compute.instance.update",
        "instance_flavor": "512MB Standard Instance",
        "instance_flavor_id": 2,
        "instance_id": "2fd4d09f-b685-4a80-9b6b-793da76db70e",
        "instance_type": "512MB Standard Instance",
        "launched_at": {"__type__": "datetime", "datetime": "2015-03-04T22:41:40.771441"},
        "memory_mb": 512,
        "message_id": "b920513c-4dae-474c-b164-71e23349d131",
        "os_architecture": "x64",
        "os_distro": "org.centos",
        "os_version": "6.4",
        "request_id": "req-a71cc334-926a-45cb-9ca2-3644f143d0ad",
        "root_gb": 20,
        "service": "publisher-15829",
        "state": "rescued",
        "state_description": "unrescuing",
        "tenant_id": "685053",
        "timestamp": {"__type__": "datetime", "datetime": "2015-03-04T22:31:08.131441"},
        "user_id": "701363",
        "vcpus": 1,
    },
]

ENVELOPE = ("message_id", "event_type", "timestamp", "_mark")


def _aware(value: Any) -> Any:
    return value.replace(tzinfo=UTC) if isinstance(value, datetime) else value


def decode_event(body: dict[str, Any]) -> Event:
    """A sample event back to a distilled Event (a trait's type from its JSON value)."""
    traits = {}
    for name, raw in body.items():
        if name in ENVELOPE:
            continue
        value = _aware(decode_value(raw))
        kind = {datetime: TraitType.DATETIME, int: TraitType.INT, float: TraitType.FLOAT}.get(
            type(value), TraitType.TEXT
        )
        traits[name] = Trait(name, kind, value)
    return Event(body["message_id"], body["event_type"], _aware(decode_value(body["timestamp"])), traits)


def decode_stream(body: dict[str, Any]) -> Stream:
    return Stream(
        id=body["id"],
        trigger_name=body["name"],
        first_event=_aware(decode_value(body["first_event"])),
        last_event=_aware(decode_value(body["last_event"])),
        expire_timestamp=_aware(decode_value(body["expire_timestamp"])),
        fire_timestamp=_aware(decode_value(body["fire_timestamp"])),
        distinguishing_traits={k: decode_value(v) for k, v in body["distinguishing_traits"].items()},
        state=StreamState(body["state"]),
    )


STREAM_2, STREAM_1 = (decode_stream(body) for body in STREAMS_SAMPLE)
STREAM_1_EVENTS = [decode_event(body) for body in STREAM_1_EVENTS_SAMPLE]
SAMPLE_EVENTS = [decode_event(body) for body in EVENTS_SAMPLE]


def invalid(call: Any, *args: Any) -> str:
    with pytest.raises(TicklessError) as err:
        call(*args)
    assert err.value.code == INVALID and err.value.status == 400
    return err.value.message


def ids(streams: list[Stream]) -> list[int | str]:
    return [s.id for s in streams]


def stream(sid: int, **changes: Any) -> Stream:
    base = {
        "id": sid,
        "trigger_name": "test_trigger",
        "first_event": datetime(2015, 2, 27, 12, tzinfo=UTC),
        "last_event": datetime(2015, 2, 27, 18, tzinfo=UTC),
        "expire_timestamp": datetime(2015, 3, 1, tzinfo=UTC),
        "distinguishing_traits": {"instance_id": f"i-{sid}"},
    }
    return Stream(**{**base, **changes})


def event(
    message_id: str, when: datetime, event_type: str = "compute.instance.update", **traits: Any
) -> Event:
    kinds = {int: TraitType.INT, float: TraitType.FLOAT, datetime: TraitType.DATETIME, str: TraitType.TEXT}
    return Event(message_id, event_type, when, {n: Trait(n, kinds[type(v)], v) for n, v in traits.items()})


# --- encodings against the samples ---------------------------------------------------------------------


def test_stream_list_is_the_sample_newest_id_first_with_marks() -> None:
    assert streams_json([STREAM_1, STREAM_2], StreamQuery.from_params({})) == STREAMS_SAMPLE


def test_single_stream_is_the_sample() -> None:
    assert [stream_json(STREAM_1, details=False)] == [STREAMS_SAMPLE[1]]


def test_stream_details_list_its_events_oldest_first_without_marks() -> None:
    shuffled = random.Random(4).sample(STREAM_1_EVENTS, len(STREAM_1_EVENTS))
    body = stream_json(STREAM_1, details=True, events=shuffled)
    assert body == {**STREAMS_SAMPLE[1], "events": STREAM_1_EVENTS_SAMPLE}
    assert stream_json(STREAM_1, details=True)["events"] == []
    assert "events" not in stream_json(STREAM_1, details=False, events=shuffled)


def test_events_are_the_sample_with_their_marks() -> None:
    assert [event_json(e, body["_mark"]) for e, body in zip(SAMPLE_EVENTS, EVENTS_SAMPLE, strict=True)] == (
        EVENTS_SAMPLE
    )


def test_single_event_has_no_mark() -> None:
    expected = {k: v for k, v in EVENTS_SAMPLE[1].items() if k != "_mark"}
    assert [event_json(SAMPLE_EVENTS[1])] == [expected]


def test_envelope_hides_a_trait_of_the_same_name() -> None:
    traits = {n: Trait(n, TraitType.TEXT, "a trait") for n in ("timestamp", "event_type", "message_id")}
    body = event_json(Event("m", "compute.instance.update", datetime(2015, 1, 1, tzinfo=UTC), traits), "1")
    assert body["timestamp"] == {"__type__": "datetime", "datetime": "2015-01-01T00:00:00"}
    assert body["event_type"] == "compute.instance.update" and body["message_id"] == "m"


def test_counts_are_winchesters_shape() -> None:
    assert count_json(23) == [{"count": 23}]


def test_stream_mark_given_overrides_and_ascending_marks_carry_plus() -> None:
    assert stream_json(STREAM_1, mark="+1")["_mark"] == "+1"
    query = StreamQuery.from_params({"mark": "+"})
    assert [s["_mark"] for s in streams_json([STREAM_2, STREAM_1], query)] == ["+1", "+2"]
    assert stream_json(stream(255))["_mark"] == "ff"


def test_stream_string_ids_of_digits_page_too() -> None:
    assert stream_json(stream("26"))["_mark"] == "1a"  # type: ignore[arg-type]
    with pytest.raises(TicklessError) as err:
        stream_json(stream("abc"))  # type: ignore[arg-type]
    assert err.value.status == 500


# --- stream filters ------------------------------------------------------------------------------------


def test_defaults() -> None:
    query = StreamQuery.from_params({})
    assert query == StreamQuery()
    assert query.limit == DEFAULT_LIMIT == 200 and query.mark == Mark()
    assert EventQuery.from_params({}) == EventQuery()


def test_empty_parameters_count_as_absent() -> None:
    params = dict.fromkeys(
        ("older_than", "younger_than", "state", "trigger_name", "distinguishing_traits", "mark", "limit"), ""
    )
    assert StreamQuery.from_params(params) == StreamQuery()
    params = dict.fromkeys(("from_datetime", "to_datetime", "event_name", "traits", "mark", "limit"), " ")
    assert EventQuery.from_params(params) == EventQuery()


def test_older_than_compares_first_event() -> None:
    streams = [STREAM_1, STREAM_2]  # first events 15:27 and 18:27 on 2015-02-27
    assert ids(page(streams, StreamQuery.from_params({"older_than": "2015-02-27T16:00"}))) == [1]
    assert ids(page(streams, StreamQuery.from_params({"older_than": "2015-02-27T18:27:18.603932"}))) == [1]
    assert ids(page(streams, StreamQuery.from_params({"older_than": "2015-02-28"}))) == [2, 1]


def test_younger_than_compares_last_event() -> None:
    early = stream(3, last_event=datetime(2015, 2, 27, 1, tzinfo=UTC))
    streams = [STREAM_1, STREAM_2, early]
    assert ids(page(streams, StreamQuery.from_params({"younger_than": "2015-02-27T13:30"}))) == [2, 1]
    assert ids(page(streams, StreamQuery.from_params({"younger_than": "2015-02-28T00:27:18.603932"}))) == []
    assert ids(page(streams, StreamQuery.from_params({"younger_than": "2015-02-26"}))) == [3, 2, 1]


def test_dates_take_zones_and_naive_means_utc() -> None:
    query = StreamQuery.from_params({"older_than": "2015-02-27T17:00+02:00"})
    assert query.older_than == datetime(2015, 2, 27, 15, tzinfo=UTC)
    # An unencoded `+` arrives as a space.
    assert StreamQuery.from_params({"older_than": "2015-02-27T17:00 02:00"}) == query
    assert StreamQuery.from_params({"older_than": "2015-02-27 15:00Z"}) == query
    naive = stream(5, first_event=datetime(2015, 2, 27, 14), last_event=datetime(2015, 2, 27, 14))
    assert query.matches(naive)


def test_state_any_case() -> None:
    streams = [stream(1), stream(2, state=StreamState.error), stream(3, state=StreamState.retry_fire)]
    for state in StreamState:
        assert StreamQuery.from_params({"state": state.value}).state is state
    assert ids(page(streams, StreamQuery.from_params({"state": "ERROR"}))) == [2]
    assert ids(page(streams, StreamQuery.from_params({"state": "retry_fire"}))) == [3]


def test_trigger_name_exact() -> None:
    streams = [stream(1), stream(2, trigger_name="other")]
    assert ids(page(streams, StreamQuery.from_params({"trigger_name": "other"}))) == [2]
    assert ids(page(streams, StreamQuery.from_params({"trigger_name": "test"}))) == []


def test_distinguishing_traits_all_must_match() -> None:
    streams = [STREAM_1, STREAM_2]
    one = "instance_id:86def971-f2a2-4b1d-b379-fca1b0ddf0d7"
    assert ids(page(streams, StreamQuery.from_params({"distinguishing_traits": one}))) == [1]
    spaced = " instance_id : 86def971-f2a2-4b1d-b379-fca1b0ddf0d7 ;"
    assert ids(page(streams, StreamQuery.from_params({"distinguishing_traits": spaced}))) == [1]
    both = f"{one};timestamp:2015-02-28T00:00"
    assert ids(page(streams, StreamQuery.from_params({"distinguishing_traits": both}))) == []
    assert ids(page(streams, StreamQuery.from_params({"distinguishing_traits": "missing:x"}))) == []


def test_time_range_trait_matches_a_datetime_inside_it() -> None:
    streams = [STREAM_1, STREAM_2]
    for inside in ("2015-02-27T00:00", "2015-02-27T23:59:59.999999", "2015-02-27T13:30:00+01:00"):
        query = StreamQuery.from_params({"distinguishing_traits": f"timestamp:{inside}"})
        assert ids(page(streams, query)) == [2, 1], inside
    for outside in ("2015-02-28T00:00", "2015-02-26T23:59", "day"):
        query = StreamQuery.from_params({"distinguishing_traits": f"timestamp:{outside}"})
        assert ids(page(streams, query)) == [], outside


def test_distinguishing_traits_of_every_type() -> None:
    when = datetime(2015, 2, 27, 1, 2, 3, 400000, tzinfo=UTC)
    s = stream(1, distinguishing_traits={"n": 7, "f": 2.5, "d": when, "t": "7", "r": TimeRange(when, when)})
    for text in (
        "n:7",
        "n:+7",
        "f:2.5",
        "f:25e-1",
        "d:2015-02-27T01:02:03.4",
        "d:2015-02-27T02:02:03.4+01:00",
        "t:7",
    ):
        assert StreamQuery.from_params({"distinguishing_traits": text}).matches(s), text
    for text in (
        "n:7.0",
        "n:8",
        "f:2.4",
        "d:2015-02-27T01:02:03",
        "t:7.0",
        "t:07",
        "r:2015-02-27T01:02:03.4",
    ):
        assert not StreamQuery.from_params({"distinguishing_traits": text}).matches(s), text


# --- event filters -------------------------------------------------------------------------------------


T0 = datetime(2015, 3, 4, 22, 30, tzinfo=UTC)


def test_from_is_exclusive_and_to_inclusive() -> None:
    events = [event(f"m{i}", T0 + timedelta(minutes=i)) for i in range(5)]
    query = EventQuery.from_params({"from_datetime": "2015-03-04T22:31", "to_datetime": "2015-03-04T22:33"})
    assert [e.message_id for e in page(events, query)] == ["m3", "m2"]
    assert [
        e.message_id for e in page(events, EventQuery.from_params({"to_datetime": "2015-03-04T22:30"}))
    ] == ["m0"]


def test_sample_query_finds_the_sample() -> None:
    params = {"from_datetime": "2015-03-04T22:25", "to_datetime": "2015-03-04T22:45"}
    later = event("late", datetime(2015, 3, 4, 23, tzinfo=UTC))
    query = EventQuery.from_params(params)
    assert [e.message_id for e in page([*SAMPLE_EVENTS, later], query)] == [
        "4e38d6aa-8fd3-4f26-9293-b621735ea322",
        "b920513c-4dae-474c-b164-71e23349d131",
    ]


def test_event_name_exact() -> None:
    query = EventQuery.from_params({"event_name": "compute.instance.update"})
    assert [e.message_id for e in page(SAMPLE_EVENTS, query)] == ["b920513c-4dae-474c-b164-71e23349d131"]
    assert page(SAMPLE_EVENTS, EventQuery.from_params({"event_name": "compute.instance.*"})) == []


@pytest.mark.parametrize(
    ("traits", "found"),
    [
        ("memory_mb:512", True),  # int
        ("memory_mb:513", False),
        ("vcpus:1;disk_gb:20", True),
        ("instance_flavor_id:2", True),
        ("tenant_id:685053", True),  # a text trait of digits
        ("tenant_id:685053.0", False),
        ("os_version:6.4", True),  # text
        ("launched_at:2015-03-04T22:41:40.771441", True),  # datetime, its colons kept
        ("launched_at:2015-03-04T23:41:40.771441+01:00", True),
        ("launched_at:2015-03-04T22:41:40", False),
        ("state_description:unrescuing", True),
        ("state_description:", False),
        ("instance_id:2fd4d09f-b685-4a80-9b6b-793da76db70e;state:rescued", True),
        ("instance_id:2fd4d09f-b685-4a80-9b6b-793da76db70e;state:active", False),
        ("message_id:b920513c-4dae-474c-b164-71e23349d131", False),  # envelope fields are not traits
        ("no_such_trait:1", False),
    ],
)
def test_event_traits(traits: str, found: bool) -> None:
    assert EventQuery.from_params({"traits": traits}).matches(SAMPLE_EVENTS[1]) is found


def test_float_and_empty_text_traits() -> None:
    e = event("m", T0, ratio=0.5, note="")
    assert EventQuery.from_params({"traits": "ratio:0.50"}).matches(e)
    assert EventQuery.from_params({"traits": "ratio:.5"}).matches(e)
    assert not EventQuery.from_params({"traits": "ratio:nan"}).matches(e)
    assert EventQuery.from_params({"traits": "note:"}).matches(e)


# --- marks, order, limit, counts -----------------------------------------------------------------------


def test_stream_marks_page_down_and_up() -> None:
    streams = [stream(i) for i in (3, 1, 4, 2, 5)]
    assert ids(page(streams, StreamQuery.from_params({}))) == [5, 4, 3, 2, 1]
    assert ids(page(streams, StreamQuery.from_params({"mark": "3"}))) == [2, 1]
    assert ids(page(streams, StreamQuery.from_params({"mark": "-3"}))) == [2, 1]
    assert ids(page(streams, StreamQuery.from_params({"mark": "+"}))) == [1, 2, 3, 4, 5]
    assert ids(page(streams, StreamQuery.from_params({"mark": "+3"}))) == [4, 5]
    assert ids(page(streams, StreamQuery.from_params({"mark": " 3"}))) == [4, 5]  # `+` decoded to a space
    assert ids(page(streams, StreamQuery.from_params({"mark": "-"}))) == [5, 4, 3, 2, 1]
    assert ids(page(streams, StreamQuery.from_params({"mark": "+3", "limit": "1"}))) == [4]


def test_marks_are_hex() -> None:
    streams = [stream(i) for i in range(8, 20)]
    query = StreamQuery.from_params({"mark": "10", "limit": "3"})
    assert [s["_mark"] for s in streams_json(streams, query)] == ["f", "e", "d"]
    assert Mark.parse("+1A") == Mark(ascending=True, position=26)


def test_following_marks_walks_every_stream_once() -> None:
    streams = [stream(i) for i in range(1, 12)]
    for first in ("", "+"):
        seen: list[Any] = []
        mark = first
        while True:
            answer = streams_json(streams, StreamQuery.from_params({"mark": mark, "limit": "4"}))
            if not answer:
                break
            seen += [body["id"] for body in answer]
            mark = answer[-1]["_mark"]
        assert sorted(seen) == list(range(1, 12)) and len(seen) == 11
        assert seen == sorted(seen, reverse=not first)


def test_events_page_by_generated_time_with_ties_broken_and_marks_that_follow() -> None:
    events = [event(f"m{i}", T0 + timedelta(seconds=i // 2)) for i in range(9)]  # pairs share a time
    newest_first = page(events, EventQuery())
    whens = [e.when for e in newest_first]
    assert whens == sorted(whens, reverse=True) and len(newest_first) == 9
    for first in ("", "+"):
        seen: list[str] = []
        mark = first
        while answer := events_json(events, EventQuery.from_params({"mark": mark, "limit": "2"})):
            seen += [body["message_id"] for body in answer]
            mark = answer[-1]["_mark"]
            assert mark.startswith("+") == (first == "+")
        assert sorted(seen) == sorted(e.message_id for e in events) and len(seen) == 9


def test_event_position_orders_by_time_first() -> None:
    a = event("zzzz", T0)
    b = event("aaaa", T0 + timedelta(microseconds=1))
    assert event_position(a) < event_position(b)
    assert event_position(event("x", datetime(1, 1, 1, tzinfo=UTC))) >= 0
    naive = event("x", T0.replace(tzinfo=None))
    assert event_position(naive) == event_position(event("x", T0))
    local = event("x", T0.astimezone(timezone(timedelta(hours=5))))
    assert event_position(local) == event_position(event("x", T0))


def test_limit() -> None:
    streams = [stream(i) for i in range(1, 1100)]
    assert len(page(streams, StreamQuery())) == 200
    assert ids(page(streams, StreamQuery.from_params({"limit": "3"}))) == [1099, 1098, 1097]
    assert len(page(streams, StreamQuery.from_params({"limit": str(MAX_LIMIT)}))) == MAX_LIMIT == 1000
    assert EventQuery.from_params({"limit": " 7 "}).limit == 7


def test_count_applies_filters_and_mark_not_limit() -> None:
    streams = [stream(i, state=StreamState.completed if i % 2 else StreamState.active) for i in range(1, 11)]
    assert count(streams, StreamQuery.from_params({"limit": "1"})) == 10
    assert count(streams, StreamQuery.from_params({"state": "completed"})) == 5
    assert count(streams, StreamQuery.from_params({"state": "completed", "mark": "5"})) == 2
    assert count(streams, StreamQuery.from_params({"mark": "+5"})) == 5
    assert count(SAMPLE_EVENTS, EventQuery.from_params({"traits": "memory_mb:512"})) == 2


# --- path parameters -----------------------------------------------------------------------------------


def test_details() -> None:
    assert parse_details({}) is False
    assert parse_details({"details": ""}) is False
    for word in ("true", "TRUE", "1", "yes", "on"):
        assert parse_details({"details": word}) is True
    for word in ("false", "False", "0", "no", "off"):
        assert parse_details({"details": word}) is False
    assert parse_details({"detail": "true"}) is True  # the sample's spelling
    assert "details: 'maybe' is not true or false" in invalid(parse_details, {"details": "maybe"})


def test_ids() -> None:
    assert parse_stream_id("123") == 123
    assert parse_stream_id("0") == 0
    for bad in ("abc", "-1", "1.5", "", "1_0", "٣", "9" * 19):
        assert "is not an integer" in invalid(parse_stream_id, bad), bad
    assert parse_message_id("B920513C-4dae") == "B920513C-4dae"  # case kept
    for bad in ("", "  ", "a\nb", "a\x00"):
        assert "is not a message id" in invalid(parse_message_id, bad)


# --- bad input -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"older_than": "yesterday"}, "older_than: 'yesterday' is not an ISO 8601 date and time"),
        ({"younger_than": "2015-02-30T13:30"}, "younger_than: '2015-02-30T13:30' is not an ISO 8601"),
        ({"older_than": "2015-02-28T25:00"}, "older_than: '2015-02-28T25:00' is not"),
        (
            {"state": "done"},
            "state: 'done' is not a stream state (active, firing, expiring, error, expire_error,",
        ),
        (
            {"distinguishing_traits": "instance_id"},
            "distinguishing_traits: 'instance_id' is not trait_name:value",
        ),
        ({"distinguishing_traits": ":x"}, "distinguishing_traits: ':x' is not trait_name:value"),
        ({"distinguishing_traits": "a:1;a:2"}, "distinguishing_traits: trait 'a' is given more than once"),
        ({"mark": "xyz"}, "mark: 'xyz' is not a mark from a previous answer"),
        ({"mark": "+-5"}, "mark: '+-5' is not a mark"),
        ({"mark": "0x10"}, "mark: '0x10' is not a mark"),
        ({"mark": "1" * 33}, "is not a mark"),
        ({"limit": "ten"}, "limit: 'ten' is not a whole number from 1 to 1000"),
        ({"limit": "0"}, "limit: '0' is not a whole number from 1 to 1000"),
        ({"limit": "-1"}, "limit: '-1' is not"),
        ({"limit": "1001"}, "limit: '1001' is not"),
        ({"limit": "2.5"}, "limit: '2.5' is not"),
        ({"state": ["active", "error"]}, "state: give it once, not 2 times"),
    ],
)
def test_bad_stream_parameters(params: dict[str, Any], message: str) -> None:
    assert message in invalid(StreamQuery.from_params, params)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from_datetime": "2015-13-01"}, "from_datetime: '2015-13-01' is not an ISO 8601 date and time"),
        ({"to_datetime": "03/04/2015"}, "to_datetime: '03/04/2015' is not an ISO 8601"),
        (
            {"from_datetime": "2015-03-04T22:45", "to_datetime": "2015-03-04T22:25"},
            "from_datetime must be before to_datetime",
        ),
        (
            {"traits": "memory_mb=512"},
            "traits: 'memory_mb=512' is not trait_name:value (pairs separated by ';')",
        ),
        ({"mark": "g"}, "mark: 'g' is not a mark"),
        ({"limit": "many"}, "limit: 'many' is not"),
    ],
)
def test_bad_event_parameters(params: dict[str, Any], message: str) -> None:
    assert message in invalid(EventQuery.from_params, params)


def test_a_single_listed_value_is_taken() -> None:
    assert StreamQuery.from_params({"state": ["error"]}).state is StreamState.error
