"""What an operator sees (docs/OBSERVABILITY.md): one log line per request with its id, route, status,
latency and bytes; errors with their cause (4xx at warning, 5xx at error with the traceback); EMF metrics
for points written, latency, errors, consumer lag and dead letters; and never a credential in a line."""

from __future__ import annotations

import base64
import io
import itertools
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
import requests

from chalicelib.observability.logs import formatter
from scripts.localstack.lambda_events import LambdaContext, kinesis_record
from tests.api.conftest import ONBOARDING
from tests.api.test_write_api import write_v1, write_v2
from tests.api.test_write_partial import short_database

_names = itertools.count()
JSON = {"Content-Type": "application/json"}


@dataclass
class Lines:
    """Everything the service's log handler wrote, as JSON lines."""

    stream: io.StringIO

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def all(self) -> list[dict]:
        return [json.loads(line) for line in self.text.splitlines() if line.startswith("{")]

    def requests(self, route: str | None = None) -> list[dict]:
        return [line for line in self.all() if "route" in line and (route is None or line["route"] == route)]

    def one(self, route: str) -> dict:
        found = self.requests(route)
        assert len(found) == 1, (route, self.text)
        return found[0]


@pytest.fixture
def lines(app_module) -> Iterator[Lines]:
    """The log handler's output while the test runs, in JSON whatever LOG_FORMAT says."""
    from chalicelib.observability import logger

    handler: logging.StreamHandler = logger.registered_handler  # type: ignore[assignment]
    stream = io.StringIO()
    previous_stream = handler.setStream(stream)
    previous_formatter = handler.formatter
    handler.setFormatter(formatter(logger.service, "json"))
    try:
        yield Lines(stream)
    finally:
        handler.setFormatter(previous_formatter)
        handler.setStream(previous_stream)  # type: ignore[arg-type]


def emf(out: str) -> list[dict]:
    """The EMF documents among stdout's lines."""
    return [json.loads(line) for line in out.splitlines() if line.startswith('{"_aws"')]


def documents_with(documents: list[dict], metric: str, **dimensions: str) -> list[dict]:
    return [
        doc
        for doc in documents
        if metric in doc and all(doc.get(name) == value for name, value in dimensions.items())
    ]


@pytest.fixture(autouse=True)
def _metrics_on(monkeypatch):
    for name in ("POWERTOOLS_METRICS_DISABLED", "POWERTOOLS_DEV", "TICKLESS_METRICS_OUTPUT"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def logged_metrics(lines) -> Iterator[Callable[[], list[dict]]]:
    """The EMF documents logged at debug level. chalice.test's client runs each request in the `local`
    stage's environment (.chalice/config.json), which sends metrics to the log, as on the local stack."""
    from chalicelib.observability import logger

    level = logger.log_level
    logger.setLevel("DEBUG")
    try:
        yield lambda: [line["emf"] for line in lines.all() if line.get("message") == "metrics"]
    finally:
        logger.setLevel(level)


# -- the request line -------------------------------------------------------------------------------


def test_a_write_is_one_info_line_with_id_route_status_latency_bytes_and_points(client, database, lines):
    body = f"cpu,host=a v=1 1\ncpu,host=b v=2 2\n# {database}"
    response = write_v2(client, body, org="acme", bucket=f"{database}/autogen")
    assert response.status_code == 204
    line = lines.one("/api/v2/write")
    assert line["level"] == "INFO"
    assert line["method"] == "POST" and line["path"] == "/api/v2/write"
    assert line["status"] == 204
    assert line["surface"] == "v2" and line["operation"] == "write"
    assert isinstance(line["latency_ms"], float) and line["latency_ms"] > 0
    assert line["bytes_in"] == len(body.encode()) and line["bytes_out"] == 0
    assert line["points_accepted"] == 2 and line["points_rejected"] == 0
    assert line["request_id"]
    assert line["message"] == "POST /api/v2/write 204"
    assert "error" not in line and "exception" not in line


def test_a_query_line_counts_the_bytes_answered(client, database, lines):
    response = client.http.get("/query?" + urlencode({"q": "SHOW MEASUREMENTS", "db": database}))
    assert response.status_code == 200
    line = lines.one("/query")
    assert line["surface"] == "v1" and line["operation"] == "query" and line["status"] == 200
    assert line["bytes_out"] == len(response.body) > 0
    assert line["bytes_in"] == 0


def test_every_request_gets_its_own_id(client, lines):
    for _ in range(2):
        assert client.http.get("/ping").status_code == 204
    ids = [line["request_id"] for line in lines.requests("/ping")]
    assert len(ids) == 2 and ids[0] != ids[1]


def test_a_4xx_is_a_warning_with_its_code_message_and_cause(client, lines):
    response = client.http.post("/api/v2/buckets", body="{not json", headers=JSON)
    assert response.status_code == 400
    line = lines.one("/api/v2/buckets")
    assert line["level"] == "WARNING" and line["status"] == 400
    error = line["error"]
    assert error["type"] == "TicklessError" and error["code"] == "invalid"
    assert error["message"] == response.json_body["message"]
    assert error["cause"][0].startswith("JSONDecodeError: ")  # the chain, not only the message
    assert "exception" not in line  # no traceback for a client's mistake


def test_an_unknown_path_on_the_local_stack_is_a_warning_with_the_answers_message(http, lines):
    assert requests.get(f"{http}/api/v2/nothing-here", timeout=10).status_code == 404
    (line,) = [line for line in lines.requests() if line["path"] == "/api/v2/nothing-here"]
    assert line["level"] == "WARNING" and line["status"] == 404 and line["surface"] == "v2"
    assert line["route"].endswith("{proxy+}")
    assert line["error"] == {"message": "path not found"}
    assert isinstance(line["latency_ms"], float) and line["request_id"]


class _Broken:
    """A point writer whose stream is gone, failing with a cause."""

    def __init__(self, detail: str = "stream is gone") -> None:
        self.detail = detail

    def write(self, *args, **kwargs):
        try:
            raise KeyError("points")
        except KeyError as exc:
            raise RuntimeError(self.detail) from exc


def test_a_5xx_is_an_error_with_the_traceback_of_the_whole_chain(client, database, lines, monkeypatch):
    from chalicelib import compose

    monkeypatch.setattr(compose, "writer", lambda: _Broken())
    response = write_v1(client, "cpu v=1 1", db=database)
    assert response.status_code == 500
    line = lines.one("/write")
    assert line["level"] == "ERROR" and line["status"] == 500
    assert line["error"]["type"] == "RuntimeError" and line["error"]["cause"] == ["KeyError: 'points'"]
    assert line["exception_name"] == "RuntimeError"
    assert "Traceback" in line["exception"]
    assert "KeyError: 'points'" in line["exception"] and "direct cause" in line["exception"]
    # one line for the failure: the view's error renderer leaves the logging to the request's line
    assert [x for x in lines.all() if x.get("message") == "unhandled error"] == []


# -- metrics ----------------------------------------------------------------------------------------


def test_points_written_and_latency_are_metrics_of_the_write(client, database, logged_metrics):
    body = "m v=1 1\nm v=2 2\nm v=3 3"
    assert write_v2(client, body, org="acme", bucket=f"{database}/autogen").status_code == 204
    (doc,) = documents_with(logged_metrics(), "PointsAccepted", surface="v2", operation="write")
    assert doc["PointsAccepted"] == [3.0] and doc["PointsRejected"] == [0.0]
    assert doc["Requests"] == [1.0] and doc["Latency"][0] > 0
    assert doc["BytesIn"] == [float(len(body))] and doc["BytesOut"] == [0.0]
    directive = doc["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "tickless"
    assert sorted(directive["Dimensions"][0]) == ["operation", "service", "surface"]
    assert len(directive["Dimensions"]) == 1  # one dimension set: every metric once
    units = {m["Name"]: m["Unit"] for m in directive["Metrics"]}
    assert units["Latency"] == "Milliseconds" and units["PointsAccepted"] == "Count"
    assert units["BytesIn"] == "Bytes"
    assert documents_with(logged_metrics(), "Errors") == []


def test_a_query_has_its_latency_as_the_query_operation(client, database, logged_metrics):
    assert (
        client.http.get("/query?" + urlencode({"q": "SHOW MEASUREMENTS", "db": database})).status_code == 200
    )
    (doc,) = documents_with(logged_metrics(), "Latency", surface="v1", operation="query")
    assert doc["Latency"][0] > 0


def test_a_partial_write_counts_the_points_it_rejected(client, lines, logged_metrics):
    database = short_database(client)
    recent = time.time_ns() - 60_000_000_000
    response = write_v1(client, f"r v=1 1000000000\nr v=2 {recent}", db=database)
    assert response.status_code == 400
    (doc,) = documents_with(logged_metrics(), "PointsRejected", surface="v1", operation="write")
    assert doc["PointsAccepted"] == [1.0] and doc["PointsRejected"] == [1.0]
    (errors,) = documents_with(logged_metrics(), "Errors", surface="v1")
    assert errors["status_class"] == "4xx" and errors["Errors"] == [1.0]
    line = lines.one("/write")
    assert line["points_accepted"] == 1 and line["points_rejected"] == 1
    assert line["level"] == "WARNING" and line["error"]["message"].startswith("partial write")


def test_a_5xx_counts_as_an_error_of_its_surface_and_class(client, logged_metrics, monkeypatch):
    from chalicelib import compose

    monkeypatch.setattr(compose, "writer", lambda: _Broken())
    assert write_v2(client, "m v=1 1", org="acme", bucket="first").status_code == 500
    (doc,) = documents_with(logged_metrics(), "Errors", surface="v2", status_class="5xx")
    assert doc["Errors"] == [1.0]


def test_metrics_go_to_stdout_by_default_to_the_log_or_nowhere(app_module, capsys, lines, monkeypatch):
    from chalicelib.observability import Metrics, MetricUnit, logger

    def record() -> None:
        metrics = Metrics()
        metrics.add("Things", MetricUnit.Count, 2, place="here")
        metrics.flush()

    record()  # no Lambda context needed
    # (the session's event pump may print its handlers' metrics meanwhile: only ours count here)
    (doc,) = [d for d in emf(capsys.readouterr().out) if "Things" in d]
    assert doc["Things"] == [2.0] and doc["place"] == "here" and doc["service"]

    monkeypatch.setenv("TICKLESS_METRICS_OUTPUT", "log")
    record()  # at debug: not shown at the default level
    assert "Things" not in capsys.readouterr().out and "Things" not in lines.text
    level = logger.log_level
    logger.setLevel("DEBUG")
    try:
        record()
    finally:
        logger.setLevel(level)
    (logged,) = [line for line in lines.all() if line.get("message") == "metrics"]
    assert logged["level"] == "DEBUG" and logged["emf"]["Things"] == [2.0]

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    monkeypatch.delenv("TICKLESS_METRICS_OUTPUT")
    record()
    assert "Things" not in capsys.readouterr().out


def test_a_metric_never_fails_what_it_measures(app_module, lines):
    from chalicelib.observability import MetricUnit, metric

    metric("Broken", MetricUnit.Count, "not a number")  # type: ignore[arg-type]
    (line,) = [line for line in lines.all() if line.get("message") == "metric not recorded"]
    assert line["level"] == "WARNING" and line["metric"] == "Broken"


def test_a_dead_letter_outside_an_invocation_is_written_at_once(app_module, capsys):
    """A handler that hands records to worker threads: their context has no invocation's scope."""
    import threading

    from chalicelib.events.observability import dead_letter

    worker = threading.Thread(target=dead_letter, args=("points",))
    worker.start()
    worker.join()
    (doc,) = documents_with(emf(capsys.readouterr().out), "DeadLetters", source="points")
    assert doc["DeadLetters"] == [1.0]


def test_metrics_can_be_switched_off_for_requests(client, logged_metrics, capsys, monkeypatch):
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    assert client.http.get("/ping").status_code == 204
    assert logged_metrics() == [] and emf(capsys.readouterr().out) == []


# -- the consumer -----------------------------------------------------------------------------------


def _points_record(data: bytes, arrival: float) -> dict:
    from chalicelib.declarations import physical_name

    sequence = str(uuid.uuid4().int)[:20]
    arn = f"arn:aws:kinesis:us-east-1:123456789012:stream/{physical_name('points')}"
    return kinesis_record(
        data=data,
        partition_key=f"x|obs{next(_names)}|autogen|m",
        sequence_number=sequence,
        shard_id="shardId-000000000000",
        stream_arn=arn,
        arrival=arrival,
    )


def test_a_dead_letter_and_the_consumer_lag_are_metrics_and_in_the_invocation_line(app_module, capsys, lines):
    from chalicelib.events import points_consumer

    old = time.time() - 5
    records = [_points_record(b"definitely not a record", old), _points_record(b"nor this", time.time())]
    context = LambdaContext("tickless-local-consume_points")
    capsys.readouterr()
    assert points_consumer.consume_points({"Records": records}, context) == {"batchItemFailures": []}
    out = capsys.readouterr().out
    # the session's event pump may run consume_points at the same time: keep this invocation's documents
    ours = [doc for doc in emf(out) if doc.get("request_id") == context.aws_request_id]
    (dead,) = documents_with(ours, "DeadLetters", source="points")
    assert dead["DeadLetters"] == [1.0, 1.0]
    (batch,) = documents_with(ours, "ConsumerLag", handler="consume_points")
    assert batch["ConsumerLag"][0] >= 5000  # the oldest record's age
    assert batch["Records"] == [2.0] and batch["RecordsFailed"] == [0.0]
    units = {m["Name"]: m["Unit"] for m in batch["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert units["ConsumerLag"] == "Milliseconds"
    (line,) = [
        line
        for line in lines.all()
        if line.get("message") == "consume_points done" and line.get("request_id") == context.aws_request_id
    ]
    assert line["records"] == 2 and line["dead_letters"] == 2 and line["failed_records"] == 0
    assert line["lag_ms"] >= 5000 and line["outcome"] == "ok" and line["duration_ms"] > 0


def test_consumer_lag_is_the_oldest_records_age():
    from chalicelib.events.observability import consumer_lag_ms

    records = [{"kinesis": {"approximateArrivalTimestamp": t}} for t in (100.0, 98.5, 99.0)]
    assert consumer_lag_ms(records, now=100.0) == 1500.0
    assert consumer_lag_ms([{"kinesis": {}}], now=100.0) is None
    assert consumer_lag_ms([{"kinesis": {"approximateArrivalTimestamp": 101.0}}], now=100.0) == 0.0


def test_a_failing_handler_is_logged_with_its_traceback_and_raises(app_module, capsys, lines):
    from chalicelib.events.observability import observed

    @observed("broken")
    def broken(event, context):
        try:
            {}["missing"]
        except KeyError as exc:
            raise RuntimeError("cannot go on") from exc

    with pytest.raises(RuntimeError):
        broken({"Records": []}, LambdaContext("tickless-local-broken"))
    (line,) = [line for line in lines.all() if line.get("handler") == "broken"]
    assert line["level"] == "ERROR" and line["outcome"] == "failed"
    assert "KeyError" in line["exception"] and "RuntimeError: cannot go on" in line["exception"]
    (doc,) = documents_with(emf(capsys.readouterr().out), "HandlerErrors", handler="broken")
    assert doc["HandlerErrors"] == [1.0]


def test_a_scheduled_handler_is_observed_and_returns_its_result(app_module, lines, monkeypatch):
    from chalicelib.events.observability import observed

    @observed("tick")
    def tick(now: int | None = None) -> int:
        return 7

    assert tick(5) == 7
    (line,) = [line for line in lines.all() if line.get("handler") == "tick"]
    assert line["result"] == 7 and line["outcome"] == "ok" and "records" not in line


# -- credentials ------------------------------------------------------------------------------------


def test_no_credential_reaches_any_line(client, anonymous, onboarding, http, lines, capsys, caplog):
    """Every record any logger made (caplog), the service's lines and stdout (EMF), through requests
    carrying credentials every way a client sends them, right and wrong."""
    caplog.set_level(logging.DEBUG)  # every logger at its most talkative
    caplog.set_level(logging.DEBUG, logger="tickless.localstack.http")  # the local stack's access log
    token = onboarding["auth"]["token"]
    admin = base64.b64encode(f"{ONBOARDING['username']}:{ONBOARDING['password']}".encode()).decode()
    wrong = base64.b64encode(b"admin:wrong-horse-battery").decode()
    secrets = [token, ONBOARDING["password"], admin, wrong, "wrong-horse-battery", "brand-new-password"]
    secrets.append("half-a-password")

    # tokens
    assert client.http.get("/api/v2/buckets").status_code == 200
    bad_token = {"Authorization": "Token wrong-horse-battery"}
    assert anonymous.http.get("/api/v2/buckets", headers=bad_token).status_code == 401
    # Basic credentials and the session they open
    signin = anonymous.http.post("/api/v2/signin", headers={"Authorization": f"Basic {admin}"})
    assert signin.status_code == 204
    session = signin.headers["Set-Cookie"].split(";")[0]
    secrets.append(session.partition("=")[2])
    assert anonymous.http.get("/api/v2/me", headers={"Cookie": session}).status_code == 200
    assert (
        anonymous.http.post("/api/v2/signin", headers={"Authorization": f"Basic {wrong}"}).status_code == 401
    )
    # u/p parameters, in the query string and in a form body
    v1 = {"q": "SHOW DATABASES", "u": "admin"}
    assert anonymous.http.get("/query?" + urlencode({**v1, "p": token})).status_code == 200
    assert anonymous.http.get("/query?" + urlencode({**v1, "p": "wrong-horse-battery"})).status_code == 401
    form = urlencode({**v1, "p": "wrong-horse-battery"})
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    assert anonymous.http.post("/query", body=form, headers=headers).status_code == 401
    assert write_v1(anonymous, "m v=1 1", db="first", u="admin", p="wrong-horse-battery").status_code == 401
    through_the_local_stack = requests.get(f"{http}/query", params={**v1, "p": token}, timeout=10)
    assert through_the_local_stack.status_code == 200
    # passwords in bodies, accepted, refused and malformed
    user = client.http.post("/api/v2/users", body=json.dumps({"name": f"obs{next(_names)}"}), headers=JSON)
    path = f"/api/v2/users/{user.json_body['id']}/password"
    changed = client.http.post(path, body=json.dumps({"password": "brand-new-password"}), headers=JSON)
    assert changed.status_code == 204
    assert anonymous.http.post("/api/v2/setup", body=json.dumps(ONBOARDING), headers=JSON).status_code == 422
    assert client.http.post(path, body='{"password": "half-a-password"', headers=JSON).status_code == 400

    written = lines.text + capsys.readouterr().out + caplog.text
    assert len(lines.requests()) >= 13
    assert "/query?..." in caplog.text  # the access log was there, without its query string
    for secret in secrets:
        assert secret not in written, secret


def test_a_credential_in_an_error_is_redacted_from_the_line(client, onboarding, lines, monkeypatch):
    """The last guard: a failure whose message names the request's token (a bug somewhere below)."""
    from chalicelib import compose

    token = onboarding["auth"]["token"]
    monkeypatch.setattr(compose, "writer", lambda: _Broken(f"cannot write for {token}"))
    assert write_v2(client, "m v=1 1", org="acme", bucket="first").status_code == 500
    line = lines.one("/api/v2/write")
    assert "cannot write for [REDACTED]" in line["exception"]
    assert line["error"]["message"] == "cannot write for [REDACTED]"
    assert token not in lines.text


def test_text_format_for_terminals_has_the_same_keys():
    record = logging.LogRecord("tickless", logging.WARNING, __file__, 1, "GET /x 404", None, None)
    record.status = 404
    record.route = "/{proxy+}"
    record.error = {"message": "path not found"}
    text = formatter("tickless", "text").format(record)
    assert " WARNING GET /x 404  " in text
    assert "status=404" in text and "route=/{proxy+}" in text and 'error={"message":"path not found"}' in text
    try:
        raise ValueError("bad")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    assert "Traceback" in formatter("tickless", "text").format(record).split("\n", 1)[1]
    assert json.loads(formatter("tickless", "json").format(record))["status"] == 404
