"""The composition root: wires domain services to their AWS adapters, once per Lambda container."""

from __future__ import annotations

import copy
import json
import os
import time
import uuid
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from aws_lambda_powertools import Logger

from chalicelib.adapters.alertqueue import SqsAlertQueue
from chalicelib.adapters.alerts import DynamoAlerts
from chalicelib.adapters.blobs import S3Blobs
from chalicelib.adapters.claimchecks import ClaimChecks
from chalicelib.adapters.deadletters import DynamoDeadLetters
from chalicelib.adapters.definitions import DynamoDefinitions
from chalicelib.adapters.influxd import InfluxdBackends
from chalicelib.adapters.kapacitor_logs import DEFAULT_PER_MINUTE, DynamoLogRing
from chalicelib.adapters.kapacitor_users import DynamoKapacitorUsers
from chalicelib.adapters.kinesis import KinesisPublisher
from chalicelib.adapters.notification_publisher import NotificationPublisher
from chalicelib.adapters.outbound import OutboundSender
from chalicelib.adapters.overrides import DynamoOverrides
from chalicelib.adapters.proxystate import DynamoMigrationState, DynamoProxyState
from chalicelib.adapters.readcache import ReadCache
from chalicelib.adapters.resources import DynamoResources, DynamoSessions
from chalicelib.adapters.series import DynamoCompactionLog, DynamoIndex, DynamoSegments, DynamoTombstones
from chalicelib.adapters.stacktach import DynamoStackTach
from chalicelib.adapters.taskstate import DynamoTaskStates
from chalicelib.adapters.workflows import StepFunctions
from chalicelib.alert.dispatch import Dispatcher
from chalicelib.alert.handlers import forces_state_changes_only
from chalicelib.alert.service import AlertService
from chalicelib.alert.service_tests import ServiceTests
from chalicelib.declarations import BLOBS, CLAIM_CHECKS, POINTS, PROXY_MIGRATION_PLANS, PROXY_WRITES
from chalicelib.declarations import RECORDINGS as RECORDINGS_AREA
from chalicelib.influxql.engine import run as influxql_run
from chalicelib.influxql.engine.context import Services
from chalicelib.ingest.fieldtypes import FieldTypeGuard
from chalicelib.ingest.writer import PointWriter
from chalicelib.kapacitor.backup import Storage as KapacitorStorage
from chalicelib.kapacitor.logs import LogTail
from chalicelib.kapacitor.recorder import Recordings
from chalicelib.kapacitor.replayer import Replays
from chalicelib.kapacitor.users import KapacitorUsers
from chalicelib.kit.budget import Budget, QueryLimits
from chalicelib.kit.errors import NOT_FOUND, UNAVAILABLE, TicklessError
from chalicelib.kit.steps import DEFERRED
from chalicelib.overrides.service import ConfigService
from chalicelib.proxy.config import ProxyConfig, parse_config
from chalicelib.proxy.fanout import ProxyFanout
from chalicelib.proxy.migration import Chunk, Job, Migrations, page_of, page_size
from chalicelib.proxy.service import ProxyService
from chalicelib.scheduler import definitions
from chalicelib.series.store import SeriesStore
from chalicelib.stacktach.distiller import Distiller
from chalicelib.stacktach.handlers import usage_event_definitions
from chalicelib.stacktach.pipeline import PipelineWorker, check_pipelines
from chalicelib.stacktach.service import StackTach
from chalicelib.stacktach.triggers import default_pipelines, default_triggers, load_pipelines, load_triggers
from chalicelib.tenancy.dbrp import Catalog
from chalicelib.tenancy.permissions import Permission
from chalicelib.tenancy.principal import Principal
from chalicelib.tenancy.service import Tenancy
from chalicelib.tick.batch import BatchTasks
from chalicelib.tick.effects import TaskEffects
from chalicelib.tick.execution import StreamTasks, TaskLimits, record_points
from chalicelib.tick.matching import TickMatcher
from chalicelib.tick.outbox import outbox_of
from chalicelib.tick.tasks import TaskDefinitions

logger = Logger(child=True)


@cache
def index() -> DynamoIndex:
    # the index's answers are lists of immutable entries, dicts of strings: a shallow copy protects them
    reads = ("measurements", "series", "tag_keys", "field_types")
    return ReadCache(DynamoIndex(), reads, copier=copy.copy)  # type: ignore[return-value]


@cache
def store() -> SeriesStore:
    return SeriesStore(
        DynamoSegments(), index(), DynamoCompactionLog(), DynamoTombstones(), on_forget=field_guard().forget
    )


@cache
def tenancy() -> Tenancy:
    resources = ReadCache(DynamoResources(), ("get", "list", "find", "related", "referring", "has_flag"))
    sessions = ReadCache(DynamoSessions(), ("user",))
    # a removed bucket's points and index entries go with it
    return Tenancy(
        resources,  # type: ignore[arg-type]
        sessions,  # type: ignore[arg-type]
        on_namespace_removed=lambda ns: store().purge(ns),
        kinds=definitions.KINDS,  # the registry's kinds and task definitions
    )


@cache
def catalog() -> Catalog:
    return Catalog(tenancy())


@cache
def field_guard() -> FieldTypeGuard:
    return FieldTypeGuard(index())


@cache
def writer() -> PointWriter:
    return PointWriter(KinesisPublisher(POINTS.physical_name, claim_checks()), field_guard())


@cache
def query_limits() -> QueryLimits:
    """The bounds of every InfluxQL and Flux query, from `TICKLESS_QUERY_*` (docs/QUERY.md)."""
    return QueryLimits.from_settings(os.environ)


@cache
def influxql() -> Services:
    return Services(catalog=catalog(), series=store(), store=store(), writer=writer())


@cache
def blobs() -> S3Blobs:
    return S3Blobs(BLOBS)


@cache
def claim_checks() -> ClaimChecks:
    """Claim checks of the `points` stream: the publisher sends oversized records by claim check, the
    consumer resolves them."""
    return ClaimChecks(blobs(), CLAIM_CHECKS)


@cache
def dead_letters() -> DynamoDeadLetters:
    return DynamoDeadLetters(blobs())


@cache
def task_definitions() -> TaskDefinitions:
    # a task that stops (disabled, deleted, renamed) starts afresh when it runs again, as in Kapacitor
    return TaskDefinitions(
        DynamoDefinitions(),
        on_stop=task_states().delete,
        execution_of=lambda org, task: stream_tasks().execution(org, task),
        service_configs=service_configs,
    )


@cache
def task_states() -> DynamoTaskStates:
    return DynamoTaskStates()


@cache
def alert_queue() -> SqsAlertQueue:
    return SqsAlertQueue()


def _log(level: str, message: str, extra: dict) -> None:
    getattr(logger, level if level in ("debug", "info", "warning", "error") else "info")(message, extra=extra)


@cache
def stream_tasks() -> StreamTasks:
    effects = TaskEffects(
        alert_queue(),
        writer(),
        catalog(),
        log=_log,
        clusters=lambda org_id: service_configs(org_id).get("influxdb") or [],
        logs=kapacitor_log_ring(),
    )
    limits = TaskLimits(
        max_groups=int(os.environ.get("TICKLESS_TASK_MAX_GROUPS", "10000")),
        group_idle=int(float(os.environ.get("TICKLESS_TASK_GROUP_IDLE_HOURS", "24")) * 3600 * 1_000_000_000),
    )
    return StreamTasks(
        DynamoDefinitions(),
        task_states(),
        effects,
        outbox_of,
        log=_log,
        limits=limits,
        state_changes_only=lambda org_id: forces_state_changes_only(service_configs(org_id)),
    )


@cache
def batch_tasks() -> BatchTasks:
    """Kapacitor's batch tasks: the same state, outbox and effects as stream tasks, queries through the
    InfluxQL engine as the task's organization."""
    return BatchTasks(DynamoDefinitions(), stream_tasks().runner, _batch_query, log=_log)


def _batch_query(org_id: str, query: str, now: int) -> dict:
    principal = Principal([Permission("read", "buckets", org_id=org_id)], org_id=org_id)
    budget = Budget(query_limits())
    return influxql_run.execute(influxql(), principal, query, epoch="ns", now=now, budget=budget)


@cache
def dispatcher() -> Dispatcher:
    return Dispatcher(
        alert_service(),
        alert_queue(),
        OutboundSender(),
        aggregates=DynamoAlerts(),
        service_configs=service_configs,
        log=_log,
        logs=kapacitor_log_ring(),
    )


@cache
def alert_service() -> AlertService:
    """Kapacitor's alert topics and topic handlers, over the resources table."""
    return AlertService(DynamoAlerts(), TickMatcher(), service_configs)


@cache
def config_overrides() -> ConfigService:
    """Kapacitor's config overrides, per organization, over the resources table."""
    return ConfigService(DynamoOverrides())


def service_configs(org_id: str) -> dict:
    """An organization's handler sections as its overrides leave them, read afresh: an override applies
    to the next event and the next handler or task definition."""
    return config_overrides().resolved(org_id)


# -- the InfluxDB proxy ---------------------------------------------------------------------------------

PROXY_CONFIG_ENV = "PROXY_CONFIG"  # a file in influx-proxy's config format (the local stack)
PROXY_CONFIG_JSON_ENV = "PROXY_CONFIG_JSON"  # the same document inline (a stage's config on AWS)


def proxy_config() -> ProxyConfig | None:
    """The proxy's configuration, None when none is set; an unreadable or invalid one raises (every
    proxy route then says why)."""
    path, inline = os.environ.get(PROXY_CONFIG_ENV), os.environ.get(PROXY_CONFIG_JSON_ENV)
    if path:
        try:
            text = Path(path).read_bytes()
        except OSError as exc:
            raise TicklessError(UNAVAILABLE, f"proxy config {path}: {exc.strerror or exc}") from None
        return _parsed_proxy_config(text)
    return _parsed_proxy_config(inline.encode()) if inline else None


@cache
def _parsed_proxy_config(text: bytes) -> ProxyConfig:
    return parse_config(text)


def proxy_service() -> ProxyService | None:
    config = proxy_config()
    return None if config is None else _proxy_service(config)


@cache
def _proxy_service(config: ProxyConfig) -> ProxyService:
    state = DynamoProxyState()
    publisher = KinesisPublisher(PROXY_WRITES.physical_name, claim_checks(), label="proxy write stream")
    return ProxyService(config, _influxd(config), state, state, publisher, time.time_ns)


def proxy_fanout() -> ProxyFanout | None:
    config = proxy_config()
    return None if config is None else _proxy_fanout(config)


@cache
def _proxy_fanout(config: ProxyConfig) -> ProxyFanout:
    state = DynamoProxyState()
    return ProxyFanout(config, _influxd(config), state, state, log=_log)


def _influxd(config: ProxyConfig) -> InfluxdBackends:
    return InfluxdBackends(write_timeout=float(config.write_timeout))


def proxy_migrations() -> Migrations:
    """The proxy's migration jobs: the API starts them, the `proxy-migration` workflow's steps run them."""
    config = proxy_config()
    if config is None:
        raise TicklessError(NOT_FOUND, "the InfluxDB proxy is not configured")
    return _proxy_migrations(config)


@cache
def _proxy_migrations(config: ProxyConfig) -> Migrations:
    return Migrations(config, _influxd(config), DynamoMigrationState(), log=_log)


# -- Step Functions --------------------------------------------------------------------------------------


@cache
def step_functions() -> StepFunctions:
    return StepFunctions()


def workflow_task(name: str) -> Callable[[dict], dict] | None:
    """The handler of a workflow step that reaches a worker through a task token (its `task` name)."""
    return _WORKFLOW_TASKS.get(name)


def _migration_plan(data: dict) -> dict:
    """The job's chunks, kept in S3 (a step's output is bounded), and the pages the steps take."""
    chunks = [c.to_json() for c in proxy_migrations().plan(Job.from_json(data["job"]))]
    key = f"{PROXY_MIGRATION_PLANS.prefix}{uuid.uuid4()}.json"
    S3Blobs(BLOBS).put(key, json.dumps(chunks, separators=(",", ":")).encode())
    size = page_size(len(chunks))
    return {"key": key, "size": size, "pages": list(range(-(-len(chunks) // size)))}


def _migration_chunk(data: dict) -> dict:
    """One page of the plan's chunks, in order (a page run again copies the same points again)."""
    stored = S3Blobs(BLOBS).get(data["key"])
    if stored is None:
        raise TicklessError(UNAVAILABLE, f"the migration plan {data['key']} is gone")
    for chunk in page_of(json.loads(stored), int(data["page"]), int(data["size"])):
        proxy_migrations().run(Chunk.from_json(chunk))
    return {}


def _migration_finish(data: dict) -> dict:
    """The job's last step, also run when it failed (then `error` is Step Functions' {Error, Cause})."""
    error = data.get("error") or {}
    reason = ": ".join(str(error.get(k)) for k in ("Error", "Cause") if error.get(k)) if error else ""
    proxy_migrations().finish(Job.from_json(data["job"]), reason)
    return {}


_WORKFLOW_TASKS: dict[str, Callable[[dict], Any]] = {
    "proxy-migration-plan": _migration_plan,
    "proxy-migration-chunk": _migration_chunk,
    "proxy-migration-finish": _migration_finish,
    # Kapacitor recordings and replays (chalicelib/kapacitor/recorder.py, replayer.py)
    "kapacitor-recording-capture": lambda i: DEFERRED if recordings().capture_started(i) else {},
    "kapacitor-recording-query": lambda i: recordings().run_queries(i),
    "kapacitor-recording-assemble": lambda i: recordings().assemble(i),
    "kapacitor-recording-failed": lambda i: recordings().failed(i),
    "kapacitor-replay-step": lambda i: replays().step(i),
    "kapacitor-replay-finish": lambda i: replays().finish(i),
    "kapacitor-replay-failed": lambda i: replays().failed(i),
}


# -- StackTach --------------------------------------------------------------------------------------------

STACKTACH_DISTILLER_ENV = "STACKTACH_DISTILLER_CONFIG"
STACKTACH_TRIGGERS_ENV = "STACKTACH_TRIGGERS_CONFIG"
STACKTACH_PIPELINES_ENV = "STACKTACH_PIPELINES_CONFIG"
STACKTACH_PURGE_ENV = "STACKTACH_PURGE_COMPLETED_STREAMS"  # Winchester's purge_completed_streams


@cache
def stacktach() -> StackTach:
    """StackTach over DynamoDB, with the event, trigger and pipeline definitions the environment names
    (the shipped Nova sets otherwise). An invalid file raises, naming the problem, at the first use (and
    the local stack uses it at start: `check_stacktach`)."""
    triggers, pipelines = _triggers(), _pipelines()
    try:
        check_pipelines(triggers, pipelines)
    except TicklessError as exc:
        raise TicklessError(exc.code, f"StackTach configuration: {exc.message}") from None
    # the usage handler's verdicts come back through ingest: distil them into their traits
    distiller = _distiller().with_definitions(usage_event_definitions())
    return StackTach(distiller, triggers, DynamoStackTach())


def stacktach_pipeline_worker() -> PipelineWorker:
    service = stacktach()
    purge = os.environ.get(STACKTACH_PURGE_ENV, "").strip().lower() in ("1", "true", "yes")
    return PipelineWorker(
        DynamoStackTach(),
        service.triggers,
        _pipelines(),
        service,
        NotificationPublisher(),
        purge_completed=purge,
    )


def check_stacktach() -> None:
    """Raise, naming the problem, if the StackTach configuration files are unreadable or invalid."""
    stacktach.cache_clear()
    stacktach()


def _distiller() -> Distiller:
    return _configured(STACKTACH_DISTILLER_ENV, Distiller.from_yaml, Distiller.default)


def _triggers() -> list:
    return _configured(STACKTACH_TRIGGERS_ENV, load_triggers, default_triggers)


def _pipelines() -> dict:
    return _configured(STACKTACH_PIPELINES_ENV, load_pipelines, default_pipelines)


def _configured(variable: str, parse: Callable[[str], Any], default: Callable[[], Any]) -> Any:
    """The file `variable` names, parsed (the shipped default without one); its problems name the file."""
    path = os.environ.get(variable)
    if not path:
        return default()
    try:
        return parse(Path(path).read_text())
    except OSError as exc:
        raise TicklessError(UNAVAILABLE, f"StackTach configuration {path}: {exc.strerror or exc}") from None
    except TicklessError as exc:
        raise TicklessError(exc.code, f"StackTach configuration {path} ({variable}): {exc.message}") from None


# -- Kapacitor users ----------------------------------------------------------------------------------


@cache
def kapacitor_users() -> KapacitorUsers:
    """Kapacitor's users (`/kapacitor/v1/users` and Basic or `u`/`p` on every Kapacitor route), stored
    on the resources table."""
    return KapacitorUsers(DynamoKapacitorUsers())


# -- Kapacitor service tests ------------------------------------------------------------------------------


@cache
def service_tests() -> ServiceTests:
    """Kapacitor's service tests: each sends through the org's handler section with the sender the alert
    queue's worker uses."""
    return ServiceTests(OutboundSender(), service_configs)


# -- Kapacitor recordings and replays ---------------------------------------------------------------------


@cache
def recordings() -> Recordings:
    """Recordings as Step Functions executions, their files in the blobs bucket's recordings area."""
    return Recordings(
        DynamoDefinitions(),
        S3Blobs(BLOBS),
        step_functions(),
        step_functions(),
        _batch_query,
        RECORDINGS_AREA.prefix,
        time.time_ns,
    )


@cache
def replays() -> Replays:
    """Replays: the stream and batch tasks' runner on a state of their own."""
    tasks = stream_tasks()
    return Replays(
        DynamoDefinitions(),
        recordings(),
        S3Blobs(BLOBS),
        step_functions(),
        tasks.runner,
        task_states(),
        _batch_query,
        RECORDINGS_AREA.prefix,
        time.time_ns,
        limits=tasks.limits,
    )


def capture_recordings(records: list) -> None:
    """The task consumer's records, for the stream recordings under way in their organizations."""
    by_org: dict[str, list] = {}
    for record in records:
        org = record.batch.destination.org
        if org:
            by_org.setdefault(org, []).append((record.shard, record.sequence, record_points([record])))
    service = recordings()
    for org, parts in by_org.items():
        service.capture(org, parts)


# -- Kapacitor storage (stores, rebuilds, backups) -----------------------------------------------------


@cache
def kapacitor_storage() -> KapacitorStorage:
    """`/kapacitor/v1/storage`: one organization's Kapacitor stores backed up, restored and rebuilt
    through the services the API uses."""
    return KapacitorStorage(task_definitions(), alert_service(), config_overrides(), kapacitor_users())


# -- Kapacitor logs ---------------------------------------------------------------------------------------

KAPACITOR_LOGS_PER_MINUTE_ENV = "TICKLESS_KAPACITOR_LOGS_PER_MINUTE"


@cache
def kapacitor_log_ring() -> DynamoLogRing:
    """Each organization's Kapacitor log entries (task and alert `log` lines), an hour on the series
    table, at most `TICKLESS_KAPACITOR_LOGS_PER_MINUTE` (600) kept per organization and minute."""
    return DynamoLogRing(int(os.environ.get(KAPACITOR_LOGS_PER_MINUTE_ENV, DEFAULT_PER_MINUTE)))


@cache
def kapacitor_logs() -> LogTail:
    """`GET /kapacitor/v1preview/logs`: an organization's matching entries, bounded in time and size."""
    return LogTail(kapacitor_log_ring())
