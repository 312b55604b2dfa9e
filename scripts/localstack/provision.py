"""Create the resources of `chalicelib.declarations` on an AWS endpoint (moto locally), idempotently.

The declarations are the single source of truth shared with infra/: nothing here lists resources."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from chalicelib import declarations
from chalicelib.declarations import Bucket, Queue, StateMachine, Stream, Table, physical_name

from .motoserver import ACCOUNT_ID, DEFAULT_REGION

WORKFLOWS_DIR = Path(declarations.__file__).resolve().parent / "workflows"
# moto does not check IAM; state machines still need a syntactically valid role.
STATE_MACHINE_ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/tickless-local-stepfunctions"
DLQ_SUFFIX = "-dlq"
# `${Name}` in an ASL file (CloudFormation's DefinitionSubstitutions syntax).
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


@dataclass
class Provisioned:
    """Physical identifiers of what was provisioned, keyed by logical name."""

    tables: dict[str, str] = field(default_factory=dict)  # logical -> table name
    streams: dict[str, str] = field(default_factory=dict)  # logical -> stream ARN
    queues: dict[str, str] = field(default_factory=dict)  # logical -> queue URL (DLQs as "<name>-dlq")
    state_machines: dict[str, str] = field(default_factory=dict)  # logical -> state machine ARN
    buckets: dict[str, str] = field(default_factory=dict)  # logical -> bucket name


def provision(
    endpoint_url: str | None = None,
    *,
    region: str | None = None,
    session: boto3.session.Session | None = None,
    tables: Iterable[Table] | None = None,
    streams: Iterable[Stream] | None = None,
    queues: Iterable[Queue] | None = None,
    state_machines: Iterable[StateMachine] | None = None,
    workflows_dir: Path | None = None,
    buckets: Iterable[Bucket] | None = None,
) -> Provisioned:
    """Create (or converge) every declared table, stream, queue, state machine and bucket.

    `endpoint_url` defaults to the environment (`AWS_ENDPOINT_URL`). Each resource kind defaults to
    its `declarations` tuple; pass your own (e.g. `streams=(Stream("x"),)`, `tables=()`) in tests.
    Re-running is harmless: existing resources are left in place and their settings converged."""
    session = session or boto3.session.Session()

    def client(service: str) -> Any:
        return session.client(service, endpoint_url=endpoint_url, region_name=region or DEFAULT_REGION)

    result = Provisioned()
    tables = declarations.TABLES if tables is None else tuple(tables)
    streams = declarations.STREAMS if streams is None else tuple(streams)
    queues = declarations.QUEUES if queues is None else tuple(queues)
    state_machines = declarations.STATE_MACHINES if state_machines is None else tuple(state_machines)
    buckets = declarations.BUCKETS if buckets is None else tuple(buckets)
    if tables:
        dynamodb = client("dynamodb")
        for table in tables:
            result.tables[table.name] = create_table(dynamodb, table)
    if streams:
        kinesis = client("kinesis")
        for stream in streams:
            result.streams[stream.name] = create_stream(kinesis, stream)
    if queues:
        sqs = client("sqs")
        for queue in queues:
            result.queues.update(create_queue(sqs, queue))
    if state_machines:
        # After the queues: an ASL file names queue URLs (`${QueueUrl_<name>}`), the provisioned ones and
        # those of the declared queues that already exist (provisioned by an earlier call).
        substitutions = definition_substitutions(client("sqs"), result.queues)
        sfn, directory = client("stepfunctions"), workflows_dir or WORKFLOWS_DIR
        for machine in state_machines:
            result.state_machines[machine.name] = create_state_machine(sfn, machine, directory, substitutions)
    if buckets:
        s3 = client("s3")
        for bucket in buckets:
            result.buckets[bucket.name] = create_bucket(s3, bucket, region or DEFAULT_REGION)
    return result


def _error_code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


def create_table(client: Any, table: Table) -> str:
    name = physical_name(table.name)
    keys = [(table.hash_key, "HASH")] + ([(table.range_key, "RANGE")] if table.range_key else [])
    try:
        client.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": key, "KeyType": kind} for key, kind in keys],
            AttributeDefinitions=[
                {"AttributeName": key, "AttributeType": table.key_type(key)} for key, _ in keys
            ],
            BillingMode="PAY_PER_REQUEST",
        )
    except ClientError as exc:
        if _error_code(exc) != "ResourceInUseException":
            raise
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 150})
    if table.ttl_attribute:
        current = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        if current.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING") or (
            current.get("AttributeName") != table.ttl_attribute
        ):
            client.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
            )
    return name


def create_stream(client: Any, stream: Stream, *, timeout: float = 30.0) -> str:
    name = physical_name(stream.name)
    try:
        client.create_stream(StreamName=name, ShardCount=stream.shards)
    except ClientError as exc:
        if _error_code(exc) != "ResourceInUseException":
            raise
    deadline = time.monotonic() + timeout
    while True:
        summary = client.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        if summary["StreamStatus"] == "ACTIVE":
            current = summary["RetentionPeriodHours"]
            if current == stream.retention_hours:
                return summary["StreamARN"]
            longer = stream.retention_hours > current
            change = (
                client.increase_stream_retention_period if longer else client.decrease_stream_retention_period
            )
            change(StreamName=name, RetentionPeriodHours=stream.retention_hours)
        if time.monotonic() > deadline:
            raise TimeoutError(f"stream {name} not ACTIVE with its declared retention after {timeout}s")
        time.sleep(0.1)


def create_queue(client: Any, queue: Queue) -> dict[str, str]:
    """The queue and, when `max_receive_count` is set, its `<name>-dlq` with a redrive policy.

    Returns `{logical name: queue URL}` for both."""
    urls: dict[str, str] = {}
    attributes = {"VisibilityTimeout": str(queue.visibility_timeout)}
    if queue.max_receive_count:
        dlq_logical = queue.name + DLQ_SUFFIX
        dlq_url = client.create_queue(QueueName=physical_name(dlq_logical))["QueueUrl"]
        urls[dlq_logical] = dlq_url
        dlq_arn = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        attributes["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(queue.max_receive_count)}
        )
    # Created bare, then converged: create_queue with different attributes than an existing queue fails.
    url = client.create_queue(QueueName=physical_name(queue.name))["QueueUrl"]
    client.set_queue_attributes(QueueUrl=url, Attributes=attributes)
    urls[queue.name] = url
    return urls


def definition_substitutions(sqs: Any, queues: Mapping[str, str]) -> dict[str, str]:
    """The values of an ASL file's placeholders, as infra/ substitutes them on deploy: `${Prefix}` and
    `${QueueUrl_<queue, "-" as "_">}` for each queue of `queues` (logical name -> URL) and each declared
    queue (and DLQ) that exists on the endpoint."""
    urls = dict(queues)
    declared = [q.name for q in declarations.QUEUES]
    declared += [q.name + DLQ_SUFFIX for q in declarations.QUEUES if q.max_receive_count]
    for logical in declared:
        if logical not in urls:
            try:
                urls[logical] = sqs.get_queue_url(QueueName=physical_name(logical))["QueueUrl"]
            except ClientError as exc:
                if "NonExistentQueue" not in _error_code(exc):
                    raise
    return {
        "Prefix": declarations.prefix(),
        **{declarations.queue_url_key(q): url for q, url in urls.items()},
    }


def substitute(definition: str, substitutions: Mapping[str, str], *, source: str = "definition") -> str:
    """`${Key}` replaced by `substitutions[Key]` (as CloudFormation's DefinitionSubstitutions do); a
    placeholder left without a value is an error here rather than a failed step later."""

    def value(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in substitutions:
            raise ValueError(f"{source}: no value for ${{{key}}} (known: {', '.join(sorted(substitutions))})")
        # Inside a JSON string: escape as JSON would (URLs and prefixes have nothing to escape).
        return json.dumps(substitutions[key])[1:-1]

    return _PLACEHOLDER.sub(value, definition)


def create_state_machine(
    client: Any,
    machine: StateMachine,
    workflows_dir: Path = WORKFLOWS_DIR,
    substitutions: Mapping[str, str] | None = None,
) -> str:
    """Create or update the machine from its ASL file, placeholders substituted (`definition_substitutions`;
    by default only `${Prefix}`)."""
    name = physical_name(machine.name)
    path = workflows_dir / machine.definition
    json.loads(path.read_text())  # fail here, with the file name in the traceback, rather than inside moto
    if substitutions is None:
        substitutions = {"Prefix": declarations.prefix()}
    definition = substitute(path.read_text(), substitutions, source=str(path))
    paginator = client.get_paginator("list_state_machines")
    for page in paginator.paginate():
        for existing in page["stateMachines"]:
            if existing["name"] == name:
                client.update_state_machine(
                    stateMachineArn=existing["stateMachineArn"], definition=definition
                )
                return existing["stateMachineArn"]
    return client.create_state_machine(name=name, definition=definition, roleArn=STATE_MACHINE_ROLE_ARN)[
        "stateMachineArn"
    ]


def create_bucket(client: Any, bucket: Bucket, region: str = DEFAULT_REGION) -> str:
    """The bucket, with one lifecycle rule per area that expires its objects."""
    name = bucket.physical_name
    kwargs = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    try:
        client.create_bucket(Bucket=name, **kwargs)
    except ClientError as exc:
        if _error_code(exc) != "BucketAlreadyOwnedByYou":
            raise
    rules = [
        {
            "ID": f"expire-{area.prefix.strip('/').replace('/', '-')}",
            "Filter": {"Prefix": area.prefix},
            "Status": "Enabled",
            "Expiration": {"Days": area.expire_days},
        }
        for area in bucket.areas
        if area.expire_days is not None
    ]
    if rules:
        client.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": rules})
    else:
        client.delete_bucket_lifecycle(Bucket=name)
    return name
