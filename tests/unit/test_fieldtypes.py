"""The field type guard: new fields of a batch claimed together, conflicts and over-long strings
reported as InfluxDB reports them."""

from __future__ import annotations

from collections.abc import Mapping

from chalicelib.ingest.fieldtypes import MAX_STRING_BYTES, FieldConflict, FieldTooLong, FieldTypeGuard
from chalicelib.lineprotocol import parse


class RecordedTypes:
    """The FieldTypes port over a dict, counting the calls the guard makes."""

    def __init__(self, recorded: dict[str, dict[str, str]] | None = None) -> None:
        self.recorded = recorded or {}
        self.claims: list[tuple[str, dict[str, str]]] = []

    def field_types(self, namespace: str, measurement: str) -> dict[str, str]:
        return dict(self.recorded.get(measurement, {}))

    def claim_fields(self, namespace: str, measurement: str, fields: Mapping[str, str]) -> dict[str, str]:
        self.claims.append((measurement, dict(fields)))
        types = self.recorded.setdefault(measurement, {})
        for name, kind in fields.items():
            types.setdefault(name, kind)
        return {name: types[name] for name in fields}


def test_the_new_fields_of_a_batch_are_claimed_in_one_call_per_measurement():
    index = RecordedTypes({"m": {"a": "float"}})
    points = parse("m a=1,b=2i 1\nm b=3i,c=true 2\nn x=1 3\nm a=4 4")
    accepted, rejected = FieldTypeGuard(index).admit("ns", points)
    assert len(accepted) == 4 and rejected == []
    assert index.claims == [("m", {"b": "integer", "c": "boolean"}), ("n", {"x": "float"})]


def test_within_a_batch_the_first_type_of_a_new_field_wins():
    index = RecordedTypes()
    accepted, rejected = FieldTypeGuard(index).admit("ns", parse("w f=1i 1\nw f=1.5 2\nw f=2i 3"))
    assert [p.time for p in accepted] == [1, 3]
    assert rejected == [FieldConflict("f", "w", "float", "integer")]


def test_a_string_over_1_mib_drops_its_point_and_is_measured_in_utf8_bytes():
    index = RecordedTypes()
    fits = "é" * (MAX_STRING_BYTES // 2)
    over = "é" * (MAX_STRING_BYTES // 2) + "x"
    body = f'm a=1i,s="{fits}" 1\nm a=2i,s="{over}",z=1 2'
    accepted, rejected = FieldTypeGuard(index).admit("ns", parse(body))
    assert [p.time for p in accepted] == [1]
    assert rejected == [FieldTooLong("s", "m", MAX_STRING_BYTES + 1)]
    assert str(rejected[0]) == f'input field "s" on measurement "m" is too long, 1048577 > {MAX_STRING_BYTES}'
    assert index.recorded == {"m": {"a": "integer", "s": "string"}}  # z, after the long string, is not


def test_fields_are_checked_in_line_order_size_before_type():
    index = RecordedTypes({"m": {"a": "float", "s": "integer"}})
    over = "x" * (MAX_STRING_BYTES + 1)
    accepted, rejected = FieldTypeGuard(index).admit("ns", parse(f'm s="{over}",a=1i 1\nm a=1i,s="{over}" 2'))
    assert accepted == []
    assert rejected == [
        FieldTooLong("s", "m", MAX_STRING_BYTES + 1),
        FieldConflict("a", "m", "integer", "float"),
    ]
