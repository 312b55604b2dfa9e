"""Stream consumers. Each reports partial batch failures, so one poison record cannot block a shard:
records that can never be processed go to the dead-letter table with their reason; records that
fail for a passing reason (throttling, an unreachable table), or whose dead letter cannot be kept,
are retried by Lambda from that record and, once its retries are spent, reported to the on-failure
queue. Nothing is checkpointed that was neither stored nor dead-lettered."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord

from chalicelib import compose
from chalicelib.events.observability import dead_letter, observed
from chalicelib.ingest import records
from chalicelib.kit import collector

logger = Logger()


@observed("consume_points")
def consume_points(event: dict[str, Any], context: Any) -> dict[str, Any]:
    # A processor per invocation: it collects the invocation's outcomes, and invocations may run at
    # once in one process (the local stack's shards are threads); a shared one mixed up their reports.
    processor = BatchProcessor(event_type=EventType.KinesisDataStreams)
    return process_partial_response(
        event=event, record_handler=store_points_record, processor=processor, context=context
    )


def store_points_record(record: KinesisStreamRecord) -> None:
    data = record.kinesis.data_as_bytes()
    sequence = record.kinesis.sequence_number
    try:
        data = compose.claim_checks().resolve(data)  # a pointer's blob (records too large for Kinesis)
        with collector.paused():  # a dict per point, all alive until stored (kit/collector.py)
            batch = records.decode(data)
            compose.store().ingest(sequence, batch, record.kinesis.approximate_arrival_timestamp)
    except ValueError as exc:
        # Undecodable records, lost claim checks and points that cannot be stored fail the same way on
        # every retry. Keeping the dead letter may fail too: that raises, failing the record.
        logger.error("dead-lettering points record", extra={"sequence": sequence, "reason": str(exc)})
        compose.dead_letters().put("points", record.event_id, str(exc), data)
        dead_letter("points")
