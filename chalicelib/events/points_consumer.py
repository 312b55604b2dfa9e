"""Stream consumers. Each reports partial batch failures, so one poison record cannot block a shard:
records that can never be processed go to the dead-letter table with their reason; records that
fail for a passing reason (throttling, an unreachable table) are retried by Lambda from that record."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord

from chalicelib import compose
from chalicelib.ingest import records

logger = Logger()
_points_processor = BatchProcessor(event_type=EventType.KinesisDataStreams)


def consume_points(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=store_points_record, processor=_points_processor, context=context
    )


def store_points_record(record: KinesisStreamRecord) -> None:
    data = record.kinesis.data_as_bytes()
    sequence = record.kinesis.sequence_number
    try:
        compose.store().ingest(sequence, records.decode(data))
    except ValueError as exc:
        # Undecodable records and points that cannot be stored fail the same way on every retry.
        logger.error("dead-lettering points record", extra={"sequence": sequence, "reason": str(exc)})
        compose.dead_letters().put("points", record.event_id, str(exc), data)
