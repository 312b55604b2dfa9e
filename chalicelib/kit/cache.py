"""A small in-process cache of answers that may go stale: entries live `ttl` seconds, the least recently
used go beyond `max_entries`, and every operation holds a lock, because one process serves concurrent
invocations (the local stack runs each shard's consumer in its own thread)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TimedCache(Generic[K, V]):
    def __init__(self, ttl: float, max_entries: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The value stored under `key`, unless it is older than the ttl (or was never stored)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if self._clock() - entry[0] >= self._ttl:
                del self._entries[key]
                return None
            return entry[1]

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._entries[key] = (self._clock(), value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def forget(self, matches: Callable[[K], bool]) -> None:
        """Drop every entry whose key `matches`."""
        with self._lock:
            for key in [k for k in self._entries if matches(k)]:
                del self._entries[key]

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
