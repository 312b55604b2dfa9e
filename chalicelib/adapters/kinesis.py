"""Publishing records to Kinesis with PutRecords, retrying throttled or failed records until all are in.
A record larger than Kinesis takes travels by claim check (adapters/claimchecks.py)."""

from __future__ import annotations

import random
import time
from collections.abc import Sequence

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.adapters import clients
from chalicelib.adapters.claimchecks import ClaimChecks
from chalicelib.kit.errors import UNAVAILABLE, TicklessError

logger = Logger(child=True)

MAX_RECORDS_PER_CALL = 500
MAX_BYTES_PER_CALL = 5 * 1024 * 1024
MAX_RECORD_BYTES = 1024 * 1024  # data and partition key of one record
_TRANSIENT = {
    "ProvisionedThroughputExceededException",
    "LimitExceededException",
    "ThrottlingException",
    "InternalFailure",
    "InternalFailureException",
    "ServiceUnavailable",
    "KMSThrottlingException",
}


class KinesisPublisher:
    def __init__(
        self,
        stream_name: str,
        claim_checks: ClaimChecks,
        deadline_seconds: float = 20.0,
        label: str = "points stream",  # what a refusal calls the stream
    ) -> None:
        self.stream_name = stream_name
        self.label = label
        self.claim_checks = claim_checks
        self.deadline_seconds = deadline_seconds

    @property
    def client(self):
        return clients.client("kinesis")

    def publish(self, records: Sequence[tuple[str, bytes]]) -> None:
        """Put every (partition key, data) record, in order per partition key. Returns only when all are
        on the stream, and the blobs of those sent by claim check in S3, before their pointers; raises
        `unavailable` when the stream or S3 keeps refusing them."""
        deadline = time.monotonic() + self.deadline_seconds
        pending = [
            (key, self.claim_checks.check(data) if len(key.encode()) + len(data) > MAX_RECORD_BYTES else data)
            for key, data in records
        ]
        attempt = 0
        while pending:
            call, pending = _next_call(pending)
            failed = self._put(call)
            if failed:
                # Keep per-key order: a failed record and every later record of its key go again.
                retry_keys = {call[i][0] for i in failed}
                first_failed = {}
                for i in failed:
                    first_failed.setdefault(call[i][0], i)
                again = [r for i, r in enumerate(call) if r[0] in retry_keys and i >= first_failed[r[0]]]
                pending = again + pending
                attempt += 1
                if time.monotonic() >= deadline:
                    raise TicklessError(UNAVAILABLE, f"{self.label} is unavailable, retry later")
                time.sleep(min(2.0, 0.05 * 2**attempt) * random.uniform(0.5, 1.0))

    def _put(self, call: list[tuple[str, bytes]]) -> list[int]:
        try:
            response = self.client.put_records(
                StreamName=self.stream_name,
                Records=[{"PartitionKey": key, "Data": data} for key, data in call],
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in _TRANSIENT:
                raise  # a missing stream or a denied call does not heal by retrying
            logger.warning("kinesis put_records failed", extra={"error": str(exc)})
            return list(range(len(call)))
        except BotoCoreError as exc:  # unreachable or timed out: the whole call failed
            logger.warning("kinesis put_records failed", extra={"error": str(exc)})
            return list(range(len(call)))
        if not response.get("FailedRecordCount"):
            return []
        failed = [i for i, r in enumerate(response["Records"]) if r.get("ErrorCode")]
        logger.warning("kinesis rejected records", extra={"failed": len(failed), "sent": len(call)})
        return failed


def _next_call(records: list[tuple[str, bytes]]) -> tuple[list[tuple[str, bytes]], list[tuple[str, bytes]]]:
    size = 0
    for i, (key, data) in enumerate(records):
        size += len(key.encode()) + len(data)
        if i >= MAX_RECORDS_PER_CALL or (i and size > MAX_BYTES_PER_CALL):
            return records[:i], records[i:]
    return records, []
