"""A task's runs and their logs, shaped as influxd answers them.

A run is scheduled, then started, then finishes as success or failed; a scheduled or started run can be
canceled. A run of the schedule has an id derived from (task, scheduledFor), so two schedulers that claim
the same time write the same run (a conditional write keeps one); manual runs and retries get random ids.
Times are ns since the epoch; the JSON shows them as Go marshals a time (RFC 3339, fraction trimmed)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

from chalicelib.kit.errors import CONFLICT, TicklessError, not_found
from chalicelib.kit.gotemplate.printf import go_quote
from chalicelib.kit.time import format_rfc3339nano
from chalicelib.tenancy.secrets import new_id

SCHEDULED, STARTED, SUCCESS, FAILED, CANCELED = "scheduled", "started", "success", "failed", "canceled"
STATUSES = (SCHEDULED, STARTED, SUCCESS, FAILED, CANCELED)
FINISHED = (SUCCESS, FAILED, CANCELED)


@dataclass(frozen=True)
class LogEvent:
    run_id: str
    time: int  # ns
    message: str

    def to_json(self) -> dict[str, str]:
        return {"runID": self.run_id, "time": format_rfc3339nano(self.time), "message": self.message}


@dataclass(frozen=True)
class Run:
    id: str
    task_id: str
    status: str
    scheduled_for: int  # the run's Flux `now`
    run_at: int | None = None  # scheduled_for + offset for a run of the schedule; not shown
    requested_at: int | None = None
    started_at: int | None = None
    finished_at: int | None = None
    log: tuple[LogEvent, ...] = field(default_factory=tuple)

    def start(self, now: int) -> Run:
        self._require(STARTED, SCHEDULED)
        return replace(self, status=STARTED, started_at=now)

    def finish(self, status: str, now: int) -> Run:
        if status not in (SUCCESS, FAILED):
            raise ValueError(f"a run finishes as success or failed, not {status!r}")
        self._require(status, STARTED)
        return replace(self, status=status, finished_at=now)

    def cancel(self, now: int) -> Run:
        if self.status in FINISHED:
            # influxd keeps only unfinished runs where cancel looks; a finished one is not found.
            raise not_found("failed to cancel run: run not found")
        return replace(self, status=CANCELED, finished_at=now)

    def logged(self, time: int, message: str) -> Run:
        return replace(self, log=(*self.log, LogEvent(self.id, time, message)))

    def retry(self, run_id: str, now: int) -> Run:
        """A new scheduled run for the same time (influxd's retry: a fresh id, the times cleared)."""
        return Run(run_id, self.task_id, SCHEDULED, self.scheduled_for, requested_at=now)

    def _require(self, to: str, *allowed: str) -> None:
        if self.status not in allowed:
            raise TicklessError(CONFLICT, f"run {self.id} is {self.status}, it cannot become {to}")

    def to_json(self, prefix: str = "/api/v2") -> dict:
        base = f"{prefix}/tasks/{self.task_id}"
        out: dict = {
            "links": {
                "logs": f"{base}/runs/{self.id}/logs",
                "retry": f"{base}/runs/{self.id}/retry",
                "self": f"{base}/runs/{self.id}",
                "task": base,
            },
            "id": self.id,
            "taskID": self.task_id,
            "status": self.status,
            "scheduledFor": format_rfc3339nano(self.scheduled_for),
        }
        for key, value in (
            ("startedAt", self.started_at),
            ("finishedAt", self.finished_at),
            ("requestedAt", self.requested_at),
        ):
            if value:  # influxd leaves out a zero time
                out[key] = format_rfc3339nano(value)
        if self.log:
            out["log"] = [event.to_json() for event in self.log]
        return out


def scheduled_run(task_id: str, scheduled_for: int, run_at: int) -> Run:
    return Run(scheduled_run_id(task_id, scheduled_for), task_id, SCHEDULED, scheduled_for, run_at=run_at)


def manual_run(task_id: str, scheduled_for: int, now: int) -> Run:
    """A run forced through POST /tasks/{id}/runs: scheduledFor is whole seconds (influxd keeps Unix
    seconds of it), requestedAt is now."""
    return Run(new_id(), task_id, SCHEDULED, scheduled_for - scheduled_for % 1_000_000_000, requested_at=now)


def scheduled_run_id(task_id: str, scheduled_for: int) -> str:
    """16 hex digits, never all zero (influxd's invalid ID), the same for the same task and time."""
    digest = hashlib.blake2b(f"{task_id}/{scheduled_for}".encode(), digest_size=8).digest()
    value = int.from_bytes(digest, "big") or 1
    return f"{value:016x}"


def runs_json(runs: list[Run], task_id: str, prefix: str = "/api/v2") -> dict:
    base = f"{prefix}/tasks/{task_id}"
    return {"links": {"self": f"{base}/runs", "task": base}, "runs": [r.to_json(prefix) for r in runs]}


def logs_json(events: list[LogEvent]) -> dict:
    return {"events": [event.to_json() for event in events]}


# The messages influxd's executor logs on a run.
def started_message(flux: str) -> str:
    return f"Started task from script: {go_quote(flux)}"


def completed_message(status: str) -> str:
    return f"Completed({status})"


def last_run_error(log: tuple[LogEvent, ...]) -> str:
    """What influxd records as a failed run's lastRunError: the second-to-last log message, else the only
    one. Its executor logs `Completed(failed)` before the error, so that is what a plain failure records;
    the error itself is recorded when an unrecoverable-error notice follows it."""
    if len(log) > 1:
        return log[-2].message
    return log[-1].message if log else ""
