"""InfluxDB's reducers as Kapacitor's InfluxQL nodes use them: an aggregator fed point by point and an
emitter, keeping their state as JSON data. A reduced point is (time, value, tags, fields) where time None
stands for InfluxDB's ZeroTime (the node then uses the batch's time)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.kit.errors import invalid
from chalicelib.tick.pipeline.gotypes import BOOL, FLOAT, INT, STRING, go_type_of

Reduced = tuple[int | None, Any, dict[str, str], dict[str, Any]]
Emitted = list[Reduced]


_FIELD_KINDS = frozenset({FLOAT, INT, STRING, BOOL})


def kind_of(value: Any) -> str | None:
    """A field value's Go type (`float64`, `int64`, `string`, `bool`), None for anything else."""
    kind = go_type_of(value)
    return kind if kind in _FIELD_KINDS else None


@dataclass(frozen=True, slots=True)
class Function:
    kinds: frozenset[str]  # the field types the function takes
    selector: bool = False  # keeps the selected point's tags and fields
    empty_ok: bool = False  # emits for an empty batch
    transform: bool = False  # emits for each point, keeping state across points


_NUMERIC = frozenset({FLOAT, INT})
_ALL = frozenset({FLOAT, INT, STRING, BOOL})
FUNCTIONS: dict[str, Function] = {
    "count": Function(_ALL, empty_ok=True),
    "distinct": Function(_ALL),
    "mean": Function(_NUMERIC),
    "median": Function(_NUMERIC),
    "mode": Function(_NUMERIC),
    "spread": Function(_NUMERIC),
    "sum": Function(_NUMERIC, empty_ok=True),
    "first": Function(_ALL, selector=True),
    "last": Function(_ALL, selector=True),
    "min": Function(_NUMERIC, selector=True),
    "max": Function(_NUMERIC, selector=True),
    "percentile": Function(_NUMERIC, selector=True),
    "top": Function(_NUMERIC),
    "bottom": Function(_NUMERIC),
    "stddev": Function(_NUMERIC),
    "elapsed": Function(_ALL, transform=True),
    "difference": Function(_NUMERIC, transform=True),
    "movingAverage": Function(_NUMERIC, transform=True),
    "cumulativeSum": Function(_NUMERIC, transform=True),
}


def check_kind(method: str, kind: str) -> None:
    fn = FUNCTIONS.get(method)
    if fn is None:
        raise invalid(f"unsupported influxql function {method}")
    if kind not in fn.kinds:
        raise invalid(f"cannot apply {method} to {kind} field")


# ---- the slice reducers: all points of a batch (or of one stream time) at once -------------------------

Entry = list[Any]  # [time, value, tags, fields]


def _by_value(points: list[Entry]) -> list[Entry]:
    return sorted(points, key=lambda e: e[1])


def _mean(points: list[Entry], kind: str, args: list[Any]) -> Emitted:
    total: float | int = 0 if kind == INT else 0.0  # InfluxDB sums integers as int64
    for e in points:
        total += e[1]
    return [(None, float(total) / len(points), {}, {})]


def _median(points: list[Entry], kind: str, args: list[Any]) -> Emitted:
    ordered = _by_value(points)
    if len(ordered) == 1:
        return [(None, float(ordered[0][1]), {}, {})]
    if len(ordered) % 2 == 0:
        lo, hi = ordered[len(ordered) // 2 - 1][1], ordered[len(ordered) // 2][1]
        return [(None, float(lo) + float(hi - lo) / 2, {}, {})]
    return [(None, float(ordered[len(ordered) // 2][1]), {}, {})]


def _mode(points: list[Entry], kind: str, args: list[Any]) -> Emitted:
    ordered = _by_value(points)
    most_freq, curr_freq = 0, 0
    most_mode = curr_mode = ordered[0][1]
    for e in ordered:
        if e[1] != curr_mode:
            curr_freq, curr_mode = 1, e[1]
        else:
            curr_freq += 1
        if most_freq > curr_freq or (most_freq == curr_freq and curr_mode > most_mode):
            continue
        most_freq, most_mode = curr_freq, e[1]
    return [(None, most_mode, {}, {})]


def _spread(points: list[Entry], kind: str, args: list[Any]) -> Emitted:
    values = [e[1] for e in points]
    return [(None, max(values) - min(values), {}, {})]


def _stddev(points: list[Entry], kind: str, args: list[Any]) -> Emitted:
    if len(points) < 2:
        return [(None, math.nan, {}, {})]
    mean = 0.0
    for e in points:
        mean += e[1]
    mean /= len(points)
    variance = 0.0
    for e in points:
        variance += (e[1] - mean) ** 2
    return [(None, math.sqrt(variance / (len(points) - 1)), {}, {})]


def _percentile(points: list[Entry], kind: str, args: list[Any]) -> Emitted:
    ordered = _by_value(points)
    i = math.floor(len(ordered) * float(args[0]) / 100.0 + 0.5) - 1
    if i < 0 or i >= len(ordered):
        return []
    e = ordered[i]
    return [(e[0], e[1], e[2], e[3])]


def _select(better: Callable[[Entry, Entry], bool]) -> Callable[[list[Entry], str, list[Any]], Emitted]:
    def reduce(points: list[Entry], kind: str, args: list[Any]) -> Emitted:
        best = points[0]
        for e in points[1:]:
            if better(e, best):
                best = e
        return [(best[0], best[1], best[2], best[3])]

    return reduce


def _top_bottom(top: bool) -> Callable[[list[Entry], str, list[Any]], Emitted]:
    def reduce(points: list[Entry], kind: str, args: list[Any]) -> Emitted:
        # Ties go to the earlier point; the result is ordered best first.
        ordered = sorted(points, key=lambda e: ((-e[1] if top else e[1]), e[0]))
        return [(e[0], e[1], e[2], {}) for e in ordered[: int(args[0])]]

    return reduce


def _distinct(points: list[Entry], kind: str, args: list[Any]) -> Emitted:
    first: dict[Any, Entry] = {}
    for e in points:
        first.setdefault((type(e[1]), e[1]), e)
    ordered = sorted(first.values(), key=lambda e: (e[0], e[1]))
    return [(e[0], e[1], {}, {}) for e in ordered]


def _count(points: list[Entry], kind: str, args: list[Any]) -> Emitted:
    return [(None, len(points), {}, {})]


def _sum(points: list[Entry], kind: str, args: list[Any]) -> Emitted:
    if not points:
        return [(None, 0 if kind == INT else 0.0, {}, {})]
    total = points[0][1]
    for e in points[1:]:
        total += e[1]
    return [(None, total, {}, {})]


def _less(a: Any, b: Any) -> bool:
    return (not a and b) if isinstance(a, bool) else a < b


SLICE_REDUCERS: dict[str, Callable[[list[Entry], str, list[Any]], Emitted]] = {
    "count": _count,
    "sum": _sum,
    "mean": _mean,
    "median": _median,
    "mode": _mode,
    "spread": _spread,
    "stddev": _stddev,
    "percentile": _percentile,
    "first": _select(lambda e, b: e[0] < b[0] or (e[0] == b[0] and _less(b[1], e[1]))),
    "last": _select(lambda e, b: e[0] > b[0] or (e[0] == b[0] and _less(b[1], e[1]))),
    "min": _select(lambda e, b: e[1] < b[1] or (e[1] == b[1] and e[0] < b[0])),
    "max": _select(lambda e, b: e[1] > b[1] or (e[1] == b[1] and e[0] < b[0])),
    "top": _top_bottom(True),
    "bottom": _top_bottom(False),
    "distinct": _distinct,
}


# ---- the streaming transformations: state kept across the points of a group ---------------------------


def transform(method: str, state: dict[str, Any], t: int, value: Any, kind: str, args: list[Any]) -> Emitted:
    """Aggregate one point into `state` and emit what InfluxDB's reducer emits after it."""
    if method == "difference":
        curr = state.get("curr")
        if curr is not None and curr[0] == t:  # a point not advancing time is skipped
            return _emit_difference(state)
        state["prev"], state["curr"] = curr, [t, value]
        return _emit_difference(state)
    if method == "elapsed":
        state["prev"], state["curr"] = state.get("curr"), t
        if state["prev"] is None:
            return []
        unit = int(args[0]) or 1
        diff = t - state["prev"]
        quotient = abs(diff) // abs(unit)  # Go's integer division truncates toward zero
        return [(t, quotient if (diff < 0) == (unit < 0) else -quotient, {}, {})]
    if method == "cumulativeSum":
        total = state.get("sum")
        state["sum"] = value if total is None else total + value
        return [(t, state["sum"], {}, {})]
    if method == "movingAverage":
        return _moving_average(state, t, value, kind, int(args[0]))
    raise invalid(f"unsupported influxql function {method}")


def _emit_difference(state: dict[str, Any]) -> Emitted:
    prev, curr = state.get("prev"), state["curr"]
    if prev is None:
        return []
    state["prev"] = None  # read once
    return [(curr[0], curr[1] - prev[1], {}, {})]


def _moving_average(state: dict[str, Any], t: int, value: Any, kind: str, size: int) -> Emitted:
    buf: list[Any] = state.setdefault("buf", [])
    pos = int(state.get("pos", 0))
    total = state.get("sum", 0 if kind == INT else 0.0)
    if len(buf) != size:
        buf.append(value)
    else:
        total -= buf[pos]
        buf[pos] = value
    total += value
    pos += 1
    if pos >= size:
        pos = 0
    state["sum"], state["pos"] = total, pos
    if len(buf) != size:
        return []
    return [(t, float(total) / float(len(buf)), {}, {})]
