"""A query recording's data read from an InfluxQL answer as Kapacitor's client reads it."""

from __future__ import annotations

import pytest

from chalicelib.kapacitor.query_records import dbrp_of, query_batches, query_points
from chalicelib.kit.errors import TicklessError

ANSWER = {
    "results": [
        {
            "statement_id": 0,
            "series": [
                {
                    "name": "cpu",
                    "tags": {"host": "b"},
                    "columns": ["time", "v", "s"],
                    "values": [[2, 7, "x"]],
                },
                {
                    "name": "cpu",
                    "tags": {"host": "a"},
                    "columns": ["time", "v", "s"],
                    "values": [[1, 1.5, None]],
                },
                {"name": "cpu", "tags": {"host": "c"}, "columns": ["time", "v"], "values": [[3, None]]},
            ],
        }
    ]
}
QUERY = 'SELECT v, s FROM "db"."autogen"."cpu"'


def test_points_are_in_time_order_with_numbers_as_floats_and_empty_rows_left_out():
    points = query_points(QUERY, ANSWER)
    assert [(p.time, p.tags, p.fields, p.database, p.retention_policy) for p in points] == [
        (1, {"host": "a"}, {"v": 1.5}, "db", "autogen"),
        (2, {"host": "b"}, {"v": 7.0, "s": "x"}, "db", "autogen"),
    ]
    assert isinstance(points[1].fields["v"], float)


def test_batches_take_their_latest_rows_time_or_now():
    batches = query_batches(ANSWER, now=99)
    assert [(b.tags, b.tmax, len(b.points)) for b in batches] == [
        ({"host": "b"}, 2, 1),
        ({"host": "a"}, 1, 1),
        ({"host": "c"}, 99, 0),
    ]


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("SELECT v FROM cpu", "could not determine database and retention policy"),
        ('SELECT v FROM "db".."cpu"', "could not determine database and retention policy"),
        ("SELEKT", "failed to parse InfluxQL query"),
        ("SHOW DATABASES", "query is not a select statement"),
    ],
)
def test_where_points_belong_must_be_named(query, says):
    with pytest.raises(TicklessError) as raised:
        dbrp_of(query)
    assert says in raised.value.message


def test_an_error_answer_is_refused():
    with pytest.raises(TicklessError, match="database not found"):
        query_points(QUERY, {"results": [{"error": "database not found: db"}]})
