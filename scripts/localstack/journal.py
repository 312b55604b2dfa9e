"""An append-only journal of entries, each length- and CRC-framed, made durable by group commit.

File: the 8-byte magic, then entries `>II` (payload length, CRC-32 of the payload) + payload. A crash
can only tear the last entry (entries are appended in order, and one is answered only once fsync'd),
so a short or mismatching *last* entry is dropped on open; a bad entry followed by more data is
corruption and refuses to open.
"""

from __future__ import annotations

import logging
import os
import struct
import threading
import zlib
from pathlib import Path

from .datadir import DataDirError

logger = logging.getLogger("tickless.localstack.journal")

MAGIC = b"TLJRNL01"
FRAME = struct.Struct(">II")


def _sync(fd: int) -> None:
    (getattr(os, "fdatasync", None) or os.fsync)(fd)


class Journal:
    """`append()` (callers serialize it) writes an entry; `sync(n)` returns once the n-th is durable.

    Appends are plain `write(2)`s; `sync` fsyncs for every entry written so far, so concurrent writers
    share one fsync (group commit)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: list[bytes] = self._read()  # what the file held when opened (for replay)
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        self._written = 0  # entries appended since open
        self._synced = 0
        self._sync_lock = threading.Lock()

    def _read(self) -> list[bytes]:
        if not self.path.exists() or self.path.stat().st_size < len(MAGIC):
            if self.path.exists() and self.path.read_bytes() not in (MAGIC[:n] for n in range(len(MAGIC))):
                raise DataDirError(f"{self.path} is not a tickless journal")
            self._create()
            return []
        data = self.path.read_bytes()
        if not data.startswith(MAGIC):
            raise DataDirError(f"{self.path} is not a tickless journal (bad magic)")
        entries: list[bytes] = []
        offset = len(MAGIC)
        while offset < len(data):
            rest = len(data) - offset
            if rest < FRAME.size:
                break  # torn frame header
            length, checksum = FRAME.unpack_from(data, offset)
            end = offset + FRAME.size + length
            if end > len(data):
                break  # torn payload
            payload = data[offset + FRAME.size : end]
            if zlib.crc32(payload) != checksum:
                if end == len(data):
                    break  # the last entry, torn mid-write
                raise DataDirError(
                    f"{self.path} is corrupt at byte {offset} (checksum mismatch before the end); "
                    "restore it from a backup or move the data directory away"
                )
            entries.append(payload)
            offset = end
        if offset < len(data):
            logger.warning(
                "journal %s: dropped a torn last entry (%d bytes at byte %d)",
                self.path,
                len(data) - offset,
                offset,
            )
            with open(self.path, "r+b") as handle:
                handle.truncate(offset)
                handle.flush()
                os.fsync(handle.fileno())
        return entries

    def _create(self) -> None:
        with open(self.path, "wb") as handle:
            handle.write(MAGIC)
            handle.flush()
            os.fsync(handle.fileno())

    @property
    def size(self) -> int:
        return os.fstat(self._fd).st_size

    def append(self, payload: bytes) -> int:
        """Write one entry (not yet durable); its number for `sync`. Callers hold their own lock."""
        frame = FRAME.pack(len(payload), zlib.crc32(payload)) + payload
        os.write(self._fd, frame)
        self._written += 1
        return self._written

    def sync(self, number: int) -> None:
        """Return once entry `number` (and all before it) is on disk."""
        if self._synced >= number:
            return
        with self._sync_lock:
            if self._synced >= number:
                return  # another writer's fsync covered it
            target = self._written
            _sync(self._fd)
            self._synced = target

    def reset(self) -> None:
        """Empty the journal (its entries are in a durable snapshot). Callers hold their own lock."""
        os.ftruncate(self._fd, len(MAGIC))
        _sync(self._fd)
        self.entries = []

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
