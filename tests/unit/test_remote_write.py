"""influxDBOut to another InfluxDB (`.cluster('remote')`): the task's effects queue the points by
cluster (never the cluster's credentials), and the alert worker writes them as Kapacitor's InfluxDB
client does, with the cluster as it is configured when it sends; the global handlers of config sections
join a task's alert events."""

from __future__ import annotations

import base64
import gzip

from chalicelib.alert.dispatch import DELIVERY, WRITE, Dispatcher
from chalicelib.alert.handler_services import DEFAULTS
from chalicelib.alert.service import AlertService
from chalicelib.tick.effects import MAX_WRITE_MESSAGE_BYTES, TaskEffects
from chalicelib.tick.matching import TickMatcher
from chalicelib.tick.outbox import POINTS
from tests.unit.test_alert_dispatch import ORG, Aggregates, Queue, Sender, _event_message
from tests.unit.test_alert_service import MemoryAlerts

OWN = {"name": "default", "urls": [], "default": True}
REMOTE = {
    "name": "remote",
    "urls": ["http://influx.example.com:8086/"],
    "username": "jim",
    "password": "secret",
    "token": "",
    "compression": "gzip",
    "insecure-skip-verify": False,
    "timeout": 0,
}


class Writer:
    def __init__(self) -> None:
        self.writes: list[tuple] = []

    def write(self, destination, body, precision, retention=None) -> None:
        self.writes.append((destination, body, precision))


class Catalog:
    def resolve(self, principal, database, rp):
        class Policy:
            destination = f"{database}/{rp}"
            duration = 0

        return Policy()


def _point(cluster: str, i: int = 0) -> dict:
    return {
        "database": "db",
        "retention_policy": "autogen",
        "measurement": "cpu",
        "tags": {"host": "a"},
        "fields": {"value": float(i)},
        "time": i * 1_000_000_000,
        "precision": "s",
        "cluster": cluster,
    }


def _effects(queue: Queue, writer: Writer) -> TaskEffects:
    return TaskEffects(queue, writer, Catalog(), clusters=lambda org: [OWN, REMOTE])  # type: ignore[arg-type]


def test_points_for_another_cluster_are_queued_by_name_and_the_rest_written_here() -> None:
    queue, writer = Queue(), Writer()
    points = [_point(""), _point("default", 1), _point("remote", 2), _point("remote", 3)]
    _effects(queue, writer).send(ORG, "t", [{"type": POINTS, "points": points}])
    assert [w[1] for w in writer.writes] == [b"cpu,host=a value=0.0 0", b"cpu,host=a value=1.0 1"]
    [message] = queue.sent
    assert message == {
        "type": WRITE,
        "org": ORG,
        "task": "t",
        "cluster": "remote",
        "database": "db",
        "retention_policy": "autogen",
        "precision": "s",
        "lines": "cpu,host=a value=2.0 2\ncpu,host=a value=3.0 3",
    }
    assert "secret" not in repr(queue.sent)


def test_a_large_remote_write_is_split_into_messages_sqs_takes() -> None:
    queue, writer = Queue(), Writer()
    points = [{**_point("remote", i), "tags": {"host": "h" * 1000}} for i in range(500)]
    _effects(queue, writer).send(ORG, "t", [{"type": POINTS, "points": points}])
    assert len(queue.sent) > 1
    assert all(len(m["lines"].encode()) <= MAX_WRITE_MESSAGE_BYTES for m in queue.sent)
    lines = "\n".join(m["lines"] for m in queue.sent).split("\n")
    assert lines == [f"cpu,host={'h' * 1000} value={i}.0 {i}" for i in range(500)]


def _dispatcher(configs: dict, sender: Sender, queue: Queue | None = None, logs: list | None = None):
    return Dispatcher(
        AlertService(MemoryAlerts(), TickMatcher()),
        queue if queue is not None else Queue(),
        sender,
        aggregates=Aggregates(),
        service_configs=lambda org: configs,
        log=lambda *entry: (logs if logs is not None else []).append(entry),
    )


def test_the_worker_writes_as_kapacitors_client_with_the_clusters_credentials() -> None:
    sender = Sender()
    message = {
        "type": WRITE,
        "org": ORG,
        "task": "t",
        "cluster": "remote",
        "database": "db",
        "retention_policy": "autogen",
        "precision": "s",
        "lines": "cpu value=1 1",
    }
    _dispatcher({"influxdb": [OWN, REMOTE]}, sender).handle(message)
    [delivery] = sender.sent
    assert delivery.target == (
        "http://influx.example.com:8086/write?consistency=&db=db&precision=s&rp=autogen"
    )
    assert gzip.decompress(delivery.body) == b"cpu value=1 1\n"
    assert delivery.headers["Content-Encoding"] == "gzip"
    assert delivery.headers["Authorization"] == "Basic " + base64.b64encode(b"jim:secret").decode()
    assert delivery.failure(204, b"") is None
    assert delivery.failure(400, b'{"error":"unable to parse"}') == "unable to parse"

    token = {**REMOTE, "token": "tok", "compression": "none"}
    sender = Sender()
    _dispatcher({"influxdb": [token]}, sender).handle(message)
    assert sender.sent[0].headers["Authorization"] == "Token tok"
    assert sender.sent[0].body == b"cpu value=1 1\n"


def test_a_cluster_removed_since_is_logged_and_its_points_dropped() -> None:
    sender, logs = Sender(), []
    message = {"type": WRITE, "org": ORG, "task": "t", "cluster": "gone", "database": "db"}
    message |= {"retention_policy": "", "precision": "ns", "lines": "cpu value=1 1"}
    _dispatcher({"influxdb": [OWN]}, sender, logs=logs).handle(message)
    assert sender.sent == []
    assert logs == [
        ("error", "failed to write points", {"task": "t", "error": "no such InfluxDB config gone"})
    ]


def test_a_global_section_sends_every_task_alert_unless_the_node_has_that_kind() -> None:
    teams = {**DEFAULTS["teams"], "enabled": True, "global": True, "channel-url": "http://teams"}
    slack = {**DEFAULTS["slack"], "enabled": True, "global": True, "url": "http://slack", "default": True}
    queue = Queue()
    dispatcher = _dispatcher({"teams": teams, "slack": [slack]}, Sender(), queue)
    own_slack = {"kind": "slack", "options": {"channel": "#mine"}}
    dispatcher.handle(_event_message(topics=["main:t:alert2"], handlers=[own_slack]))
    sent = [(m["kind"], m["options"]) for m in queue.sent if m["type"] == DELIVERY]
    assert sent == [("slack", {"channel": "#mine"}), ("teams", {})]

    quiet = _dispatcher({"teams": {**teams, "global": False}}, Sender(), queue := Queue())
    quiet.handle(_event_message(topics=["main:t:alert2"], handlers=[]))
    assert queue.sent == []


ROW = {
    "name": "cpu",
    "tags": {"host": "a"},
    "columns": ["time", "v"],
    "values": [["1970-01-01T00:00:02Z", 1.5]],
}


def _request(**extra) -> dict:
    return {
        "type": "request",
        "org": ORG,
        "task": "t",
        "url": "",
        "endpoint": "",
        "headers": {},
        "timeout": 0,
        "body": {"series": [ROW]},
        **extra,
    }


def test_httppost_to_a_url_template_renders_it_on_the_row() -> None:
    sender = Sender()
    _dispatcher({}, sender).handle(_request(url='http://h/{{ .Name }}/{{ index .Tags "host" }}'))
    [delivery] = sender.sent
    assert delivery.target == "http://h/cpu/a"
    assert (
        delivery.body == b'{"series":[{"name":"cpu","tags":{"host":"a"},"columns":["time","v"],'
        b'"values":[["1970-01-01T00:00:02Z",1.5]]}]}\n'
    )
    assert delivery.headers == {"Content-Type": "application/json"}


def test_httppost_to_an_endpoint_takes_its_url_auth_headers_and_row_template() -> None:
    endpoint = {
        **DEFAULTS["httppost"],
        "endpoint": "hooks",
        "url": "http://hooks/{{ .Name }}",
        "headers": {"X-Team": "ops", "X-A": "endpoint"},
        "basic-auth": {"username": "u", "password": "p"},
        "row-template": '{{ range .Values }}{{ index . "v" }};{{ end }}',
    }
    sender = Sender()
    _dispatcher({"httppost": [endpoint]}, sender).handle(_request(endpoint="hooks", headers={"X-A": "node"}))
    [delivery] = sender.sent
    assert (delivery.target, delivery.body) == ("http://hooks/cpu", b"1.5;")
    assert delivery.headers == {
        "Authorization": "Basic " + base64.b64encode(b"u:p").decode(),
        "X-Team": "ops",
        "X-A": "node",  # the node's headers are set last
    }


def test_httppost_to_an_endpoint_removed_since_is_logged_not_sent() -> None:
    sender, logs = Sender(), []
    _dispatcher({"httppost": []}, sender, logs=logs).handle(_request(endpoint="gone"))
    assert sender.sent == []
    assert logs == [
        ("error", "httpPost did not send", {"task": "t", "error": "endpoint 'gone' does not exist"})
    ]
