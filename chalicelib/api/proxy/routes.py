"""influx-proxy's endpoints (seed 003): thin views over chalicelib/proxy/service.py."""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from chalice import Response

from chalicelib import compose
from chalicelib.api.influxdb.auth import basic_credentials
from chalicelib.api.kit import body, params
from chalicelib.api.proxy.blueprint import VERSION_HEADERS, json_answer, proxy, route, text_answer
from chalicelib.kit.errors import INVALID, NOT_FOUND, NOT_IMPLEMENTED, TicklessError
from chalicelib.proxy import cipher
from chalicelib.proxy.migration import KINDS, STATS_KEYS, Job
from chalicelib.proxy.service import ProxyService

NOT_CONFIGURED = (
    "the InfluxDB proxy is not configured: set PROXY_CONFIG to an influx-proxy config file "
    "(or PROXY_CONFIG_JSON to its text)"
)


def _service(*, auth: bool = True) -> ProxyService:
    service = compose.proxy_service()
    if service is None:
        raise TicklessError(NOT_FOUND, NOT_CONFIGURED)  # this deployment has no proxy surface
    if auth:
        request = proxy.current_request
        query = request.query_params or {}
        credentials = [(query.get("u", ""), query.get("p", ""))]
        basic = basic_credentials(request)
        if basic is not None:
            credentials.append(basic)
        service.check_auth(credentials)
    return service


def _pretty() -> bool:
    return (proxy.current_request.query_params or {}).get("pretty") == "true"


@route("/ping", methods=["GET", "HEAD", "POST"], name="ping")
def ping() -> Response:
    _service(auth=False)
    return Response(body="", status_code=204, headers={**VERSION_HEADERS, "Content-Type": "application/json"})


@route("/write", methods=["POST"], name="write")
def write() -> Response:
    service = _service()
    request = proxy.current_request
    query = request.query_params or {}
    try:
        raw = body(request)  # gunzipped, and bounded
    except TicklessError as exc:
        if exc.code != INVALID:
            raise
        raise TicklessError(INVALID, "unable to decode gzip body") from None
    service.write(query.get("db", ""), query.get("rp", ""), query.get("precision", ""), raw)
    return Response(body="", status_code=204, headers={**VERSION_HEADERS, "Content-Type": "application/json"})


@route("/query", methods=["GET", "POST"], name="query")
def query() -> Response:
    service = _service()
    request = proxy.current_request
    fields = params(request)
    if not fields.get("q", "").strip():
        raise TicklessError(INVALID, "query not found")
    answer = service.query(fields, request.method)
    headers = {k: v for k, v in answer.headers.items() if k.lower() in _PASSED_HEADERS}
    return Response(body=answer.body, status_code=answer.status, headers={**VERSION_HEADERS, **headers})


_PASSED_HEADERS = {"content-type", "content-encoding", "x-influxdb-version", "x-influxdb-build", "request-id"}


@route("/health", methods=["GET"], name="health")
def health() -> Response:
    return json_answer(_service().health_document(), pretty=_pretty())


@route("/replica", methods=["GET"], name="replica")
def replica() -> Response:
    service = _service()
    fields = params(proxy.current_request)
    db, meas = fields.get("db", ""), fields.get("meas", "")
    if not db or not meas:
        return text_answer("invalid db or meas", 400)
    return json_answer(service.replica(db, meas), pretty=_pretty())


@route("/encrypt", methods=["GET"], name="encrypt")
def encrypt() -> Response:
    msg = (proxy.current_request.query_params or {}).get("msg", "")
    return text_answer(cipher.encrypt(msg))


@route("/decrypt", methods=["GET"], name="decrypt")
def decrypt() -> Response:
    query = proxy.current_request.query_params or {}
    key = query.get("key", "")
    if not cipher.check_cipher_key(key):
        return text_answer("invalid key", 400)
    try:
        return text_answer(cipher.decrypt(query.get("msg", ""), key))
    except TicklessError as exc:
        return text_answer(exc.message)  # influx-proxy answers 200 with Go's error text


def _form() -> dict[str, str]:
    return params(proxy.current_request)


def _circle_id(fields: dict[str, str], key: str, circles: int) -> int:
    try:
        value = int(fields.get(key, ""))
    except ValueError:
        value = -1
    if not 0 <= value < circles:
        raise _Plain(f"invalid {key}")
    return value


def _values(fields: dict[str, str], key: str) -> tuple[str, ...]:
    text = fields.get(key, "").strip(", ")
    return tuple(text.split(",")) if text else ()


def _bool(fields: dict[str, str], key: str, message: str) -> bool:
    value = fields.get(key, "")
    if value in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if value in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise _Plain(message)


class _Plain(Exception):
    """A refusal influx-proxy writes as plain text (its migration routes set no JSON header)."""


def _plain_errors(view: Callable[..., Response]) -> Callable[..., Response]:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return view(*args, **kwargs)
        except _Plain as exc:
            return text_answer(str(exc), 400)

    return wrapper


@route("/migrate/state", methods=["GET", "POST"], name="migrate_state")
@_plain_errors
def migrate_state() -> Response:
    service = _service()
    migrations = compose.proxy_migrations()
    circles = service.config.circles
    request = proxy.current_request
    migrating = migrations.state.migrating()

    def circle(i: int) -> dict:
        return {"circle_id": i, "circle_name": circles[i].name, "is_migrating": bool(migrating.get(i))}

    if request.method == "GET":
        state = {
            "circles": [circle(i) for i in range(len(circles))],
            "is_resyncing": migrations.state.resyncing(),
        }
        return json_answer(state, pretty=_pretty())
    fields = _form()
    answer: dict = {}
    if fields.get("resyncing", "") != "":
        resyncing = _bool(fields, "resyncing", "illegal resyncing")
        migrations.state.set_resyncing(resyncing)
        answer["resyncing"] = resyncing
    if fields.get("circle_id", "") != "" or fields.get("migrating", "") != "":
        circle_id = _circle_id(fields, "circle_id", len(circles))
        migrating_now = _bool(fields, "migrating", "illegal migrating")
        migrations.state.set_migrating(circle_id, migrating_now)
        migrating[circle_id] = migrating_now
        answer["circle"] = circle(circle_id)
    if not answer:
        raise _Plain("missing query parameter")
    return json_answer(answer, pretty=_pretty())


@route("/migrate/stats", methods=["GET"], name="migrate_stats")
@_plain_errors
def migrate_stats() -> Response:
    service = _service()
    fields = _form()
    circle_id = _circle_id(fields, "circle_id", len(service.config.circles))
    if fields.get("type") not in KINDS:
        raise _Plain("invalid stats type")
    found = compose.proxy_migrations().state.stats(circle_id)
    urls = [b.url for b in service.config.circles[circle_id].backends]
    urls += [url for url in found if url not in urls]  # backends a rebalance removed
    zero = dict.fromkeys(STATS_KEYS, 0)
    return json_answer({url: {**zero, **found.get(url, {})} for url in urls}, pretty=_pretty())


@route("/rebalance", methods=["POST"], name="rebalance")
@_plain_errors
def rebalance() -> Response:
    service = _service()
    fields = _form()
    circle_id = _circle_id(fields, "circle_id", len(service.config.circles))
    operation = fields.get("operation", "")
    if operation not in ("add", "rm"):
        raise _Plain("invalid operation")
    removed: tuple[dict[str, str], ...] = ()
    if operation == "rm":
        removed = _removed_backends()
    return _start(
        Job("rebalance", circle_id=circle_id, databases=_values(fields, "db"), removed=removed), fields
    )


@route("/recovery", methods=["POST"], name="recovery")
@_plain_errors
def recovery() -> Response:
    service = _service()
    fields = _form()
    circles = len(service.config.circles)
    from_id = _circle_id(fields, "from_circle_id", circles)
    to_id = _circle_id(fields, "to_circle_id", circles)
    if from_id == to_id:
        raise _Plain("from_circle_id and to_circle_id cannot be same")
    job = Job(
        "recovery",
        circle_id=to_id,
        from_circle_id=from_id,
        backend_urls=_values(fields, "backend_urls"),
        databases=_values(fields, "db"),
    )
    return _start(job, fields)


@route("/resync", methods=["POST"], name="resync")
@_plain_errors
def resync() -> Response:
    _service()
    fields = _form()
    seconds = 0
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60), ("seconds", 1)):
        text = fields.get(unit, "").strip()
        if text and (not text.isdigit()):
            raise _Plain("invalid days, hours, minutes or seconds")
        seconds += int(text or 0) * size
    return _start(Job("resync", databases=_values(fields, "db"), seconds=seconds), fields)


@route("/clear", methods=["POST"], name="clear")
@_plain_errors
def clear() -> Response:
    service = _service()
    fields = _form()
    circle_id = _circle_id(fields, "circle_id", len(service.config.circles))
    return _start(Job("clear", circle_id=circle_id), fields)


MAX_CPUS = 32  # chunks of one job running at once (influx-proxy: at most the machine's CPUs)


def _start(job: Job, fields: dict[str, str]) -> Response:
    migrations = compose.proxy_migrations()
    busy = migrations.busy(job)
    if busy is not None:
        return text_answer(busy, 202)
    cpus_text = fields.get("cpus", "").strip()
    cpus = 1
    if cpus_text:
        if not cpus_text.isdigit() or not 0 < int(cpus_text) <= MAX_CPUS:
            raise _Plain("invalid cpus")
        cpus = int(cpus_text)
    addrs = _values(fields, "ha_addrs")  # accepted and checked as influx-proxy does; not needed here
    if len(addrs) == 1:
        raise _Plain("ha_addrs should contain two addrs at least")
    if len(addrs) > 1 and not all(_HA_ADDR.match(addr) for addr in addrs):
        raise _Plain("invalid ha_addrs")
    job = dataclasses.replace(job, started=time.time_ns())
    migrations.accept(job)
    try:
        compose.step_functions().start(
            "proxy-migration", f"{job.kind}-{uuid.uuid4().hex}", {"job": job.to_json(), "cpus": cpus}
        )
    except Exception:
        migrations.finish(job, "the migration could not start")
        raise
    return text_answer("accepted", 202)


_HA_ADDR = re.compile(r"^[\w\-.]+:\d{1,5}$")


def _removed_backends() -> tuple[dict[str, str], ...]:
    raw = body(proxy.current_request)
    try:
        doc = json.loads(raw)
        backends = doc["backends"]
        return tuple(
            {k: str(b.get(k) or "") for k in ("name", "url", "username", "password")}
            for b in backends
            if isinstance(b, dict) and b.get("url")
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        raise _Plain("invalid backends from body") from None


@route("/debug/pprof", methods=["GET"], name="pprof")
def pprof() -> Response:
    _service()
    raise TicklessError(
        NOT_IMPLEMENTED, "profiles are not available: the proxy runs on AWS Lambda, not as one Go process"
    )
