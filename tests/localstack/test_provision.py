"""Provisioning the declared resources on a moto server, and the in-process LocalStack around it."""

from __future__ import annotations

import json
import os
import time
import urllib.request

import boto3
import pytest
from chalice import Chalice, Response

from chalicelib import declarations
from chalicelib.declarations import BlobArea, Bucket, Queue, StateMachine, Stream, Table, physical_name
from scripts.localstack import LocalStack, provision
from tests.localstack.conftest import client, moto_server


@pytest.fixture(scope="module")
def moto_url():
    with moto_server("tlprov-") as url:
        yield url


def test_every_declared_resource_exists(moto_url):
    result = provision(moto_url)
    dynamodb, kinesis, sqs = (
        client("dynamodb", moto_url),
        client("kinesis", moto_url),
        client("sqs", moto_url),
    )

    for table in declarations.TABLES:
        name = physical_name(table.name)
        assert name.startswith("tlprov-")
        assert result.tables[table.name] == name
        described = dynamodb.describe_table(TableName=name)["Table"]
        keys = {k["AttributeName"]: k["KeyType"] for k in described["KeySchema"]}
        expected = {table.hash_key: "HASH", **({table.range_key: "RANGE"} if table.range_key else {})}
        assert keys == expected
        types = {a["AttributeName"]: a["AttributeType"] for a in described["AttributeDefinitions"]}
        assert types == {key: table.key_type(key) for key in expected}
        ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        if table.ttl_attribute:
            assert ttl["TimeToLiveStatus"] == "ENABLED"
            assert ttl["AttributeName"] == table.ttl_attribute
        else:
            assert ttl["TimeToLiveStatus"] == "DISABLED"

    for stream in declarations.STREAMS:
        summary = kinesis.describe_stream_summary(StreamName=physical_name(stream.name))[
            "StreamDescriptionSummary"
        ]
        assert summary["StreamStatus"] == "ACTIVE"
        assert summary["OpenShardCount"] == stream.shards
        assert summary["RetentionPeriodHours"] == stream.retention_hours
        assert result.streams[stream.name] == summary["StreamARN"]

    for queue in declarations.QUEUES:
        url = sqs.get_queue_url(QueueName=physical_name(queue.name))["QueueUrl"]
        assert result.queues[queue.name] == url
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert attributes["VisibilityTimeout"] == str(queue.visibility_timeout)
        assert ("RedrivePolicy" in attributes) == bool(queue.max_receive_count)

    machines = client("stepfunctions", moto_url).list_state_machines()["stateMachines"]
    names = {m["name"] for m in machines}
    assert {physical_name(m.name) for m in declarations.STATE_MACHINES} <= names

    s3 = client("s3", moto_url)
    assert set(result.buckets) == {b.name for b in declarations.BUCKETS}
    for bucket in declarations.BUCKETS:
        name = result.buckets[bucket.name]
        assert name == physical_name(bucket.name) == bucket.physical_name
        rules = s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]
        assert {(r["Filter"]["Prefix"], r["Expiration"]["Days"], r["Status"]) for r in rules} == {
            (a.prefix, a.expire_days, "Enabled") for a in bucket.areas if a.expire_days is not None
        }
    # Claim checks stay until the points stream has dropped (and stopped retrying) their pointers.
    assert declarations.CLAIM_CHECKS.expire_days * 24 >= declarations.POINTS.retention_hours + 24

    # Every consumer's on-failure queue and stream is declared.
    for consumer in declarations.KINESIS_CONSUMERS:
        assert consumer.stream in result.streams
        assert consumer.on_failure_queue is None or consumer.on_failure_queue in result.queues

    # Idempotent: a second run changes nothing and fails on nothing.
    assert provision(moto_url) == result


def test_ttl_key_types_dlq_and_state_machines(moto_url, tmp_path):
    (tmp_path / "hello.asl.json").write_text(
        json.dumps(
            {
                "StartAt": "Hello",
                "States": {"Hello": {"Type": "Pass", "Result": {"greeting": "hi"}, "End": True}},
            }
        )
    )
    resources = dict(
        tables=(Table("expiring", "pk", "at", ttl_attribute="expires", key_types={"at": "N"}),),
        streams=(Stream("wide", shards=3, retention_hours=48),),
        queues=(Queue("jobs", visibility_timeout=7, max_receive_count=2),),
        state_machines=(StateMachine("hello", "hello.asl.json"),),
        workflows_dir=tmp_path,
        buckets=(Bucket("plain"), Bucket("aging", areas=(BlobArea("a/", 3), BlobArea("kept/")))),
    )
    result = provision(moto_url, **resources)
    assert provision(moto_url, **resources) == result  # idempotent, state machine updated in place

    dynamodb = client("dynamodb", moto_url)
    ttl = dynamodb.describe_time_to_live(TableName="tlprov-expiring")["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}
    definitions = dynamodb.describe_table(TableName="tlprov-expiring")["Table"]["AttributeDefinitions"]
    assert {a["AttributeName"]: a["AttributeType"] for a in definitions} == {"pk": "S", "at": "N"}

    kinesis = client("kinesis", moto_url)
    assert len(kinesis.list_shards(StreamName="tlprov-wide")["Shards"]) == 3
    summary = kinesis.describe_stream_summary(StreamName="tlprov-wide")["StreamDescriptionSummary"]
    assert summary["RetentionPeriodHours"] == 48

    s3 = client("s3", moto_url)
    assert result.buckets == {"plain": "tlprov-plain", "aging": "tlprov-aging"}
    [rule] = s3.get_bucket_lifecycle_configuration(Bucket="tlprov-aging")["Rules"]
    assert (rule["Filter"], rule["Expiration"], rule["Status"]) == ({"Prefix": "a/"}, {"Days": 3}, "Enabled")
    s3.put_object(Bucket="tlprov-plain", Key="k", Body=b"v")
    assert s3.get_object(Bucket="tlprov-plain", Key="k")["Body"].read() == b"v"

    sqs = client("sqs", moto_url)
    assert set(result.queues) == {"jobs", "jobs-dlq"}
    attributes = sqs.get_queue_attributes(QueueUrl=result.queues["jobs"], AttributeNames=["All"])[
        "Attributes"
    ]
    assert attributes["VisibilityTimeout"] == "7"
    redrive = json.loads(attributes["RedrivePolicy"])
    assert int(redrive["maxReceiveCount"]) == 2
    assert redrive["deadLetterTargetArn"].endswith(":tlprov-jobs-dlq")

    # Step Functions really execute on the local moto server.
    sfn = client("stepfunctions", moto_url)
    execution = sfn.start_execution(stateMachineArn=result.state_machines["hello"], input="{}")[
        "executionArn"
    ]
    deadline = time.monotonic() + 10
    while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "state machine execution did not finish"
        time.sleep(0.1)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"greeting": "hi"}


def test_local_stack_serves_the_app_and_its_control_endpoints():
    app = Chalice(app_name="tinyapp")

    @app.route("/ping", methods=["GET"])
    def ping():
        return Response(body="", status_code=204)

    @app.route("/tables")
    def tables():
        # The app's own boto3 calls reach moto through the environment, unchanged.
        return {"tables": boto3.client("dynamodb").list_tables()["TableNames"]}

    saved = dict(os.environ)
    try:
        with LocalStack(app, port=0, prefix="tlstack-", project_dir="/nonexistent") as stack:
            with urllib.request.urlopen(f"{stack.url}/ping", timeout=10) as response:
                assert response.status == 204
            with urllib.request.urlopen(f"{stack.url}/tables", timeout=10) as response:
                names = json.load(response)["tables"]
            # (moto servers in one process share their backends: other tests' tables show up too)
            assert {f"tlstack-{t.name}" for t in declarations.TABLES} <= set(names)
            assert stack.kapacitor_url == f"{stack.url}/kapacitor/v1/"
            drain = urllib.request.Request(f"{stack.url}/_localstack/drain?timeout=5", method="POST")
            with urllib.request.urlopen(drain, timeout=10) as response:
                assert response.status == 204
            with urllib.request.urlopen(f"{stack.url}/_localstack/resources", timeout=10) as response:
                resources = json.load(response)
            assert resources["moto"] == stack.moto_url
            assert set(resources["tables"]) == {t.name for t in declarations.TABLES}
            assert resources["buckets"] == {b.name: f"tlstack-{b.name}" for b in declarations.BUCKETS}
    finally:
        os.environ.clear()
        os.environ.update(saved)
