"""One error type with a code, shared by every domain package.

Domain code raises `TicklessError(code, message)`; each API surface renders it in its own format
(InfluxDB `{"code","message"}`, Kapacitor and proxy `{"error"}`) with the status from `STATUS`.
"""

from __future__ import annotations

INVALID = "invalid"
EMPTY_VALUE = "empty value"
UNAUTHORIZED = "unauthorized"
FORBIDDEN = "forbidden"
NOT_FOUND = "not found"
METHOD_NOT_ALLOWED = "method not allowed"
TOO_LARGE = "request too large"
CONFLICT = "conflict"
UNPROCESSABLE = "unprocessable entity"
TOO_MANY_REQUESTS = "too many requests"
INTERNAL = "internal error"
NOT_IMPLEMENTED = "not implemented"
UNAVAILABLE = "unavailable"

STATUS: dict[str, int] = {
    INVALID: 400,
    EMPTY_VALUE: 400,
    UNAUTHORIZED: 401,
    FORBIDDEN: 403,
    NOT_FOUND: 404,
    METHOD_NOT_ALLOWED: 405,
    TOO_LARGE: 413,
    CONFLICT: 422,
    UNPROCESSABLE: 422,
    TOO_MANY_REQUESTS: 429,
    INTERNAL: 500,
    NOT_IMPLEMENTED: 501,
    UNAVAILABLE: 503,
}


class TicklessError(Exception):
    def __init__(self, code: str, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        # A surface may need a status other than the code's (InfluxDB 1.x answers 400 where 2.x says 422).
        self.status = status if status is not None else STATUS[code]


def invalid(message: str) -> TicklessError:
    return TicklessError(INVALID, message)


def not_found(message: str) -> TicklessError:
    return TicklessError(NOT_FOUND, message)
