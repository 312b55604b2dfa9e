"""Placement as influx-proxy computes it: stathat.com/c/consistent rings, one per circle.

A ring must agree bit for bit with the Go proxy's, or data written through influx-proxy would be looked
for on the wrong backend; hence CRC-32 (IEEE) over UTF-8, `str(i) + member` virtual-node keys, later
points overwriting earlier ones on a collision, and lookup by the first point strictly above the hash.
"""

from __future__ import annotations

import zlib
from bisect import bisect_right
from collections.abc import Sequence
from functools import lru_cache

from chalicelib.kit.errors import INVALID, TicklessError

from .config import Backend, Circle, ProxyConfig


def hash_key(key: str) -> int:
    """consistent.hashKey; surrogate escapes stand for the raw bytes a Go string may hold."""
    return zlib.crc32(key.encode("utf-8", "surrogateescape"))


class Ring:
    """consistent.Consistent after Add(member) for each member in order, with NumberOfReplicas=vnodes."""

    def __init__(self, members: Sequence[str], vnodes: int = 256) -> None:
        points: dict[int, str] = {}
        for member in members:
            for i in range(vnodes):
                points[hash_key(f"{i}{member}")] = member
        self._hashes = sorted(points)
        self._owners = [points[h] for h in self._hashes]

    def get(self, key: str) -> str:
        if not self._hashes:
            raise TicklessError(INVALID, "empty circle")
        i = bisect_right(self._hashes, hash_key(key))
        return self._owners[i if i < len(self._owners) else 0]


def key_of(db: str, measurement: str) -> str:
    """GetKey: the placement key of a measurement (unescaped) in a database."""
    return f"{db},{measurement}"


def member_of(hash_key_mode: str, index: int, backend: Backend) -> str:
    """What a backend is known by on its circle's ring (initBackend in 2.4.7, addRouter in 2.5)."""
    if hash_key_mode == "name":
        return backend.name
    if hash_key_mode == "url":
        return backend.url
    if hash_key_mode == "exi":
        return f"|{index}"
    if hash_key_mode == "idx":
        return str(index)
    return hash_key_mode.replace("%idx", str(index))


class CircleRouter:
    """One circle's ring and member → backend map (a later backend with the same member wins, as in Go)."""

    def __init__(self, circle: Circle, hash_key_mode: str, vnodes: int) -> None:
        members = [member_of(hash_key_mode, i, b) for i, b in enumerate(circle.backends)]
        self.circle = circle
        self._ring = Ring(members, vnodes)
        self._backends = dict(zip(members, circle.backends, strict=True))

    def backend(self, key: str) -> Backend:
        return self._backends[self._ring.get(key)]


class Placement:
    """Every circle's router for a config; build once per config and reuse on hot paths."""

    def __init__(self, config: ProxyConfig) -> None:
        self.routers = tuple(CircleRouter(c, config.hash_key, config.vnode_size) for c in config.circles)

    def backend_for(self, circle_index: int, db: str, measurement: str) -> Backend:
        return self.routers[circle_index].backend(key_of(db, measurement))

    def backends_for(self, db: str, measurement: str) -> list[Backend]:
        """GetBackends: the measurement's backend in each circle, in circle order (where writes go)."""
        key = key_of(db, measurement)
        return [router.backend(key) for router in self.routers]


@lru_cache(maxsize=16)
def placement(config: ProxyConfig) -> Placement:
    return Placement(config)


def backend_for(config: ProxyConfig, circle_index: int, db: str, measurement: str) -> Backend:
    """Circle.GetBackend(GetKey(db, measurement)) for one circle of the config."""
    return placement(config).backend_for(circle_index, db, measurement)
