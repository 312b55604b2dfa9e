"""StackTach's ingest on the real DynamoDB store: Nova notifications through the `notifications`
Kinesis stream become events (a redelivered notification changes nothing), events join one stream per
instance and day, concurrent consumers never make two streams for one key, and the reads answer in
StackTach's shapes."""

from __future__ import annotations

import itertools
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from chalicelib.declarations import NOTIFICATIONS

_ids = itertools.count()


# A stream takes events until it expires (`$last + 1h`) by the wall clock, as Winchester's does: the
# notifications are of the last half hour.
START = datetime.now(UTC) - timedelta(minutes=30)
if (START + timedelta(minutes=15)).date() != START.date():  # one day for all of a test's notifications
    START = (START + timedelta(minutes=15)).replace(hour=0, minute=0, second=0, microsecond=0)


def _at(minutes: int, day: int = 0) -> str:
    """A notification timestamp, `minutes` after START (or `day` days before)."""
    return (START - timedelta(days=day) + timedelta(minutes=minutes)).strftime("%Y-%m-%d %H:%M:%S.%f")


def _day(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(hour=0, minute=0, second=0, microsecond=0)


def _instance() -> str:
    return str(uuid.uuid4())


def _nova(event_type: str, instance: str, timestamp: str, **payload) -> dict:
    return {
        "message_id": str(uuid.uuid4()),
        "event_type": event_type,
        "publisher_id": "compute.host-1",
        "timestamp": timestamp,
        "_context_request_id": "req-1",
        "payload": {"instance_id": instance, "tenant_id": "t1", "state": "active", **payload},
    }


def _service():
    from chalicelib import compose

    return compose.stacktach()


def test_notifications_through_kinesis_become_events_and_streams(aws, pump) -> None:
    instance = _instance()
    day = [
        _nova("compute.instance.create.start", instance, _at(0)),
        _nova("compute.instance.create.end", instance, _at(1)),
    ]
    kinesis = boto3.client("kinesis")
    kinesis.put_record(StreamName=NOTIFICATIONS.physical_name, Data=json.dumps(day), PartitionKey=instance)
    kinesis.put_record(StreamName=NOTIFICATIONS.physical_name, Data=json.dumps(day[0]), PartitionKey=instance)
    pump.drain()

    service = _service()
    shown = service.event(day[1]["message_id"])
    assert shown["event_type"] == "compute.instance.create.end"
    assert shown["instance_id"] == instance and shown["service"] == "compute"
    assert shown["timestamp"] == {
        "__type__": "datetime",
        "datetime": datetime.fromisoformat(_at(1)).isoformat(),
    }
    streams = service.streams({"distinguishing_traits": f"instance_id:{instance}"})
    assert len(streams) == 1  # the redelivered start joined nothing twice
    [stream] = service.stream(str(streams[0]["id"]), {"details": "true"})
    assert [e["message_id"] for e in stream["events"]] == [n["message_id"] for n in day]
    assert stream["distinguishing_traits"]["timestamp"] == {
        "__type__": "timex.TimeRange",
        "begin": _day(_at(0)).strftime("%Y-%m-%dT%H:%M:%S"),
        "end": (_day(_at(0)) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S"),
    }
    assert stream["state"] == "active" and stream["name"] == "instance_day"


def test_a_duplicate_changes_nothing_and_days_make_streams(aws) -> None:
    service = _service()
    instance = _instance()
    first = _nova("compute.instance.update", instance, _at(0))
    assert service.ingest([first]).stored == 1
    again = service.ingest([first])
    assert (again.stored, again.duplicates) == (0, 1)
    service.ingest([_nova("compute.instance.update", instance, _at(0, day=1))])
    found = service.streams({"distinguishing_traits": f"instance_id:{instance}"})
    assert len(found) == 2  # one per day
    count = service.streams({"distinguishing_traits": f"instance_id:{instance}"}, counting=True)
    assert count == [{"count": 2}]


def test_concurrent_consumers_make_one_stream_per_key(aws) -> None:
    service = _service()
    instance = _instance()
    notifications = [_nova("compute.instance.update", instance, _at(minute)) for minute in range(12)]
    with ThreadPoolExecutor(6) as pool:
        list(pool.map(lambda n: service.ingest([n]), notifications))
    [stream] = service.streams({"distinguishing_traits": f"instance_id:{instance}"})
    [detailed] = service.stream(str(stream["id"]), {"details": "true"})
    assert len(detailed["events"]) == 12


def test_what_stacktach_refuses_is_said_not_stored(aws) -> None:
    service = _service()
    result = service.ingest([{"event_type": "compute.instance.update"}, "not a notification"])
    assert result.stored == 0 and len(result.refused) == 2
    assert service.ingest([_nova("image.upload", _instance(), _at(0))]).dropped == 1


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.events({"from_datetime": "yesterday"}), "from_datetime"),
        (lambda s: s.streams({"state": "done"}), "state"),
        (lambda s: s.streams({"mark": "zz"}), "mark"),
        (lambda s: s.stream("abc", {}), "stream"),
        (lambda s: s.events({"traits": "nocolon"}), "traits"),
    ],
)
def test_bad_reads_are_clear_400s(aws, call, message) -> None:
    from chalicelib.kit.errors import TicklessError

    with pytest.raises(TicklessError) as caught:
        call(_service())
    assert caught.value.status == 400 and message in caught.value.message


def test_unknown_ids_are_404s(aws) -> None:
    from chalicelib.kit.errors import TicklessError

    for call in (lambda s: s.event(str(uuid.uuid4())), lambda s: s.stream("987654321", {})):
        with pytest.raises(TicklessError) as caught:
            call(_service())
        assert caught.value.status == 404


def test_records_kinesis_cannot_ingest_are_dead_lettered_not_dropped(aws, pump) -> None:
    from chalicelib import compose

    instance = _instance()
    good = _nova("compute.instance.create.start", instance, _at(0))
    bad = {"event_type": "compute.instance.update", "payload": {}}  # no message_id: refused
    kinesis = boto3.client("kinesis")
    stream = NOTIFICATIONS.physical_name
    kinesis.put_record(StreamName=stream, Data=b"{not json", PartitionKey=instance)
    kinesis.put_record(StreamName=stream, Data=json.dumps([good, bad]), PartitionKey=instance)
    pump.drain()

    assert _service().event(good["message_id"])["instance_id"] == instance  # its neighbour is stored
    letters = compose.dead_letters().list("notifications")
    reasons = [letter["reason"] for letter in letters]
    assert any(r.startswith("not JSON") for r in reasons)
    assert any("'message_id' must be a non-empty string" in r for r in reasons)
