"""`/kapacitor/v1/storage`: Kapacitor's storage API (stores, rebuild, backup) over the caller
organization's stores, plus the restore Kapacitor does by copying its file into place
(chalicelib/kapacitor/backup.py, docs/KAPACITOR.md)."""

from __future__ import annotations

from chalice import Response

from chalicelib import compose
from chalicelib.api.kapacitor.auth import KAPACITOR_USER, task_manager, user_manager
from chalicelib.api.kapacitor.blueprint import VERSION_HEADERS, kapacitor, route
from chalicelib.api.kit import body, json_response
from chalicelib.kapacitor.backup import stores_json
from chalicelib.kit.errors import FORBIDDEN, TOO_LARGE, TicklessError

STORES = "/storage/stores"
# A Lambda's answer through API Gateway carries at most 6 MB, headers and envelope included.
MAX_BACKUP_BYTES = 5_500_000


def _org(action: str) -> str:
    return task_manager(kapacitor.current_request, action).org_id or ""


def _owner(action: str) -> str:
    """Who may back up or restore: a backup holds the users' password hashes and the overrides'
    secrets, so an InfluxDB caller needs what managing the org's users needs (write on its tasks and
    buckets) and `action` on its tasks; a Kapacitor user needs what Kapacitor asks on the route (`api`)."""
    principal = user_manager(kapacitor.current_request, "write")
    if KAPACITOR_USER not in principal.extra and not principal.can(action, "tasks", org_id=principal.org_id):
        raise TicklessError(FORBIDDEN, f"insufficient permissions to {action} tasks")
    return principal.org_id or ""


@route(STORES, methods=["GET"], name="list_stores")
def list_stores() -> Response:
    _org("read")
    return json_response(stores_json(), headers=VERSION_HEADERS)


@route(STORES + "/{name}", methods=["POST"], name="store_action")
def store_action(name: str) -> Response:
    org = _org("write")
    compose.kapacitor_storage().rebuild(org, name, body(kapacitor.current_request))
    return Response(body="", status_code=204, headers=VERSION_HEADERS)


@route("/storage/backup", methods=["GET"], name="backup")
def backup() -> Response:
    data = compose.kapacitor_storage().backup(_owner("read"))
    if len(data) > MAX_BACKUP_BYTES:
        raise TicklessError(
            TOO_LARGE, f"backup is {len(data)} bytes, more than one response carries ({MAX_BACKUP_BYTES})"
        )
    headers = {
        **VERSION_HEADERS,
        "Content-Type": "application/json; charset=utf-8",
        "Content-Disposition": 'attachment; filename="kapacitor-backup.json"',
    }
    return Response(body=data.decode(), status_code=200, headers=headers)


@route("/storage/restore", methods=["POST"], name="restore")
def restore() -> Response:
    org = _owner("write")
    summary = compose.kapacitor_storage().restore(org, body(kapacitor.current_request))
    return json_response(summary, headers=VERSION_HEADERS)
