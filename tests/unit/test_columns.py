"""The series store's column model: building from rows, InfluxDB's newest-wins merge, slicing."""

from __future__ import annotations

import random

import pytest

from chalicelib.kit.points import UInt
from chalicelib.series import columns
from chalicelib.series.columns import Column, SeriesColumns


def cols_of(rows: list[tuple[int, dict]]) -> SeriesColumns:
    return columns.from_rows(rows)


def as_rows(cols: SeriesColumns) -> list[tuple[int, dict]]:
    return list(columns.rows(cols))


def check_invariants(cols: SeriesColumns) -> None:
    assert cols.times == sorted(set(cols.times))
    for name, column in cols.fields.items():
        assert len(column.values) == len(cols.times), name
        assert any(v is not None for v in column.values), f"all-null column {name}"
    for i in range(len(cols.times)):
        assert any(c.values[i] is not None for c in cols.fields.values()), "time without fields"


# -- from_rows ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        pytest.param([], [], id="empty"),
        pytest.param([(1, {"a": 1.0})], [(1, {"a": 1.0})], id="one"),
        pytest.param(
            [(1, {"a": 1.0}), (2, {"a": 2.0}), (3, {"b": 3})],
            [(1, {"a": 1.0}), (2, {"a": 2.0}), (3, {"b": 3})],
            id="sorted",
        ),
        pytest.param(
            [(3, {"a": 3.0}), (1, {"a": 1.0}), (2, {"a": 2.0})],
            [(1, {"a": 1.0}), (2, {"a": 2.0}), (3, {"a": 3.0})],
            id="unsorted",
        ),
        pytest.param(
            [(1, {"a": 1.0, "b": "x"}), (1, {"a": 2.0})],
            [(1, {"a": 2.0, "b": "x"})],
            id="duplicate-merges-fields",
        ),
        pytest.param(
            [(2, {"a": 1.0}), (1, {"c": True}), (2, {"b": 5}), (2, {"a": 9.5})],
            [(1, {"c": True}), (2, {"a": 9.5, "b": 5})],
            id="duplicate-unsorted-later-wins",
        ),
        pytest.param([(-5, {"a": 1}), (-10, {"a": 2})], [(-10, {"a": 2}), (-5, {"a": 1})], id="pre-1970"),
        pytest.param([(1, {}), (2, {"a": 1})], [(2, {"a": 1})], id="row-without-fields-dropped"),
    ],
)
def test_from_rows(rows, expected):
    cols = cols_of(rows)
    check_invariants(cols)
    assert as_rows(cols) == expected
    assert columns.count(cols) == len(expected)


def test_from_rows_types():
    cols = cols_of([(1, {"f": 1.0, "i": 1, "u": UInt(1), "b": False, "s": "x"})])
    assert {n: c.type for n, c in cols.fields.items()} == {
        "f": "float",
        "i": "integer",
        "u": "unsigned",
        "b": "boolean",
        "s": "string",
    }


@pytest.mark.parametrize(
    "rows",
    [
        [(1, {"a": 1.0}), (2, {"a": 1})],
        [(1, {"a": True}), (2, {"a": 1})],
        [(1, {"a": UInt(1)}), (2, {"a": 1})],
        # Even when the newer row overwrites the older value of the other type.
        [(2, {"a": 1.0}), (1, {"b": 1}), (2, {"a": "x"})],
    ],
)
def test_from_rows_rejects_mixed_types(rows):
    with pytest.raises(ValueError, match="'a'"):
        cols_of(rows)


def test_from_rows_rejects_non_field_values():
    with pytest.raises(TypeError):
        cols_of([(1, {"a": [1]})])


def test_from_rows_accepts_generators():
    cols = columns.from_rows((t, {"v": t}) for t in (3, 1, 2))
    assert cols.times == [1, 2, 3]
    assert cols.fields["v"].values == [1, 2, 3]


# -- merge -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        pytest.param([], [], id="nothing"),
        pytest.param([[]], [], id="one-empty"),
        pytest.param(
            [[(1, {"a": 1.0})], [(2, {"a": 2.0})]],
            [(1, {"a": 1.0}), (2, {"a": 2.0})],
            id="disjoint-in-order",
        ),
        pytest.param(
            [[(5, {"a": 5.0})], [(1, {"b": 1})], [(3, {"a": 3.0})]],
            [(1, {"b": 1}), (3, {"a": 3.0}), (5, {"a": 5.0})],
            id="disjoint-out-of-order",
        ),
        pytest.param(
            [[(1, {"a": 1.0, "b": 1})], [(1, {"a": 2.0})]],
            [(1, {"a": 2.0, "b": 1})],
            id="same-time-newer-wins-per-field",
        ),
        pytest.param(
            [[(1, {"a": 1.0}), (3, {"a": 3.0})], [(2, {"b": 2}), (3, {"b": 4})]],
            [(1, {"a": 1.0}), (2, {"b": 2}), (3, {"a": 3.0, "b": 4})],
            id="interleaved",
        ),
        pytest.param(
            [[(1, {"a": 1.0}), (2, {"a": 2.0})], [(1, {"a": 10.0})], [(1, {"a": 100.0}), (2, {"b": True})]],
            [(1, {"a": 100.0}), (2, {"a": 2.0, "b": True})],
            id="three-writes-newest-last",
        ),
        pytest.param(
            [
                [(1, {"a": 1.0})],
                [(10, {"a": 10.0})],
                [(5, {"a": 5.0}), (10, {"a": 11.0})],
                [(20, {"a": 20.0})],
            ],
            [(1, {"a": 1.0}), (5, {"a": 5.0}), (10, {"a": 11.0}), (20, {"a": 20.0})],
            id="overlapping-group-between-disjoint-parts",
        ),
        pytest.param(
            [[(1, {"a": 1.0}), (9, {"a": 9.0})], [(4, {"a": 4.0})]],
            [(1, {"a": 1.0}), (4, {"a": 4.0}), (9, {"a": 9.0})],
            id="newer-inside-older-range",
        ),
        pytest.param(
            [[(4, {"a": 4.0})], [(1, {"a": 1.0}), (9, {"a": 9.0})]],
            [(1, {"a": 1.0}), (4, {"a": 4.0}), (9, {"a": 9.0})],
            id="older-inside-newer-range",
        ),
        pytest.param(
            [[(1, {"a": 1.0}), (2, {"a": 2.0, "b": 1})], [(1, {"a": 10.0}), (2, {"b": 5})]],
            [(1, {"a": 10.0}), (2, {"a": 2.0, "b": 5})],
            id="same-times-newer-sparse",
        ),
        pytest.param(
            [[(1, {"a": 1.0}), (2, {"b": 1})], [(1, {"a": 5.0}), (2, {"a": 6.0})]],
            [(1, {"a": 5.0}), (2, {"a": 6.0, "b": 1})],
            id="same-times-newer-dense",
        ),
        pytest.param(
            [
                [(1, {"a": 1.0}), (3, {"a": 3.0})],
                [(1, {"b": 1}), (2, {"a": 2.0}), (3, {"b": 3})],
                [(2, {"a": 9.0})],
            ],
            [(1, {"a": 1.0, "b": 1}), (2, {"a": 9.0}), (3, {"a": 3.0, "b": 3})],
            id="newer-covers-union-then-newest-partial",
        ),
    ],
)
def test_merge(parts, expected):
    merged = columns.merge([cols_of(p) for p in parts])
    check_invariants(merged)
    assert as_rows(merged) == expected


def test_merge_of_one_part_is_that_part():
    part = cols_of([(1, {"a": 1.0})])
    assert columns.merge([part]) is part
    assert columns.merge([SeriesColumns(), part, SeriesColumns()]) is part


def test_merge_disjoint_concatenates_with_null_padding():
    merged = columns.merge([cols_of([(1, {"a": 1.0})]), cols_of([(2, {"b": "x"})])])
    assert merged.times == [1, 2]
    assert merged.fields == {"a": Column("float", [1.0, None]), "b": Column("string", [None, "x"])}


def test_merge_type_conflict_takes_the_newest_type():
    older = cols_of([(1, {"a": 1.0, "b": 1}), (2, {"a": 2.0})])
    newer = cols_of([(2, {"a": "two"}), (3, {"a": "three"})])
    merged = columns.merge([older, newer])
    check_invariants(merged)
    assert as_rows(merged) == [(1, {"b": 1}), (2, {"a": "two"}), (3, {"a": "three"})]
    assert merged.fields["a"].type == "string"
    disjoint = columns.merge([cols_of([(1, {"a": 1.0})]), cols_of([(2, {"a": 2})])])
    assert as_rows(disjoint) == [(2, {"a": 2})]


def test_merge_matches_row_replay_on_random_writes():
    rng = random.Random(7)
    for _ in range(500):
        writes = []
        for _ in range(rng.randint(1, 5)):
            start = rng.choice([0, rng.randint(0, 30)])
            rows = [
                (
                    rng.randint(start, start + rng.choice([2, 10])),
                    {f: rng.randint(0, 99) for f in rng.sample("abc", rng.randint(1, 3))},
                )
                for _ in range(rng.randint(0, 8))
            ]
            writes.append(rows)
        expected: dict[int, dict] = {}
        for rows in writes:
            for time, fields in rows:
                expected.setdefault(time, {}).update(fields)
        merged = columns.merge([cols_of(rows) for rows in writes])
        check_invariants(merged)
        assert as_rows(merged) == sorted(expected.items())
        # Merging everything as one write, in order, gives the same.
        assert as_rows(cols_of([row for rows in writes for row in rows])) == sorted(expected.items())


# -- slice_time, remove, select_fields ---------------------------------------------------------------

SAMPLE = [(10, {"a": 1.0}), (20, {"a": 2.0, "b": "x"}), (30, {"b": "y"}), (40, {"a": 4.0})]


@pytest.mark.parametrize(
    ("start", "stop", "times"),
    [
        (0, 100, [10, 20, 30, 40]),
        (10, 40, [10, 20, 30]),
        (11, 40, [20, 30]),
        (10, 41, [10, 20, 30, 40]),
        (20, 21, [20]),
        (20, 20, []),
        (25, 29, []),
        (41, 100, []),
        (-100, 10, []),
        (40, 10, []),
    ],
)
def test_slice_time(start, stop, times):
    sliced = columns.slice_time(cols_of(SAMPLE), start, stop)
    check_invariants(sliced)
    assert sliced.times == times
    assert as_rows(sliced) == [row for row in SAMPLE if row[0] in times]


@pytest.mark.parametrize(
    ("start", "stop", "times"),
    [
        (0, 100, []),
        (10, 40, [40]),
        (11, 40, [10, 40]),
        (20, 21, [10, 30, 40]),
        (20, 20, [10, 20, 30, 40]),
        (41, 100, [10, 20, 30, 40]),
        (-100, 10, [10, 20, 30, 40]),
    ],
)
def test_remove(start, stop, times):
    kept = columns.remove(cols_of(SAMPLE), start, stop)
    check_invariants(kept)
    assert kept.times == times
    assert as_rows(kept) == [row for row in SAMPLE if row[0] in times]


def test_slice_and_remove_drop_columns_left_all_null():
    cols = cols_of(SAMPLE)
    assert set(columns.slice_time(cols, 30, 31).fields) == {"b"}
    assert set(columns.remove(cols, 20, 31).fields) == {"a"}
    assert columns.slice_time(cols, 0, 100) is cols
    assert columns.remove(cols, 25, 29) is cols


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["a", "b"], SAMPLE),
        (["a", "b", "zzz"], SAMPLE),
        (["a"], [(10, {"a": 1.0}), (20, {"a": 2.0}), (40, {"a": 4.0})]),
        (["b"], [(20, {"b": "x"}), (30, {"b": "y"})]),
        (["zzz"], []),
        ([], []),
    ],
)
def test_select_fields(names, expected):
    selected = columns.select_fields(cols_of(SAMPLE), set(names))
    check_invariants(selected)
    assert as_rows(selected) == expected


def test_compact():
    cols = SeriesColumns(
        [1, 2, 3], {"a": Column("float", [None, 2.0, None]), "b": Column("integer", [None] * 3)}
    )
    assert as_rows(columns.compact(cols)) == [(2, {"a": 2.0})]
    assert columns.compact(SeriesColumns([1], {"a": Column("float", [None])})) == SeriesColumns()


def test_rows_leaves_out_nulls():
    cols = SeriesColumns([1, 2], {"a": Column("integer", [1, None]), "b": Column("boolean", [None, False])})
    assert as_rows(cols) == [(1, {"a": 1}), (2, {"b": False})]
