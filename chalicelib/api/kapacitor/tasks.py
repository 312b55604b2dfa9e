"""`/kapacitor/v1/tasks` and `/kapacitor/v1/templates`: Kapacitor's task and template definitions
(chalicelib/tick/tasks.py), under both of Kapacitor's prefixes."""

from __future__ import annotations

from typing import Any

from chalice import Response

from chalicelib import compose
from chalicelib.api.kapacitor.auth import task_manager
from chalicelib.api.kapacitor.blueprint import VERSION_HEADERS, kapacitor, list_query, route
from chalicelib.api.kit import body, json_body, json_response
from chalicelib.kit.errors import INVALID, TicklessError
from chalicelib.tick.tasks import View


def _request_body() -> Any:
    try:
        return json_body(body(kapacitor.current_request))
    except TicklessError as exc:
        if exc.code == INVALID:
            raise TicklessError(INVALID, "invalid JSON") from exc
        raise


def _prefix() -> str:
    path = kapacitor.current_request.context.get("resourcePath", "")
    return "/kapacitor/v1preview" if path.startswith("/kapacitor/v1preview") else "/kapacitor/v1"


def _view(*, dot_view: bool = True) -> View:
    return View.of(list_query(), _prefix(), dot_view=dot_view)


def _org(action: str) -> str:
    return task_manager(kapacitor.current_request, action).org_id  # type: ignore[return-value]


def _answer(payload: Any) -> Response:
    return json_response(payload, headers=VERSION_HEADERS)


@route("/tasks", methods=["GET"], name="list_tasks")
def list_tasks() -> Response:
    org = _org("read")
    return _answer({"tasks": compose.task_definitions().list_tasks(org, list_query(), _view())})


@route("/tasks", methods=["POST"], name="create_task")
def create_task() -> Response:
    org = _org("write")
    return _answer(compose.task_definitions().create_task(org, _request_body(), _view()))


@route("/tasks/{task_id}", methods=["GET"], name="get_task")
def get_task(task_id: str) -> Response:
    org = _org("read")
    replay = list_query().get("replay-id")
    state = compose.replays().running_state(org, replay, task_id) if replay else None
    return _answer(compose.task_definitions().get_task(org, task_id, _view(), state))


@route("/tasks/{task_id}", methods=["PATCH"], name="update_task")
def update_task(task_id: str) -> Response:
    org = _org("write")
    return _answer(compose.task_definitions().update_task(org, task_id, _request_body(), _view()))


@route("/tasks/{task_id}", methods=["DELETE"], name="delete_task")
def delete_task(task_id: str) -> Response:
    compose.task_definitions().delete_task(_org("write"), task_id)
    return Response(body="", status_code=204, headers=VERSION_HEADERS)


@route("/tasks/{task_id}/{endpoint}", methods=["GET"], name="task_http_out")
def task_http_out(task_id: str, endpoint: str) -> Response:
    """A running task's httpOut endpoint: its current result, as a query answers."""
    org = _org("read")
    return _answer(compose.stream_tasks().http_out(org, task_id, endpoint))


@route("/templates", methods=["GET"], name="list_templates")
def list_templates() -> Response:
    org = _org("read")
    templates = compose.task_definitions().list_templates(org, list_query(), _view(dot_view=False))
    return _answer({"templates": templates})


@route("/templates", methods=["POST"], name="create_template")
def create_template() -> Response:
    org = _org("write")
    return _answer(compose.task_definitions().create_template(org, _request_body(), _view(dot_view=False)))


@route("/templates/{template_id}", methods=["GET"], name="get_template")
def get_template(template_id: str) -> Response:
    org = _org("read")
    return _answer(compose.task_definitions().get_template(org, template_id, _view(dot_view=False)))


@route("/templates/{template_id}", methods=["PATCH"], name="update_template")
def update_template(template_id: str) -> Response:
    org = _org("write")
    definitions = compose.task_definitions()
    return _answer(definitions.update_template(org, template_id, _request_body(), _view(dot_view=False)))


@route("/templates/{template_id}", methods=["DELETE"], name="delete_template")
def delete_template(template_id: str) -> Response:
    compose.task_definitions().delete_template(_org("write"), template_id)
    return Response(body="", status_code=204, headers=VERSION_HEADERS)
