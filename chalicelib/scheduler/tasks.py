"""The task document: created from a TaskCreateRequest, patched by a TaskUpdateRequest, shown and listed
as influxd's /api/v2/tasks shows them, with influxd's messages (those of its HTTP answers, prefixes and all).

A document is a dict keyed as influxd stores a task; times are ns since the epoch (None when unset):
id, type, orgID, org, ownerID, name, description, status, flux, every (Flux duration text or ""), cron
(or ""), offset (ns), createdAt, updatedAt, latestCompleted, latestScheduled, latestSuccess,
latestFailure, lastRunStatus, lastRunError. Resolving `org` to an ID, labels and storage are the caller's."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from chalicelib.kit.errors import TicklessError, invalid
from chalicelib.kit.gotemplate.printf import go_quote
from chalicelib.kit.time import HOUR, MINUTE, SECOND, format_rfc3339nano
from chalicelib.scheduler.options import (
    OptionsError,
    is_zero_duration,
    parse_signed_duration,
    task_options,
    with_options,
)
from chalicelib.scheduler.runs import FAILED, Run, last_run_error
from chalicelib.scheduler.schedule import first_latest_completed
from chalicelib.tenancy.secrets import ID_LENGTH, parse_id

ACTIVE, INACTIVE = "active", "inactive"
SYSTEM_TYPE, BASIC_TYPE = "system", "basic"
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 100, 500

_DECODE = "failed to decode request: "
_UPDATE = "failed to update task: "
_OPTIONAL = ("flux", "status", "description")  # PATCH fields that may be absent
_GO_TIME_UNITS = ("ns", "us", "µs", "μs", "ms", "s", "m", "h")

Doc = dict[str, Any]


# -- create ------------------------------------------------------------------------------------------------


def check_create(body: Any) -> Doc:
    """A TaskCreateRequest decoded and checked as influxd's decode step does: {flux, description, status,
    orgID, org}. The caller resolves org/orgID to an organization before new_task."""
    if not isinstance(body, dict):
        raise invalid(
            f"{_DECODE}json: cannot unmarshal {_json_kind(body)} into Go value of type taskmodel.TaskCreate"
        )
    out = {key: _string(body, key, "TaskCreate") for key in ("flux", "description", "status", "org", "type")}
    org_id = body.get("orgID")
    out["orgID"] = None if org_id is None else _decode_id(org_id)
    if not out["flux"]:
        raise invalid(_DECODE + "missing flux")
    if not out["orgID"] and not out["org"]:
        raise invalid(_DECODE + "missing orgID and org")
    if out["status"] not in ("", ACTIVE, INACTIVE):
        raise invalid(f"{_DECODE}invalid task status: {go_quote(out['status'])}")
    return out


def new_task(body: Any, org_id: str, owner_id: str, now: int, id: str, *, org: str = "") -> Doc:
    """A new task from a TaskCreateRequest; `org` is the organization's name (influxd shows it)."""
    req = check_create(body)
    try:
        opts = task_options(req["flux"])
    except OptionsError as e:
        raise invalid("invalid options: " + e.message) from e
    created = first_latest_completed(now)
    return {
        "id": id,
        "type": SYSTEM_TYPE,  # influxd's HTTP create sets it whatever the body says
        "orgID": org_id,
        "org": org,
        "ownerID": owner_id,
        "name": opts.name,
        "description": req["description"],
        "status": req["status"] or ACTIVE,
        "flux": req["flux"],
        "every": opts.every or "",
        "cron": opts.cron or "",
        "offset": opts.offset,
        "createdAt": created,
        "updatedAt": None,
        "latestCompleted": created,
        "latestScheduled": created,
        "latestSuccess": None,
        "latestFailure": None,
        "lastRunStatus": "",
        "lastRunError": "",
    }


# -- update ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Update:
    flux: str | None
    status: str | None
    description: str | None
    name: str
    cron: str
    every: str
    offset: str | None
    limits: bool  # concurrency or retry given

    def options_zero(self) -> bool:
        return (
            not self.name
            and not self.cron
            and is_zero_duration(self.every)
            and (self.offset is None or is_zero_duration(self.offset))
            and not self.limits
        )


def _decode_update(body: Any) -> _Update:
    if not isinstance(body, dict):
        raise invalid(
            f"{_DECODE}json: cannot unmarshal {_json_kind(body)} into Go value of type taskmodel.TaskUpdate"
        )
    strings = {key: _string(body, key, "") for key in ("name", "cron")}
    optional = {key: _string(body, key, "") if body.get(key) is not None else None for key in _OPTIONAL}
    durations = {}
    for key in ("every", "offset"):
        value = body.get(key)
        if value is not None and not isinstance(value, str):
            raise _type_error(value, f".{key}", "options.Duration")
        durations[key] = None if value is None else _signed(value)
    for key in ("concurrency", "retry"):
        value = body.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise _type_error(value, f".{key}", "int64")
    return _Update(
        flux=optional["flux"],
        status=optional["status"],
        description=optional["description"],
        name=strings["name"],
        cron=strings["cron"],
        every=durations["every"] or "",
        offset=durations["offset"],
        limits=body.get("concurrency") is not None or body.get("retry") is not None,
    )


def _signed(text: str) -> str:
    try:
        return parse_signed_duration(text)
    except TicklessError as e:
        raise invalid(_DECODE + e.message) from e


def _check_update(upd: _Update) -> None:
    """influxd's TaskUpdate.Validate: its checks in its order, the first that applies decides."""
    every = not is_zero_duration(upd.every)
    if every and upd.cron:
        raise invalid(_DECODE + "cannot specify both every and cron")
    if not every and upd.offset is not None and not is_zero_duration(upd.offset):
        error = _go_parse_duration_error(upd.offset)
        if error:
            raise invalid(
                f"{_DECODE}offset: {upd.offset}, {error} is invalid, the largest unit supported is h"
            )
    if not every and upd.flux is None and upd.status is None and upd.options_zero():
        # influxd counts neither a description nor a zero offset as content.
        raise invalid(_DECODE + "cannot update task without content")
    # influxd skips this check when every is given; here a bad status is refused whatever else comes with it.
    if upd.status is not None and upd.status not in (ACTIVE, INACTIVE):
        raise invalid(f"{_DECODE}invalid task status: {go_quote(upd.status)}")


def patched(task: Doc, body: Any, now: int) -> Doc:
    """The task after a PATCH (TaskUpdateRequest): options given in the body are written into the script,
    then the script's options become the task's; `updatedAt` moves when anything is set; activating an
    inactive task moves latestCompleted and latestScheduled to now, so inactive time is not caught up."""
    upd = _decode_update(body)
    _check_update(upd)
    out = dict(task)
    # concurrency and retry are never written into the script (influxd crashes on a PATCH of them alone)
    writes = upd.name or upd.cron or not is_zero_duration(upd.every)
    writes = writes or (upd.offset is not None and not is_zero_duration(upd.offset))
    if writes or upd.flux is not None:
        try:
            # a zero offset removes the property only when a script comes along, as in influxd
            edited = with_options(
                upd.flux or task["flux"], every=upd.every, cron=upd.cron, offset=upd.offset, name=upd.name
            )
        except TicklessError as e:
            raise invalid(_UPDATE + e.message) from e
        flux = edited if writes or upd.offset is not None else upd.flux or ""
        try:
            opts = task_options(flux)
        except OptionsError as e:
            raise invalid(f"{_UPDATE}invalid options: {e.message}") from e
        except TicklessError as e:
            raise invalid(_UPDATE + e.message) from e
        out |= {
            "flux": flux,
            "name": opts.name,
            "every": opts.every or "",
            "cron": opts.cron or "",
            "offset": opts.offset,
            "updatedAt": now,
        }
    if upd.description is not None:
        out |= {"description": upd.description, "updatedAt": now}
    if upd.status is not None and upd.status != task["status"]:
        out |= {"status": upd.status, "updatedAt": now}
        if upd.status == ACTIVE:
            start = first_latest_completed(now)
            out |= {"latestCompleted": start, "latestScheduled": start}
    return out


def _go_parse_duration_error(text: str) -> str | None:
    """The error of Go's time.ParseDuration for a duration text influxd has accepted, if any."""
    body = text.lstrip("-")
    unit = ""
    for ch in body + "0":
        if ch.isdigit():
            if unit and unit not in _GO_TIME_UNITS:
                return f'time: unknown unit "{unit}" in duration "{text}"'
            unit = ""
        else:
            unit += ch
    return None


# -- what the scheduler records ----------------------------------------------------------------------------


def last_scheduled(task: Doc) -> int:
    """Where the schedule continues from: latestScheduled unless latestCompleted is later (influxd's rule)."""
    scheduled, completed = task.get("latestScheduled"), task.get("latestCompleted")
    if scheduled is None or (completed is not None and scheduled < completed):
        return completed if completed is not None else task["createdAt"]
    return scheduled


def scheduled_up_to(task: Doc, t: int) -> Doc:
    """After queueing the run for `t`; latestScheduled only moves forward."""
    current = task.get("latestScheduled")
    return task if current is not None and t <= current else {**task, "latestScheduled": t}


def run_finished(task: Doc, run: Run) -> Doc:
    """After a run ends: the latest times only move forward; any status but failed counts as a success."""
    out = dict(task)
    at = run.scheduled_for
    keys = ["latestCompleted", "latestFailure" if run.status == FAILED else "latestSuccess"]
    for key in keys:
        if out.get(key) is None or at > out[key]:
            out[key] = at
    out["lastRunStatus"] = run.status
    out["lastRunError"] = last_run_error(run.log) if run.status == FAILED else ""
    return out


# -- show --------------------------------------------------------------------------------------------------


def task_json(doc: Doc, labels: Iterable[dict] = (), *, basic: bool = False, prefix: str = "/api/v2") -> Doc:
    """A task as influxd answers it; `basic` (type=basic lists) leaves out the script, org and dates."""
    base = f"{prefix}/tasks/{doc['id']}"
    out: Doc = {
        "links": {
            "labels": f"{base}/labels",
            "logs": f"{base}/logs",
            "members": f"{base}/members",
            "owners": f"{base}/owners",
            "runs": f"{base}/runs",
            "self": base,
        },
        "labels": list(labels),
        "id": doc["id"],
        "orgID": doc["orgID"],
        "org": "" if basic else doc.get("org", ""),
        "ownerID": doc["ownerID"],
        "name": doc["name"],
    }
    if doc.get("description"):
        out["description"] = doc["description"]
    out["status"] = doc["status"]
    out["flux"] = "" if basic else doc["flux"]
    for key in ("every", "cron"):
        if doc.get(key):
            out[key] = doc[key]
    if doc.get("offset"):
        out["offset"] = offset_text(doc["offset"])
    if doc.get("latestCompleted") is not None:
        out["latestCompleted"] = _rfc3339(doc["latestCompleted"])
    for key in ("lastRunStatus", "lastRunError"):
        if doc.get(key):
            out[key] = doc[key]
    if not basic:
        for key in ("createdAt", "updatedAt"):
            if doc.get(key) is not None:
                out[key] = _rfc3339(doc[key])
    return out


def offset_text(ns: int) -> str:
    """influxd's display of an offset: hours, minutes, seconds, each only when not zero (`1h30m`, `-5m`)."""
    sign, ns = ("-", -ns) if ns < 0 else ("", ns)
    text = sign
    for unit, name in ((HOUR, "h"), (MINUTE, "m"), (SECOND, "s")):
        count, ns = divmod(ns, unit)
        if count:
            text += f"{count}{name}"
        if not ns:
            break
    return text


def _rfc3339(ns: int) -> str:
    return format_rfc3339nano(ns - ns % SECOND)  # Go's time.RFC3339: no fraction


# -- list --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskFilter:
    limit: int = DEFAULT_PAGE_SIZE
    after: str | None = None
    org_id: str | None = None
    org: str = ""
    user: str | None = None
    status: str | None = None
    type: str = SYSTEM_TYPE
    basic: bool = False
    name: str | None = None


def task_filter(
    params: Mapping[str, str], *, org_id: str | None = None, auth_user_id: str | None = None
) -> TaskFilter:
    """The filter of GET /tasks. `org_id` is the organization the caller resolved `org` to (an `orgID`
    parameter wins over it, as in influxd); with neither an organization nor `user`, influxd lists the
    tasks of the requesting user, `auth_user_id`."""
    after = _param_id(params.get("after"))
    if params.get("orgID"):
        org_id = _param_id(params["orgID"])
    user = _param_id(params.get("user"))
    limit = DEFAULT_PAGE_SIZE
    if params.get("limit"):
        text = params["limit"]
        if not re.fullmatch(r"[+-]?[0-9]+", text):
            raise invalid(f"{_DECODE}strconv.Atoi: parsing {go_quote(text)}: invalid syntax")
        limit = int(text)
        if not 1 <= limit <= MAX_PAGE_SIZE:
            # influxd wraps its 422 in a 400 "failed to decode request"
            raise invalid(f"{_DECODE}limit must be between 1 and {MAX_PAGE_SIZE}")
    status = params.get("status") if params.get("status") in (ACTIVE, INACTIVE) else None
    typ = params.get("type", "")
    if typ not in ("", SYSTEM_TYPE, BASIC_TYPE):
        raise invalid(f"{_DECODE}{go_quote(typ)} is not a valid task type")
    if org_id is None and user is None:
        user = auth_user_id
    return TaskFilter(
        limit=limit,
        after=after,
        org_id=org_id,
        org=params.get("org", ""),
        user=user,
        status=status,
        basic=typ == BASIC_TYPE,
        name=params.get("name") or None,
    )


def matches(doc: Doc, f: TaskFilter) -> bool:
    return (
        (doc.get("type") or SYSTEM_TYPE) == f.type  # tasks stored without a type are system tasks
        and (f.after is None or doc["id"] > f.after)  # ids are fixed-length hex: text order is id order
        and (f.org_id is None or doc["orgID"] == f.org_id)
        and (f.user is None or doc["ownerID"] == f.user)
        and (f.status is None or doc["status"] == f.status)
        and (f.name is None or doc["name"] == f.name)
    )


def select(docs: Iterable[Doc], f: TaskFilter) -> list[Doc]:
    """The page of tasks a filter selects, in id order."""
    return [doc for doc in sorted(docs, key=lambda d: d["id"]) if matches(doc, f)][: f.limit]


def tasks_json(
    page: list[Doc],
    f: TaskFilter,
    labels_of: Callable[[str], Iterable[dict]] | None = None,
    prefix: str = "/api/v2",
) -> Doc:
    """A list answer: paging links (`next` when the page is full) and the tasks."""
    query = {"after": f.after, "orgID": f.org_id, "org": f.org, "user": f.user, "limit": str(f.limit)}
    values = {k: v for k, v in query.items() if v}
    links = {"self": _url(f"{prefix}/tasks", values)}
    if len(page) >= f.limit:
        links["next"] = _url(f"{prefix}/tasks", values | {"after": page[f.limit - 1]["id"]})
    tasks = [
        task_json(doc, labels_of(doc["id"]) if labels_of else (), basic=f.basic, prefix=prefix)
        for doc in page
    ]
    return {"links": links, "tasks": tasks}


def _url(path: str, values: dict[str, str]) -> str:
    return f"{path}?{urlencode(sorted(values.items()))}"  # Go's url.Values.Encode sorts by key


# -- JSON decoding as Go's encoding/json words it ----------------------------------------------------------


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _type_error(value: Any, field: str, go_type: str) -> TicklessError:
    return invalid(
        f"{_DECODE}json: cannot unmarshal {_json_kind(value)} into Go struct field {field} of type {go_type}"
    )


def _string(body: dict, key: str, struct: str) -> str:
    value = body.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _type_error(value, f"{struct}.{key}", "string")
    return value


def _decode_id(value: Any) -> str:
    text = value if isinstance(value, str) else str(value)
    parsed = parse_id(text)
    if parsed is None:
        raise invalid(
            _DECODE + ("id must have a length of 16 bytes" if len(text) != ID_LENGTH else "invalid ID")
        )
    return parsed


def _param_id(value: str | None) -> str | None:
    return None if not value else _decode_id(value)
