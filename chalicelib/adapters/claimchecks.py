"""The claim-check pattern for stream records larger than Kinesis takes: the data goes to S3, a small
pointer record goes on the stream, and the consumer resolves the pointer before decoding.

A pointer is `MARKER` followed by JSON `{"key", "size", "sha256"}`. Blobs are named by their SHA-256,
so a retried write puts the same object again, and live in an area the bucket's lifecycle rule empties
once the stream's retention (hence every retry of the pointer) has passed."""

from __future__ import annotations

import hashlib
import json

from chalicelib.adapters.blobs import S3Blobs
from chalicelib.declarations import BlobArea

# No points record starts with a NUL byte (they are zlib streams), so a pointer is never mistaken.
MARKER = b"\x00tickless-claim-check\x00"


class ClaimCheckError(ValueError):
    """A pointer that can never be resolved: malformed, its blob gone or not the data it names."""


class ClaimChecks:
    def __init__(self, blobs: S3Blobs, area: BlobArea) -> None:
        self.blobs = blobs
        self.area = area

    def check(self, data: bytes) -> bytes:
        """Put `data` in S3 and return the pointer to send instead. Returns once the blob is durable."""
        digest = hashlib.sha256(data).hexdigest()
        key = f"{self.area.prefix}{digest}"
        self.blobs.put(key, data)
        return MARKER + json.dumps({"key": key, "size": len(data), "sha256": digest}).encode()

    def resolve(self, data: bytes) -> bytes:
        """The record's data: `data` itself, or the blob a pointer names. Raises ClaimCheckError when the
        pointer can never be resolved; S3 errors that may pass propagate."""
        if not is_pointer(data):
            return data
        try:
            pointer = json.loads(data[len(MARKER) :])
            key, size, digest = pointer["key"], pointer["size"], pointer["sha256"]
        except (ValueError, TypeError, KeyError) as exc:
            raise ClaimCheckError(f"malformed claim check: {exc!r}") from exc
        if not isinstance(key, str) or not key.startswith(self.area.prefix):
            raise ClaimCheckError(f"claim check outside {self.area.prefix}: {key!r}")
        blob = self.blobs.get(key)
        if blob is None:
            raise ClaimCheckError(f"claim check {key} has no blob")
        if len(blob) != size or hashlib.sha256(blob).hexdigest() != digest:
            raise ClaimCheckError(f"claim check {key} does not match its blob")
        return blob


def is_pointer(data: bytes) -> bool:
    return data.startswith(MARKER)
