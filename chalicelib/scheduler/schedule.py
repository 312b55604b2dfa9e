"""When a task runs, as influxd's task scheduler decides.

A run is *scheduled for* a time (its Flux `now`) and executes at that time plus the task's offset. An
`every` task's schedule is `@every <every>`: from the last scheduled time, truncated to a multiple of
`every` counted (as Go's Time.Truncate counts) from 0001-01-01T00:00:00Z (to the second for a step in
months or years), add `every` again and again. A
cron task fires at the cron's times in UTC, counted from the last scheduled time truncated to the second.

Catching up: while running, influxd fires every missed time, oldest first, one run each (its tree scheduler
re-queues a task whose next time is already past); `due` does the same, at most `limit` at a time, and
skips nothing. Only a restart of influxd drops missed times (it moves every active task's latestCompleted to
the restart time); a serverless scheduler never restarts, so nothing here drops them."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.flux.tokens import parse_duration_text
from chalicelib.kit.time import SECOND
from chalicelib.scheduler.cron import Cron, Every, parse_cron
from chalicelib.scheduler.options import TaskOptions

# Go's zero time, 0001-01-01T00:00:00Z, in ns since the epoch: Time.Truncate counts multiples from it.
GO_ZERO = -62_135_596_800 * SECOND


@dataclass(frozen=True)
class Schedule:
    cron: Cron
    offset: int = 0  # ns added to a scheduled time to get the time its run executes
    aligned: bool = False  # an `@every` schedule: truncate its start to a multiple of the step

    @classmethod
    def of(cls, options: TaskOptions) -> Schedule:
        return cls.parse(every=options.every, cron=options.cron, offset=options.offset)

    @classmethod
    def parse(cls, *, every: str | None = None, cron: str | None = None, offset: int = 0) -> Schedule:
        """From a task's stored `every` (Flux duration text) or `cron`, which are already valid."""
        if cron:
            return cls(parse_cron(cron), offset, cron.strip().startswith("@every "))
        if not every:
            raise ValueError("a schedule needs every or cron")
        months = ns = 0
        for magnitude, unit in parse_duration_text(every):
            if unit in ("y", "mo"):
                months += magnitude * (12 if unit == "y" else 1)
            else:
                ns += magnitude * _UNIT_NS[unit]
        return cls(Cron(every=Every(months, ns // SECOND)), offset, True)

    def start(self, last: int) -> int:
        """Where influxd's scheduler counts from, given a task's last scheduled (or completed) time."""
        t = last - last % SECOND
        every = self.cron.every
        if self.aligned and every is not None and every.seconds and not every.months:
            t -= (t - GO_ZERO) % (every.seconds * SECOND)
        # influxd truncates a month-long step by the length of the month at hand, so a time it scheduled is
        # not on the grid when it counts again; here such a step counts from the second, so that continuing
        # from the last time scheduled gives the times one long run would.
        return t

    def next_after(self, t: int) -> int | None:
        """The first scheduled time strictly after `t`; None when the schedule has ended (cron years end
        at 2099)."""
        return self.cron.next_after(self.start(t))

    def run_at(self, scheduled_for: int) -> int:
        return scheduled_for + self.offset

    def due(self, latest_completed: int, now: int, limit: int) -> list[int]:
        """The scheduled times after `latest_completed` whose run time (scheduled time + offset) is at or
        before `now`, oldest first, at most `limit`. Nothing is skipped: a caller that got `limit` times
        advances `latest_completed` to the last and asks again."""
        out: list[int] = []
        t = self.next_after(latest_completed)
        while t is not None and len(out) < limit and self.run_at(t) <= now:
            out.append(t)
            t = self.cron.next_after(t)  # influxd chains from the previous time without re-truncating
        return out


def first_latest_completed(created_at: int) -> int:
    """A new task's latestCompleted (and latestScheduled): its creation time truncated to the second; influxd
    does the same when an inactive task is made active again, so inactive time is never caught up."""
    return created_at - created_at % SECOND


_UNIT_NS = {
    "w": 7 * 86_400 * SECOND,
    "d": 86_400 * SECOND,
    "h": 3600 * SECOND,
    "m": 60 * SECOND,
    "s": SECOND,
    "ms": 1_000_000,
    "us": 1_000,
    "µs": 1_000,
    "ns": 1,
}
