"""Tag postings in the series index: a WHERE that pins a tag reads only the matching series' index
entries, and answers exactly as the full read of the measurement's index does (docs/STORAGE.md)."""

from __future__ import annotations

import pytest

from tests.api.conftest import query
from tests.api.test_write_api import write_v1

LINES = """\
cpu,host=a,region=us usage=1.5,idle=90i 1000000000
cpu,host=b,region=eu usage=2.5,idle=80i 2000000000
cpu,host=a,region=us usage=3.5 3000000000
cpu,host=c usage=4.5,idle=70i 4000000000
cpu,host=a,region=eu,rack=r1 usage=5.5 5000000000
mem,host=a used=10i 1000000000
odd,kind=k host="a",v=1 1000000000
"""

QUERIES = [
    "SELECT * FROM cpu WHERE host = 'a'",
    "SELECT * FROM cpu WHERE 'a' = host",
    "SELECT usage FROM cpu WHERE host = 'a' OR host = 'c' GROUP BY *",
    "SELECT * FROM cpu WHERE (host = 'b' OR host = 'zz') AND time < 10s",
    "SELECT * FROM cpu WHERE \"host\"::tag = 'c'",
    "SELECT * FROM cpu WHERE host = 'a' AND region = 'us'",
    "SELECT count(usage) FROM cpu WHERE host = 'zz'",
    "SELECT count(usage) FROM cpu WHERE nosuch = 'x' GROUP BY *",
    "SELECT mean(usage) FROM cpu WHERE host = 'a' GROUP BY time(2s), * fill(none)",
    "SELECT * FROM cpu, mem WHERE host = 'a'",
    "SELECT * FROM odd WHERE host = 'a'",
    "SELECT * FROM /.*/ WHERE host = 'a'",
    "SHOW SERIES FROM cpu WHERE host = 'a'",
    "SHOW TAG KEYS FROM cpu WHERE host = 'c'",
    "SHOW TAG VALUES FROM cpu WITH KEY = region WHERE host = 'a' OR host = 'b'",
    "SHOW MEASUREMENTS WHERE host = 'c'",
    "SHOW TAG VALUES WITH KEY = host WHERE host = 'zz'",
]


def _namespace(client, database: str) -> str:
    (bucket,) = client.http.get(f"/api/v2/buckets?name={database}/autogen").json_body["buckets"]
    return bucket["id"]


def _fresh_index() -> None:
    """Forget the app's cached index reads (the tests change the index behind its back)."""
    from chalicelib import compose

    compose.index().clear()


def _forget_postings(ns: str, measurement: str) -> None:
    """Make the measurement look written before postings existed: no postings, no marker."""
    from chalicelib.adapters.series import SeriesIndexItem, _measurements_pk, _postings_pk
    from chalicelib.series.keys import bounded

    with SeriesIndexItem.batch_write() as batch:
        for item in SeriesIndexItem.query(_postings_pk(ns, measurement)):
            batch.delete(item)
    SeriesIndexItem(_measurements_pk(ns), bounded(measurement)).update(
        actions=[SeriesIndexItem.postings.remove()]
    )
    _fresh_index()


def _postings(ns: str, measurement: str) -> list[str]:
    from chalicelib.adapters.series import SeriesIndexItem, _postings_pk

    return sorted(item.sk for item in SeriesIndexItem.query(_postings_pk(ns, measurement)))


_FROM = 'from(bucket: "{db}/autogen") |> range(start: 0, stop: 1970-01-01T00:01:40Z) '
FLUX = [
    _FROM + '|> filter(fn: (r) => r.host == "a" and r._field != "idle" and r._field != "used")',
    _FROM + '|> filter(fn: (r) => r._measurement == "cpu" and (r["host"] == "b" or "c" == r.host)'
    ' and r._field == "usage") |> keep(columns: ["_time", "_value", "host", "region"])',
    _FROM + '|> filter(fn: (r) => r.host == "zz")',
]


def _answers(client, database: str) -> list:
    from tests.api.test_flux_api import flux

    _fresh_index()
    answers: list = [query(client, q, db=database, epoch="s") for q in QUERIES]
    for q in FLUX:
        response = flux(client, q.format(db=database))
        assert response.status_code == 200, response.body
        answers.append(response.body)
    return answers


@pytest.fixture
def loaded(client, pump, database):
    assert write_v1(client, LINES, db=database).status_code == 204
    pump.drain()
    return database


def test_a_pinned_tag_reads_only_its_postings(client, loaded):
    from chalicelib.adapters.series import DynamoIndex

    ns = _namespace(client, loaded)
    index = DynamoIndex()
    assert index.tag_keys(ns, "cpu") == ["host", "rack", "region"]
    pinned = index.series(ns, "cpu", ("host", frozenset({"a", "zz"})))
    assert [e.key for e in pinned] == ["cpu,host=a,rack=r1,region=eu", "cpu,host=a,region=us"]
    assert [e.key for e in index.series(ns, "cpu", ("region", frozenset({"eu"})))] == [
        "cpu,host=a,rack=r1,region=eu",
        "cpu,host=b,region=eu",
    ]
    assert len(index.series(ns, "cpu")) == 4
    assert len(_postings(ns, "cpu")) == 8  # one per tag of each series


def test_answers_are_the_same_with_and_without_postings(client, loaded):
    ns = _namespace(client, loaded)
    with_postings = _answers(client, loaded)
    first = with_postings[0]["results"][0]["series"][0]
    assert first["columns"] == ["time", "host", "idle", "rack", "region", "usage"]
    assert first["values"] == [
        [1, "a", 90, None, "us", 1.5],
        [3, "a", None, None, "us", 3.5],
        [5, "a", None, "r1", "eu", 5.5],
    ]
    for measurement in ("cpu", "mem", "odd"):
        _forget_postings(ns, measurement)
    assert _answers(client, loaded) == with_postings


def test_a_measurement_written_before_postings_still_answers(client, pump, loaded):
    """Its reads read every series, even after new series (with postings) join it."""
    from chalicelib.adapters.series import DynamoIndex

    ns = _namespace(client, loaded)
    expected = _answers(client, loaded)
    _forget_postings(ns, "cpu")
    assert DynamoIndex().tag_keys(ns, "cpu") is None
    assert _answers(client, loaded) == expected
    assert write_v1(client, "cpu,host=d usage=9.5 6000000000\n", db=loaded).status_code == 204
    pump.drain()
    assert DynamoIndex().tag_keys(ns, "cpu") is None  # still unmarked: the old series have none
    assert len(DynamoIndex().series(ns, "cpu", ("host", frozenset({"a"})))) == 5  # the full read
    _fresh_index()
    values = query(client, "SELECT usage FROM cpu WHERE host = 'a' OR host = 'd'", db=loaded, epoch="s")
    assert values["results"][0]["series"][0]["values"] == [[1, 1.5], [3, 3.5], [5, 5.5], [6, 9.5]]


def test_drops_and_deletes_remove_postings(client, loaded):
    ns = _namespace(client, loaded)
    query(client, "DROP SERIES FROM cpu WHERE host = 'a'", db=loaded)
    assert not [p for p in _postings(ns, "cpu") if "\0a\0" in p]
    assert len(_postings(ns, "cpu")) == 3  # host=b, region=eu; host=c
    _fresh_index()
    shown = query(client, "SHOW SERIES FROM cpu WHERE host = 'a' OR host = 'b'", db=loaded)
    assert shown["results"][0]["series"][0]["values"] == [["cpu,host=b,region=eu"]]
    response = client.http.post(
        f"/api/v2/delete?bucket={loaded}/autogen&org=acme",
        body='{"start": "1970-01-01T00:00:00Z", "stop": "2100-01-01T00:00:00Z", "predicate": "host=\\"b\\""}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 204, response.body
    _fresh_index()
    assert len(_postings(ns, "cpu")) == 3  # a delete over a time range leaves the index as it is
    query(client, "DROP MEASUREMENT cpu", db=loaded)
    assert _postings(ns, "cpu") == []
    _fresh_index()
    assert first_values(query(client, "SELECT * FROM cpu WHERE host = 'c'", db=loaded)) == []


def first_values(result: dict) -> list:
    return [s["values"] for s in result["results"][0].get("series", [])]


@pytest.mark.parametrize(
    "q, hint",
    [
        ("SELECT usage FROM cpu WHERE host = 'a' AND time < 10s", ("host", frozenset({"a"}))),
        ("SHOW TAG VALUES FROM cpu WITH KEY = region WHERE host = 'b'", ("host", frozenset({"b"}))),
        ("SELECT usage FROM cpu WHERE region = 'eu' OR host = 'a'", None),
        ("SELECT * FROM odd WHERE host = 'a'", None),  # a field there: decided per row
        ("flux", ("host", frozenset({"a"}))),
    ],
)
def test_the_engine_passes_the_hint_to_the_index(client, loaded, monkeypatch, q, hint):
    from chalicelib.adapters.series import DynamoIndex

    asked = []
    original = DynamoIndex.series

    def series(self, namespace, measurement, tag_equals=None):
        asked.append(tag_equals)
        return original(self, namespace, measurement, tag_equals)

    monkeypatch.setattr(DynamoIndex, "series", series)
    _fresh_index()
    if q == "flux":
        from tests.api.test_flux_api import flux

        flux(
            client,
            FLUX[0]
            .format(db=loaded)
            .replace("|> filter", '|> filter(fn: (r) => r._measurement == "cpu") |> filter', 1),
        )
    else:
        query(client, q, db=loaded)
    assert asked == [hint]
