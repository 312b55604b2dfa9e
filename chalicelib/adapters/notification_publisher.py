"""Where StackTach's publish handler sends notifications: an SNS topic (a target that is a topic ARN) or
a Kinesis stream (any other target, by name), one JSON message per notification. A target outside
tickless reads plain JSON, so a notification too large for one message is refused, not claim-checked."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from chalicelib.adapters import clients
from chalicelib.adapters.kinesis import MAX_RECORD_BYTES, KinesisPublisher
from chalicelib.kit.errors import invalid
from chalicelib.stacktach.pipeline import is_sns_topic

SNS_BATCH = 10  # PublishBatch's limit
SNS_MAX_BYTES = 256 * 1024


class NotificationPublisher:
    """stacktach.handlers.Publisher."""

    def publish(self, target: str, messages: Sequence[dict[str, Any]]) -> None:
        bodies = [json.dumps(m, separators=(",", ":"), default=str) for m in messages]
        if is_sns_topic(target):
            self._to_topic(target, bodies)
        else:
            self._to_stream(target, messages, bodies)

    @staticmethod
    def _to_topic(arn: str, bodies: list[str]) -> None:
        if any(len(b.encode()) > SNS_MAX_BYTES for b in bodies):
            raise invalid(f"a notification is larger than SNS takes ({SNS_MAX_BYTES} bytes)")
        sns = clients.client("sns")
        for start in range(0, len(bodies), SNS_BATCH):
            batch = bodies[start : start + SNS_BATCH]
            entries = [{"Id": str(i), "Message": body} for i, body in enumerate(batch)]
            failed = sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=entries).get("Failed") or []
            if failed:
                raise RuntimeError(f"SNS refused {len(failed)} notifications: {failed[0].get('Message')}")

    @staticmethod
    def _to_stream(name: str, messages: Sequence[dict[str, Any]], bodies: list[str]) -> None:
        records = [
            (str(m.get("message_id") or i), b.encode())
            for i, (m, b) in enumerate(zip(messages, bodies, strict=True))
        ]
        if any(len(key.encode()) + len(data) > MAX_RECORD_BYTES for key, data in records):
            raise invalid(f"a notification is larger than a Kinesis record takes ({MAX_RECORD_BYTES} bytes)")
        KinesisPublisher(name, claim_checks=None, label=f"Kinesis stream {name}").publish(records)  # type: ignore[arg-type]
