"""Every HTTP request, observed: one log line and one set of metrics, by a Chalice middleware
(`requests`, registered in app.py outside the edge middleware so it sees its 404s and 405s too).

The line (docs/OBSERVABILITY.md): `request_id`, `method`, `route` (the resource:
`/api/v2/buckets/{bucketID}`), `path`, `surface` (`v1`, `v2`, `kapacitor`, `proxy`), `operation` (`write`,
`query`, `other`), `status`, `latency_ms`, `bytes_in` (the body as received), `bytes_out` (the body
answered), `user_agent`, and for an error its cause. 2xx and 3xx are logged at info, 4xx at warning with
`error` (code, message and the chain of causes), 5xx at error with the traceback. Nothing else of the
request is logged: no headers, no query string, no body; and the request's credentials are redacted
from every line written while it is handled.

Views report what only they know through this module: the error they answered (`kit.renders_errors`
calls `note_error`) and the points a write accepted and dropped (`points_written`)."""

from __future__ import annotations

import base64
import binascii
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qsl

from chalice import Response
from chalice.app import Request

from chalicelib.observability import MetricUnit, cause_chain, logger, metric, redacting, scope

# Routes whose latency is the write and the query latency; their points are counted.
WRITE_ROUTES = frozenset({"/write", "/api/v2/write", "/kapacitor/v1/write", "/kapacitor/v1preview/write"})
QUERY_ROUTES = frozenset({"/query", "/api/v2/query"})
# The first path segment names the surface (as in edge.py); anything else is InfluxDB 1.x's.
_SURFACES = {
    "api": "v2",
    "private": "v2",
    "legacy": "v2",
    "kapacitor": "kapacitor",
    "proxy": "proxy",
    "v1": "stacktach",
}

# Parameters and JSON keys that carry credentials, redacted if they ever reach a line.
_SECRET_PARAMS = frozenset({"p", "password", "token"})
_SECRET_KEYS = ("password", "token", "secret")
_MAX_SCANNED_BODY = 64 * 1024  # larger bodies are points or queries, not credentials


@dataclass
class _Exchange:
    """What the views of one request report to its line."""

    error: BaseException | None = None
    accepted: int = 0
    rejected: int = 0
    wrote: bool = False


_exchange: ContextVar[_Exchange | None] = ContextVar("tickless_http_exchange", default=None)


def note_error(error: BaseException) -> bool:
    """The error a view answered with, for the request's line. False outside a request: then the
    caller logs it itself."""
    exchange = _exchange.get()
    if exchange is None:
        return False
    exchange.error = error
    return True


def points_written(accepted: int, rejected: int = 0) -> None:
    """A write's points: those on the stream, and those a partial write dropped."""
    exchange = _exchange.get()
    if exchange is not None:
        exchange.accepted += accepted
        exchange.rejected += rejected
        exchange.wrote = True


def surface(route: str) -> str:
    if os.environ.get("TICKLESS_SURFACE") == "proxy":  # a dedicated proxy deployment: every route is its
        return "proxy"
    return _SURFACES.get(route.strip("/").split("/", 1)[0], "v1")


def operation(route: str) -> str:
    if route in WRITE_ROUTES:
        return "write"
    return "query" if route in QUERY_ROUTES else "other"


def requests(request: Request | None, get_response: Callable[[Request | None], Response]) -> Response:
    """Chalice HTTP middleware: times the request, logs its line and writes its metrics."""
    if request is None:  # not an API Gateway request
        return get_response(request)
    started = time.perf_counter()
    exchange = _Exchange()
    token = _exchange.set(exchange)
    request_key = request_id(request)
    logger.thread_safe_append_keys(request_id=request_key)
    try:
        with redacting(credentials(request)), scope(request_id=request_key or ""):
            try:
                response = get_response(request)
            except Exception as exc:  # Chalice's own error handler answers it with a 500
                exchange.error = exc
                _observe(request, None, exchange, started)
                raise
            _observe(request, response, exchange, started)
            return response
    finally:
        logger.thread_safe_remove_keys(["request_id"])
        _exchange.reset(token)


def request_id(request: Request) -> str:
    """API Gateway's request id (in its access logs and `x-amzn-RequestId`), else Lambda's, else new."""
    context = request.context or {}
    found = context.get("requestId") or getattr(request.lambda_context, "aws_request_id", None)
    return str(found or uuid.uuid4())


def _observe(request: Request, response: Response | None, exchange: _Exchange, started: float) -> None:
    try:
        _log_and_measure(request, response, exchange, started)
    except Exception:  # observing must never change the answer
        logger.warning("request not observed", exc_info=True)


def _log_and_measure(
    request: Request, response: Response | None, exchange: _Exchange, started: float
) -> None:
    latency_ms = (time.perf_counter() - started) * 1000
    route = request.path or "/"
    status = response.status_code if response is not None else 500
    fields: dict[str, Any] = {
        "method": request.method,
        "route": route,
        "path": (request.context or {}).get("path") or route,
        "surface": surface(route),
        "operation": operation(route),
        "status": status,
        "latency_ms": round(latency_ms, 3),
        "bytes_in": len(request.raw_body or b""),
        "bytes_out": body_size(response.body) if response is not None else 0,
        "user_agent": request.headers.get("user-agent"),
    }
    if exchange.wrote:
        fields["points_accepted"] = exchange.accepted
        fields["points_rejected"] = exchange.rejected
    message = f"{request.method} {fields['path']} {status}"
    if status >= 500:
        fields["error"] = _describe(exchange.error, response)
        logger.error(message, extra=fields, exc_info=exchange.error)
    elif status >= 400:
        fields["error"] = _describe(exchange.error, response)
        logger.warning(message, extra=fields)
    else:
        logger.info(message, extra=fields)
    _measure(fields, latency_ms)


def _measure(fields: dict[str, Any], latency_ms: float) -> None:
    dimensions = {"surface": fields["surface"], "operation": fields["operation"]}
    metric("Requests", MetricUnit.Count, 1, **dimensions)
    metric("Latency", MetricUnit.Milliseconds, latency_ms, **dimensions)
    metric("BytesIn", MetricUnit.Bytes, fields["bytes_in"], **dimensions)
    metric("BytesOut", MetricUnit.Bytes, fields["bytes_out"], **dimensions)
    if "points_accepted" in fields:
        metric("PointsAccepted", MetricUnit.Count, fields["points_accepted"], **dimensions)
        metric("PointsRejected", MetricUnit.Count, fields["points_rejected"], **dimensions)
    status = fields["status"]
    if status >= 400:
        metric("Errors", MetricUnit.Count, 1, surface=fields["surface"], status_class=f"{status // 100}xx")


def _describe(error: BaseException | None, response: Response | None) -> dict[str, Any]:
    """Why a request failed: the error a view raised and its causes, else what the answer says."""
    if error is not None:
        described: dict[str, Any] = {"type": type(error).__name__, "message": str(error)}
        code = getattr(error, "code", None)
        if isinstance(code, str):
            described["code"] = code
        causes = cause_chain(error)[1:]
        if causes:
            described["cause"] = causes
        return described
    # An answer the app made without an exception (edge's 404/405, Chalice's 415): its own message.
    return {"message": _answer_message(response.body if response is not None else None)}


def _answer_message(body: Any) -> str | None:
    if isinstance(body, bytes | str) and len(body) < 4096:
        try:
            body = json.loads(body)
        except ValueError:
            return None
    if isinstance(body, dict):
        for key in ("message", "error", "Message"):
            if isinstance(body.get(key), str):
                return body[key]
    return None


def body_size(body: Any) -> int:
    """Bytes of an answer's body as Chalice sends it (before API Gateway's compression)."""
    if body is None:
        return 0
    if isinstance(body, bytes):
        return len(body)
    if isinstance(body, str):
        return len(body) if body.isascii() else len(body.encode("utf-8"))
    return len(json.dumps(body, separators=(",", ":"), default=str))


def credentials(request: Request) -> Iterator[str]:
    """Every credential the request carries, wherever it carries it: what lines must never show."""
    authorization = (request.headers.get("authorization") or "").strip()
    if authorization:
        yield authorization
        scheme, _, value = authorization.partition(" ")
        yield value.strip()
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(value.strip()).decode()
            except (binascii.Error, UnicodeDecodeError, ValueError):
                decoded = ""
            yield decoded
            yield decoded.partition(":")[2]
    cookies = request.headers.get("cookie")
    if cookies:
        yield cookies
        try:
            parsed = SimpleCookie(cookies)
        except CookieError:
            parsed = SimpleCookie()
        yield from (morsel.value for morsel in parsed.values())
    query = request.query_params
    for name in query or ():
        if name.lower() in _SECRET_PARAMS:
            yield from query.getlist(name)  # type: ignore[union-attr]
    yield from _body_credentials(request)


def _body_credentials(request: Request) -> Iterator[str]:
    raw = request.raw_body or b""
    if not raw or len(raw) > _MAX_SCANNED_BODY:
        return
    content_type = (request.headers.get("content-type") or "").lower()
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    if "x-www-form-urlencoded" in content_type:
        yield from (value for name, value in parse_qsl(text) if name.lower() in _SECRET_PARAMS)
    elif text.lstrip().startswith("{"):
        try:
            document = json.loads(text)
        except (ValueError, RecursionError):  # hostile nesting is the handler's to refuse, with a 400
            return
        yield from _json_secrets(document, depth=0)


def _json_secrets(node: Any, depth: int) -> Iterator[str]:
    if depth > 4:
        return
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str) and any(word in str(key).lower() for word in _SECRET_KEYS):
                yield value
            else:
                yield from _json_secrets(value, depth + 1)
    elif isinstance(node, list):
        for item in node:
            yield from _json_secrets(item, depth + 1)
