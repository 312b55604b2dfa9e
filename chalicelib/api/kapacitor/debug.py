"""`/kapacitor/v1/debug/vars`: statistics of the caller's organization's tasks, in Kapacitor's expvar
shape (chalicelib/tick/debugvars.py), which Telegraf's kapacitor input collects."""

from __future__ import annotations

from chalice import Response

from chalicelib import compose
from chalicelib.api.kapacitor.auth import task_manager
from chalicelib.api.kapacitor.blueprint import VERSION_HEADERS, kapacitor, route
from chalicelib.api.kit import json_response
from chalicelib.tick.debugvars import debug_vars


@route("/debug/vars", methods=["GET"], name="debug_vars")
def get_debug_vars() -> Response:
    org = task_manager(kapacitor.current_request, "read").org_id or ""
    tasks = compose.task_definitions().tasks(org)
    runs = compose.stream_tasks()
    body = debug_vars(tasks, lambda task_id: runs.execution(org, task_id).stats, server_id=org)
    return json_response(body, headers=VERSION_HEADERS)
