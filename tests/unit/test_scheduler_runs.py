"""Task runs and their logs: the transitions, the ids, and the JSON influxd answers with."""

from __future__ import annotations

import re

import pytest

from chalicelib.kit.errors import TicklessError
from chalicelib.kit.time import SECOND
from chalicelib.scheduler.runs import (
    CANCELED,
    FAILED,
    SCHEDULED,
    STARTED,
    SUCCESS,
    LogEvent,
    Run,
    completed_message,
    last_run_error,
    logs_json,
    manual_run,
    runs_json,
    scheduled_run,
    scheduled_run_id,
    started_message,
)

TASK = "0996e56b2f378000"
SCHEDULED_FOR = 1_658_155_566 * SECOND  # 2022-07-18T14:46:06Z


def test_a_run_of_the_schedule_has_the_same_id_for_the_same_time():
    a = scheduled_run(TASK, SCHEDULED_FOR, SCHEDULED_FOR)
    assert (
        a.id == scheduled_run(TASK, SCHEDULED_FOR, SCHEDULED_FOR).id == scheduled_run_id(TASK, SCHEDULED_FOR)
    )
    assert re.fullmatch(r"[0-9a-f]{16}", a.id) and a.id != "0" * 16
    assert scheduled_run_id(TASK, SCHEDULED_FOR + SECOND) != a.id
    assert scheduled_run_id("09a776832f381000", SCHEDULED_FOR) != a.id
    assert a.status == SCHEDULED


def test_manual_runs_get_fresh_ids_and_whole_seconds():
    a = manual_run(TASK, SCHEDULED_FOR + 123, SCHEDULED_FOR + 5)
    b = manual_run(TASK, SCHEDULED_FOR, SCHEDULED_FOR)
    assert a.id != b.id and re.fullmatch(r"[0-9a-f]{16}", a.id)
    assert a.scheduled_for == SCHEDULED_FOR and a.requested_at == SCHEDULED_FOR + 5


def test_a_run_goes_scheduled_started_finished():
    run = scheduled_run(TASK, SCHEDULED_FOR, SCHEDULED_FOR)
    started = run.start(SCHEDULED_FOR + SECOND)
    assert started.status == STARTED and started.started_at == SCHEDULED_FOR + SECOND
    done = started.finish(SUCCESS, SCHEDULED_FOR + 2 * SECOND)
    assert done.status == SUCCESS and done.finished_at == SCHEDULED_FOR + 2 * SECOND
    assert started.finish(FAILED, SCHEDULED_FOR).status == FAILED
    assert run.status == SCHEDULED  # runs are values


@pytest.mark.parametrize("status", [SCHEDULED, STARTED])
def test_an_unfinished_run_can_be_canceled(status):
    run = Run("09b070dadaa7d000", TASK, status, SCHEDULED_FOR)
    canceled = run.cancel(SCHEDULED_FOR + SECOND)
    assert canceled.status == CANCELED and canceled.finished_at == SCHEDULED_FOR + SECOND


@pytest.mark.parametrize("status", [SUCCESS, FAILED, CANCELED])
def test_a_finished_run_is_not_found_to_cancel(status):
    with pytest.raises(TicklessError) as e:
        Run("09b070dadaa7d000", TASK, status, SCHEDULED_FOR).cancel(SCHEDULED_FOR)
    assert (e.value.code, e.value.message) == ("not found", "failed to cancel run: run not found")


def test_transitions_are_checked():
    run = scheduled_run(TASK, SCHEDULED_FOR, SCHEDULED_FOR)
    with pytest.raises(TicklessError):
        run.finish(SUCCESS, SCHEDULED_FOR)  # never started
    with pytest.raises(TicklessError):
        run.start(0).start(0)
    with pytest.raises(TicklessError):
        run.start(0).finish(SUCCESS, 0).start(0)
    with pytest.raises(ValueError):
        run.start(0).finish(CANCELED, 0)


def test_retry_is_a_new_scheduled_run_for_the_same_time():
    old = scheduled_run(TASK, SCHEDULED_FOR, SCHEDULED_FOR).start(1).logged(1, "x").finish(FAILED, 2)
    new = old.retry("09d60ffe08738000", SCHEDULED_FOR + 9 * SECOND)
    assert new == Run(
        "09d60ffe08738000", TASK, SCHEDULED, SCHEDULED_FOR, requested_at=SCHEDULED_FOR + 9 * SECOND
    )


def test_run_json_as_influxd_answers_it():
    """The shape of the seed's GET /tasks/{id}/runs/{runID} answer."""
    run = (
        Run("09b070dadaa7d000", TASK, SCHEDULED, SCHEDULED_FOR, requested_at=SCHEDULED_FOR)
        .start(1_658_155_567_162_220_000)
        .logged(1_658_155_567_101_231_000, started_message('option task = {name: "task1", every: 30m}'))
        .logged(1_658_155_567_242_859_000, completed_message(SUCCESS))
        .finish(SUCCESS, 1_658_155_567_308_254_000)
    )
    assert run.to_json() == {
        "links": {
            "logs": f"/api/v2/tasks/{TASK}/runs/09b070dadaa7d000/logs",
            "retry": f"/api/v2/tasks/{TASK}/runs/09b070dadaa7d000/retry",
            "self": f"/api/v2/tasks/{TASK}/runs/09b070dadaa7d000",
            "task": f"/api/v2/tasks/{TASK}",
        },
        "id": "09b070dadaa7d000",
        "taskID": TASK,
        "status": "success",
        "scheduledFor": "2022-07-18T14:46:06Z",
        "startedAt": "2022-07-18T14:46:07.16222Z",
        "finishedAt": "2022-07-18T14:46:07.308254Z",
        "requestedAt": "2022-07-18T14:46:06Z",
        "log": [
            {
                "runID": "09b070dadaa7d000",
                "time": "2022-07-18T14:46:07.101231Z",
                "message": 'Started task from script: "option task = {name: \\"task1\\", every: 30m}"',
            },
            {
                "runID": "09b070dadaa7d000",
                "time": "2022-07-18T14:46:07.242859Z",
                "message": "Completed(success)",
            },
        ],
    }


def test_a_new_run_leaves_out_unset_times_and_an_empty_log():
    out = scheduled_run(TASK, SCHEDULED_FOR, SCHEDULED_FOR).to_json()
    assert set(out) == {"links", "id", "taskID", "status", "scheduledFor"}


def test_runs_and_logs_lists():
    run = scheduled_run(TASK, SCHEDULED_FOR, SCHEDULED_FOR)
    assert runs_json([run], TASK) == {
        "links": {"self": f"/api/v2/tasks/{TASK}/runs", "task": f"/api/v2/tasks/{TASK}"},
        "runs": [run.to_json()],
    }
    events = [LogEvent("09a946fc3167d000", 1_657_696_014_198_167_000, "Started")]
    assert logs_json(events) == {
        "events": [{"runID": "09a946fc3167d000", "time": "2022-07-13T07:06:54.198167Z", "message": "Started"}]
    }
    assert logs_json([]) == {"events": []}


def test_last_run_error_is_influxd_s_second_to_last_message():
    log = tuple(LogEvent("r", i, m) for i, m in enumerate(["Started", "Completed(failed)", "boom"]))
    assert last_run_error(log) == "Completed(failed)"
    assert last_run_error((*log, LogEvent("r", 9, "Task encountered unrecoverable error"))) == "boom"
    assert last_run_error(log[:1]) == "Started"
    assert last_run_error(()) == ""
