"""The `deadletters` table: records a consumer could never process, kept with the reason."""

from __future__ import annotations

from datetime import UTC, datetime

from pynamodb.attributes import BinaryAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.declarations import DEADLETTERS


class DeadLetterItem(Model):
    class Meta:
        table_name = DEADLETTERS.physical_name

    pk = UnicodeAttribute(hash_key=True, attr_name=DEADLETTERS.hash_key)  # the source, e.g. the stream
    sk = UnicodeAttribute(range_key=True, attr_name=DEADLETTERS.range_key)  # the record's id there
    reason = UnicodeAttribute()
    data = BinaryAttribute(legacy_encoding=False)
    at = UnicodeAttribute()


class DynamoDeadLetters:
    def put(self, source: str, record_id: str, reason: str, data: bytes) -> None:
        DeadLetterItem(source, record_id, reason=reason, data=data, at=datetime.now(UTC).isoformat()).save()

    def list(self, source: str) -> list[dict]:
        return [
            {"id": item.sk, "reason": item.reason, "data": item.data, "at": item.at}
            for item in DeadLetterItem.query(source)
        ]
