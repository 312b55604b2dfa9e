"""Step Functions executions on the local stack: the real proxy-migration definition (as provisioned,
placeholders substituted) driving the workflow-tasks worker through task tokens, with test handlers."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from chalice import Chalice

from chalicelib import declarations
from chalicelib.adapters.workflows import StepFunctions
from chalicelib.declarations import Queue, StateMachine
from chalicelib.events import workflow_tasks
from chalicelib.kit.errors import CONFLICT, INVALID, TicklessError
from scripts.localstack import EventPump, provision
from scripts.localstack.provision import WORKFLOWS_DIR, substitute
from tests.localstack.conftest import client, moto_server

PREFIX = "tlwf-"
MIGRATION = StateMachine("proxy-migration", "proxy_migration.json")
assert MIGRATION in declarations.STATE_MACHINES  # the definition infra deploys is the one run here

# The registry the worker looks tasks up in: set by each test.
registry: dict[str, Any] = {}
calls: list[tuple[str, dict]] = []
_lock = threading.Lock()

app = Chalice(app_name="wftest")


@app.on_sqs_message(queue=PREFIX + "workflow-tasks", batch_size=1)
def run_workflow_tasks(event):
    return workflow_tasks.process(event.to_dict(), lookup=registry.get, tokens=StepFunctions())


def recorded(name: str, handler):
    def record(input: dict) -> dict:
        with _lock:
            calls.append((name, input))
        return handler(input)

    return record


@pytest.fixture(scope="module")
def moto_url():
    with moto_server(PREFIX) as url:
        # A short visibility timeout: a worker failure is retried within a second.
        provision(
            url,
            tables=(),
            streams=(),
            buckets=(),
            queues=(Queue("workflow-tasks", visibility_timeout=1, max_receive_count=5),),
            state_machines=(MIGRATION,),
        )
        yield url


@pytest.fixture
def pump(moto_url):
    registry.clear()
    calls.clear()
    with EventPump(
        app, endpoint_url=moto_url, idle_poll_interval=0.05, kinesis=False, schedules=False
    ) as pump:
        yield pump


def finished(arn: str, timeout: float = 30.0) -> dict:
    step_functions = StepFunctions()
    deadline = time.monotonic() + timeout
    while (described := step_functions.describe(arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, f"execution still running; calls so far: {calls}"
        time.sleep(0.05)
    return described


def migration_tasks(chunk=None, finish=None) -> None:
    def plan(input: dict) -> dict:
        return {"key": "plan-key", "size": 1, "pages": [1, 2, 3]}

    def copy(input: dict) -> dict:
        return {"copied": input["page"]}

    def done(input: dict) -> dict:
        return {"job": input["job"]["id"], "cleared": True, "failed": "error" in input}

    registry.update(
        {
            "proxy-migration-plan": recorded("plan", plan),
            "proxy-migration-chunk": recorded("chunk", chunk or copy),
            "proxy-migration-finish": recorded("finish", finish or done),
        }
    )


def start(name: str) -> str:
    return StepFunctions().start(
        "proxy-migration", name, {"job": {"id": name, "kind": "rebalance"}, "cpus": 2}
    )


def test_definition_is_provisioned_with_the_queue_url(moto_url):
    arn = StepFunctions().machine_arn("proxy-migration")
    definition = json.loads(
        client("stepfunctions", moto_url).describe_state_machine(stateMachineArn=arn)["definition"]
    )
    url = client("sqs", moto_url).get_queue_url(QueueName=PREFIX + "workflow-tasks")["QueueUrl"]
    assert definition["States"]["Plan"]["Parameters"]["QueueUrl"] == url
    assert "${" not in json.dumps(definition)
    with pytest.raises(ValueError, match="QueueUrl_workflow_tasks"):
        substitute((WORKFLOWS_DIR / MIGRATION.definition).read_text(), {"Prefix": PREFIX})


def test_plan_chunks_and_finish_run_through_task_tokens(pump):
    migration_tasks()
    described = finished(start("ok"))
    assert described["status"] == "SUCCEEDED", described
    assert described["output"] == {"job": "ok", "cleared": True, "failed": False}
    names = [name for name, _ in calls]
    assert names[0] == "plan" and names[-1] == "finish" and names.count("chunk") == 3
    job = {"id": "ok", "kind": "rebalance"}
    assert calls[0][1] == {"job": job, "cpus": 2}
    assert sorted(c["page"] for n, c in calls if n == "chunk") == [1, 2, 3]
    assert all(c["job"] == job for n, c in calls if n == "chunk")
    # Finish sees the execution's state: the input and the plan (the Map's results are dropped).
    assert all(c["key"] == "plan-key" and c["size"] == 1 for n, c in calls if n == "chunk")
    assert calls[-1][1] == {"job": job, "cpus": 2, "plan": {"key": "plan-key", "size": 1, "pages": [1, 2, 3]}}


def test_a_worker_failure_is_retried_by_sqs(pump):
    failed: list[int] = []

    def flaky(input: dict) -> dict:
        shard = input["page"]
        if shard == 2 and not failed:
            failed.append(shard)
            raise RuntimeError("the worker died")
        return {"copied": shard}

    migration_tasks(chunk=flaky)
    described = finished(start("flaky"))
    assert described["status"] == "SUCCEEDED", described
    assert failed == [2]
    shards = [c["page"] for n, c in calls if n == "chunk"]
    assert sorted(shards) == [1, 2, 2, 3]  # chunk 2 delivered again
    assert pump.stats("run_workflow_tasks").errors == 1


def test_a_refusal_fails_the_execution_and_still_finishes_the_job(pump):
    def refuse(input: dict) -> dict:
        if input["page"] == 2:
            raise TicklessError(INVALID, "backend gone")
        return {"copied": input["page"]}

    migration_tasks(chunk=refuse)
    described = finished(start("refused"))
    assert described["status"] == "FAILED", described
    # moto (5.2.5) drops SendTaskFailure's cause (its responses.py passes only the error); AWS keeps it.
    assert described["error"] == INVALID and described["cause"] in ("backend gone", None, "")
    assert calls[-1][0] == "finish"
    cleanup = calls[-1][1]
    assert cleanup["job"] == {"id": "refused", "kind": "rebalance"}
    assert cleanup["error"]["Error"] == INVALID and set(cleanup) == {"job", "error"}
    assert pump.stats("run_workflow_tasks").errors == 0  # a refusal is an answer, not a retry


def test_an_unknown_task_fails_its_step(pump):
    migration_tasks()
    del registry["proxy-migration-plan"]
    described = finished(start("unknown"))
    assert described["status"] == "FAILED"
    assert described["error"] == workflow_tasks.UNKNOWN_TASK
    assert [n for n, _ in calls] == ["finish"]  # the cleanup still ran


# -- the worker alone ---------------------------------------------------------------------------------


class Tokens:
    def __init__(self, closed: bool = False) -> None:
        self.answers: list[tuple] = []
        self.closed = closed

    def succeed(self, token: str, output: dict) -> None:
        self._answer(("succeed", token, output))

    def fail(self, token: str, error: str, cause: str) -> None:
        self._answer(("fail", token, error, cause))

    def _answer(self, answer: tuple) -> None:
        if self.closed:
            raise TicklessError(CONFLICT, "the step is closed (TaskTimedOut)")
        self.answers.append(answer)


def sqs_event(*bodies: str) -> dict:
    return {"Records": [{"messageId": str(i), "body": body} for i, body in enumerate(bodies)]}


def test_worker_drops_what_is_not_a_task_and_answers_closed_steps_quietly():
    tokens = Tokens()
    lookup = {"echo": lambda input: input}.get
    workflow_tasks.process(
        sqs_event(
            "not json", "[1]", json.dumps({"task": "echo"}), json.dumps({"task": "echo", "token": "t"})
        ),
        lookup=lookup,
        tokens=tokens,
    )
    assert tokens.answers == [("succeed", "t", {})]
    closed = Tokens(closed=True)
    workflow_tasks.process(sqs_event(json.dumps({"task": "x", "token": "t"})), lookup=lookup, tokens=closed)
    workflow_tasks.process(
        sqs_event(json.dumps({"task": "echo", "input": {"a": 1}, "token": "t"})), lookup=lookup, tokens=closed
    )
    assert closed.answers == []
