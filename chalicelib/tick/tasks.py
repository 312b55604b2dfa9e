"""Kapacitor's task and template definitions (`/kapacitor/v1/tasks`, `/templates`): what is stored, how a
request changes it and what each answer shows, with Kapacitor's rules and messages. A task's script is
checked by evaluating it into its pipeline (chalicelib.tick.evaluate); a template's update reloads each of
its tasks and puts every one back when one fails. Storage is a port; definitions are kept per
organization (tickless's tenant), under their Kapacitor IDs."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from chalicelib.kit.errors import NOT_FOUND, TicklessError, invalid
from chalicelib.kit.gopath import go_match
from chalicelib.kit.syntax import ParseError
from chalicelib.tick.evaluate import Evaluation, dbrps_of, evaluate, task_type
from chalicelib.tick.exec.alert_machine import AlertStateMachine
from chalicelib.tick.exec.base import RuntimeConfig
from chalicelib.tick.exec.runtime import TaskRuntime
from chalicelib.tick.formatter import format_script
from chalicelib.tick.handlers import handler_configs
from chalicelib.tick.parser import parse
from chalicelib.tick.pipeline import dot, executing_dot
from chalicelib.tick.vars import read_vars, vars_json

Doc = dict[str, Any]
TASKS, TEMPLATES = "tasks", "templates"
# The running batch tasks of every org, one entry `<org>|<task>` each, in one list the scheduler reads.
BATCH_INDEX, INDEX_PARTITION = "running-batch", "all"
ENABLED, DISABLED = "enabled", "disabled"
_VALID_ID = re.compile(r"^[-._\w]+$")  # Kapacitor: letters (any script), digits, '-', '.', '_'
TASK_FIELDS = (
    "link",
    "id",
    "type",
    "dbrps",
    "script",
    "dot",
    "status",
    "executing",
    "error",
    "stats",
    "created",
    "modified",
    "last-enabled",
)
TEMPLATE_FIELDS = ("link", "id", "type", "script", "dot", "error", "vars", "created", "modified")
_ZERO_TIME = "0001-01-01T00:00:00Z"  # Go's zero time: a task never enabled
MAX_DEFINITION_BYTES = 300_000  # a stored definition is one DynamoDB item (400 KB at most)


class DefinitionStore(Protocol):
    """Definitions of one kind (tasks or templates) per organization, by ID."""

    def get(self, kind: str, org_id: str, id: str) -> Doc | None: ...
    def list(self, kind: str, org_id: str) -> list[Doc]: ...  # ordered by ID
    def create(self, kind: str, org_id: str, doc: Doc) -> bool: ...  # False: the ID is taken
    def replace(self, kind: str, org_id: str, doc: Doc) -> None: ...
    def delete(self, kind: str, org_id: str, id: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Execution:
    """What a running task's last run saved with its state (chalicelib/tick/execution.py): node
    statistics by node name, the source's throughput, and the error that stopped a feed or a query."""

    stats: dict[str, Any] = field(default_factory=dict)
    throughput: float = 0.0
    error: str = ""


@dataclass(frozen=True, slots=True)
class View:
    """How an answer shows a definition: `script_format` formatted|raw, `dot_view` attributes|labels."""

    script_format: str = "formatted"
    dot_view: str = "attributes"
    prefix: str = "/kapacitor/v1"

    @classmethod
    def of(cls, query: dict[str, str], prefix: str, *, dot_view: bool = True) -> View:
        script_format = query.get("script-format") or "formatted"
        if script_format not in ("formatted", "raw"):
            raise invalid(f'invalid script-format parameter "{script_format}"')
        view = query.get("dot-view") or "attributes"
        if dot_view and view not in ("attributes", "labels"):
            raise invalid(f'invalid dot-view parameter "{view}"')
        return cls(script_format, view, prefix)


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class TaskDefinitions:
    def __init__(
        self,
        store: DefinitionStore,
        clock: Callable[[], str] = now_text,
        on_stop: Callable[[str, str], None] = lambda org_id, task_id: None,
        execution_of: Callable[[str, str], Execution] = lambda org_id, task_id: Execution(),
        service_configs: Callable[[str], Mapping[str, Any]] = lambda org_id: {},
    ) -> None:
        self.store = store
        self.clock = clock
        self.on_stop = on_stop  # a task stops running (disabled, deleted, renamed): its state goes
        self.execution_of = execution_of  # what an enabled task's last run saved
        self.service_configs = service_configs  # an org's handler sections (its config overrides)

    # -- tasks ---------------------------------------------------------------------------------------

    def create_task(self, org_id: str, body: Any, view: View) -> Doc:
        body = _object(body)
        requested_vars = read_vars(body.get("vars"))  # decoded with the body, as Kapacitor decodes it
        task_id = _text(body, "id") or str(uuid.uuid4())
        if not _VALID_ID.match(task_id):
            raise invalid(f"task ID must contain only letters, numbers, '-', '.' and '_'. \"{task_id}\"")
        if self.store.get(TASKS, org_id, task_id) is not None:
            raise invalid(f"task {task_id} already exists")
        template_id = _text(body, "template-id")
        if template_id:
            template = self._template(org_id, template_id)
            script = template["script"]
        else:
            script = _text(body, "script")
            if not script:
                raise invalid("must provide TICKscript")
        explicit = _dbrps(body.get("dbrps"))
        task = {
            "id": task_id,
            "template-id": template_id,
            "script": script,
            "dbrps": explicit,
            "status": ENABLED if body.get("status") == ENABLED else DISABLED,
            "vars": vars_json(requested_vars),
        }
        program = _program(script)
        task["type"] = _task_type(program)
        _check_startable(task, compile_task(task, program), lambda: self.service_configs(org_id))
        implicit = [{"db": db, "rp": rp} for db, rp in dbrps_of(program)]
        if not implicit and not explicit:
            raise invalid("must specify dbrp")
        if implicit and explicit:
            raise invalid("cannot specify dbrp in both implicitly and explicitly")
        task["dbrps"] = implicit or explicit
        now = self.clock()
        task.update(created=now, modified=now, **{"last-enabled": now if task["status"] == ENABLED else ""})
        _check_size(task)
        if not self.store.create(TASKS, org_id, task):
            raise invalid(f"task {task_id} already exists")
        self._index(org_id, None, task)
        return self.show_task(org_id, task, view)

    def update_task(self, org_id: str, task_id: str, body: Any, view: View) -> Doc:
        body = _object(body)
        requested_vars = read_vars(body.get("vars"))
        original = self.store.get(TASKS, org_id, task_id)
        if original is None:
            raise TicklessError(NOT_FOUND, "task does not exist, cannot update")
        task = dict(original)
        new_id = _text(body, "id")
        if new_id:
            if not _VALID_ID.match(new_id):
                raise invalid(f"task ID must contain only letters, numbers, '-', '.' and '_'. \"{new_id}\"")
            task["id"] = new_id
        requested_template = _text(body, "template-id")
        explicit = _dbrps(body.get("dbrps"))
        if requested_template or task.get("template-id"):
            template_id = requested_template or task["template-id"]
            task["script"] = self._template(org_id, template_id, shown=requested_template)["script"]
            task["template-id"] = template_id
        else:
            script = _text(body, "script")
            if script:
                before = dbrps_of(_program(task["script"]))
                if before and not dbrps_of(_program(script)) and not explicit:
                    raise invalid("must specify dbrp")
                task["script"] = script
        program = _program(task["script"])
        implicit = [{"db": db, "rp": rp} for db, rp in dbrps_of(program)]
        if implicit and explicit:
            raise invalid("cannot specify dbrp in implicitly and explicitly")
        if implicit or explicit:
            task["dbrps"] = implicit or explicit
        previous = task["status"]
        if body.get("status") in (ENABLED, DISABLED):
            task["status"] = body["status"]
        if requested_vars:
            task["vars"] = vars_json(requested_vars)
        task["type"] = _task_type(program)
        _check_startable(task, compile_task(task, program), lambda: self.service_configs(org_id))
        task["modified"] = self.clock()
        if task["status"] == ENABLED and previous != ENABLED:
            task["last-enabled"] = task["modified"]
        _check_size(task)
        if task["id"] != task_id:
            if not self.store.create(TASKS, org_id, task):
                raise invalid(f"task {task['id']} already exists")
            self.store.delete(TASKS, org_id, task_id)
            self._index(org_id, original, None)
            self.on_stop(org_id, task_id)
        else:
            self.store.replace(TASKS, org_id, task)
        self._index(org_id, original if task["id"] == task_id else None, task)
        if previous == ENABLED and task["status"] != ENABLED:
            self.on_stop(org_id, task["id"])
        return self.show_task(org_id, task, view)

    def get_task(self, org_id: str, task_id: str, view: View, replay_state: str | None = None) -> Doc:
        """The task; with `replay_state`, as the replay running it sees it (its execution's state)."""
        task = self.store.get(TASKS, org_id, task_id)
        if task is None:
            raise TicklessError(NOT_FOUND, "no task exists")
        return self.show_task(org_id, task, view, replay_state)

    def delete_task(self, org_id: str, task_id: str) -> None:
        original = self.store.get(TASKS, org_id, task_id)
        self.store.delete(TASKS, org_id, task_id)
        self._index(org_id, original, None)
        self.on_stop(org_id, task_id)

    def _index(self, org_id: str, before: Doc | None, after: Doc | None) -> None:
        """Keep the running-batch index in step with a task stored as `after` (None: gone), which was
        `before` (None: new): the scheduler finds the running batch tasks there, not by scanning orgs."""
        if after is not None and _runs_batch(after):
            entry = {"id": f"{org_id}|{after['id']}", "org": org_id, "task": after["id"]}
            self.store.replace(BATCH_INDEX, INDEX_PARTITION, entry)
        elif before is not None and _runs_batch(before):
            self.store.delete(BATCH_INDEX, INDEX_PARTITION, f"{org_id}|{before['id']}")

    def tasks(self, org_id: str) -> list[Doc]:
        """The organization's task definitions, by ID."""
        return self.store.list(TASKS, org_id)

    def templates(self, org_id: str) -> list[Doc]:
        """The organization's template definitions, by ID."""
        return self.store.list(TEMPLATES, org_id)

    def list_tasks(self, org_id: str, query: dict[str, Any], view: View) -> list[Doc]:
        fields = _fields(query, TASK_FIELDS)
        tasks = _page(self.store.list(TASKS, org_id), query)
        return [{f: v for f, v in self.show_task(org_id, t, view).items() if f in fields} for t in tasks]

    def show_task(self, org_id: str, task: Doc, view: View, replay_state: str | None = None) -> Doc:
        script, error = task["script"], task.get("error", "")
        if task.get("template-id"):
            template = self.store.get(TEMPLATES, org_id, task["template-id"])
            script = template["script"] if template is not None else script
        graph, stats = "", {}
        # enabled tasks run on the points stream (or the batch schedule); a replay runs it on its own
        executing = task["status"] == ENABLED or replay_state is not None
        try:
            evaluation = compile_task({**task, "script": script})
            if executing:
                run = self.execution_of(org_id, replay_state or task["id"])
                graph = executing_dot(
                    task["id"], evaluation.pipeline, run.stats, view.dot_view, throughput=run.throughput
                )
                stats = execution_stats(run.stats, run.throughput)
                error = error or run.error
            else:
                graph = dot(task["id"], evaluation.pipeline)
        except TicklessError as exc:
            error = exc.message
        return {
            "link": {"rel": "self", "href": f"{view.prefix}/tasks/{task['id']}"},
            "id": task["id"],
            "template-id": task.get("template-id", ""),
            "type": task["type"],
            "dbrps": task["dbrps"],
            "script": _shown_script(script, view),
            "vars": task.get("vars", {}),
            "dot": graph,
            "status": task["status"],
            "executing": executing,
            "error": error,
            "stats": stats,
            "created": task["created"],
            "modified": task["modified"],
            "last-enabled": task.get("last-enabled") or _ZERO_TIME,
        }

    # -- templates -----------------------------------------------------------------------------------

    def create_template(self, org_id: str, body: Any, view: View) -> Doc:
        body = _object(body)
        template_id = _text(body, "id") or str(uuid.uuid4())
        if not _VALID_ID.match(template_id):
            raise invalid(
                f"template ID must contain only letters, numbers, '-', '.' and '_'. \"{template_id}\""
            )
        if self.store.get(TEMPLATES, org_id, template_id) is not None:
            raise invalid(f"template {template_id} already exists")
        script = _text(body, "script")
        program = _program(script)
        kind = _task_type(program)  # an empty script fails here first, as in Kapacitor
        if not script:
            raise invalid("must provide TICKscript")
        template = {"id": template_id, "script": script, "type": kind}
        compile_template(template, program)
        now = self.clock()
        template.update(created=now, modified=now)
        _check_size(template)
        if not self.store.create(TEMPLATES, org_id, template):
            raise invalid(f"template {template_id} already exists")
        return self.show_template(template, view)

    def update_template(self, org_id: str, template_id: str, body: Any, view: View) -> Doc:
        body = _object(body)
        original = self.store.get(TEMPLATES, org_id, template_id)
        if original is None:
            raise TicklessError(NOT_FOUND, "template does not exist, cannot update")
        template = dict(original)
        new_id = _text(body, "id")
        if new_id:
            if not _VALID_ID.match(new_id):
                raise invalid(
                    f"template ID must contain only letters, numbers, '-', '.' and '_'. \"{new_id}\""
                )
            template["id"] = new_id
        script = _text(body, "script")
        if script:
            template["script"] = script
        program = _program(template["script"])
        template["type"] = _task_type(program)
        compile_template(template, program)
        template["modified"] = self.clock()
        _check_size(template)
        self._reload_tasks(org_id, template_id, template)
        if template["id"] != template_id:
            if not self.store.create(TEMPLATES, org_id, template):
                raise invalid(f"template {template['id']} already exists")
            self.store.delete(TEMPLATES, org_id, template_id)
        else:
            self.store.replace(TEMPLATES, org_id, template)
        return self.show_template(template, view)

    def _reload_tasks(self, org_id: str, template_id: str, template: Doc) -> None:
        """Every task of the template with its new script (and ID), all or none: the first that fails
        stops the update and the tasks already changed are put back as they were."""
        tasks = [t for t in self.store.list(TASKS, org_id) if t.get("template-id") == template_id]
        updated: list[Doc] = []
        try:
            for task in tasks:
                changed = {**task, "template-id": template["id"], "type": template["type"]}
                compile_task({**changed, "script": template["script"]})
                changed["script"] = template["script"]
                self.store.replace(TASKS, org_id, changed)
                self._index(org_id, task, changed)
                updated.append(task)
        except TicklessError:
            for task in updated:
                self.store.replace(TASKS, org_id, task)
                self._index(org_id, {**task, "status": ENABLED, "type": "batch"}, task)
            raise

    def get_template(self, org_id: str, template_id: str, view: View) -> Doc:
        template = self.store.get(TEMPLATES, org_id, template_id)
        if template is None:
            raise TicklessError(NOT_FOUND, "no template exists")
        return self.show_template(template, view)

    def delete_template(self, org_id: str, template_id: str) -> None:
        self.store.delete(TEMPLATES, org_id, template_id)

    def list_templates(self, org_id: str, query: dict[str, Any], view: View) -> list[Doc]:
        fields = _fields(query, TEMPLATE_FIELDS)
        templates = _page(self.store.list(TEMPLATES, org_id), query)
        return [{f: v for f, v in self.show_template(t, view).items() if f in fields} for t in templates]

    def show_template(self, template: Doc, view: View) -> Doc:
        graph, error, declared = "", "", {}
        try:
            evaluation = compile_template(template)
            graph = dot(template["id"], evaluation.pipeline)
            declared = vars_json(evaluation.vars)
        except TicklessError as exc:
            error = exc.message
        return {
            "link": {"rel": "self", "href": f"{view.prefix}/templates/{template['id']}"},
            "id": template["id"],
            "type": template["type"],
            "script": _shown_script(template["script"], view),
            "vars": declared,
            "dot": graph,
            "error": error,
            "created": template["created"],
            "modified": template["modified"],
        }

    def _template(self, org_id: str, template_id: str, *, shown: str | None = None) -> Doc:
        template = self.store.get(TEMPLATES, org_id, template_id)
        if template is None:
            name = template_id if shown is None else shown
            raise invalid(f"unknown template {name}: err: no template exists")
        return template

    # -- restoring a backup (chalicelib/kapacitor/backup.py) -------------------------------------------

    def restore(self, org_id: str, templates: list[Doc], tasks: list[Doc]) -> dict[str, tuple[int, int]]:
        """Make the org's templates and tasks exactly these (each checked by `restorable_template` and
        `restorable_task`): what differs is written, what the backup lacks is deleted, and a running task
        whose definition changes stops, to start afresh as a restored Kapacitor's does. Writing only what
        differs makes a second restore change nothing. Answers (changed, removed) per kind."""
        counts = {TEMPLATES: self._put_all(TEMPLATES, org_id, templates)}
        current = {t["id"]: t for t in self.store.list(TASKS, org_id)}
        changed = 0
        for task in tasks:
            before = current.pop(task["id"], None)
            if before == task:
                continue
            self.store.replace(TASKS, org_id, task)
            self._index(org_id, before, task)
            if before is not None and before.get("status") == ENABLED:
                self.on_stop(org_id, task["id"])
            changed += 1
        for task_id in current:
            self.delete_task(org_id, task_id)
        counts[TASKS] = (changed, len(current))
        return counts

    def _put_all(self, kind: str, org_id: str, docs: list[Doc]) -> tuple[int, int]:
        current = {d["id"]: d for d in self.store.list(kind, org_id)}
        changed = 0
        for doc in docs:
            if current.pop(doc["id"], None) != doc:
                self.store.replace(kind, org_id, doc)
                changed += 1
        for doc_id in current:
            self.store.delete(kind, org_id, doc_id)
        return changed, len(current)

    def rebuild_index(self, org_id: str) -> None:
        """Kapacitor's store rebuild, for the one index tasks have here: the org's entries in the
        running-batch index made to match its tasks (stale entries removed, missing ones added)."""
        tasks = {t["id"]: t for t in self.store.list(TASKS, org_id)}
        for entry in self.store.list(BATCH_INDEX, INDEX_PARTITION):
            if entry.get("org") == org_id and not _runs_batch(tasks.get(entry.get("task", ""))):
                self.store.delete(BATCH_INDEX, INDEX_PARTITION, entry["id"])
        for task in tasks.values():
            self._index(org_id, None, task)


# -- compiling ---------------------------------------------------------------------------------------


def compile_task(task: Doc, program: Any = None) -> Evaluation:
    """The pipeline of a stored or requested task, or `invalid TICKscript: ...`."""
    program = _program(task["script"]) if program is None else program
    try:
        return evaluate(program, _task_type(program), read_vars(task.get("vars")))
    except TicklessError as exc:
        raise invalid(f"invalid TICKscript: {exc.message}") from None


def restorable_template(doc: Any) -> Doc:
    """A template as a backup holds it (its stored form), checked as creating it checks a new one; the
    form to store, typed by its script."""
    doc = _stored(doc)
    template_id = _stored_text(doc, "id")
    if not _VALID_ID.match(template_id):
        raise invalid(f"template ID must contain only letters, numbers, '-', '.' and '_'. \"{template_id}\"")
    script = _stored_text(doc, "script")
    if not script:
        raise invalid("must provide TICKscript")
    program = _program(script)
    template = {"id": template_id, "script": script, "type": _task_type(program)}
    compile_template(template, program)
    template.update(created=_stored_text(doc, "created"), modified=_stored_text(doc, "modified"))
    _check_size(template)
    return template


def restorable_task(doc: Any, templates: Mapping[str, Doc], configs: Mapping[str, Any]) -> Doc:
    """A task as a backup holds it, checked as creating it checks a new one: its template among
    `templates` (whose script it takes), its script and vars, its dbrps, and, when enabled, that it can
    start with `configs` (the handler sections the backup's overrides give)."""
    doc = _stored(doc)
    task_id = _stored_text(doc, "id")
    if not _VALID_ID.match(task_id):
        raise invalid(f"task ID must contain only letters, numbers, '-', '.' and '_'. \"{task_id}\"")
    status = doc.get("status")
    if status not in (ENABLED, DISABLED):
        raise invalid(f"status must be {ENABLED} or {DISABLED}")
    template_id = _stored_text(doc, "template-id")
    if template_id and template_id not in templates:
        raise invalid(f"unknown template {template_id}")
    script = templates[template_id]["script"] if template_id else _stored_text(doc, "script")
    if not script:
        raise invalid("must provide TICKscript")
    task = {
        "id": task_id,
        "template-id": template_id,
        "script": script,
        "dbrps": _dbrps(doc.get("dbrps")),
        "status": status,
        "vars": vars_json(read_vars(doc.get("vars"))),
    }
    program = _program(script)
    task["type"] = _task_type(program)
    _check_startable(task, compile_task(task, program), lambda: configs)
    implicit = [{"db": db, "rp": rp} for db, rp in dbrps_of(program)]
    task["dbrps"] = implicit or task["dbrps"]
    if not task["dbrps"]:
        raise invalid("must specify dbrp")
    task.update(
        created=_stored_text(doc, "created"),
        modified=_stored_text(doc, "modified"),
        **{"last-enabled": _stored_text(doc, "last-enabled")},
    )
    _check_size(task)
    return task


def _stored(doc: Any) -> Doc:
    if not isinstance(doc, dict):
        raise invalid("not a JSON object")
    return doc


def _stored_text(doc: Doc, name: str) -> str:
    value = doc.get(name, "")
    if not isinstance(value, str):
        raise invalid(f"{name} must be a string")
    return value


def _runs_batch(task: Doc | None) -> bool:
    return task is not None and task.get("status") == ENABLED and task.get("type") == "batch"


def execution_stats(nodes: dict[str, Any], throughput: float) -> dict[str, Any]:
    """Kapacitor's `stats` of an executing task: task-wide and per node (collected, emitted, errors, ...)."""
    return {
        "task-stats": {"throughput": throughput},
        "node-stats": {
            name: {
                **node.get("stats", {}),
                "collected": node.get("collected", 0),
                "emitted": node.get("emitted", 0),
            }
            for name, node in nodes.items()
        },
    }


def _check_startable(
    task: Doc, evaluation: Evaluation, service_configs: Callable[[], Mapping[str, Any]]
) -> None:
    """What Kapacitor checks when it starts a task: its alert handlers' options, and that every node can
    run (the runtime refuses what it cannot run: a node it lacks, httpPost's codeField, ...)."""
    if task.get("status") != ENABLED:
        return
    try:
        configs = service_configs()
        handler_configs(evaluation.pipeline, configs)
        _check_clusters(evaluation.pipeline, configs)
        _check_endpoints(evaluation.pipeline, configs)
        TaskRuntime.build(evaluation.pipeline, None, RuntimeConfig(task=task["id"], alerts=AlertStateMachine))
    except TicklessError as exc:
        raise invalid(f"invalid TICKscript: {exc.message}") from None


def _check_endpoints(pipeline: Any, configs: Mapping[str, Any]) -> None:
    """httpPost's `.endpoint()` must name an `[[httppost]]` element, as Kapacitor checks at task start."""
    names = {e.get("endpoint") for e in configs.get("httppost") or []}
    for node in pipeline.nodes:
        if node.type == "httpPost" and node.endpoints and node.endpoints[0] not in names:
            raise invalid(f"endpoint '{node.endpoints[0]}' does not exist")


def _check_clusters(pipeline: Any, configs: Mapping[str, Any]) -> None:
    """A `.cluster()` must name an `influxdb` config element (Kapacitor's task then fails to start);
    batch queries read tickless's own store only, so a query node may not name another InfluxDB."""
    clusters = {c.get("name"): c for c in configs.get("influxdb") or []}
    for node in pipeline.nodes:
        name = getattr(node, "cluster", "") if node.type in ("influxDBOut", "query") else ""
        if not name:
            continue
        if name not in clusters:
            raise invalid(f"no such InfluxDB config {name}")
        if node.type == "query" and clusters[name].get("urls"):
            raise invalid(
                f"query node cannot read InfluxDB cluster {name}: batch queries read tickless's own store"
            )


def compile_template(template: Doc, program: Any = None) -> Evaluation:
    program = _program(template["script"]) if program is None else program
    try:
        return evaluate(program, _task_type(program), ignore_missing=True)
    except TicklessError as exc:
        raise invalid(f"invalid TICKscript: {exc.message}") from None


def _program(script: str) -> Any:
    try:
        return parse(script)
    except ParseError as exc:
        raise invalid(f"invalid TICKscript: {exc.message}") from None


def _task_type(program: Any) -> str:
    kind = task_type(program)
    if kind == "invalid":
        raise invalid("invalid task type: invalid")
    return kind


def _shown_script(script: str, view: View) -> str:
    if view.script_format == "raw":
        return script
    try:
        return format_script(script)
    except TicklessError:
        return script  # as Kapacitor: a script that no longer formats is shown as written


# -- request pieces -----------------------------------------------------------------------------------


def _check_size(doc: Doc) -> None:
    size = len(json.dumps(doc, separators=(",", ":")).encode())
    if size > MAX_DEFINITION_BYTES:
        raise invalid(f"definition too large: {size} bytes, the limit is {MAX_DEFINITION_BYTES}")


def _object(body: Any) -> Doc:
    if not isinstance(body, dict):
        raise invalid("invalid JSON")
    return body


def _text(body: Doc, name: str) -> str:
    value = body.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise invalid("invalid JSON")
    return value


def _dbrps(value: Any) -> list[Doc]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid("invalid JSON")
    dbrps = []
    for item in value:
        if not isinstance(item, dict):
            raise invalid("invalid JSON")
        db, rp = item.get("db", ""), item.get("rp", "")
        if not isinstance(db, str) or not isinstance(rp, str):
            raise invalid("invalid JSON")
        dbrps.append({"db": db, "rp": rp})
    return dbrps


def _fields(query: dict[str, Any], known: tuple[str, ...]) -> set[str]:
    asked = query.get("fields") or []
    for name in asked:
        if name not in known and name != "vars" and name != "template-id":
            raise invalid(f'unsupported field "{name}"')
    return set(known) | {"vars", "template-id"} if not asked else {*asked, "id", "link"}


def _page(docs: list[Doc], query: dict[str, Any]) -> list[Doc]:
    pattern = query.get("pattern") or ""
    offset = _integer(query, "offset", 0)
    limit = _integer(query, "limit", 100)
    if pattern:
        docs = [d for d in docs if _matches(pattern, d["id"])]
    return docs[offset : offset + limit] if limit >= 0 else docs[offset:]


def _matches(pattern: str, id: str) -> bool:
    """Kapacitor's stores filter by path.Match and ignore its error: a malformed pattern matches nothing."""
    try:
        return go_match(pattern, id)
    except ValueError:
        return False


def _integer(query: dict[str, Any], name: str, default: int) -> int:
    text = query.get(name)
    if not text:
        return default
    try:
        value = int(text, 10)
    except ValueError:
        raise invalid(
            f'invalid {name} parameter "{text}" must be an integer: strconv.ParseInt: parsing "{text}": '
            "invalid syntax"
        ) from None
    if value < 0 and name == "offset":  # a slice from the end is not what a client pages with
        raise invalid(f'invalid offset parameter "{text}" must not be negative')
    return value
