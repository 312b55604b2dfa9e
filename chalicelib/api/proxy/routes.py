"""influx-proxy's endpoints (seed 003): thin views over chalicelib/proxy/service.py."""

from __future__ import annotations

from chalice import Response

from chalicelib import compose
from chalicelib.api.influxdb.auth import basic_credentials
from chalicelib.api.kit import body, params
from chalicelib.api.proxy.blueprint import VERSION_HEADERS, json_answer, proxy, route, text_answer
from chalicelib.kit.errors import INVALID, NOT_FOUND, NOT_IMPLEMENTED, TicklessError
from chalicelib.proxy import cipher
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


@route("/migrate/state", methods=["GET", "POST"], name="migrate_state")
@route("/migrate/stats", methods=["GET"], name="migrate_stats")
@route("/rebalance", methods=["POST"], name="rebalance")
@route("/recovery", methods=["POST"], name="recovery")
@route("/resync", methods=["POST"], name="resync")
@route("/clear", methods=["POST"], name="clear")
def migrations() -> Response:
    _service()
    raise TicklessError(
        NOT_IMPLEMENTED, "migrations are not available yet on tickless (rebalance, recovery, resync, clear)"
    )


@route("/debug/pprof", methods=["GET"], name="pprof")
def pprof() -> Response:
    _service()
    raise TicklessError(
        NOT_IMPLEMENTED, "profiles are not available: the proxy runs on AWS Lambda, not as one Go process"
    )
