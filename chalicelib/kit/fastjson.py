"""JSON of plain data through orjson where it gives exactly what the json module gives, json otherwise.

orjson refuses what json takes (ints beyond 64 bits, surrogates, non-string keys, subclasses) and writes
NaN and infinities as null, which json keeps: what orjson refuses, and any text holding a `null`, goes
through json. Reading takes orjson, but json for what orjson rejects (NaN) or reads otherwise: an int
beyond 64 bits (orjson makes it a float), found as a number of 19 digits or more."""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

# Subclasses, dataclasses and datetimes go to orjson's `default` (none here: a TypeError, so json's way).
_STRICT = orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME


def dumps(data: Any) -> bytes:
    """`json.dumps(data, separators=(",", ":"))` as UTF-8, or text that loads to the same data."""
    try:
        text = orjson.dumps(data, option=_STRICT)
    except TypeError:  # orjson.JSONEncodeError
        text = b"null"
    if b"null" in text:
        return json.dumps(data, separators=(",", ":")).encode()
    return text


# a number (after `:`, `,` or `[`) of 19 digits or more; digits in strings (Kinesis sequence numbers)
# do not count unless they look like one
_LONG_DIGITS = re.compile(rb"(?:^|[:,\[])\s*-?\d{19}")


def loads(raw: bytes) -> Any:
    if _LONG_DIGITS.search(raw) is None:
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    return json.loads(raw)


def copy(data: Any) -> Any:
    """`json.loads(json.dumps(data))`: detached from `data`, and proof that it is plain data."""
    return loads(dumps(data))
