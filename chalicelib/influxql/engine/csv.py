"""InfluxDB 1.x's CSV response format (`Accept: application/csv`): per statement a header
`name,tags,time,<columns>` (repeated when the columns change), one line per row, tags as the
series' hash key without the measurement, times as ns (or the `epoch` unit), quoting as Go's
encoding/csv does."""

from __future__ import annotations

from typing import Any

from chalicelib.kit.gofloat import format_float


def _needs_quotes(field: str) -> bool:
    if field == "":
        return False
    if field == "\\.":
        return True
    if any(c in field for c in ',"\r\n'):
        return True
    return field[0].isspace()


def _quote(field: str) -> str:
    if not _needs_quotes(field):
        return field
    return '"' + field.replace('"', '""') + '"'


def _line(fields: list[str]) -> str:
    return ",".join(_quote(f) for f in fields) + "\n"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if type(value) is float:
        return format_float(value)
    if type(value) is bool:
        return "true" if value else "false"
    return str(value)


def _escape_tag(text: str) -> str:
    return text.replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ")


def hash_key(tags: dict[str, str]) -> str:
    """models.Tags.HashKey() without the leading comma: sorted, escaped, empty values left out."""
    return ",".join(f"{_escape_tag(k)}={_escape_tag(v)}" for k, v in sorted(tags.items()) if v != "")


def to_csv(payload: dict[str, Any]) -> str:
    """The CSV body for a /query response payload whose times are already ns or epoch integers."""
    if "error" in payload:
        return _line(["error"]) + _line([payload["error"]])
    out: list[str] = []
    statement_id = -1
    columns: list[str] | None = None
    for result in payload.get("results", []):
        if "error" in result:
            out.append(_line(["error"]) + _line([result["error"]]))
            continue
        series_list = result.get("series") or []
        if result.get("statement_id") != statement_id:
            if not series_list:
                continue
            if statement_id >= 0:
                out.append("\n")
            statement_id = result.get("statement_id", 0)
            columns = series_list[0]["columns"]
            out.append(_line(["name", "tags", *columns]))
        for i, series in enumerate(series_list):
            if i > 0 and series["columns"] != columns:
                out.append("\n")
                columns = series["columns"]
                out.append(_line(["name", "tags", *columns]))
            head = [series.get("name", ""), hash_key(series.get("tags") or {})]
            for row in series.get("values", []):
                out.append(_line([*head, *(_cell(v) for v in row)]))
    return "".join(out)
