"""The `workflow-tasks` queue's worker: the steps of Step Functions executions.

A step (`arn:aws:states:::sqs:sendMessage.waitForTaskToken`) sends `{"task": <name>, "input": {...},
"token": <task token>}`; the worker runs the task's handler (`compose.workflow_task(name)`) on `input`
and answers the token:

- the handler returns a dict: SendTaskSuccess with it as the step's output;
- it returns `kit.steps.DEFERRED`: no answer now; the handler kept the token for another party;
- it raises TicklessError (a permanent refusal): SendTaskFailure with error `code`, cause `message`;
- no handler has that name: SendTaskFailure `UnknownTask`;
- any other exception: logged and re-raised, so SQS delivers the message again after its visibility
  timeout (a step resumes after a worker failure); after its last receive it is kept in
  `workflow-tasks-dlq` and the step ends on its own TimeoutSeconds (`States.Timeout`).

A message that is not a JSON object with a token is logged and dropped (nothing could answer it), as is
the answer to a step that is already closed (timed out, or its execution stopped). Handlers must be
idempotent: a message may be delivered more than once."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

from aws_lambda_powertools import Logger

from chalicelib import compose
from chalicelib.events.observability import observed
from chalicelib.kit.errors import TicklessError
from chalicelib.kit.steps import DEFERRED

logger = Logger()

UNKNOWN_TASK = "UnknownTask"

TaskHandler = Callable[[dict[str, Any]], Any]  # a dict, or DEFERRED
Lookup = Callable[[str], TaskHandler | None]


class TaskTokens(Protocol):
    """How a step is answered (adapters.workflows.StepFunctions)."""

    def succeed(self, token: str, output: dict[str, Any]) -> None: ...

    def fail(self, token: str, error: str, cause: str) -> None: ...


@observed("run_workflow_tasks")
def run_workflow_task(event: dict[str, Any], context: Any) -> None:
    process(event, lookup=compose.workflow_task, tokens=compose.step_functions())


def process(event: dict[str, Any], *, lookup: Lookup, tokens: TaskTokens) -> None:
    """Every message of an SQS event (one with `batch_size=1`); raises for a message to retry."""
    for record in event.get("Records", []):
        try:
            message = json.loads(record["body"])
        except ValueError:
            message = None
        if not isinstance(message, dict) or not isinstance(message.get("token"), str):
            logger.error(
                "dropping a workflow task message that is not a task", extra={"id": record.get("messageId")}
            )
            continue
        run(message, lookup=lookup, tokens=tokens)


def run(message: dict[str, Any], *, lookup: Lookup, tokens: TaskTokens) -> None:
    task, token = str(message.get("task")), message["token"]
    handler = lookup(task)
    try:
        if handler is None:
            logger.error("no handler for workflow task", extra={"task": task})
            tokens.fail(token, UNKNOWN_TASK, f"no handler for the task {task!r}")
            return
        try:
            output = handler(message.get("input") or {})
        except TicklessError as exc:
            logger.warning(
                "workflow task refused", extra={"task": task, "code": exc.code, "error": exc.message}
            )
            tokens.fail(token, exc.code, exc.message)
            return
        except Exception:
            logger.exception("workflow task failed; retried later", extra={"task": task})
            raise
        if output is DEFERRED:
            return  # the handler keeps the token: another party answers the step
        tokens.succeed(token, output if output is not None else {})
    except TicklessError as exc:  # the answer: its step is already closed
        logger.warning("workflow task answered too late", extra={"task": task, "error": exc.message})
