"""GROUP BY time windows: epoch-aligned buckets shifted by the offset, and by the zone offset of
`tz()` (InfluxDB 1.x's IteratorOptions.Window)."""

from __future__ import annotations

import datetime as _dt
from bisect import bisect_left
from collections.abc import Iterator
from functools import lru_cache

from chalicelib.kit.time import MIN_TIME, SECOND

_NS = SECOND


@lru_cache(maxsize=32)
def _zone(location: str):
    import zoneinfo

    return zoneinfo.ZoneInfo(location)


def zone_offset(location: str | None, time_ns: int) -> int:
    """The zone's UTC offset at `time_ns`, in ns."""
    if not location or location == "UTC":
        return 0
    moment = _dt.datetime.fromtimestamp(time_ns // _NS, _dt.UTC)
    offset = _zone(location).utcoffset(moment.replace(tzinfo=None))
    return int(offset.total_seconds()) * _NS if offset else 0


class Windows:
    def __init__(self, interval: int, offset: int, location: str | None = None) -> None:
        self.interval = interval
        self.offset = offset % interval if interval else 0
        self.location = location if location and location != "UTC" else None

    def start(self, t: int) -> int:
        """The start of the window holding `t` (0 without GROUP BY time: one window for all)."""
        interval = self.interval
        if not interval:
            return 0
        t -= self.offset
        zone = zone_offset(self.location, t) if self.location else 0
        dt = (t + zone) % interval
        start = MIN_TIME if MIN_TIME + dt >= t else t - dt
        if self.location:
            moved = zone - zone_offset(self.location, start)
            if moved and abs(moved) < interval:
                start += moved
        return start + self.offset

    def range(self, first: int, last: int) -> list[int]:
        """Window starts from `first`'s window to `last`'s, in order."""
        out = []
        current = self.start(first)
        last = self.start(last)
        while current <= last:
            out.append(current)
            nxt = self.start(current + self.interval)
            if nxt <= current:  # a zone change shortened the window
                nxt = self.start(current + 2 * self.interval)
            current = nxt
        return out

    def runs(self, times: list[int]) -> Iterator[tuple[int, int, int]]:
        """(window start, lo, hi) for each run of ascending `times` in one window: times[lo:hi]."""
        count = len(times)
        if not self.interval:
            if count:
                yield 0, 0, count
            return
        lo = 0
        if self.location:  # zone offsets change window lengths: place every time on its own
            while lo < count:
                start = self.start(times[lo])
                hi = lo + 1
                while hi < count and self.start(times[hi]) == start:
                    hi += 1
                yield start, lo, hi
                lo = hi
            return
        interval, offset = self.interval, self.offset
        while lo < count:
            shifted = times[lo] - offset
            floor = shifted - shifted % interval  # self.start() without a zone, inlined
            start = floor + offset if floor > MIN_TIME else self.start(times[lo])
            hi = max(bisect_left(times, start + interval, lo), lo + 1)
            yield start, lo, hi
            lo = hi
