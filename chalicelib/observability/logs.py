"""The service's Powertools Logger and its format, both from the environment:

* `LOG_LEVEL` (or `POWERTOOLS_LOG_LEVEL`; Lambda's own log level control wins over both): Powertools
  reads it.
* `LOG_FORMAT`: `json` (the default: one JSON object a line, what CloudWatch Logs Insights queries) or
  `text` (`<time> <LEVEL> <message> key=value ...` and the traceback below, for a terminal). The local
  stack's stage sets `text` in `.chalice/config.json`; it is configuration, the code has no notion of
  where it runs.

Every module logs through a child Logger (`Logger(child=True)`) or `logger` here; their records all end in
the one handler configured here, so every line has the same keys wherever it runs. A line never carries
a credential: the HTTP middleware names the request's credentials (`redacting`) and the formatter
replaces any that slipped into a line, a last guard behind logging no headers, query strings or bodies.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

FORMAT_ENV = "LOG_FORMAT"
REDACTED = "[REDACTED]"
# A credential shorter than this is not searched for in lines: it would blank out common words.
MIN_SECRET_LENGTH = 4

# The credentials of the request being handled (a context variable: the local stack serves requests in
# threads of one process).
_secrets: ContextVar[tuple[str, ...]] = ContextVar("tickless_log_secrets", default=())


@contextmanager
def redacting(secrets: Iterable[str]) -> Iterator[None]:
    """Within the block, lines written in this context have these strings replaced by `[REDACTED]`."""
    wanted = tuple(sorted({s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True))
    token = _secrets.set(wanted)
    try:
        yield
    finally:
        _secrets.reset(token)


def _redact(line: str) -> str:
    for secret in _secrets.get():
        # as written, and as JSON escapes it (a quote or backslash in a password)
        line = line.replace(secret, REDACTED).replace(json.dumps(secret)[1:-1], REDACTED)
    return line


class JsonFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON lines, with the request's credentials redacted."""

    def serialize(self, log: dict[str, Any]) -> str:  # type: ignore[override]
        return _redact(super().serialize(log))


# Keys the text format shows in its fixed columns or leaves out (the traceback follows the line).
_TEXT_HIDDEN = frozenset(
    {"level", "message", "timestamp", "location", "service", "sampling_rate", "xray_trace_id"}
    | {"exception", "exception_name", "exception_notes", "stack_trace"}
)


def _text_value(value: Any) -> str:
    if isinstance(value, str) and value and not any(c.isspace() or c in '"=' for c in value):
        return value
    return json.dumps(value, default=str, ensure_ascii=False, separators=(",", ":"))


class TextFormatter(LambdaPowertoolsFormatter):
    """The same records as one readable line each: `<time> <LEVEL> <message> key=value ...`."""

    def serialize(self, log: dict[str, Any]) -> str:  # type: ignore[override]
        keys = " ".join(f"{k}={_text_value(v)}" for k, v in log.items() if k not in _TEXT_HIDDEN)
        line = f"{log.get('timestamp', '')} {log.get('level', ''):<7} {log.get('message', '')}"
        line = f"{line}  {keys}" if keys else line
        if log.get("exception"):
            line = f"{line}\n{log['exception']}"
        return _redact(line)


def formatter(service: str, log_format: str | None = None) -> LambdaPowertoolsFormatter:
    """The formatter `LOG_FORMAT` asks for; anything but `text` is JSON, what Lambda's logs expect."""
    chosen = (log_format if log_format is not None else os.environ.get(FORMAT_ENV, "json")).strip().lower()
    kind = TextFormatter if chosen == "text" else JsonFormatter
    return kind(service=service, utc=True, use_rfc3339=True)


def cause_chain(error: BaseException) -> list[str]:
    """`Type: message` of an exception and of each exception it was raised from or during, outermost
    first: what a 4xx's line says about why, where a 5xx's has the whole traceback."""
    chain: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        text = str(current)
        chain.append(f"{type(current).__name__}: {text}" if text else type(current).__name__)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return chain


# The AWS libraries' debug lines print the requests they send and the answers, DynamoDB keys and items
# included, and tokens are keys (the authorizations' index): they would carry credentials. They log at
# INFO at most, whatever level the process runs at (the root logger's, set before the app is imported).
for _library in ("botocore", "boto3", "pynamodb", "urllib3"):
    logging.getLogger(_library).setLevel(max(logging.INFO, logging.getLogger(_library).getEffectiveLevel()))

logger = Logger()  # the service named by POWERTOOLS_SERVICE_NAME, as every child Logger
# Powertools configures a service's handler for the first Logger() created only, and another module's may
# have come first: the format is set here either way.
logger.registered_handler.setFormatter(formatter(logger.service))
