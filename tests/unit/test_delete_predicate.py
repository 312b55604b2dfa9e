"""InfluxDB 2 delete predicates."""

import pytest

from chalicelib.kit.errors import TicklessError
from chalicelib.series.predicate import Comparison, parse_predicate


@pytest.mark.parametrize(
    "text, comparisons",
    [
        ("", ()),
        ('_measurement="cpu"', (Comparison("_measurement", "cpu", True),)),
        (
            '_measurement="cpu" AND host!="a b"',
            (Comparison("_measurement", "cpu", True), Comparison("host", "a b", False)),
        ),
        (
            '"my tag"="x" and t="say \\"hi\\""',
            (Comparison("my tag", "x", True), Comparison("t", 'say "hi"', True)),
        ),
    ],
)
def test_parses(text, comparisons):
    assert parse_predicate(text).comparisons == comparisons


@pytest.mark.parametrize(
    "text, reason",
    [
        ('a="b" OR c="d"', "the logical operator OR is not supported"),
        ('_field="v"', "delete by field is not supported"),
        ("a=b", 'a comparison is key = "value"'),
        ('a="b" c="d"', "comparisons must be joined by AND"),
        ("a=", "incomplete comparison"),
        ('a>"1"', "unexpected character '>'"),
    ],
)
def test_errors(text, reason):
    with pytest.raises(TicklessError) as err:
        parse_predicate(text)
    assert err.value.message == f"invalid request; error parsing predicate: {reason}"


def test_matching():
    predicate = parse_predicate('_measurement="cpu" AND host!="a" AND region=""')
    assert predicate.measurement_matches("cpu") and not predicate.measurement_matches("mem")
    assert predicate.tags_match({"host": "b"})
    assert not predicate.tags_match({"host": "a"})
    assert not predicate.tags_match({"host": "b", "region": "us"})


@pytest.mark.parametrize(
    "text, hint",
    [
        ("", None),
        ('_measurement="cpu"', None),
        ('_measurement="cpu" AND host="a"', ("host", frozenset({"a"}))),
        ('host!="a" AND region="eu"', ("region", frozenset({"eu"}))),
        ('host=""', None),  # matches series without the tag: they have no postings
        ('host!="a"', None),
    ],
)
def test_tag_equals_hint(text, hint):
    assert parse_predicate(text).tag_equals == hint
