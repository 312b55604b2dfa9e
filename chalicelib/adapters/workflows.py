"""Step Functions: executions of the declared state machines, and the answers of their task tokens.

Machines are named by their logical name (`declarations.STATE_MACHINES`); their ARN is found once by
physical name (`declarations.physical_name`), so nothing here depends on an account or a region."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters import clients
from chalicelib.declarations import physical_name
from chalicelib.kit.errors import CONFLICT, TicklessError

# SendTaskFailure's limits: error 256 characters, cause 32768.
_ERROR_MAX = 256
_CAUSE_MAX = 32768
# Answers to a token whose step is over (timed out, its execution stopped or ended, already answered).
_CLOSED = frozenset({"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"})


class StepFunctions:
    def __init__(self) -> None:
        self._arns: dict[str, str] = {}
        self._lock = threading.Lock()

    def machine_arn(self, machine: str) -> str:
        """The ARN of the declared state machine `machine` (logical name)."""
        found = self._arns.get(machine)
        if found is not None:
            return found
        name = physical_name(machine)
        paginator = clients.client("stepfunctions").get_paginator("list_state_machines")
        for page in paginator.paginate():
            for existing in page["stateMachines"]:
                if existing["name"] == name:
                    with self._lock:
                        self._arns[machine] = existing["stateMachineArn"]
                    return existing["stateMachineArn"]
        raise LookupError(f"no state machine named {name}")

    def start(self, machine: str, name: str, input: dict[str, Any]) -> str:
        """Start an execution named `name` (unique per machine for 90 days); returns its ARN."""
        response = clients.client("stepfunctions").start_execution(
            stateMachineArn=self.machine_arn(machine), name=name, input=_dumps(input)
        )
        return response["executionArn"]

    def describe(self, arn: str) -> dict[str, Any]:
        """`status` (RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED), `name`, `start`/`stop` (datetimes or
        None), `input` and `output` (parsed; None until it ended well), `error` and `cause` (or None)."""
        found = clients.client("stepfunctions").describe_execution(executionArn=arn)
        return {
            "arn": found["executionArn"],
            "name": found.get("name"),
            "status": found["status"],
            "start": found.get("startDate"),
            "stop": found.get("stopDate"),
            "input": _loads(found.get("input")),
            "output": _loads(found.get("output")),
            "error": found.get("error"),
            "cause": found.get("cause"),
        }

    def stop(self, arn: str, cause: str) -> None:
        clients.client("stepfunctions").stop_execution(executionArn=arn, cause=cause[:_CAUSE_MAX])

    # -- task tokens -----------------------------------------------------------------------------
    # A token whose step is closed raises TicklessError(CONFLICT): answering it again can never work.

    def succeed(self, token: str, output: dict[str, Any]) -> None:
        with _closed_step():
            clients.client("stepfunctions").send_task_success(taskToken=token, output=_dumps(output))

    def fail(self, token: str, error: str, cause: str) -> None:
        with _closed_step():
            clients.client("stepfunctions").send_task_failure(
                taskToken=token, error=error[:_ERROR_MAX], cause=cause[:_CAUSE_MAX]
            )

    def heartbeat(self, token: str) -> None:
        with _closed_step():
            clients.client("stepfunctions").send_task_heartbeat(taskToken=token)


@contextmanager
def _closed_step() -> Iterator[None]:
    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in _CLOSED:
            raise TicklessError(CONFLICT, f"the step is closed ({code})") from exc
        raise


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _loads(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text
