"""Kinesis consumer checkpoints kept in a DynamoDB table on the AWS endpoint, as the KCL keeps its leases.

Kept next to the records they point into: with a persistent moto (persistence.py) a checkpoint is
journaled after the records it covers, so a restart never resumes past a record it lost. The table is
local-stack machinery (`<prefix>localstack-checkpoints`), not one of the app's declarations.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import boto3
from botocore.exceptions import ClientError

from chalicelib.declarations import DEFAULT_PREFIX, PREFIX_ENV

logger = logging.getLogger("tickless.localstack.checkpoints")

TABLE = "localstack-checkpoints"


def table_name() -> str:
    return f"{os.environ.get(PREFIX_ENV) or DEFAULT_PREFIX}{TABLE}"


class Checkpoints:
    """The last sequence number each (handler, shard) has handled."""

    def __init__(self, endpoint_url: str | None, region: str, name: str | None = None) -> None:
        self.name = name or table_name()
        self._client = boto3.session.Session().client(
            "dynamodb", endpoint_url=endpoint_url, region_name=region
        )

    def create(self) -> Checkpoints:
        try:
            self._client.create_table(
                TableName=self.name,
                AttributeDefinitions=[{"AttributeName": "consumer", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "consumer", "KeyType": "HASH"}],
                BillingMode="PAY_PER_REQUEST",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceInUseException":
                raise
        return self

    @classmethod
    def find(cls, endpoint_url: str | None, region: str) -> Checkpoints | None:
        """The table on `endpoint_url` if a persistent stack created it, else None (keep them in memory)."""
        found = cls(endpoint_url, region)
        try:
            found._client.describe_table(TableName=found.name)
        except ClientError:
            return None
        return found

    @staticmethod
    def _key(handler: str, stream: str, shard: str) -> dict[str, Any]:
        return {"consumer": {"S": f"{handler}|{stream}|{shard}"}}

    def load(self, handler: str, stream: str, shard: str) -> str | None:
        item = self._client.get_item(TableName=self.name, Key=self._key(handler, stream, shard)).get("Item")
        return item["sequence"]["S"] if item else None

    def save(self, handler: str, stream: str, shard: str, sequence: str) -> None:
        self._client.put_item(
            TableName=self.name, Item={**self._key(handler, stream, shard), "sequence": {"S": sequence}}
        )
