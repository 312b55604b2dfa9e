"""Annotated CSV, as Flux's result encoder writes it.

Per result: a schema block (the annotations asked for, in the order asked, then the header row) whenever
the columns change or a table is empty, a blank line between schema blocks, rows with an empty first
column, the result name (blank with the `default` annotation, which carries it), and the table number.
Each result ends with a blank line. Times are RFC 3339 with nanoseconds, floats shortest without exponent,
CRLF line ends. An error after output began is appended as a table with columns `error,reference`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from chalicelib.flux.tables import Stream, Table
from chalicelib.flux.values import RUNTIME_ERRORS, format_float, format_time
from chalicelib.kit.errors import INVALID, TicklessError

DATATYPES = {
    "float": "double",
    "int": "long",
    "uint": "unsignedLong",
    "string": "string",
    "bool": "boolean",
    "time": "dateTime:RFC3339",
}
ANNOTATIONS = ("datatype", "group", "default")
ROWS_PER_CHUNK = 4096  # rows of a table encoded at a time


@dataclass
class Dialect:
    header: bool = True
    delimiter: str = ","
    annotations: list[str] = field(default_factory=list)


def encode_value(v, kind: str) -> str:
    if v is None:
        return ""
    if kind == "float":
        return format_float(v)
    if kind == "time":
        return format_time(v)
    if kind == "bool":
        return "true" if v else "false"
    if kind in ("int", "uint"):
        return str(int(v))
    return str(v)


class Writer:
    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.sep = dialect.delimiter or ","

    def quote(self, s: str) -> str:
        if s == "":
            return s
        if s == "\\." or any(c in s for c in (self.sep, '"', "\r", "\n")) or s[0].isspace():
            return '"' + s.replace('"', '""') + '"'
        return s

    def line(self, fields: list[str]) -> str:
        return self.sep.join(self.quote(f) for f in fields) + "\r\n"


class ResultEncoder:
    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.w = Writer(dialect)
        self.written = False
        self._times: dict[int | None, str] = {}  # time -> its text, for this encoding

    def encode(self, name: str, stream: Stream) -> Iterator[str]:
        """The CSV of one result (the blank line ending it included), a table or ROWS_PER_CHUNK of its
        rows at a time, so a caller can stop reading an answer that grows too large."""
        tables = stream.tables()  # raises before any of this result is written
        last_cols = None
        last_empty = False
        annotated_default = "default" in self.dialect.annotations
        for table_id, table in enumerate(tables):
            cols = list(table.columns)
            empty = table.n == 0
            chunk = []
            if last_empty or cols != last_cols or empty:
                if last_cols is not None:
                    chunk.append("\r\n")
                chunk.append(self._schema(table, name, table_id, empty))
            prefix = self.w.sep.join(["", "" if annotated_default else name, str(table_id)])
            n = table.n
            constant = [self._constant(table, i) for i in range(len(cols))] if n else []
            for lo in range(0, n, ROWS_PER_CHUNK):  # column by column, then rows joined whole
                hi = min(n, lo + ROWS_PER_CHUNK)
                texts = [self._texts(table, i, lo, hi, constant[i]) for i in range(len(cols))]
                chunk.append(
                    "\r\n".join(map(self.w.sep.join, zip([prefix] * (hi - lo), *texts, strict=True)))
                )
                chunk.append("\r\n")
                text = "".join(chunk)  # built whole first: an encoding error leaves no row half written
                self.written = True
                yield text
                chunk = []
            if chunk:
                self.written = True
                yield "".join(chunk)
            last_cols = cols
            last_empty = empty
        yield "\r\n"

    def _constant(self, table: Table, i: int) -> str | None:
        """The text of a group key column holding one value on every row (None for other columns)."""
        name, kind = table.columns[i]
        values = table.data[i]
        if name in table.key and table.n and all(v == values[0] for v in values):
            return self.w.quote(encode_value(values[0], kind))
        return None

    def _texts(self, table: Table, i: int, lo: int, hi: int, constant: str | None) -> list[str]:
        """A column's text for rows lo..hi-1, value by value (`constant` repeated for a key column)."""
        if constant is not None:
            return [constant] * (hi - lo)
        kind = table.columns[i][1]
        values = table.data[i][lo:hi] if lo or hi < table.n else table.data[i]
        if kind == "string" or self.w.sep not in ",;\t|":
            return [self.w.quote(encode_value(v, kind)) if v is not None else "" for v in values]
        if kind == "time":  # window times repeat from table to table: each is formatted once
            known = self._times
            if len(known) > 100_000:
                known.clear()
            out = []
            for v in values:
                text = known.get(v)
                if text is None:
                    text = known[v] = format_time(v) if v is not None else ""
                out.append(text)
            return out
        if kind == "float" and None not in values:
            return list(map(format_float, values))
        return [encode_value(v, kind) if v is not None else "" for v in values]

    def _schema(self, table: Table, name: str, table_id: int, empty: bool) -> str:
        out = []
        key = set(table.key)
        for annotation in self.dialect.annotations:
            if annotation == "datatype":
                out.append(
                    self.w.line(["#datatype", "string", "long"] + [DATATYPES[k] for _, k in table.columns])
                )
            elif annotation == "group":
                out.append(
                    self.w.line(["#group", "false", "false"] + [_bool(n in key) for n, _ in table.columns])
                )
            elif annotation == "default":
                defaults = ["#default", name, str(table_id) if empty else ""]
                for n, k in table.columns:
                    defaults.append(encode_value(table.keyvals.get(n), k) if empty and n in key else "")
                out.append(self.w.line(defaults))
        if self.dialect.header:
            out.append(self.w.line(["", "result", "table"] + [n for n, _ in table.columns]))
        return "".join(out)

    def encode_error(self, message: str) -> str:
        out = ["\r\n"] if self.written else []
        for annotation in self.dialect.annotations:
            if annotation == "datatype":
                out.append(self.w.line(["#datatype", "string", "string"]))
            elif annotation == "group":
                out.append(self.w.line(["#group", "true", "true"]))
            elif annotation == "default":
                out.append(self.w.line(["#default", "", ""]))
        out.append(self.w.line(["", "error", "reference"]))
        out.append(self.w.line(["", message, ""]))
        return "".join(out)


def _bool(b: bool) -> str:
    return "true" if b else "false"


def encode(results: list[tuple[str, Stream]], dialect: Dialect) -> Iterator[str]:
    """The CSV of every result, in order. An error before anything is written propagates (the caller
    answers with an error status); after, it becomes an error table and ends the output."""
    encoder = ResultEncoder(dialect)
    for name, stream in results:
        try:
            yield from encoder.encode(name, stream)
        except TicklessError as exc:
            if not encoder.written:
                raise
            yield encoder.encode_error(exc.message)
            return
        except RUNTIME_ERRORS as exc:
            # a bug or an unchecked type mix inside a transformation: still the user's query's error
            if not encoder.written:
                raise TicklessError(INVALID, f"runtime error: {exc}") from exc
            yield encoder.encode_error(f"runtime error: {exc}")
            return
