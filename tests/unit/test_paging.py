"""InfluxDB pagination: parameter validation, page cutting and links, checked against InfluxDB 2.x's
DecodeFindOptions / NewPagingLinks and the reference's own examples."""

from __future__ import annotations

import pytest

from chalicelib.api.paging import Page, links, paginate, parse_page
from chalicelib.kit.errors import INVALID, TicklessError

ID_A = "0000000000000001"
ID_B = "0000000000000002"
ITEMS = [{"id": f"{i:016x}", "name": f"b{i}"} for i in range(1, 8)]  # ids ...01 to ...07


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, Page(0, 20, None, False)),
        (None, Page(0, 20, None, False)),
        ({"offset": "", "limit": "", "after": "", "descending": ""}, Page(0, 20, None, False)),
        ({"offset": "5", "limit": "10"}, Page(5, 10, None, False)),
        ({"offset": "+3"}, Page(3, 20, None, False)),
        ({"limit": "1"}, Page(0, 1, None, False)),
        ({"limit": "100"}, Page(0, 100, None, False)),
        ({"after": "0A2B3C4D5E6F7A8B"}, Page(0, 20, "0a2b3c4d5e6f7a8b", False)),
        ({"descending": "true"}, Page(0, 20, None, True)),
        ({"descending": "T"}, Page(0, 20, None, True)),
        ({"descending": "1"}, Page(0, 20, None, True)),
        ({"descending": "False"}, Page(0, 20, None, False)),
        ({"sortBy": "name"}, Page(0, 20, None, False, "name")),
        ({"orgID": "0000000000000abc"}, Page(0, 20, None, False)),
    ],
)
def test_parse_page(query, expected):
    assert parse_page(query) == expected


def test_parse_page_custom_limits():
    assert parse_page({}, default_limit=50).limit == 50
    assert parse_page({"limit": "500"}, max_limit=1000).limit == 500
    with pytest.raises(TicklessError, match=r"limit must be between 1 and 10$"):
        parse_page({"limit": "11"}, max_limit=10)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"offset": "x"}, "offset is invalid"),
        ({"offset": "1.5"}, "offset is invalid"),
        ({"offset": " 1"}, "offset is invalid"),
        ({"offset": "1_0"}, "offset is invalid"),
        ({"offset": "99999999999999999999"}, "offset is invalid"),
        ({"offset": "-1"}, "offset is invalid"),  # InfluxDB lets it through; the spec says minimum 0
        ({"limit": "ten"}, "limit is invalid"),
        ({"limit": "0"}, "limit must be between 1 and 100"),
        ({"limit": "-5"}, "limit must be between 1 and 100"),
        ({"limit": "101"}, "limit must be between 1 and 100"),  # an error, not clamped
        ({"after": "abc"}, "decoding after: id must have a length of 16 bytes"),
        ({"after": "000000000000000g"}, "decoding after: invalid ID"),
        ({"after": "0000000000000000"}, "decoding after: invalid ID"),
        ({"descending": "yes"}, "descending is invalid"),
        # InfluxDB checks offset, after, limit, then descending: the first bad one is reported.
        ({"offset": "x", "limit": "0"}, "offset is invalid"),
        ({"after": "x", "limit": "0"}, "decoding after: id must have a length of 16 bytes"),
        ({"limit": "0", "descending": "yes"}, "limit must be between 1 and 100"),
    ],
)
def test_parse_page_rejects(query, message):
    with pytest.raises(TicklessError) as caught:
        parse_page(query)
    assert caught.value.code == INVALID
    assert caught.value.status == 400
    assert caught.value.message == message


def ids(items):
    return [int(item["id"], 16) for item in items]


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        (Page(), [1, 2, 3, 4, 5, 6, 7]),
        (Page(limit=3), [1, 2, 3]),
        (Page(offset=3, limit=3), [4, 5, 6]),
        (Page(offset=6, limit=3), [7]),
        (Page(offset=50, limit=1), []),
        (Page(after=ID_B), [3, 4, 5, 6, 7]),
        (Page(after=ID_B, limit=2), [3, 4]),
        (Page(after=ID_B, offset=1, limit=2), [4, 5]),
        (Page(after="0000000000000007"), []),
        (Page(descending=True), [7, 6, 5, 4, 3, 2, 1]),
        (Page(descending=True, limit=2), [7, 6]),
        (Page(descending=True, offset=5, limit=5), [2, 1]),
        (Page(descending=True, after=ID_B, limit=2), [7, 6]),
    ],
)
def test_paginate(page, expected):
    assert ids(paginate(ITEMS, page)) == expected


def test_paginate_other_key_and_input_untouched():
    items = [{"name": n} for n in ("a", "b", "c")]
    assert paginate(items, Page(after="a"), key="name") == [{"name": "b"}, {"name": "c"}]
    assert paginate(items, Page(descending=True, limit=1), key="name") == [{"name": "c"}]
    assert [i["name"] for i in items] == ["a", "b", "c"]


BUCKETS = "/api/v2/buckets"


@pytest.mark.parametrize(
    ("query", "page", "returned", "expected"),
    [
        # The reference's example: `?limit=1&offset=50` for a user with 10 buckets.
        (
            {"orgID": "ORG_ID"},
            Page(offset=50, limit=1),
            0,
            {
                "prev": "/api/v2/buckets?descending=false&limit=1&offset=49&orgID=ORG_ID",
                "self": "/api/v2/buckets?descending=false&limit=1&offset=50&orgID=ORG_ID",
            },
        ),
        # The reference's GetBuckets sample: filters kept, everything sorted by name.
        (
            {"name": "_monitoring", "orgID": "ORG_ID"},
            Page(),
            1,
            {"self": "/api/v2/buckets?descending=false&limit=20&name=_monitoring&offset=0&orgID=ORG_ID"},
        ),
        # Full first page: next, no prev.
        (
            {},
            Page(limit=2),
            2,
            {
                "self": "/api/v2/buckets?descending=false&limit=2&offset=0",
                "next": "/api/v2/buckets?descending=false&limit=2&offset=2",
            },
        ),
        # Full middle page: both; prev never goes below 0.
        (
            {},
            Page(offset=1, limit=2),
            2,
            {
                "prev": "/api/v2/buckets?descending=false&limit=2&offset=0",
                "self": "/api/v2/buckets?descending=false&limit=2&offset=1",
                "next": "/api/v2/buckets?descending=false&limit=2&offset=3",
            },
        ),
        # after, descending and sortBy are carried into every link; paging params in the query and
        # empty filters are replaced/dropped.
        (
            {"offset": "9", "limit": "9", "descending": "1", "org": "", "orgID": "x"},
            Page(offset=0, limit=1, after=ID_A, descending=True, sort_by="name"),
            1,
            {
                "self": f"/api/v2/buckets?after={ID_A}&descending=true&limit=1&offset=0&orgID=x&sortBy=name",
                "next": f"/api/v2/buckets?after={ID_A}&descending=true&limit=1&offset=1&orgID=x&sortBy=name",
            },
        ),
        # Filter values are query-escaped like Go's url.QueryEscape.
        (
            {"name": "my bucket/\u00e9&b"},
            Page(),
            0,
            {"self": "/api/v2/buckets?descending=false&limit=20&name=my+bucket%2F%C3%A9%26b&offset=0"},
        ),
        (None, Page(), 3, {"self": "/api/v2/buckets?descending=false&limit=20&offset=0"}),
    ],
)
def test_links(query, page, returned, expected):
    assert links(BUCKETS, query, page, returned) == expected


def test_links_key_order_matches_influxdb():
    assert list(links(BUCKETS, {}, Page(offset=2, limit=2), 2)) == ["prev", "self", "next"]


def test_parse_then_links_round_trip():
    query = {"orgID": "0000000000000abc", "limit": "3", "offset": "3"}
    page = parse_page(query)
    returned = paginate(ITEMS, page)
    assert ids(returned) == [4, 5, 6]
    out = links(BUCKETS, query, page, len(returned))
    assert out["next"] == "/api/v2/buckets?descending=false&limit=3&offset=6&orgID=0000000000000abc"
    assert out["prev"] == "/api/v2/buckets?descending=false&limit=3&offset=0&orgID=0000000000000abc"
