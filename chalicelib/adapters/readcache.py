"""A short-lived read-through cache in front of a metadata repository (tokens, buckets, DBRP mappings,
the series index), kept per Lambda container.

A query reads the same few metadata items every time (the token, its user, the org's buckets and
mappings, the measurement's series and fields); each is a DynamoDB round trip. Answers are kept for
`ttl` seconds, and any write through the same wrapper empties the cache at once, so this process
always sees its own changes. Other containers may see a change up to `ttl` seconds late: a removed
token or bucket can still be honoured that long, a new series or field become queryable that much
later (docs/DECISIONS.md). `ttl` 0 turns caching off.
"""

from __future__ import annotations

import copy
import os
import threading
import time
from collections.abc import Callable, Collection
from typing import Any

DEFAULT_TTL_SECONDS = float(os.environ.get("TICKLESS_METADATA_TTL", "2"))
_MAX_ENTRIES = 10_000


class ReadCache:
    """Wraps `inner`: methods named in `reads` answer from memory while fresh; every other public
    method is a write and empties the cache before it runs. Answers are copied with `copier` on the
    way out, so a caller that edits one never edits the cache."""

    def __init__(
        self,
        inner: Any,
        reads: Collection[str],
        ttl: float = DEFAULT_TTL_SECONDS,
        copier: Callable[[Any], Any] = copy.deepcopy,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._inner = inner
        self._reads = frozenset(reads)
        self._ttl = ttl
        self._copier = copier
        self._clock = clock
        self._entries: dict[tuple, tuple[float, Any]] = {}
        self._lock = threading.Lock()
        self._generation = 0  # counts clears: a read that overlapped a write must not be kept

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._generation += 1

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if name.startswith("_") or not callable(attribute):
            return attribute
        if name in self._reads:
            return lambda *args, **kwargs: self._read(name, attribute, args, kwargs)

        def write(*args: Any, **kwargs: Any) -> Any:
            self.clear()
            try:
                return attribute(*args, **kwargs)
            finally:
                self.clear()  # a read racing the write may have cached the old answer

        return write

    def _read(self, name: str, method: Callable, args: tuple, kwargs: dict) -> Any:
        if self._ttl <= 0:
            return method(*args, **kwargs)
        key = (name, args, tuple(sorted(kwargs.items())))
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            generation = self._generation
        if entry is not None and now - entry[0] < self._ttl:
            return self._copier(entry[1])
        value = method(*args, **kwargs)
        with self._lock:
            if generation == self._generation:
                if len(self._entries) >= _MAX_ENTRIES:
                    self._entries.clear()
                self._entries[key] = (now, value)
        return self._copier(value)
