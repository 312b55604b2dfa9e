"""HTTP helpers every API surface shares: bodies (gzip, size limits, JSON), parameters, JSON answers, and
turning TicklessErrors into each surface's own error format."""

from __future__ import annotations

import functools
import json
import zlib
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs

from aws_lambda_powertools import Logger
from chalice import Response
from chalice.app import Request

from chalicelib.api import observability
from chalicelib.kit.errors import INTERNAL, INVALID, TOO_LARGE, TicklessError

logger = Logger(child=True)

ANY_CONTENT_TYPE = ["*/*"]
MAX_BODY_BYTES = 25_000_000  # after decompression, as InfluxDB's default max-body-size
GZIP_MAGIC = b"\x1f\x8b"


def body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body, gunzipped when Content-Encoding says gzip, refusing more than `limit` bytes."""
    raw = request.raw_body or b""
    if len(raw) > limit:
        raise TicklessError(TOO_LARGE, "request body is too large")
    encoding = (request.headers.get("content-encoding") or "").strip().lower()
    if encoding in ("", "identity"):
        return raw
    if encoding != "gzip":
        raise TicklessError(INVALID, f"unsupported content encoding: {encoding}")
    if raw and not raw.startswith(GZIP_MAGIC):
        # API Gateway (REST) inflates gzip request bodies itself and keeps the header (docs/DEPLOY.md):
        # what reaches us labelled gzip but without gzip's magic bytes is that decoded body.
        return raw
    return gunzip(raw, limit)


def gunzip(raw: bytes, limit: int = MAX_BODY_BYTES) -> bytes:
    """Every member of a gzip stream (`gzip -c a b`, or a client that compresses in parts), at most
    `limit` bytes in all. Anything after the last member that is not another whole member is refused,
    as Go's gzip reader (InfluxDB's) refuses it."""
    parts: list[bytes] = []
    size = 0
    rest = raw
    while True:
        trailing = "data after the gzip stream" if parts else None
        inflater = zlib.decompressobj(wbits=31)  # one gzip member
        try:
            data = inflater.decompress(rest, limit + 1 - size)
            if size + len(data) > limit or inflater.unconsumed_tail:
                raise TicklessError(TOO_LARGE, "request body is too large")
            data += inflater.flush()
            if size + len(data) > limit:
                raise TicklessError(TOO_LARGE, "request body is too large")
        except zlib.error as exc:
            raise TicklessError(INVALID, f"invalid gzip body: {trailing or exc}") from exc
        if not inflater.eof:
            raise TicklessError(INVALID, f"invalid gzip body: {trailing or 'unexpected end of data'}")
        parts.append(data)
        size += len(data)
        rest = inflater.unused_data
        if not rest:
            return b"".join(parts)


def json_body(raw: bytes, error_prefix: str = "failed to decode request body") -> Any:
    """A JSON request body (an empty one is `{}`); malformed JSON is `invalid`, worded
    `<error_prefix>: <what is wrong>` as the surface words it."""
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise TicklessError(INVALID, f"{error_prefix}: {exc}") from exc


def json_object(raw: bytes, error_prefix: str = "failed to decode request body") -> dict[str, Any]:
    """A JSON request body that must be an object (an empty body is `{}`)."""
    doc = json_body(raw, error_prefix)
    if not isinstance(doc, dict):
        raise TicklessError(INVALID, f"{error_prefix}: expected a JSON object")
    return doc


def params(request: Request) -> dict[str, str]:
    """Query string parameters, plus form fields of a urlencoded body (InfluxDB 1.x reads both)."""
    merged: dict[str, str] = {}
    content_type = (request.headers.get("content-type") or "").lower()
    if request.method == "POST" and content_type.startswith("application/x-www-form-urlencoded"):
        for key, values in parse_qs(body(request).decode("utf-8", "replace")).items():
            merged[key] = values[-1]
    merged.update(request.query_params or {})
    return merged


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        body=json.dumps(payload, separators=(",", ":"), ensure_ascii=False),
        status_code=status,
        headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})},
    )


Renderer = Callable[[TicklessError], Response]


def code_and_message(headers: Mapping[str, str]) -> Renderer:
    """InfluxDB 2.x's errors: `{"code", "message"}`, the code also in `X-Platform-Error-Code`."""

    def render(error: TicklessError) -> Response:
        extra = {**headers, "X-Platform-Error-Code": error.code}
        return json_response({"code": error.code, "message": error.message}, error.status, extra)

    return render


def error_only(headers: Mapping[str, str]) -> Renderer:
    """The `{"error": message}` errors of InfluxDB 1.x, Kapacitor and influx-proxy."""

    def render(error: TicklessError) -> Response:
        return json_response({"error": error.message}, error.status, dict(headers))

    return render


def renders_errors(render: Renderer) -> Callable:
    """Decorator factory: a view's TicklessErrors (and unexpected exceptions, as `internal error`)
    are rendered by the surface's `render` function instead of Chalice's default error body."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return view(*args, **kwargs)
            except TicklessError as exc:
                observability.note_error(exc)  # the request's line says why (api/observability.py)
                return render(exc)
            except Exception as exc:
                if not observability.note_error(exc):  # outside a request: nobody else logs it
                    logger.exception("unhandled error")
                return render(TicklessError(INTERNAL, "internal error"))

        return wrapper

    return decorate
