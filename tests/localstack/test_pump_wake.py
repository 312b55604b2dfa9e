"""Records put on a moto stream in this process wake the event pump's idle shard pollers at once.

The pumps here poll idle shards only once a minute, so a record delivered within the test's timeout
can only have been delivered because its put woke the pump: no assertion depends on how fast the
machine is."""

from __future__ import annotations

import threading
import time

import pytest
from chalice import Chalice

from chalicelib.declarations import Stream
from scripts.localstack import EventPump, kinesis_hook, provision
from tests.localstack.conftest import client, moto_server

PREFIX = "tlwake-"
NEVER = 60.0  # idle poll interval: far beyond every wait below


@pytest.fixture(scope="module")
def moto_url():
    with moto_server(PREFIX) as url:
        yield url


def kinesis(url: str):
    return client("kinesis", url)


def recording_app(stream: str, received: list[str], arrived: threading.Event) -> Chalice:
    app = Chalice(app_name="waketest")

    def handle(event):
        received.extend(record.data.decode() for record in event)
        arrived.set()

    app.on_kinesis_record(stream=PREFIX + stream, batch_size=10, name="handle")(handle)
    return app


def idle_pump(app: Chalice, url: str, **options) -> EventPump:
    pump = EventPump(app, consumers=(), endpoint_url=url, idle_poll_interval=NEVER, **options).start()
    pump.drain(10)  # every shard polled once and found empty: the pollers now sleep for a minute
    return pump


def test_a_put_wakes_the_idle_pump(moto_url):
    provision(moto_url, tables=(), streams=(Stream("woken", shards=2),), queues=(), state_machines=())
    received: list[str] = []
    arrived = threading.Event()
    with idle_pump(recording_app("woken", received, arrived), moto_url):
        time.sleep(0.2)  # let both pollers reach their idle wait
        kinesis(moto_url).put_records(
            StreamName=PREFIX + "woken", Records=[{"Data": b"one", "PartitionKey": "a"}]
        )
        assert arrived.wait(NEVER / 4), "the put did not wake the pump"
    assert received == ["one"]


def test_without_wake_on_put_the_record_waits_for_the_idle_poll(moto_url):
    provision(moto_url, tables=(), streams=(Stream("sleepy"),), queues=(), state_machines=())
    received: list[str] = []
    arrived = threading.Event()
    with idle_pump(recording_app("sleepy", received, arrived), moto_url, wake_on_put=False):
        time.sleep(0.2)
        kinesis(moto_url).put_record(StreamName=PREFIX + "sleepy", Data=b"later", PartitionKey="a")
        assert not arrived.wait(1.0)  # Lambda-like: polled again only after the idle interval
    assert received == []


def test_a_wake_during_a_poll_is_not_lost():
    """A put landing while a poller reads (after it read `wakeups`, before it sleeps) must not leave
    the record for the next idle poll: `wait_idle(since)` returns at once."""
    pump = EventPump(Chalice(app_name="waketest"), idle_poll_interval=NEVER)
    since = pump.wakeups
    pump.wake()
    started = time.monotonic()
    assert not pump.wait_idle(since)
    assert time.monotonic() - started < NEVER / 4


def test_the_hook_names_the_stream_and_only_our_streams_wake_the_pump(moto_url):
    provision(moto_url, tables=(), streams=(Stream("named"),), queues=(), state_machines=())
    seen: list[str] = []
    kinesis_hook.subscribe(seen.append)
    try:
        kinesis(moto_url).put_record(StreamName=PREFIX + "named", Data=b"x", PartitionKey="a")
    finally:
        kinesis_hook.unsubscribe(seen.append)
    assert PREFIX + "named" in seen
    with idle_pump(recording_app("named", [], threading.Event()), moto_url) as pump:
        before = pump.wakeups
        pump.wake(PREFIX + "someone-elses")
        assert pump.wakeups == before
        pump.wake(PREFIX + "named")
        assert pump.wakeups == before + 1
