"""Every AWS resource tickless uses, declared once.

infra/ deploys these declarations and the local stack creates them on moto, so the two can never
drift apart. Names here are logical; `physical_name` adds the stage prefix both sides agree on. The
adapters take table, key attribute and stream names from these declarations, never from literals.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

PREFIX_ENV = "TICKLESS_PREFIX"
DEFAULT_PREFIX = "tickless-local-"


def prefix() -> str:
    return os.environ.get(PREFIX_ENV, DEFAULT_PREFIX)


def physical_name(logical: str) -> str:
    """The deployed name of a resource: `<prefix><logical>`, e.g. `tickless-dev-points`."""
    return prefix() + logical


@dataclass(frozen=True)
class Table:
    name: str
    hash_key: str
    range_key: str | None = None
    # DynamoDB deletes items whose TTL attribute (epoch seconds) has passed.
    ttl_attribute: str | None = None
    # Key attribute types: S (string), N (number) or B (binary).
    key_types: dict[str, str] = field(default_factory=dict)

    def key_type(self, key: str) -> str:
        return self.key_types.get(key, "S")

    @property
    def physical_name(self) -> str:
        return physical_name(self.name)


@dataclass(frozen=True)
class Stream:
    name: str
    shards: int = 1
    retention_hours: int = 24  # Kinesis keeps records (and Lambda retries them) this long

    @property
    def physical_name(self) -> str:
        return physical_name(self.name)


@dataclass(frozen=True)
class BlobArea:
    """A key prefix of a bucket with one use: S3 deletes its objects `expire_days` after they were
    written (None: kept until deleted by hand)."""

    prefix: str  # ends with "/"
    expire_days: int | None = None


@dataclass(frozen=True)
class Bucket:
    name: str
    areas: tuple[BlobArea, ...] = ()

    @property
    def name_env(self) -> str:
        return f"TICKLESS_BUCKET_{self.name.upper().replace('-', '_')}"

    @property
    def physical_name(self) -> str:
        # Bucket names are global across AWS accounts: a deployment lets CloudFormation pick a unique
        # name and hands it to the functions in `name_env`; elsewhere (moto) it is `<prefix><name>`.
        return os.environ.get(self.name_env) or physical_name(self.name)


def days_covering(hours: int) -> int:
    """Lifecycle days that keep an object at least `hours`: S3 rounds expiry up to a midnight UTC, and
    may delete as soon as it is due, so one whole day more than the hours round up to."""
    return -(-hours // 24) + 1


@dataclass(frozen=True)
class Queue:
    name: str
    visibility_timeout: int = 30
    # Messages received more often than this move to `<name>-dlq`.
    max_receive_count: int | None = None


@dataclass(frozen=True)
class KinesisConsumer:
    """Event source settings of a `@app.on_kinesis_record` handler, including those Chalice
    cannot express (partial batch responses, bisect on error, bounded retries, on-failure queue)."""

    handler: str  # function name in app.py
    stream: str
    batch_size: int = 100
    starting_position: str = "TRIM_HORIZON"
    max_batching_window: int = 0  # Lambda's default: invoke as soon as records arrive
    max_retry_attempts: int = 10
    bisect_on_error: bool = True
    report_batch_item_failures: bool = True
    on_failure_queue: str | None = None


@dataclass(frozen=True)
class StateMachine:
    name: str
    definition: str  # file name under chalicelib/workflows/


# Compressed point segments: pk "<namespace>|<measurement>", sk "<block>#<sequence>#<part>".
# Retention is enforced by a sweep, not TTL: a TTL fixed at write time would delete too early
# after a retention policy is lengthened.
CHUNKS = Table("chunks", "pk", "sk")
# Series index: measurements, series, tag keys/values, field keys and types per namespace; also the
# compaction marks and the tombstones of deletes, which DynamoDB removes once `expires` has passed.
SERIES = Table("series", "pk", "sk", ttl_attribute="expires")
# InfluxDB v2 resources (orgs, users, buckets, authorizations, labels, DBRP mappings, ...), their
# unique names and their relations (labels, members, owners): one generic layout for all of them.
RESOURCES = Table("resources", "pk", "sk")
# Sign-in sessions; DynamoDB removes them once expired.
SESSIONS = Table("sessions", "pk", ttl_attribute="expires")
# Records a consumer could never process, with the reason.
DEADLETTERS = Table("deadletters", "pk", "sk")
# Kapacitor task execution state (windows, groups, alert state, httpOut results, the Kinesis sequence
# numbers consumed): a versioned head per task and the compressed state over parts.
TASK_STATE = Table("taskstate", "pk", "sk")
# The InfluxDB proxy's shared state: each backend's backlog of failed writes in order (pk
# "backlog|<url>"), backend health (pk "health"), migration state and statistics. Every proxy instance
# reads the same items: the backlog is not one proxy's disk.
PROXY = Table("proxy", "pk", "sk")
# StackTach's events (deduplicated by message_id, in generated-time order) and streams (by id, the
# active one of each trigger and distinguishing traits, their events).
STACKTACH = Table("stacktach", "pk", "sk")
TABLES: tuple[Table, ...] = (CHUNKS, SERIES, RESOURCES, SESSIONS, DEADLETTERS, TASK_STATE, PROXY, STACKTACH)

# Points accepted by a write, on their way to the series store (and later Kapacitor's stream tasks).
POINTS = Stream("points", shards=2)
# Lines accepted by the InfluxDB proxy's /write, on their way to every circle's backend.
PROXY_WRITES = Stream("proxy-writes", shards=1)
# OpenStack notifications for StackTach (one JSON notification, or a list of them, per record).
NOTIFICATIONS = Stream("notifications", shards=1)
STREAMS: tuple[Stream, ...] = (POINTS, PROXY_WRITES, NOTIFICATIONS)

# Data too large for where it belongs. `points` records larger than a Kinesis record travel by claim
# check (the data here, a pointer on the stream), kept until the stream's retention has passed; dead
# letters larger than a DynamoDB item are kept here, referenced from their item, until deleted by hand.
CLAIM_CHECKS = BlobArea("claim-checks/points/", expire_days=days_covering(POINTS.retention_hours))
DEAD_LETTER_BLOBS = BlobArea("deadletters/")
# Kapacitor's recordings (.srpl / .brpl files) and a stream recording's captured parts until assembled.
RECORDINGS = BlobArea("kapacitor/recordings/")
# A proxy migration's planned chunks, read by its steps (kept a week: longer than any job runs).
PROXY_MIGRATION_PLANS = BlobArea("proxy/migrations/", expire_days=7)
BLOBS = Bucket("blobs", areas=(CLAIM_CHECKS, DEAD_LETTER_BLOBS, RECORDINGS, PROXY_MIGRATION_PLANS))
BUCKETS: tuple[Bucket, ...] = (BLOBS,)

ALERT_DELIVERY_ATTEMPTS = 5
QUEUES: tuple[Queue, ...] = (
    # Lambda's on-failure destination for `points` batches that exhausted their retries.
    Queue("points-failures"),
    Queue("tasks-failures"),
    Queue("proxy-writes-failures"),
    Queue("notifications-failures"),
    # Alert events of tasks on their way to their handlers: one message per event and handler, retried
    # with backoff (the visibility timeout) and kept in `alerts-dlq` when the endpoint never takes it.
    Queue("alerts", visibility_timeout=60, max_receive_count=ALERT_DELIVERY_ATTEMPTS),
    # Steps of Step Functions executions on their way to their worker (chalicelib/events/workflow_tasks.py):
    # `{"task", "input", "token"}` sent by `sqs:sendMessage.waitForTaskToken`. A worker that dies is
    # retried after the visibility timeout (a step resumes); after its last receive the message is kept
    # in `workflow-tasks-dlq` and the step ends on its own TimeoutSeconds.
    Queue("workflow-tasks", visibility_timeout=300, max_receive_count=5),
)

KINESIS_CONSUMERS: tuple[KinesisConsumer, ...] = (
    KinesisConsumer(handler="consume_points", stream=POINTS.name, on_failure_queue="points-failures"),
    # Kapacitor's stream tasks read the same points on their own consumer: a slow task never delays
    # storage, and a storage fault never stalls tasks.
    KinesisConsumer(handler="consume_tasks", stream=POINTS.name, on_failure_queue="tasks-failures"),
    # The proxy's writes to its backends; a backend that fails gets the lines in its backlog instead.
    KinesisConsumer(
        handler="consume_proxy_writes", stream=PROXY_WRITES.name, on_failure_queue="proxy-writes-failures"
    ),
    # StackTach: notifications distilled into events, which join their triggers' streams.
    KinesisConsumer(
        handler="consume_notifications", stream=NOTIFICATIONS.name, on_failure_queue="notifications-failures"
    ),
)

# An ASL file names a queue's URL as `${QueueUrl_<logical name, "-" as "_">}`: infra and the local stack
# substitute it (and `${Prefix}`) before the machine is created.
QUEUE_URL_KEY = "QueueUrl_{}"


def queue_url_key(queue: str) -> str:
    """The ASL placeholder key of a queue's URL: `workflow-tasks` -> `QueueUrl_workflow_tasks`."""
    return QUEUE_URL_KEY.format(queue.replace("-", "_"))


STATE_MACHINES: tuple[StateMachine, ...] = (
    # A proxy migration (rebalance, recovery, resync, clear): plan, the chunks in parallel, finish.
    StateMachine("proxy-migration", "proxy_migration.json"),
    # A Kapacitor recording: capture (stream) or query (batch, query), then assemble its file.
    StateMachine("kapacitor-recording", "kapacitor_recording.json"),
    # A Kapacitor replay: the task fed the data a step at a time (waiting between steps on the real clock).
    StateMachine("kapacitor-replay", "kapacitor_replay.json"),
)


def kinesis_consumer(handler: str) -> KinesisConsumer:
    return next(c for c in KINESIS_CONSUMERS if c.handler == handler)
