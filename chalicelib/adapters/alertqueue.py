"""The `alerts` SQS queue: alert events of tasks and their deliveries, as JSON messages."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.adapters import clients
from chalicelib.declarations import physical_name

_BATCH = 10  # SendMessageBatch's most
_MAX_BACKOFF_SECONDS = 900


class SqsAlertQueue:
    """tick.effects.AlertQueue, and the delivery worker's retry with backoff."""

    def __init__(self, logical_name: str = "alerts") -> None:
        self.name = physical_name(logical_name)
        self._url: str | None = None

    @property
    def url(self) -> str:
        if self._url is None:
            self._url = clients.client("sqs").get_queue_url(QueueName=self.name)["QueueUrl"]
        return self._url

    def send(self, messages: list[dict[str, Any]], delay_seconds: int = 0) -> None:
        sqs = clients.client("sqs")
        for start in range(0, len(messages), _BATCH):
            chunk = messages[start : start + _BATCH]
            entries = [
                {"Id": str(i), "MessageBody": json.dumps(m, separators=(",", ":"))}
                for i, m in enumerate(chunk)
            ]
            response = sqs.send_message_batch(QueueUrl=self.url, Entries=entries)
            if response.get("Failed"):
                failed = [entries[int(f["Id"])] for f in response["Failed"]]
                retry = sqs.send_message_batch(QueueUrl=self.url, Entries=failed)
                if retry.get("Failed"):
                    raise RuntimeError(f"alert queue refused {len(retry['Failed'])} messages")

    def back_off(self, receipt_handle: str, attempt: int) -> None:
        """Delay a failed message's next attempt: 10 s, 20 s, 40 s, ... (SQS redelivers it then)."""
        delay = min(_MAX_BACKOFF_SECONDS, 10 * 2 ** max(0, attempt - 1))
        clients.client("sqs").change_message_visibility(
            QueueUrl=self.url, ReceiptHandle=receipt_handle, VisibilityTimeout=delay
        )
