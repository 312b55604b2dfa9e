"""InfluxDB line protocol: a validating parser (`parse`) and a serializer (`format_point(s)`).

Pure Python, stdlib only. See docs/LINEPROTOCOL.md.
"""

from .parser import (
    MAX_KEY_LENGTH,
    MAX_TIME,
    MIN_TIME,
    PRECISIONS,
    RESERVED_FIELD_KEYS,
    RESERVED_TAG_KEYS,
    LineProtocolError,
    parse,
)
from .serializer import (
    escape_key,
    escape_measurement,
    escape_string,
    format_fields,
    format_point,
    format_points,
    series_key,
)

__all__ = [
    "MAX_KEY_LENGTH",
    "MAX_TIME",
    "MIN_TIME",
    "PRECISIONS",
    "RESERVED_FIELD_KEYS",
    "RESERVED_TAG_KEYS",
    "LineProtocolError",
    "escape_key",
    "escape_measurement",
    "escape_string",
    "format_fields",
    "format_point",
    "format_points",
    "parse",
    "series_key",
]
