"""Objects in a declared S3 bucket: what is too large for a Kinesis record or a DynamoDB item."""

from __future__ import annotations

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.adapters import clients
from chalicelib.declarations import Bucket
from chalicelib.kit.errors import UNAVAILABLE, TicklessError

logger = Logger(child=True)

# Errors that may heal by trying again later (boto3 has already retried them a few times).
_TRANSIENT = {"SlowDown", "InternalError", "ServiceUnavailable", "RequestTimeout", "Throttling"}
_MISSING = {"NoSuchKey", "404"}


class S3Blobs:
    def __init__(self, bucket: Bucket) -> None:
        self.bucket_name = bucket.physical_name

    @property
    def client(self):
        return clients.client("s3")

    def put(self, key: str, data: bytes) -> None:
        """Store `data` under `key`; returns once S3 has it durably. Raises `unavailable` when S3 keeps
        failing for a passing reason."""
        try:
            self.client.put_object(Bucket=self.bucket_name, Key=key, Body=data)
        except ClientError as exc:
            if _code(exc) not in _TRANSIENT:
                raise  # a missing bucket or a denied call does not heal by retrying
            raise _unavailable(exc) from exc
        except BotoCoreError as exc:
            raise _unavailable(exc) from exc

    def get(self, key: str) -> bytes | None:
        """The object's bytes, or None when there is no such object."""
        try:
            return self.client.get_object(Bucket=self.bucket_name, Key=key)["Body"].read()
        except ClientError as exc:
            if _code(exc) in _MISSING:
                return None
            raise

    def delete(self, key: str) -> None:
        """Remove the object (nothing when there is none)."""
        self.client.delete_object(Bucket=self.bucket_name, Key=key)

    def keys(self, prefix: str) -> list[str]:
        """Every key under `prefix`, in S3's (lexicographic) order."""
        paginator = self.client.get_paginator("list_objects_v2")
        found: list[str] = []
        for page in paginator.paginate(Bucket=self.bucket_name, Prefix=prefix):
            found += [item["Key"] for item in page.get("Contents") or []]
        return found


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _unavailable(exc: Exception) -> TicklessError:
    logger.warning("s3 call failed", extra={"error": str(exc)})
    return TicklessError(UNAVAILABLE, "blob store is unavailable, retry later")
