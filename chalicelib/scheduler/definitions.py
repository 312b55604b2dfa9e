"""Task definitions as a resource kind of the generic tenancy mechanism: /api/v2/tasks create, list,
get, patch, delete, labels, members and owners, shaped and worded by chalicelib.scheduler.tasks.

Declared here, not in chalicelib.tenancy.registry, because tenancy may not import the scheduler (the
scheduler depends on Flux, which depends on tenancy). `KINDS` is every kind the tenancy service and
the v2 API serve: the registry's, then tasks."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from chalicelib.scheduler import tasks
from chalicelib.tenancy import registry
from chalicelib.tenancy.kinds import Doc, Kind, Listing
from chalicelib.tenancy.principal import Principal

if TYPE_CHECKING:
    from chalicelib.tenancy.service import Tenancy


def _prepare(service: Tenancy, _body: Doc, principal: Principal, context: Doc) -> Doc:
    """The org's name (a task shows it) and the owner: the caller's user, i.e. the token's user (a
    token without one makes a task without an owner)."""
    org = service.fetch(registry.ORGS, context["orgID"])
    return {**context, "org": org["name"], "ownerID": principal.user_id or ""}


def _create(body: Doc, context: Doc) -> Doc:
    doc = tasks.new_task(body, context["orgID"], context["ownerID"], time.time_ns(), "", org=context["org"])
    del doc["id"]  # the service gives every new document its ID
    return doc


def _update(current: Doc, patch: Doc) -> Doc:
    return tasks.patched(current, patch, time.time_ns())


def _filter(query: Mapping[str, str], org_id: str | None, user_id: str | None) -> tasks.TaskFilter:
    return tasks.task_filter(query, org_id=org_id, auth_user_id=user_id)


TASKS = Kind(
    name="tasks",  # also the permission resource type, as influxd's
    path="/api/v2/tasks",
    id_param="taskID",
    list_key="tasks",
    create=_create,
    update=_update,
    links=None,  # `present` shows them, links included
    what="task",
    labels=True,
    members=True,
    listing=Listing(
        parse=_filter,
        select=tasks.select,
        answer=tasks.tasks_json,
        id_params=("after", "orgID", "user"),
    ),
    present=lambda doc, labels: tasks.task_json(doc, labels),
    prepare=_prepare,
    decode=tasks.check_create,
    decodes_patch=True,
)

KINDS: tuple[Kind, ...] = (*registry.KINDS, TASKS)
