"""The event pump against a moto server, with tiny Chalice apps that record what Lambda would hand them."""

from __future__ import annotations

import base64
import json
import sys
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime

import pytest
from chalice import Chalice, Cron, Rate

from chalicelib.declarations import KinesisConsumer, Queue, Stream
from scripts.localstack import EventPump, provision
from scripts.localstack.schedules import parse_schedule
from tests.localstack.conftest import client, moto_server

PREFIX = "tlpump-"

# A module-level app, found through the module like app.py's handlers are.
app = Chalice(app_name="pumptest")
ordered_batches: list[list[dict]] = []
ordered_contexts: list[object] = []
ordered_remaining: list[int] = []  # each invocation's remaining time, read while it runs


@app.on_kinesis_record(stream=PREFIX + "ordered", batch_size=3, starting_position="TRIM_HORIZON")
def on_ordered(event):
    ordered_contexts.append(event.context)
    ordered_remaining.append(event.context.get_remaining_time_in_millis())
    ordered_batches.append([record.to_dict() for record in event])


@pytest.fixture(scope="module")
def moto_url():
    with moto_server(PREFIX) as url:
        yield url


def put(url: str, stream: str, values: list[str], key: str | None = None) -> list[str]:
    kinesis = client("kinesis", url)
    return [
        kinesis.put_record(StreamName=PREFIX + stream, Data=v.encode(), PartitionKey=key or v)[
            "SequenceNumber"
        ]
        for v in values
    ]


def until(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)
    return result


def data(record: dict) -> str:
    return base64.b64decode(record["kinesis"]["data"]).decode()


def kinesis_app(stream: str, handler, *, batch_size: int = 10) -> Chalice:
    test_app = Chalice(app_name="pumptest")
    test_app.on_kinesis_record(stream=PREFIX + stream, batch_size=batch_size, name="handle")(handler)
    return test_app


def consumer(stream: str, **settings) -> KinesisConsumer:
    return KinesisConsumer(handler="handle", stream=stream, max_batching_window=0, **settings)


# -- Kinesis -------------------------------------------------------------------------------------


def test_kinesis_order_per_shard_batches_and_event_shape(moto_url):
    provision(moto_url, tables=(), queues=(), state_machines=(), streams=(Stream("ordered", shards=2),))
    values = [f"v{i:02d}" for i in range(24)]
    put(moto_url, "ordered", values)
    with EventPump(app, sys.modules[__name__], consumers=(), endpoint_url=moto_url) as pump:
        pump.drain(10)
        stats = pump.stats("on_ordered")
    records = [r for batch in ordered_batches for r in batch]
    assert sorted(data(r) for r in records) == values  # each record exactly once
    assert all(1 <= len(batch) <= 3 for batch in ordered_batches)
    assert any(len(batch) == 3 for batch in ordered_batches)
    by_shard = defaultdict(list)
    for batch in ordered_batches:
        assert len({r["eventID"].split(":")[0] for r in batch}) == 1  # a batch never mixes shards
        for r in batch:
            by_shard[r["eventID"].split(":")[0]].append(int(r["kinesis"]["sequenceNumber"]))
    assert len(by_shard) == 2
    assert all(seqs == sorted(seqs) for seqs in by_shard.values())

    record = records[0]
    assert record["eventSource"] == "aws:kinesis"
    assert record["eventName"] == "aws:kinesis:record"
    assert record["eventSourceARN"].endswith(f":stream/{PREFIX}ordered")
    assert record["eventID"] == f"{record['eventID'].split(':')[0]}:{record['kinesis']['sequenceNumber']}"
    assert record["kinesis"]["kinesisSchemaVersion"] == "1.0"
    assert abs(record["kinesis"]["approximateArrivalTimestamp"] - time.time()) < 60
    context = ordered_contexts[0]
    assert context.function_name == "pumptest-local-on_ordered"
    assert context.invoked_function_arn.endswith(":function:pumptest-local-on_ordered")
    assert context.aws_request_id != ordered_contexts[1].aws_request_id
    assert 0 < ordered_remaining[0] <= 900_000
    assert context.get_remaining_time_in_millis() == 0  # the pump stopped: no time left to loop on
    assert stats.records_delivered == stats.records_succeeded == 24
    assert stats.errors == stats.retries == 0


def test_batch_item_failures_retry_from_the_lowest_failed_record(moto_url):
    provision(moto_url, tables=(), queues=(), state_machines=(), streams=(Stream("partial"),))
    put(moto_url, "partial", [f"p{i}" for i in range(10)], key="same")
    deliveries: list[list[str]] = []
    failed_once: set[str] = set()

    def handle(event):
        batch = [r.to_dict() for r in event]
        deliveries.append([data(r) for r in batch])
        # p3 and p6 fail on their first delivery: Lambda retries from p3, the lowest.
        failures = [
            r["kinesis"]["sequenceNumber"]
            for r in batch
            if data(r) in ("p3", "p6") and data(r) not in failed_once
        ]
        failed_once.update(data(r) for r in batch if data(r) in ("p3", "p6"))
        return {"batchItemFailures": [{"itemIdentifier": s} for s in failures]}

    settings = consumer("partial", batch_size=10, bisect_on_error=False)
    with EventPump(kinesis_app("partial", handle), consumers=[settings], endpoint_url=moto_url) as pump:
        pump.drain(10)
        stats = pump.stats("handle")
    assert deliveries == [[f"p{i}" for i in range(10)], [f"p{i}" for i in range(3, 10)]]
    assert (stats.partial_failures, stats.retries, stats.records_succeeded) == (1, 1, 10)


def test_exception_bisects_the_batch_and_loses_nothing(moto_url):
    provision(moto_url, tables=(), queues=(), state_machines=(), streams=(Stream("bisect"),))
    put(moto_url, "bisect", [f"b{i}" for i in range(8)], key="same")
    deliveries: list[list[str]] = []
    committed: list[str] = []
    poison_failures = [0]

    def handle(event):
        batch = [data(r.to_dict()) for r in event]
        deliveries.append(batch)
        if "b5" in batch and poison_failures[0] < 4:
            poison_failures[0] += 1
            raise RuntimeError("b5 is poisonous (for now)")
        committed.extend(batch)

    settings = consumer("bisect", batch_size=8, bisect_on_error=True, max_retry_attempts=10)
    with EventPump(kinesis_app("bisect", handle), consumers=[settings], endpoint_url=moto_url) as pump:
        pump.drain(10)
        stats = pump.stats("handle")
    assert committed == [f"b{i}" for i in range(8)]  # in order, each exactly once
    assert deliveries == [
        [f"b{i}" for i in range(8)],  # fails: split in halves
        ["b0", "b1", "b2", "b3"],  # first half succeeds
        ["b4", "b5", "b6", "b7"],  # second half fails: split again
        ["b4", "b5"],  # fails: split again
        ["b4"],
        ["b5"],  # fourth failure: cannot split further, retried as is
        ["b5"],
        ["b6", "b7"],
    ]
    assert stats.errors == 4
    assert stats.failures == 0


def test_exhausted_retries_go_to_the_on_failure_queue(moto_url):
    provision(
        moto_url,
        tables=(),
        state_machines=(),
        streams=(Stream("exhaust"),),
        queues=(Queue("exhaust-failures"),),
    )
    seqs = put(moto_url, "exhaust", ["ok1", "bad", "ok2"], key="same")
    deliveries: list[str] = []

    def handle(event):
        for record in event:
            deliveries.append(record.data.decode())
            if record.data == b"bad":
                raise ValueError("never works")

    settings = consumer("exhaust", batch_size=1, max_retry_attempts=2, on_failure_queue="exhaust-failures")
    with EventPump(
        kinesis_app("exhaust", handle, batch_size=1), consumers=[settings], endpoint_url=moto_url
    ) as pump:
        pump.drain(10)
        stats = pump.stats("handle")
    assert deliveries == ["ok1", "bad", "bad", "bad", "ok2"]  # first try + 2 retries, then move on
    assert (stats.errors, stats.retries, stats.failures, stats.records_succeeded) == (3, 2, 1, 2)

    sqs = client("sqs", moto_url)
    url = sqs.get_queue_url(QueueName=PREFIX + "exhaust-failures")["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    assert len(messages) == 1
    body = json.loads(messages[0]["Body"])
    assert body["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert body["requestContext"]["approximateInvokeCount"] == 3
    info = body["KinesisBatchInfo"]
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == seqs[1]
    assert info["batchSize"] == 1
    assert info["shardId"].startswith("shardId-")
    assert info["streamArn"].endswith(f":stream/{PREFIX}exhaust")


def test_latest_starting_position_skips_older_records(moto_url):
    provision(moto_url, tables=(), queues=(), state_machines=(), streams=(Stream("latest"),))
    put(moto_url, "latest", ["old"])
    seen: list[str] = []
    settings = consumer("latest", starting_position="LATEST")
    test_app = kinesis_app("latest", lambda event: seen.extend(r.data.decode() for r in event))
    with EventPump(test_app, consumers=[settings], endpoint_url=moto_url) as pump:
        pump.drain(10)
        put(moto_url, "latest", ["new"])
        pump.drain(10)
    assert seen == ["new"]


# -- SQS -----------------------------------------------------------------------------------------


def sqs_app(queue: str, handler, batch_size: int = 10) -> Chalice:
    test_app = Chalice(app_name="pumptest")
    test_app.on_sqs_message(queue=PREFIX + queue, batch_size=batch_size, name="handle")(handler)
    return test_app


def queue_counts(url: str, queue_url: str) -> tuple[int, int]:
    attributes = client("sqs", url).get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])[
        "Attributes"
    ]
    return int(attributes["ApproximateNumberOfMessages"]), int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def test_sqs_failed_batch_is_redelivered_after_the_visibility_timeout(moto_url):
    queue_url = provision(
        moto_url, tables=(), streams=(), state_machines=(), queues=(Queue("redeliver", visibility_timeout=1),)
    ).queues["redeliver"]
    sqs = client("sqs", moto_url)
    for body in ("m1", "m2", "m3"):
        sqs.send_message(QueueUrl=queue_url, MessageBody=body)
    seen: list[tuple[str, str]] = []
    records: list[dict] = []
    lock = threading.Lock()

    def handle(event):
        batch = [r.to_dict() for r in event]
        with lock:
            records.extend(batch)
            seen.extend((r["body"], r["attributes"]["ApproximateReceiveCount"]) for r in batch)
        if any(r["attributes"]["ApproximateReceiveCount"] == "1" for r in batch):
            raise RuntimeError("first delivery fails")

    with EventPump(sqs_app("redeliver", handle), endpoint_url=moto_url) as pump:
        until(lambda: pump.stats("handle").records_succeeded == 3, timeout=15)
        stats = pump.stats("handle")
    assert sorted(b for b, count in seen if count == "1") == ["m1", "m2", "m3"]
    assert sorted(b for b, count in seen if count == "2") == ["m1", "m2", "m3"]
    assert stats.errors >= 1
    assert queue_counts(moto_url, queue_url) == (0, 0)  # deleted once handled
    record = records[0]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"].endswith(f":{PREFIX}redeliver")
    assert record["messageId"] and record["receiptHandle"]
    assert {"SentTimestamp", "ApproximateFirstReceiveTimestamp"} <= set(record["attributes"])


def test_sqs_partial_batch_failure_redelivers_only_the_failed_message(moto_url):
    queue_url = provision(
        moto_url,
        tables=(),
        streams=(),
        state_machines=(),
        queues=(Queue("partial-sqs", visibility_timeout=1),),
    ).queues["partial-sqs"]
    sqs = client("sqs", moto_url)
    sqs.send_message_batch(QueueUrl=queue_url, Entries=[{"Id": b, "MessageBody": b} for b in ("a", "b", "c")])
    seen: list[tuple[str, str]] = []

    def handle(event):
        failures = []
        for record in event:
            count = record.to_dict()["attributes"]["ApproximateReceiveCount"]
            seen.append((record.body, count))
            if record.body == "b" and count == "1":
                failures.append({"itemIdentifier": record.to_dict()["messageId"]})
        return {"batchItemFailures": failures}

    with EventPump(sqs_app("partial-sqs", handle), endpoint_url=moto_url) as pump:
        until(lambda: pump.stats("handle").records_succeeded == 3, timeout=15)
        stats = pump.stats("handle")
    assert sorted(seen) == [("a", "1"), ("b", "1"), ("b", "2"), ("c", "1")]
    assert stats.partial_failures == 1
    assert queue_counts(moto_url, queue_url) == (0, 0)


def test_sqs_poison_message_ends_in_the_dead_letter_queue(moto_url):
    queues = provision(
        moto_url,
        tables=(),
        streams=(),
        state_machines=(),
        queues=(Queue("poison", visibility_timeout=1, max_receive_count=2),),
    ).queues
    sqs = client("sqs", moto_url)
    sqs.send_message(QueueUrl=queues["poison"], MessageBody="poison")
    attempts: list[str] = []

    def handle(event):
        attempts.extend(r.to_dict()["attributes"]["ApproximateReceiveCount"] for r in event)
        raise RuntimeError("always")

    with EventPump(sqs_app("poison", handle), endpoint_url=moto_url):
        until(lambda: queue_counts(moto_url, queues["poison-dlq"])[0] == 1, timeout=15)
    assert attempts == ["1", "2"]  # moto's redrive moves it on the third receive


# -- schedules -----------------------------------------------------------------------------------


def test_schedules_tick_at_the_scaled_rate():
    test_app = Chalice(app_name="pumptest")
    events: dict[str, list[dict]] = defaultdict(list)
    test_app.schedule(Rate(1, unit=Rate.MINUTES), name="fast")(
        lambda event: events["fast"].append(event.to_dict())
    )
    test_app.schedule("rate(2 minutes)", name="slow")(lambda event: events["slow"].append(event.to_dict()))
    test_app.schedule(Cron(0, 0, 1, 1, "?", 2199), name="never")(lambda event: events["never"].append(event))

    with EventPump(
        test_app, schedule_speedup=240, endpoint_url="http://127.0.0.1:1"
    ) as pump:  # 0.25 s, 0.5 s
        time.sleep(1.15)
        stats = pump.stats()
    assert 3 <= len(events["fast"]) <= 5
    assert 1 <= len(events["slow"]) <= 3
    assert events["never"] == []
    assert stats.ticks == len(events["fast"]) + len(events["slow"])
    event = events["fast"][0]
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["resources"][0].endswith(":rule/pumptest-local-fast")
    assert datetime.strptime(event["time"], "%Y-%m-%dT%H:%M:%SZ")


def test_handler_exceptions_never_stop_the_schedule():
    test_app = Chalice(app_name="pumptest")
    calls: list[int] = []

    def boom(event):
        calls.append(1)
        raise RuntimeError("scheduled failure")

    test_app.schedule(Rate(1, unit=Rate.MINUTES), name="boom")(boom)
    with EventPump(test_app, schedule_speedup=600, endpoint_url="http://127.0.0.1:1") as pump:
        until(lambda: len(calls) >= 3, timeout=5)
    assert pump.stats("boom").errors >= 3


def utc(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("cron(0/15 * * * ? *)", utc(2024, 1, 1, 10, 7), utc(2024, 1, 1, 10, 15)),
        ("cron(0 12 * * ? *)", utc(2024, 1, 1, 12, 0), utc(2024, 1, 2, 12, 0)),
        ("cron(15 10 ? * MON-FRI *)", utc(2024, 1, 5, 11, 0), utc(2024, 1, 8, 10, 15)),  # Fri -> Mon
        ("cron(0 8 1,15 * ? *)", utc(2024, 1, 2), utc(2024, 1, 15, 8, 0)),
        ("cron(0 0 L * ? *)", utc(2024, 2, 3), utc(2024, 2, 29)),  # last day of a leap February
        ("cron(30 9 ? * 6L *)", utc(2024, 1, 1), utc(2024, 1, 26, 9, 30)),  # last Friday
        ("cron(0 10 ? * 2#1 *)", utc(2024, 1, 2), utc(2024, 2, 5, 10, 0)),  # first Monday
        ("cron(0 0 1 JAN ? 2030)", utc(2024, 6, 1), utc(2030, 1, 1)),
        ("cron(0-10/5 3 * * ? *)", utc(2024, 1, 1, 3, 6), utc(2024, 1, 1, 3, 10)),
        ("rate(5 minutes)", 100.0, 400.0),
        ("rate(1 day)", 0.0, 86400.0),
    ],
)
def test_schedule_expressions(expression, after, expected):
    assert parse_schedule(expression).next_after(after) == expected


@pytest.mark.parametrize(
    "expression", ["cron(0 0 1W * ? *)", "cron(0 0 * *)", "rate(0 minutes)", "every day"]
)
def test_unsupported_schedule_expressions_are_rejected(expression):
    with pytest.raises(ValueError):
        parse_schedule(expression)
