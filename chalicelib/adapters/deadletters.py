"""The `deadletters` table: records a consumer could never process, kept with the reason.

A record too large for a DynamoDB item (400 KB, names and values included) is kept in S3, in the
`DEAD_LETTER_BLOBS` area (no expiry), and its item holds the reason, the object's key and size."""

from __future__ import annotations

from datetime import UTC, datetime

from pynamodb.attributes import BinaryAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.adapters.blobs import S3Blobs
from chalicelib.declarations import DEAD_LETTER_BLOBS, DEADLETTERS

# Data up to this size stays in the item; the reason is cut to MAX_REASON_CHARS (at most 4 bytes each)
# and the keys are at most 2 KB, so an item never reaches 400 KB.
MAX_INLINE_BYTES = 300_000
MAX_REASON_CHARS = 16_000


class DeadLetterItem(Model):
    class Meta:
        table_name = DEADLETTERS.physical_name

    pk = UnicodeAttribute(hash_key=True, attr_name=DEADLETTERS.hash_key)  # the source, e.g. the stream
    sk = UnicodeAttribute(range_key=True, attr_name=DEADLETTERS.range_key)  # the record's id there
    reason = UnicodeAttribute()
    data = BinaryAttribute(legacy_encoding=False, null=True)  # the record, when it fits the item
    blob = UnicodeAttribute(null=True)  # else the S3 key of the record, in the blobs bucket
    size = NumberAttribute(null=True)  # the record's size in bytes
    at = UnicodeAttribute()


class DynamoDeadLetters:
    def __init__(self, blobs: S3Blobs) -> None:
        self.blobs = blobs

    def put(self, source: str, record_id: str, reason: str, data: bytes) -> None:
        """Keep the record with its reason, durably; raises when it cannot, so the caller fails the record
        (and Lambda retries it or reports it to the on-failure destination) instead of losing it."""
        if len(reason) > MAX_REASON_CHARS:
            reason = reason[:MAX_REASON_CHARS] + " ... (cut)"
        item = DeadLetterItem(
            source, record_id, reason=reason, size=len(data), at=datetime.now(UTC).isoformat()
        )
        if len(data) <= MAX_INLINE_BYTES:
            item.data = data
        else:
            item.blob = f"{DEAD_LETTER_BLOBS.prefix}{source}/{record_id}"
            self.blobs.put(item.blob, data)  # before the item: an item never names a missing object
        item.save()

    def list(self, source: str) -> list[dict]:
        """The dead letters of a source, their data read back from S3 where it was kept there."""
        return [
            {
                "id": item.sk,
                "reason": item.reason,
                "data": item.data if item.blob is None else self.blobs.get(item.blob),
                "blob": item.blob,
                "at": item.at,
            }
            for item in DeadLetterItem.query(source)
        ]
