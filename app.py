"""The tickless Chalice app: routing and event wiring only; every handler delegates to chalicelib."""

from __future__ import annotations

import os

from chalice import Chalice, Rate

from chalicelib import declarations
from chalicelib.api import edge, observability
from chalicelib.api.influxdb import influxdb
from chalicelib.api.kapacitor import kapacitor
from chalicelib.api.proxy import proxy
from chalicelib.api.proxy.blueprint import PREFIX as PROXY_PREFIX
from chalicelib.api.stacktach import stacktach
from chalicelib.events import (
    alert_delivery,
    batch_scheduler,
    maintenance,
    notifications_consumer,
    points_consumer,
    proxy_consumer,
    proxy_maintenance,
    stacktach_pipeline,
    task_consumer,
    workflow_tasks,
)

app = Chalice(app_name="tickless")
# Line protocol arrives as text/plain (Telegraf, influxdb-client) or application/octet-stream (the 1.x
# client), often gzipped: API Gateway must hand such bodies over as bytes, not as mangled text.
app.api.binary_types.extend(["text/plain", "application/x-gzip", "application/gzip"])

# One app, two shapes: all surfaces (the proxy's under /proxy), or a dedicated InfluxDB proxy answering
# influx-proxy's routes at its root, as a stage's config may ask (TICKLESS_SURFACE=proxy).
DEDICATED_PROXY = os.environ.get("TICKLESS_SURFACE") == "proxy"
if DEDICATED_PROXY:
    app.register_blueprint(proxy)
else:
    app.register_blueprint(influxdb)
    app.register_blueprint(kapacitor)
    app.register_blueprint(proxy, url_prefix=PROXY_PREFIX)
    app.register_blueprint(stacktach)
# Every request's log line and metrics (docs/OBSERVABILITY.md); registered first, so it is the outer one
# and sees the edge's answers too.
app.register_middleware(observability.requests, "http")
# Unknown paths (they arrive through infra's catch-all resources) and wrong methods: 404 and 405 in each
# surface's format.
app.register_middleware(
    edge.unmatched(app.routes, default_surface="proxy" if DEDICATED_PROXY else ""), "http"
)


def kinesis_consumer(handler: str):
    """`@app.on_kinesis_record` with a declared consumer's settings (declarations.KINESIS_CONSUMERS)."""
    decl = declarations.kinesis_consumer(handler)
    return app.on_kinesis_record(
        stream=declarations.physical_name(decl.stream),
        batch_size=decl.batch_size,
        starting_position=decl.starting_position,
        maximum_batching_window_in_seconds=decl.max_batching_window,
    )


@kinesis_consumer("consume_points")
def consume_points(event):
    return points_consumer.consume_points(event.to_dict(), event.context)


@app.schedule(Rate(1, unit=Rate.HOURS))
def enforce_retention(event):
    maintenance.enforce_retention()


@app.schedule(Rate(5, unit=Rate.MINUTES))
def compact_segments(event):
    return maintenance.compact_segments(event.context)


# Kapacitor's batch tasks: each minute, every running task's query times due by then (sub-minute
# `.every()` keeps its period: the minute's times all run, each with its own time range).
@app.schedule(Rate(1, unit=Rate.MINUTES))
def run_batch_tasks(event):
    return batch_scheduler.run_batch_tasks(context=event.context)


@kinesis_consumer("consume_tasks")
def consume_tasks(event):
    return task_consumer.consume_tasks(event.to_dict(), event.context)


# One message at a time: a message that fails is retried alone (with backoff), never its neighbours.
@app.on_sqs_message(queue=declarations.physical_name("alerts"), batch_size=1)
def deliver_alerts(event):
    return alert_delivery.deliver_alerts(event.to_dict(), event.context)


@kinesis_consumer("consume_proxy_writes")
def consume_proxy_writes(event):
    return proxy_consumer.consume_proxy_writes(event.to_dict(), event.context)


# The proxy's backend pings (`check_interval`) and backlog rewrites (`rewrite_interval`): each minute, one
# invocation keeps their seconds for the minute (chalicelib/events/proxy_maintenance.py).
@app.schedule(Rate(1, unit=Rate.MINUTES))
def maintain_proxy(event):
    return proxy_maintenance.maintain_proxy(context=event.context)


# The steps of Step Functions executions (task tokens), one message at a time: a step that fails for a
# transient reason is delivered again alone (chalicelib/events/workflow_tasks.py).
@app.on_sqs_message(queue=declarations.physical_name("workflow-tasks"), batch_size=1)
def run_workflow_tasks(event):
    return workflow_tasks.run_workflow_task(event.to_dict(), event.context)


@kinesis_consumer("consume_notifications")
def consume_notifications(event):
    return notifications_consumer.consume_notifications(event.to_dict(), event.context)


# StackTach's pipeline worker: each minute, the streams whose fire or expire time passed run their
# trigger's pipelines (chalicelib/events/stacktach_pipeline.py).
@app.schedule(Rate(1, unit=Rate.MINUTES))
def run_stacktach_pipelines(event):
    return stacktach_pipeline.run_stacktach_pipelines(context=event.context)
