"""Lambda's event shapes, built where Lambda is not there to build them: by the local stack's event pump,
by tests that hand a consumer a batch themselves, and by benchmarks.

One builder per shape, so all of them agree with what Lambda sends (and with each other)."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from .motoserver import ACCOUNT_ID, DEFAULT_REGION


def kinesis_record(
    *,
    data: bytes,
    partition_key: str,
    sequence_number: str,
    shard_id: str,
    stream_arn: str,
    arrival: float | datetime | None = None,
    region: str = DEFAULT_REGION,
    identity_arn: str | None = None,
) -> dict[str, Any]:
    """One record of a Kinesis event, as Lambda hands it to a `@app.on_kinesis_record` handler."""
    if isinstance(arrival, datetime):
        arrival = arrival.timestamp()
    record: dict[str, Any] = {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": partition_key,
            "sequenceNumber": sequence_number,
            "data": base64.b64encode(data).decode("ascii"),
            "approximateArrivalTimestamp": time.time() if arrival is None else arrival,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard_id}:{sequence_number}",
        "eventName": "aws:kinesis:record",
        "awsRegion": region,
        "eventSourceARN": stream_arn,
    }
    if identity_arn is not None:
        record["invokeIdentityArn"] = identity_arn
    return record


def kinesis_record_from(
    fetched: Mapping[str, Any], *, shard_id: str, stream_arn: str, **options: Any
) -> dict[str, Any]:
    """The event record of a record as `GetRecords` returned it (`Data`, `PartitionKey`, ...)."""
    return kinesis_record(
        data=fetched["Data"],
        partition_key=fetched["PartitionKey"],
        sequence_number=fetched["SequenceNumber"],
        shard_id=shard_id,
        stream_arn=stream_arn,
        arrival=fetched.get("ApproximateArrivalTimestamp"),
        **options,
    )


def kinesis_event(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    return {"Records": list(records)}


def role_arn(app_name: str, stage: str) -> str:
    """The execution role Chalice gives an app's functions of a stage."""
    return f"arn:aws:iam::{ACCOUNT_ID}:role/{app_name}-{stage}"


def sqs_record(message: Mapping[str, Any], *, queue_arn: str, region: str = DEFAULT_REGION) -> dict[str, Any]:
    """One record of an SQS event, from a message as `ReceiveMessage` returned it."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": _message_attributes(message.get("MessageAttributes", {})),
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def _message_attributes(attributes: Mapping[str, Any]) -> dict[str, Any]:
    converted = {}
    for key, value in attributes.items():
        item = {"dataType": value.get("DataType"), "stringListValues": [], "binaryListValues": []}
        if "StringValue" in value:
            item["stringValue"] = value["StringValue"]
        if "BinaryValue" in value:
            item["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode("ascii")
        converted[key] = item
    return converted


class LambdaContext:
    """The attributes of Lambda's Python context object that handlers and Powertools read."""

    def __init__(
        self,
        function_name: str,
        *,
        region: str = DEFAULT_REGION,
        memory_limit_in_mb: int = 128,
        timeout: float = 900.0,
        stopping: Callable[[], bool] = lambda: False,
    ) -> None:
        self.function_name = function_name
        # the local stack is stopping: the invocation has no time left (a handler that loops ends)
        self._stopping = stopping
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{function_name}"
        self.memory_limit_in_mb = memory_limit_in_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + timeout

    def get_remaining_time_in_millis(self) -> int:
        if self._stopping():
            return 0
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def schedule_rule_arn(rule: str, region: str = DEFAULT_REGION) -> str:
    return f"arn:aws:events:{region}:{ACCOUNT_ID}:rule/{rule}"


def scheduled_event(rule_arn: str, moment: float, *, region: str = DEFAULT_REGION) -> dict[str, Any]:
    """The EventBridge event a schedule rule sends its target at `moment` (epoch seconds)."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": utc_iso(moment),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


def utc_iso(moment: float | datetime | None = None) -> str:
    if moment is None:
        moment = time.time()
    if isinstance(moment, int | float):
        moment = datetime.fromtimestamp(moment, UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
