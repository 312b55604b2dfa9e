"""influx-proxy's answers: the merge of several backends' /query answers for a SHOW without FROM, the
/health document, and JSON as Go's encoding/json writes it (util.MarshalJson: compact, or indented by
four spaces with `pretty=true`, and a newline).

The merges are influx-proxy's, made deterministic: 2.4.7 merges through Go maps and answers in random
order; here rows are sorted by their text (Go's byte order, which is code point order) and series by
name, so the same data always gives the same bytes.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from chalicelib.kit.errors import INVALID, TicklessError
from chalicelib.kit.gofloat import format_float
from chalicelib.proxy.influxql import Merge

Body = bytes | str | Mapping[str, Any]
Row = dict[str, Any]


def merge_bodies(kind: Merge, bodies: Iterable[Body]) -> dict[str, Any]:
    """One circle's backends' answers (in the circle's backend order) merged as influx-proxy merges
    them for `kind`; the answer is `{"results":[...]}` in Go's field order, ready for `go_json`."""
    answers = [_decode(body) for body in bodies]
    if kind is Merge.RESULTS:
        return {"results": [_result(r[0]) for r in (_results(a) for a in answers) if len(r) == 1]}
    firsts = [_results(a)[:1] for a in answers]
    series_lists = [_rows(r[0].get("series")) for r in firsts if r]
    merged = {
        Merge.VALUES: _by_values,
        Merge.SERIES: _by_series,
        Merge.RETENTION_POLICIES: _retention_policies,
    }[kind](series_lists)
    if not merged:
        error = next((r[0]["error"] for r in firsts if r and isinstance(r[0].get("error"), str)), "")
        if error:
            return {"results": [{"statement_id": 0, "error": error}]}
    return _from_series(merged)


def error_json(message: str) -> str:
    """influx-proxy's refusal body: `{"error":"..."}` and a newline."""
    return go_json({"error": message})


# ---- merges ---------------------------------------------------------------------------------------


def _by_values(series_lists: list[list[Row]]) -> list[Row]:
    """SHOW MEASUREMENTS / SERIES / DATABASES: the first column of every row, once each, sorted; the
    series' name and columns from the first backend that has any."""
    template: Row | None = None
    values: set[str] = set()
    for series in series_lists:
        for row in series:
            texts = [_text(v[0]) for v in row.get("values") or [] if isinstance(v, list) and v]
            if texts and template is None:
                template = row
            values.update(texts)
    if template is None:
        return []
    merged = dict(template)
    merged["values"] = [[v] for v in sorted(values)]
    return [merged]


def _by_series(series_lists: list[list[Row]]) -> list[Row]:
    """SHOW FIELD KEYS / TAG KEYS / TAG VALUES: one series per measurement, sorted by name; a
    measurement found on several backends (misplaced, or mid-rebalance) gets the union of their rows,
    sorted. influx-proxy keeps one backend's rows there, at random."""
    groups: dict[tuple[str, tuple[tuple[str, str], ...]], Row] = {}
    rows: dict[tuple[str, tuple[tuple[str, str], ...]], dict[str, list[Any]]] = {}
    for series in series_lists:
        for row in series:
            key = (str(row.get("name") or ""), tuple(sorted((row.get("tags") or {}).items())))
            groups.setdefault(key, row)
            seen = rows.setdefault(key, {})
            for value in row.get("values") or []:
                seen.setdefault(_row_key(value), value)
    merged: list[Row] = []
    for key in sorted(groups):
        row = dict(groups[key])
        row["values"] = [rows[key][k] for k in sorted(rows[key])]
        merged.append(row)
    return merged


def _retention_policies(series_lists: list[list[Row]]) -> list[Row]:
    """SHOW RETENTION POLICIES: the first backend's rows in influxd's order, then the policies only
    later backends have; a name once (influx-proxy 2.4.7 repeats every policy per backend)."""
    merged: Row | None = None
    names: set[str] = set()
    values: list[Any] = []
    for series in series_lists:
        if len(series) != 1:
            continue
        merged = merged or series[0]
        for value in series[0].get("values") or []:
            name = _text(value[0]) if isinstance(value, list) and value else _text(value)
            if name not in names:
                names.add(name)
                values.append(value)
    if merged is None:
        return []
    row = dict(merged)
    row["values"] = values
    return [row]


def _row_key(value: Any) -> tuple[str, ...]:
    return tuple(_text(v) for v in value) if isinstance(value, list) else (_text(value),)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else go_json(value, newline=False)


# ---- the answer's shape ---------------------------------------------------------------------------


def _decode(body: Body) -> Mapping[str, Any]:
    if isinstance(body, Mapping):
        return body
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as err:
        raise TicklessError(INVALID, f"query error: invalid backend response: {err}") from None
    if not isinstance(data, dict):
        raise TicklessError(INVALID, "query error: invalid backend response")
    return data


def _results(answer: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    results = answer.get("results")
    return [r for r in results if isinstance(r, Mapping)] if isinstance(results, list) else []


def _rows(series: Any) -> list[Row]:
    return [dict(s) for s in series if isinstance(s, Mapping)] if isinstance(series, list) else []


def _from_series(series: list[Row]) -> dict[str, Any]:
    result: dict[str, Any] = {"statement_id": 0}
    if series:
        result["series"] = [_row(s) for s in series]
    return {"results": [result]}


def _result(result: Mapping[str, Any]) -> dict[str, Any]:
    """A backend's result re-encoded as Go's Result struct: its fields in order, empty ones left out,
    numbers as float64 (influx-proxy decodes values into interface{})."""
    out: dict[str, Any] = {"statement_id": int(result.get("statement_id") or 0)}
    series = _rows(result.get("series"))
    if series:
        out["series"] = [_row(s) for s in series]
    if isinstance(result.get("messages"), list) and result["messages"]:
        out["messages"] = [
            {"level": str(m.get("level", "")), "text": str(m.get("text", ""))}
            for m in result["messages"]
            if isinstance(m, Mapping)
        ]
    if result.get("partial") is True:
        out["partial"] = True
    if result.get("error"):
        out["error"] = str(result["error"])
    return out


def _row(row: Mapping[str, Any]) -> dict[str, Any]:
    """models.Row: name, tags (a map: sorted), columns, values, partial; empty ones left out."""
    out: dict[str, Any] = {}
    if row.get("name"):
        out["name"] = str(row["name"])
    if row.get("tags"):
        out["tags"] = {str(k): str(v) for k, v in sorted(row["tags"].items())}
    if row.get("columns"):
        out["columns"] = [str(c) for c in row["columns"]]
    if row.get("values"):
        out["values"] = [_float64(v) for v in row["values"]]
    if row.get("partial") is True:
        out["partial"] = True
    return out


def _float64(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str | float):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, list):
        return [_float64(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _float64(v) for k, v in sorted(value.items())}
    return value


# ---- /health --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DbLoad:
    measurements: int
    inplace: int
    incorrect: int


@dataclass(frozen=True)
class BackendHealth:
    name: str
    url: str
    active: bool
    backlog: bool
    rewrite: bool
    load: Mapping[str, DbLoad] = field(default_factory=dict)


@dataclass(frozen=True)
class CircleHealth:
    name: str
    backends: Sequence[BackendHealth]


def health_json(circles: Sequence[CircleHealth]) -> list[dict[str, Any]]:
    """/health's document: influx-proxy builds it of Go maps, so every object's keys are sorted."""
    return [
        {"backends": [_backend_health(b) for b in circle.backends], "circle": circle.name}
        for circle in circles
    ]


def _backend_health(b: BackendHealth) -> dict[str, Any]:
    load = {
        db: {"incorrect": d.incorrect, "inplace": d.inplace, "measurements": d.measurements}
        for db, d in sorted(b.load.items())
    }
    return {
        "active": b.active,
        "backlog": b.backlog,
        "load": load,
        "name": b.name,
        "rewrite": b.rewrite,
        "url": b.url,
    }


# ---- Go's encoding/json ---------------------------------------------------------------------------

# Go writes these as \u00XX (HTML safety and, before Go 1.22 which influx-proxy 2.4 predates, \b and \f
# too); U+2028 and U+2029 as escapes (JS line separators).
_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_SURROGATE = re.compile("[\ud800-\udfff]")
_NEEDS_ESCAPE = re.compile('[\x00-\x1f"\\\\<>&\u2028\u2029]')


def go_json(value: Any, *, pretty: bool = False, newline: bool = True) -> str:
    """util.MarshalJson: json.Marshal, or json.MarshalIndent(v, "", "    ") when `pretty`, then a
    newline. Dicts keep their order: build structs in field order and maps sorted. Python ints are
    Go ints; floats are float64 (shortest digits, an exponent only below 1e-6 or from 1e21)."""
    out: list[str] = []
    _encode(value, out, "\n" if pretty else "")
    text = "".join(out)
    return text + "\n" if newline else text


def _encode(value: Any, out: list[str], indent: str) -> None:
    if value is None:
        out.append("null")
    elif value is True or value is False:
        out.append("true" if value else "false")
    elif isinstance(value, int):
        out.append(str(int(value)))
    elif isinstance(value, float):
        out.append(_go_float(value))
    elif isinstance(value, str):
        out.append(_go_string(value))
    elif isinstance(value, Mapping):
        _container([(k, v) for k, v in value.items()], out, indent, "{}")
    elif isinstance(value, list | tuple):
        _container([(None, v) for v in value], out, indent, "[]")
    else:
        raise TypeError(f"json: unsupported type: {type(value).__name__}")


def _container(items: list[tuple[Any, Any]], out: list[str], indent: str, brackets: str) -> None:
    if not items:
        out.append(brackets)
        return
    inner = indent + "    " if indent else ""
    out.append(brackets[0])
    for i, (key, item) in enumerate(items):
        if i:
            out.append(",")
        out.append(inner)
        if key is not None:
            out.append(_go_string(str(key)))
            out.append(": " if indent else ":")
        _encode(item, out, inner)
    out.append(indent)
    out.append(brackets[1])


def _go_string(text: str) -> str:
    text = _SURROGATE.sub("\ufffd", text)  # what Go reads "\ud800" as
    return '"' + _NEEDS_ESCAPE.sub(_escape, text) + '"'


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    return _SHORT_ESCAPES.get(ch) or f"\\u{ord(ch):04x}"


def _go_float(v: float) -> str:
    if math.isnan(v) or math.isinf(v):
        raise TypeError(f"json: unsupported value: {v}")
    if v != 0 and (abs(v) < 1e-6 or abs(v) >= 1e21):
        text = repr(v)  # shortest digits with an exponent of two digits at least, as Go's 'e'
        return re.sub(r"e-0(\d)$", r"e-\1", text)
    return format_float(v)
