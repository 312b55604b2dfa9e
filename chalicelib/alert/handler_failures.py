"""What Kapacitor logs when a service answers a handler's request with an error status, from the
status and the body of the answer."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _text(body: bytes) -> str:
    return body.decode("utf-8", "replace")


def _field(doc: dict[str, Any] | None, name: str, default: str) -> str:
    value = (doc or {}).get(name, default)
    return value if isinstance(value, str) else default


def _post_failure(params: Mapping[str, Any], status: int, body: bytes) -> str:
    if params.get("capture-response"):
        return _text(body)
    return "unknown error, use .captureResponse() to capture the HTTP response"


def _slack_failure(params: Mapping[str, Any], status: int, body: bytes) -> str:
    default = f"failed to understand Slack response. code: {status} content: {_text(body)}"
    return _field(_json_object(body), "error", default)


def _teams_failure(params: Mapping[str, Any], status: int, body: bytes) -> str:
    default = f"failed to understand Teams response. code: {status} content: {_text(body)}"
    return _field(_json_object(body), "error", default)


def _pagerduty2_failure(params: Mapping[str, Any], status: int, body: bytes) -> str:
    doc = _json_object(body)
    message = _field(
        doc, "message", f"failed to understand PagerDuty2 response. code: {status} content: {_text(body)}"
    )
    errors = (doc or {}).get("errors")
    listed = " ".join(e for e in errors if isinstance(e, str)) if isinstance(errors, list) else ""
    return f"Status: {_field(doc, 'status', '')}, Message: {message} Errors: [{listed}]"


def _opsgenie2_failure(params: Mapping[str, Any], status: int, body: bytes) -> str:
    default = f"failed to understand OpsGenie response. code: {status} content: {_text(body)}"
    return "opsgenie error: " + _field(_json_object(body), "message", default)


def _telegram_failure(params: Mapping[str, Any], status: int, body: bytes) -> str:
    doc = _json_object(body)
    if doc is None:
        reason = _json_syntax_error(body)
        return (
            f"failed to understand Telegram response (err: {reason}). code: {status} content: {_text(body)}"
        )
    code = doc.get("error_code", 0)
    code = code if isinstance(code, int) and not isinstance(code, bool) else 0
    return f"sendMessage error ({code}) description: {_field(doc, 'description', '')}"


def _json_syntax_error(body: bytes) -> str:
    """Go's wording for the usual ways a non-JSON answer fails (an HTML page, an empty body)."""
    text = _text(body).lstrip(" \t\r\n")
    if not text:
        return "unexpected end of JSON input"
    if text[0] not in '{["-0123456789tfn':
        return f"invalid character {text[0]!r} looking for beginning of value"
    if text[0] in '["-0123456789tfn' and _json_object(body) is None:
        try:
            json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return "invalid character in JSON"
        return "json: cannot unmarshal non-object into Go value of type telegram.response"
    return "invalid character in JSON"


def _influxdb_failure(params: Mapping[str, Any], status: int, body: bytes) -> str:
    """InfluxDB's `{"error": ...}` answer, else what it said, with the status."""
    return _field(_json_object(body), "error", f"received status code {status} from server: {_text(body)}")


FAILURES: dict[str, Callable[[Mapping[str, Any], int, bytes], str]] = {
    "post": _post_failure,
    "slack": _slack_failure,
    "teams": _teams_failure,
    "pagerduty2": _pagerduty2_failure,
    "opsgenie2": _opsgenie2_failure,
    "telegram": _telegram_failure,
    "influxDBOut": _influxdb_failure,
}


def failure_message(kind: str, params: Mapping[str, Any], status: int, body: bytes) -> str:
    return FAILURES.get(kind, _post_failure)(params, status, body)
