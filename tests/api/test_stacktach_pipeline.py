"""StackTach's pipeline worker on the real stores: Nova days through the `notifications` Kinesis stream,
fired by the end-of-day exists (verified or failed events fed back and readable over the API), expired
without one, claimed once by concurrent workers, recovered when stuck, errored when publishing fails and
retried by the API's reset, published to SNS and Kinesis, purged when asked."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from chalicelib.declarations import NOTIFICATIONS

# The day's events in the last half hour, all on today's date (the trigger's streams are per day).
NOW = datetime.now(UTC)
START = max(NOW - timedelta(minutes=30), NOW.replace(hour=0, minute=0, second=0, microsecond=0))
DAY = START.replace(hour=0, minute=0, second=0, microsecond=0)
FMT = "%Y-%m-%d %H:%M:%S.%f"
LAUNCHED = (DAY + timedelta(seconds=1)).strftime(FMT)


def _at(minutes: float, base: datetime = START) -> str:
    return (base + timedelta(minutes=minutes)).strftime(FMT)


def _nova(event_type: str, instance: str, when: str, **payload) -> dict:
    body = {
        "instance_id": instance,
        "tenant_id": "408577",
        "display_name": "web-1",
        "instance_type": "m1.tiny",
        "instance_flavor_id": "1",
        "memory_mb": 512,
        "state": "active",
        "launched_at": LAUNCHED,
        "image_meta": {"org.openstack__1__architecture": "x64", "org.openstack__1__os_version": "22.04"},
        **payload,
    }
    return {
        "message_id": str(uuid.uuid4()),
        "event_type": event_type,
        "publisher_id": "compute.host-1",
        "timestamp": when,
        "_context_request_id": "req-1",
        "payload": {k: v for k, v in body.items() if v is not None},
    }


def _exists(instance: str, when: str, **payload) -> dict:
    period = {
        "audit_period_beginning": DAY.strftime(FMT),
        "audit_period_ending": (DAY + timedelta(days=1)).strftime(FMT),
    }
    return _nova("compute.instance.exists", instance, when, **{**period, **payload})


def _resized_day(instance: str, *, exists_flavor: str = "2") -> list[dict]:
    """Create, resize to flavor 2, end-of-day exists (of `exists_flavor`)."""
    return [
        _nova("compute.instance.create.start", instance, _at(1)),
        _nova("compute.instance.create.end", instance, _at(2)),
        _nova("compute.instance.resize.prep.start", instance, _at(3)),
        _nova("compute.instance.finish_resize.end", instance, _at(4), instance_flavor_id="2"),
        _exists(instance, _at(5), instance_flavor_id=exists_flavor),
    ]


def _put(notifications: list[dict]) -> None:
    kinesis = boto3.client("kinesis")
    for n in notifications:  # one record each, in order, on one shard
        kinesis.put_record(StreamName=NOTIFICATIONS.physical_name, Data=json.dumps(n), PartitionKey="nova")


def _service():
    from chalicelib import compose

    return compose.stacktach()


def _worker(**options):
    from chalicelib import compose
    from chalicelib.adapters.notification_publisher import NotificationPublisher
    from chalicelib.adapters.stacktach import DynamoStackTach
    from chalicelib.stacktach.pipeline import PipelineWorker

    service = compose.stacktach()
    pipelines = options.pop("pipelines", None) or compose._pipelines()
    return PipelineWorker(
        DynamoStackTach(), service.triggers, pipelines, service, NotificationPublisher(), **options
    )


def _stream_of(instance: str) -> dict:
    [stream] = _service().streams({"distinguishing_traits": f"instance_id:{instance}"})
    return stream


def _events(client, event_name: str, instance: str) -> list[dict]:
    answer = client.http.get(f"/v1/events?event_name={event_name}&traits=instance_id:{instance}")
    assert answer.status_code == 200, answer.body
    return answer.json_body


def test_a_resized_day_fires_on_its_exists_and_its_verdict_comes_back_as_an_event(
    aws, pump, app_module, client
) -> None:
    from chalicelib.events.stacktach_pipeline import run_stacktach_pipelines

    instance = str(uuid.uuid4())
    day = _resized_day(instance)
    _put(day)
    _put(day[:2])  # redelivered: no second stream, no second count
    pump.drain()
    stream = _stream_of(instance)
    assert stream["state"] == "active" and stream["fire_timestamp"] is not None

    outcome = run_stacktach_pipelines()  # the scheduled handler, as Lambda calls it
    assert outcome["fired"] >= 1 and outcome["failures"] == 0
    assert _stream_of(instance)["state"] == "completed"

    [verified] = _events(client, "compute.instance.exists.verified", instance)
    assert verified["message_id"] == str(uuid.uuid5(uuid.UUID(day[-1]["message_id"]), verified["event_type"]))
    assert verified["stream_id"] == stream["id"]
    assert verified["original_message_id"] == day[-1]["message_id"]
    assert verified["instance_flavor_id"] == "2" and verified.get("error_code") is None
    # the verdict joined no stream, and a second run finds nothing left to do for this instance
    assert len(_service().streams({"distinguishing_traits": f"instance_id:{instance}"})) == 1
    run_stacktach_pipelines()
    assert len(_events(client, "compute.instance.exists.verified", instance)) == 1


def test_a_deleted_instances_day_is_verified_through_kinesis(aws, pump, client) -> None:
    instance = str(uuid.uuid4())
    gone = _at(4)
    _put(
        [
            _nova("compute.instance.create.start", instance, _at(1)),
            _nova("compute.instance.create.end", instance, _at(2)),
            _nova("compute.instance.delete.start", instance, _at(3)),
            _nova("compute.instance.delete.end", instance, _at(4), state="deleted", deleted_at=gone),
            _exists(instance, _at(5), state="deleted", deleted_at=gone),
        ]
    )
    pump.drain()
    _worker().run()
    assert _stream_of(instance)["state"] == "completed"
    [verified] = _events(client, "compute.instance.exists.verified", instance)
    assert verified["state"] == "deleted" and verified["deleted_at"]["__type__"] == "datetime"


def test_a_day_whose_exists_disagrees_fails_with_stacktachs_code(aws, pump, client) -> None:
    instance = str(uuid.uuid4())
    _put(_resized_day(instance, exists_flavor="1"))
    pump.drain()
    _worker().run()
    assert _stream_of(instance)["state"] == "completed"
    [failed] = _events(client, "compute.instance.exists.failed", instance)
    assert failed["error_code"] == "U2"
    assert failed["error"] == "Conflicting 'instance_flavor_id' values ('2' != '1')"


def test_a_day_without_exists_expires_and_reports_the_missing_audit(aws, client) -> None:
    instance = str(uuid.uuid4())
    day = [
        _nova("compute.instance.create.start", instance, _at(0)),
        _nova("compute.instance.create.end", instance, _at(1)),
    ]
    _service().ingest(day)
    stream = _stream_of(instance)
    assert stream["fire_timestamp"] is None
    _worker().run()
    assert _stream_of(instance)["state"] == "active"  # not expired yet

    later = datetime.now(UTC) + timedelta(hours=2)  # past `$last + 1h`
    result = _worker(clock=lambda: later).run()
    assert result.expired >= 1
    assert _stream_of(instance)["state"] == "completed"
    [failed] = _events(client, "compute.instance.exists.failed", instance)
    assert failed["error_code"] == "U0"
    assert failed["error"] == "Notifications, but no .exists notification found."
    assert failed["stream_id"] == stream["id"]


def test_concurrent_workers_run_each_stream_once(aws, client) -> None:
    instances = [str(uuid.uuid4()) for _ in range(6)]
    _service().ingest([n for i in instances for n in _resized_day(i)])
    workers = [_worker() for _ in range(4)]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda w: w.run(), workers))
    assert sum(r.failures.__len__() for r in results) == 0
    assert sum(r.fired for r in results) >= len(instances)
    for instance in instances:
        assert _stream_of(instance)["state"] == "completed"
        assert len(_events(client, "compute.instance.exists.verified", instance)) == 1


def _store():
    from chalicelib.adapters.stacktach import DynamoStackTach

    return DynamoStackTach()


def _force(stream_id: int, **changes) -> None:
    """Rewrite a stored stream's fields, as a crashed worker or an old release could have left it."""
    from chalicelib.stacktach.records import stream_doc, stream_of

    store = _store()
    doc = store.stream(stream_id)
    stream = stream_of(doc)
    for key, value in changes.items():
        object.__setattr__(stream, key, value)
    assert store.replace_stream(stream_doc(stream, doc["version"] + 1), doc["version"])


def test_a_stream_stuck_in_firing_is_recovered_and_fired(aws, client) -> None:
    from chalicelib.stacktach.streams import StreamState

    instance = str(uuid.uuid4())
    _service().ingest(_resized_day(instance))
    stream_id = _stream_of(instance)["id"]
    _force(stream_id, state=StreamState.firing, state_changed_at=NOW - timedelta(hours=1))
    result = _worker().run()
    assert result.recovered >= 1
    assert _stream_of(instance)["state"] == "completed"
    assert len(_events(client, "compute.instance.exists.verified", instance)) == 1


def test_a_publish_that_fails_errors_the_stream_and_a_reset_retries_it(aws, client) -> None:
    from chalicelib.stacktach.triggers import load_pipelines

    target = f"verdicts-{uuid.uuid4().hex[:8]}"
    pipelines = load_pipelines(
        f"""
usage_fire: [logger, usage, {{name: publish, params: {{target: {target}, env_keys: [usage_notifications]}}}}]
usage_expire: [logger]
"""
    )
    instance = str(uuid.uuid4())
    _service().ingest(_resized_day(instance))
    assert _worker(pipelines=pipelines).run().errors >= 1  # no such Kinesis stream yet
    stream = _stream_of(instance)
    assert stream["state"] == "error"
    # the verdict itself was kept (fed back before the publish failed)
    assert len(_events(client, "compute.instance.exists.verified", instance)) == 1

    kinesis = boto3.client("kinesis")
    kinesis.create_stream(StreamName=target, ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName=target)
    assert client.http.put(f"/v1/streams/{stream['id']}").status_code == 204
    assert _stream_of(instance)["state"] == "retry_fire"
    assert _worker(pipelines=pipelines).run().fired >= 1
    assert _stream_of(instance)["state"] == "completed"
    assert len(_events(client, "compute.instance.exists.verified", instance)) == 1  # no duplicate

    shard = kinesis.describe_stream(StreamName=target)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName=target, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = kinesis.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    published = [json.loads(r["Data"]) for r in records]
    assert [p["event_type"] for p in published] == ["compute.instance.exists.verified"]
    assert published[0]["payload"]["instance_id"] == instance


def test_verdicts_published_to_an_sns_topic(aws) -> None:
    from chalicelib.stacktach.triggers import load_pipelines

    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic = sns.create_topic(Name=f"usage-{uuid.uuid4().hex[:8]}")["TopicArn"]
    queue = sqs.create_queue(QueueName=f"usage-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"}
    )
    publish = f"{{name: publish, params: {{target: '{topic}', env_keys: [usage_notifications]}}}}"
    pipelines = load_pipelines(f"usage_fire: [usage, {publish}]\nusage_expire: [logger]\n")
    instance = str(uuid.uuid4())
    _service().ingest(_resized_day(instance))
    assert _worker(pipelines=pipelines).run().fired >= 1
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages")
    [message] = [json.loads(m["Body"]) for m in messages or []]
    assert message["event_type"] == "compute.instance.exists.verified"
    assert message["payload"]["instance_id"] == instance


def test_purge_deletes_completed_streams_and_keeps_their_events(aws, client) -> None:
    instance = str(uuid.uuid4())
    day = _resized_day(instance)
    _service().ingest(day)
    assert _worker(purge_completed=True).run().fired >= 1
    assert _service().streams({"distinguishing_traits": f"instance_id:{instance}"}) == []
    assert client.http.get(f"/v1/events/{day[0]['message_id']}").status_code == 200


def test_a_stream_of_an_undefined_trigger_errors(aws) -> None:
    from chalicelib.stacktach.pipeline import PipelineWorker
    from chalicelib.stacktach.triggers import load_triggers

    instance = str(uuid.uuid4())
    _service().ingest(_resized_day(instance))
    renamed = load_triggers(
        "- name: other\n  distinguished_by: [instance_id]\n  expiration: '$last + 1h'\n"
        "  match_criteria: [{event_type: compute.instance.*}]\n"
        "  fire_criteria: [{event_type: compute.instance.exists}]\n  fire_pipeline: usage_fire\n"
    )
    worker = PipelineWorker(_store(), renamed, {}, _service())
    assert worker.run().errors >= 1
    assert _stream_of(instance)["state"] == "error"


@pytest.mark.parametrize(
    ("variable", "text", "says"),
    [
        (
            "STACKTACH_PIPELINES_CONFIG",
            "usage_fire: [logger]\n",
            "pipelines that are not defined: usage_expire",
        ),
        ("STACKTACH_PIPELINES_CONFIG", "usage_fire: [nope]\nusage_expire: []\n", "unknown handler 'nope'"),
        (
            "STACKTACH_PIPELINES_CONFIG",
            "usage_fire: [publish]\nusage_expire: []\n",
            "publish needs a 'target'",
        ),
        ("STACKTACH_TRIGGERS_CONFIG", "- name: [\n", "STACKTACH_TRIGGERS_CONFIG"),
        ("STACKTACH_DISTILLER_CONFIG", "{event_type: 1}\n", "must be a list"),
    ],
)
def test_an_invalid_configuration_file_stops_the_local_stack_naming_the_problem(
    aws, tmp_path, monkeypatch, variable, text, says
) -> None:
    from scripts.localstack.stack import ConfigurationError, check_configuration

    path = tmp_path / "config.yaml"
    path.write_text(text)
    monkeypatch.setenv(variable, str(path))
    try:
        with pytest.raises(ConfigurationError, match="StackTach configuration") as raised:
            check_configuration()
        assert says in str(raised.value)
    finally:
        monkeypatch.delenv(variable)
        from chalicelib import compose

        compose.stacktach.cache_clear()
