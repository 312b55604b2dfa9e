"""kit/fastjson: what it writes and reads is the data the json module writes and reads, whatever the
data (task state saved by an older version, through json, is read back unchanged)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.kit import fastjson

_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
_DATA = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=20,
)


def _same(value: Any) -> str:
    return json.dumps(value, sort_keys=True)  # NaN == NaN here, and 1 != 1.0


@given(_DATA)
def test_dumps_then_loads_is_jsons_round_trip(data: Any) -> None:
    assert _same(fastjson.loads(fastjson.dumps(data))) == _same(json.loads(json.dumps(data)))


@given(_DATA)
def test_what_json_wrote_reads_as_json_reads_it(data: Any) -> None:
    raw = json.dumps(data, separators=(",", ":")).encode()
    assert _same(fastjson.loads(raw)) == _same(json.loads(raw))


def test_big_ints_nan_and_text_with_digits_keep_their_types() -> None:
    data = {"big": 2**64 + 1, "neg": -(2**63) - 1, "nan": float("nan"), "digits": "1234567890123456789012"}
    back = fastjson.loads(fastjson.dumps(data))
    assert back["big"] == 2**64 + 1 and isinstance(back["neg"], int)
    assert back["nan"] != back["nan"] and back["digits"] == data["digits"]
