"""InfluxDB v2 pagination, generic over any list of dicts: parse `offset`, `limit`, `after`, `descending`
and `sortBy` as InfluxDB does, cut a page out of an already sorted list, and build the `links` object
(`self`, `next`, `prev`) every list response carries.

Behaviour follows InfluxDB 2.x (`DecodeFindOptions`, `FindOptions.QueryParams`, `NewPagingLinks`):
- an empty parameter counts as absent; `limit` defaults to 20 and outside 1..100 is an error
  (`limit must be between 1 and 100`), not clamped;
- `after` must be a valid ID (16 hex characters, not all zero); links carry it lower-cased;
- links list their parameters sorted by name, `+`-escaped like Go's `url.Values.Encode`, e.g.
  `/api/v2/buckets?descending=false&limit=20&name=_monitoring&offset=0&orgID=...`; `next` appears when
  the page is full (`returned >= limit`), `prev` when `offset > 0` (at offset `max(0, offset - limit)`).

One deliberate difference: InfluxDB accepts a negative offset (and then behaves as if it were 0), while
its OpenAPI spec declares `minimum: 0`; we follow the spec and answer `offset is invalid`.

Pure: no AWS, no HTTP framework.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote_plus

from chalicelib.kit.errors import INVALID, TicklessError

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
# The parameters paging owns: a caller's filters never override them in links.
PAGING_PARAMS = frozenset({"offset", "limit", "after", "descending", "sortBy"})

_INT = re.compile(r"[+-]?[0-9]+")
_ID = re.compile(r"[0-9a-fA-F]{16}")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
# Go's strconv.ParseBool.
_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})


@dataclass(frozen=True)
class Page:
    offset: int = 0
    limit: int = DEFAULT_LIMIT
    after: str | None = None
    descending: bool = False
    # InfluxDB echoes `sortBy` in links; sorting itself is the caller's business.
    sort_by: str | None = None


def _atoi(text: str) -> int | None:
    """Go's strconv.Atoi on a 64-bit platform: optional sign, ASCII digits, no spaces, int64 range."""
    if not _INT.fullmatch(text):
        return None
    value = int(text)
    return value if _INT64_MIN <= value <= _INT64_MAX else None


def _after(text: str) -> str:
    """Validate `after` as an InfluxDB ID, with InfluxDB's messages; returns it lower-cased."""
    if len(text) != 16:
        raise TicklessError(INVALID, "decoding after: id must have a length of 16 bytes")
    if not _ID.fullmatch(text) or int(text, 16) == 0:
        raise TicklessError(INVALID, "decoding after: invalid ID")
    return text.lower()


def parse_page(
    query: Mapping[str, str] | None, *, default_limit: int = DEFAULT_LIMIT, max_limit: int = MAX_LIMIT
) -> Page:
    """The paging options of a request's query string, checked in InfluxDB's order (offset, after,
    limit, descending) so the first bad parameter is the one reported."""
    query = query or {}
    offset = 0
    if raw := query.get("offset"):
        parsed = _atoi(raw)
        if parsed is None or parsed < 0:
            raise TicklessError(INVALID, "offset is invalid")
        offset = parsed
    after = _after(raw) if (raw := query.get("after")) else None
    limit = default_limit
    if raw := query.get("limit"):
        parsed = _atoi(raw)
        if parsed is None:
            raise TicklessError(INVALID, "limit is invalid")
        if not 1 <= parsed <= max_limit:
            raise TicklessError(INVALID, f"limit must be between 1 and {max_limit}")
        limit = parsed
    sort_by = query.get("sortBy") or None
    descending = False
    if raw := query.get("descending"):
        if raw in _TRUE:
            descending = True
        elif raw not in _FALSE:
            raise TicklessError(INVALID, "descending is invalid")
    return Page(offset=offset, limit=limit, after=after, descending=descending, sort_by=sort_by)


def paginate(items: Sequence[dict], page: Page, *, key: str = "id") -> list[dict]:
    """The page of `items` (sorted ascending by the caller): those whose `key` sorts after
    `page.after`, reversed when descending, then `offset` skipped and at most `limit` kept."""
    selected = list(items)
    if page.after is not None:
        selected = [item for item in selected if str(item.get(key, "")) > page.after]
    if page.descending:
        selected.reverse()
    return selected[page.offset : page.offset + page.limit]


def _url(path: str, params: Mapping[str, str]) -> str:
    # Go's url.Values.Encode: keys sorted, both sides query-escaped (space as `+`).
    encoded = "&".join(f"{quote_plus(k)}={quote_plus(v)}" for k, v in sorted(params.items()))
    return f"{path}?{encoded}" if encoded else path


def links(path: str, query: Mapping[str, str] | None, page: Page, returned: int) -> dict[str, str]:
    """InfluxDB's `links` for a list response: `self`, plus `next` when the page is full and `prev`
    when `offset > 0`. `query` holds the caller's filters (e.g. `orgID`, `name`): empty values are
    dropped and paging parameters are replaced by the effective ones from `page`."""
    params = {k: v for k, v in (query or {}).items() if v != "" and k not in PAGING_PARAMS}
    params["descending"] = "true" if page.descending else "false"
    params["offset"] = str(page.offset)
    params["limit"] = str(page.limit)
    if page.after is not None:
        params["after"] = page.after
    if page.sort_by:
        params["sortBy"] = page.sort_by
    out: dict[str, str] = {}
    # InfluxDB's PagingLinks field order: prev, self, next.
    if page.offset > 0:
        out["prev"] = _url(path, {**params, "offset": str(max(0, page.offset - page.limit))})
    out["self"] = _url(path, params)
    if returned >= page.limit:
        out["next"] = _url(path, {**params, "offset": str(page.offset + page.limit)})
    return out
