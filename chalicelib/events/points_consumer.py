"""Stream consumers. Each reports partial batch failures, so one poison record cannot block a shard:
records that can never be processed go to the dead-letter table with their reason; records that
fail for a passing reason (throttling, an unreachable table), or whose dead letter cannot be kept,
are retried by Lambda from that record and, once its retries are spent, reported to the on-failure
queue. Nothing is checkpointed that was neither stored nor dead-lettered.

An invocation's points records are stored together (`SeriesStore.ingest_many`): a write makes a small
record per measurement, and storing them one by one paid every record's DynamoDB calls (tombstone
reads, a segment put, compaction marks, index writes) - half the consumer's CPU in the stack."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord

from chalicelib import compose
from chalicelib.events.observability import dead_letter, observed
from chalicelib.ingest import records
from chalicelib.ingest.records import PointBatch
from chalicelib.kit import collector

logger = Logger()

# Records are stored in groups of at most this much record data (claim-checked blobs included), so the
# decoded points alive at once stay well within the function's memory whatever the batch size.
_GROUP_BYTES = 8 * 1024 * 1024


@dataclass
class _Decoded:
    record: KinesisStreamRecord
    data: bytes  # the record's data, a claim check's blob resolved: what a dead letter keeps
    batch: PointBatch


@observed("consume_points")
def consume_points(event: dict[str, Any], context: Any) -> dict[str, Any]:
    # The records are stored first, all together; the processor then replays each record's outcome,
    # so the partial batch response (and the all-failed error) stays the one Powertools makes.
    failures = _store_together(KinesisStreamRecord(raw) for raw in event.get("Records", []))

    def outcome(record: KinesisStreamRecord) -> None:
        failure = failures.get(record.event_id)
        if failure is not None:
            raise failure

    # A processor per invocation: it collects the invocation's outcomes, and invocations may run at
    # once in one process (the local stack's shards are threads); a shared one mixed up their reports.
    processor = BatchProcessor(event_type=EventType.KinesisDataStreams)
    return process_partial_response(event=event, record_handler=outcome, processor=processor, context=context)


def _store_together(event_records: Iterable[KinesisStreamRecord]) -> dict[str, Exception]:
    """Decode the records (dead-lettering the undecodable) and store the rest in groups. Returns the
    records not stored nor dead-lettered, by event id, with what failed them."""
    failures: dict[str, Exception] = {}
    group: list[_Decoded] = []
    size = 0
    with collector.paused():  # a dict per point, all alive until stored (kit/collector.py)
        for record in event_records:
            try:
                decoded = _decode(record)
            except Exception as exc:  # a passing failure, or a dead letter that cannot be kept
                failures[record.event_id] = exc
                continue
            if decoded is None:
                continue
            if group and size + len(decoded.data) > _GROUP_BYTES:
                _store(group, failures)
                group, size = [], 0
            group.append(decoded)
            size += len(decoded.data)
        if group:
            _store(group, failures)
    return failures


def _decode(record: KinesisStreamRecord) -> _Decoded | None:
    """The record's points, or None once it is dead-lettered (undecodable, or its claim check lost)."""
    data = record.kinesis.data_as_bytes()
    try:
        data = compose.claim_checks().resolve(data)  # a pointer's blob (records too large for Kinesis)
        return _Decoded(record, data, records.decode(data))
    except ValueError as exc:
        _dead_letter(record, data, exc)
        return None


def _store(group: list[_Decoded], failures: dict[str, Exception]) -> None:
    try:
        compose.store().ingest_many([_ingest_args(decoded) for decoded in group])
    except ValueError:
        # Some record cannot be stored, ever: store them one by one to dead-letter it alone (those
        # stored already are rewritten with the same items).
        for decoded in group:
            try:
                compose.store().ingest(*_ingest_args(decoded))
            except ValueError as exc:
                try:
                    _dead_letter(decoded.record, decoded.data, exc)
                except Exception as kept:
                    failures[decoded.record.event_id] = kept
            except Exception as exc:
                failures[decoded.record.event_id] = exc
    except Exception as exc:
        # A passing failure: none of the group is known to be stored. Failing them all makes Lambda
        # retry from the first of them (redelivery is idempotent), and checkpoints none.
        for decoded in group:
            failures[decoded.record.event_id] = exc


def _ingest_args(decoded: _Decoded) -> tuple[str, PointBatch, float | None]:
    kinesis = decoded.record.kinesis
    return kinesis.sequence_number, decoded.batch, kinesis.approximate_arrival_timestamp


def _dead_letter(record: KinesisStreamRecord, data: bytes, exc: ValueError) -> None:
    # Undecodable records, lost claim checks and points that cannot be stored fail the same way on
    # every retry. Keeping the dead letter may fail too: that raises, failing the record.
    sequence = record.kinesis.sequence_number
    logger.error("dead-lettering points record", extra={"sequence": sequence, "reason": str(exc)})
    compose.dead_letters().put("points", record.event_id, str(exc), data)
    dead_letter("points")
