"""InfluxQL syntax tree (stage 2 of the front end).

Every node is a dataclass whose `str()` renders InfluxQL the way InfluxDB 1.x's `String()` methods
do, so a rendered statement parses back to an equal tree. Durations and times are integers in
nanoseconds.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Any

from .tokens import format_duration, is_ident_char, is_ident_first_char, lookup

# Quoting -------------------------------------------------------------------------------------------


def ident_needs_quotes(ident: str) -> bool:
    if lookup(ident) != "IDENT":
        return True
    for i, ch in enumerate(ident):
        if (i == 0 and not is_ident_first_char(ch)) or (i > 0 and not is_ident_char(ch)):
            return True
    return False


def _escape_ident(s: str) -> str:
    return s.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def quote_ident(*segments: str) -> str:
    """InfluxDB's QuoteIdent: joins segments with `.`, quoting where needed."""
    out: list[str] = []
    last = len(segments) - 1
    for i, seg in enumerate(segments):
        need = ident_needs_quotes(seg) or (i < last and seg != "") or ((i == 0 or i == last) and seg == "")
        text = _escape_ident(seg)
        out.append(f'"{text}"' if need else text)
    return ".".join(out)


def quote_string(s: str) -> str:
    return "'" + s.replace("\\", "\\\\").replace("\n", "\\n").replace("'", "\\'") + "'"


def format_time(ns: int) -> str:
    """RFC3339 with nanoseconds, trailing zeros trimmed (Go's time.RFC3339Nano), UTC."""
    secs, frac = divmod(ns, 1_000_000_000)
    base = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC) + _dt.timedelta(seconds=secs)
    text = base.strftime("%Y-%m-%dT%H:%M:%S")
    if frac:
        text += "." + f"{frac:09d}".rstrip("0")
    return text + "Z"


def _go_float(v: float) -> str:
    """Go's %v for a float64 (shortest representation, exponent for very large/small)."""
    if v != v:
        return "NaN"
    if v in (float("inf"), float("-inf")):
        return "+Inf" if v > 0 else "-Inf"
    if v == int(v) and abs(v) < 1e21:
        return str(int(v))
    return repr(v)


# Nodes ---------------------------------------------------------------------------------------------


class Node:
    def children(self) -> Iterator[Node]:
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if isinstance(value, Node):
                yield value
            elif isinstance(value, list):
                yield from (v for v in value if isinstance(v, Node))


def walk(node: Node | None) -> Iterator[Node]:
    """Every node of the tree, depth first, parents before children."""
    if node is None:
        return
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(list(n.children())))


class Expr(Node):
    pass


class Literal(Expr):
    pass


@dataclass(eq=True)
class VarRef(Expr):
    val: str
    type: str = ""  # "", "float", "integer", "unsigned", "string", "boolean", "field", "tag"

    def __str__(self) -> str:
        text = quote_ident(self.val)
        return f"{text}::{self.type}" if self.type else text


@dataclass(eq=True)
class Call(Expr):
    name: str
    args: list[Expr] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.name}({', '.join(str(a) for a in self.args)})"


@dataclass(eq=True)
class Distinct(Expr):
    val: str

    def __str__(self) -> str:
        return f"DISTINCT {self.val}"

    def to_call(self) -> Call:
        return Call("distinct", [VarRef(self.val)])


@dataclass(eq=True)
class BinaryExpr(Expr):
    op: str
    lhs: Expr
    rhs: Expr

    def __str__(self) -> str:
        return f"{self.lhs} {self.op} {self.rhs}"


@dataclass(eq=True)
class ParenExpr(Expr):
    expr: Expr

    def __str__(self) -> str:
        return f"({self.expr})"


@dataclass(eq=True)
class IntegerLiteral(Literal):
    val: int

    def __str__(self) -> str:
        return str(self.val)


@dataclass(eq=True)
class UnsignedLiteral(Literal):
    val: int

    def __str__(self) -> str:
        return str(self.val)


@dataclass(eq=True)
class NumberLiteral(Literal):
    val: float

    def __str__(self) -> str:
        return f"{self.val:.3f}"


@dataclass(eq=True)
class StringLiteral(Literal):
    val: str

    def __str__(self) -> str:
        return quote_string(self.val)

    def is_time_literal(self) -> bool:
        return bool(_DATE_RE.match(self.val) or _DATETIME_RE.match(self.val))


_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}.+")


@dataclass(eq=True)
class BooleanLiteral(Literal):
    val: bool

    def __str__(self) -> str:
        return "true" if self.val else "false"


@dataclass(eq=True)
class DurationLiteral(Literal):
    val: int  # nanoseconds

    def __str__(self) -> str:
        return format_duration(self.val)


@dataclass(eq=True)
class TimeLiteral(Literal):
    val: int  # nanoseconds since the epoch, UTC

    def __str__(self) -> str:
        return f"'{format_time(self.val)}'"


@dataclass(eq=True)
class RegexLiteral(Literal):
    val: str  # the pattern, with `\/` already turned into `/`

    def __str__(self) -> str:
        return "/" + self.val.replace("/", "\\/") + "/"

    @cached_property
    def compiled(self) -> re.Pattern[str]:
        return re.compile(go_regex_to_python(self.val))

    def __getstate__(self) -> dict[str, Any]:
        return {"val": self.val}


@dataclass(eq=True)
class ListLiteral(Literal):
    vals: list[str]

    def __str__(self) -> str:
        return "(" + ", ".join(quote_ident(v) for v in self.vals) + ")"


@dataclass(eq=True)
class NilLiteral(Literal):
    def __str__(self) -> str:
        return "null"


@dataclass(eq=True)
class BoundParameter(Expr):
    name: str

    def __str__(self) -> str:
        return "$" + quote_ident(self.name)


@dataclass(eq=True)
class Wildcard(Expr):
    type: str = ""  # "", "field" or "tag"

    def __str__(self) -> str:
        return f"*::{self.type}" if self.type else "*"


def go_regex_to_python(pattern: str) -> str:
    """Best-effort translation of RE2 syntax Python's `re` spells differently."""
    return pattern.replace(r"\z", r"\Z")


# Sources, fields, dimensions -----------------------------------------------------------------------


class Source(Node):
    pass


@dataclass(eq=True)
class Measurement(Source):
    database: str = ""
    retention_policy: str = ""
    name: str = ""
    regex: RegexLiteral | None = None
    is_target: bool = False

    def __str__(self) -> str:
        out = ""
        if self.database:
            out += quote_ident(self.database) + "."
        if self.retention_policy:
            out += quote_ident(self.retention_policy)
        if self.database or self.retention_policy:
            out += "."
        if self.name:
            out += quote_ident(self.name)
        elif self.regex is not None:
            out += str(self.regex)
        return out


@dataclass(eq=True)
class SubQuery(Source):
    statement: SelectStatement

    def __str__(self) -> str:
        return f"({self.statement})"


@dataclass(eq=True)
class Field(Node):
    expr: Expr
    alias: str = ""

    def __str__(self) -> str:
        return f"{self.expr} AS {quote_ident(self.alias)}" if self.alias else str(self.expr)

    def name(self) -> str:
        """The column name InfluxDB gives this field (alias, else derived from the expression)."""
        if self.alias:
            return self.alias
        return expr_name(self.expr)


def expr_name(expr: Expr) -> str:
    if isinstance(expr, Call):
        return expr.name
    if isinstance(expr, BinaryExpr):
        return binary_expr_name(expr)
    if isinstance(expr, ParenExpr):
        return expr_name(expr.expr)
    if isinstance(expr, VarRef):
        return expr.val
    if isinstance(expr, Distinct):
        return "distinct"
    return ""


def binary_expr_name(expr: BinaryExpr) -> str:
    """InfluxDB's BinaryExprName: variable and function names joined by `_` (call arguments skipped)."""
    names: list[str] = []

    def visit(node: Node) -> None:
        if isinstance(node, VarRef):
            names.append(node.val)
        elif isinstance(node, Call):
            names.append(node.name)
            return
        for child in node.children():
            visit(child)

    visit(expr)
    return "_".join(names)


@dataclass(eq=True)
class Dimension(Node):
    expr: Expr

    def __str__(self) -> str:
        return str(self.expr)


@dataclass(eq=True)
class SortField(Node):
    name: str = ""
    ascending: bool = True

    def __str__(self) -> str:
        order = "ASC" if self.ascending else "DESC"
        return f"{self.name} {order}" if self.name else order


@dataclass(eq=True)
class Target(Node):
    measurement: Measurement

    def __str__(self) -> str:
        text = f"INTO {self.measurement}"
        return text + ":MEASUREMENT" if not self.measurement.name else text


def _join(items: list[Any]) -> str:
    return ", ".join(str(i) for i in items)


def _clauses(
    *,
    database: str = "",
    sources: list[Source] | None = None,
    condition: Expr | None = None,
    dimensions: list[Dimension] | None = None,
    sort_fields: list[SortField] | None = None,
    limit: int = 0,
    offset: int = 0,
    slimit: int = 0,
    soffset: int = 0,
    with_key: str = "",
) -> str:
    out = ""
    if database:
        out += " ON " + quote_ident(database)
    if sources:
        out += " FROM " + _join(sources)
    out += with_key
    if condition is not None:
        out += f" WHERE {condition}"
    if dimensions:
        out += " GROUP BY " + _join(dimensions)
    if sort_fields:
        out += " ORDER BY " + _join(sort_fields)
    if limit > 0:
        out += f" LIMIT {limit}"
    if offset > 0:
        out += f" OFFSET {offset}"
    if slimit > 0:
        out += f" SLIMIT {slimit}"
    if soffset > 0:
        out += f" SOFFSET {soffset}"
    return out


# Statements ----------------------------------------------------------------------------------------


class Statement(Node):
    pass


@dataclass(eq=True)
class SelectStatement(Statement):
    fields: list[Field] = field(default_factory=list)
    target: Target | None = None
    sources: list[Source] = field(default_factory=list)
    condition: Expr | None = None
    dimensions: list[Dimension] = field(default_factory=list)
    fill: str = "null"  # "null", "none", "number", "previous", "linear"
    fill_value: int | float | None = None
    sort_fields: list[SortField] = field(default_factory=list)
    limit: int = 0
    offset: int = 0
    slimit: int = 0
    soffset: int = 0
    location: str | None = None  # IANA time zone name from tz('...')
    is_raw_query: bool = True

    def __str__(self) -> str:
        out = "SELECT " + _join(self.fields)
        if self.target is not None:
            out += f" {self.target}"
        if self.sources:
            out += " FROM " + _join(self.sources)
        if self.condition is not None:
            out += f" WHERE {self.condition}"
        if self.dimensions:
            out += " GROUP BY " + _join(self.dimensions)
        if self.fill == "none":
            out += " fill(none)"
        elif self.fill == "number":
            v = self.fill_value
            out += f" fill({_go_float(v) if isinstance(v, float) else v})"
        elif self.fill in ("linear", "previous"):
            out += f" fill({self.fill})"
        out += _clauses(
            sort_fields=self.sort_fields,
            limit=self.limit,
            offset=self.offset,
            slimit=self.slimit,
            soffset=self.soffset,
        )
        if self.location is not None:
            out += f" TZ('{self.location}')"
        return out

    def time_ascending(self) -> bool:
        return not self.sort_fields or self.sort_fields[0].ascending

    def group_by_interval(self) -> tuple[int, int]:
        """(interval, offset) in ns of `GROUP BY time(interval[, offset])`; (0, 0) without one.

        Raises ValueError with InfluxDB's message when the time() dimension is malformed. An offset
        of `now()` is reported as offset -1 (the caller substitutes the query's now).
        """
        for dim in self.dimensions:
            expr = dim.expr
            if not (isinstance(expr, Call) and expr.name == "time"):
                continue
            if not expr.args or not isinstance(expr.args[0], DurationLiteral):
                raise ValueError("time dimension must have duration argument")
            interval = expr.args[0].val
            offset = 0
            if len(expr.args) > 1:
                arg = expr.args[1]
                if isinstance(arg, DurationLiteral):
                    offset = arg.val
                elif isinstance(arg, Call):
                    if arg.name != "now":
                        raise ValueError("time dimension offset function must be now()")
                    if arg.args:
                        raise ValueError("time dimension offset now() function requires no arguments")
                    offset = -1
                else:
                    raise ValueError("time dimension offset must be duration or now()")
            return interval, offset
        return 0, 0


@dataclass(eq=True)
class DeleteSeriesStatement(Statement):
    sources: list[Source] = field(default_factory=list)
    condition: Expr | None = None

    def __str__(self) -> str:
        return "DELETE" + _clauses(sources=self.sources, condition=self.condition)


@dataclass(eq=True)
class DropSeriesStatement(Statement):
    sources: list[Source] = field(default_factory=list)
    condition: Expr | None = None

    def __str__(self) -> str:
        return "DROP SERIES" + _clauses(sources=self.sources, condition=self.condition)


@dataclass(eq=True)
class DropMeasurementStatement(Statement):
    name: str

    def __str__(self) -> str:
        return f"DROP MEASUREMENT {quote_ident(self.name)}"


@dataclass(eq=True)
class DropShardStatement(Statement):
    id: int

    def __str__(self) -> str:
        return f"DROP SHARD {self.id}"


@dataclass(eq=True)
class ShowDatabasesStatement(Statement):
    def __str__(self) -> str:
        return "SHOW DATABASES"


@dataclass(eq=True)
class ShowMeasurementsStatement(Statement):
    database: str = ""
    retention_policy: str = ""
    wildcard_database: bool = False
    wildcard_retention_policy: bool = False
    source: Source | None = None
    condition: Expr | None = None
    sort_fields: list[SortField] = field(default_factory=list)
    limit: int = 0
    offset: int = 0

    def __str__(self) -> str:
        out = "SHOW MEASUREMENTS"
        if self.database or self.wildcard_database:
            out += " ON " + ("*" if self.wildcard_database else quote_ident(self.database))
            if self.retention_policy or self.wildcard_retention_policy:
                rp = "*" if self.wildcard_retention_policy else quote_ident(self.retention_policy)
                out += "." + rp
        if self.source is not None:
            regex = isinstance(self.source, Measurement) and self.source.regex is not None
            out += f" WITH MEASUREMENT {'=~' if regex else '='} {self.source}"
        return out + _clauses(
            condition=self.condition, sort_fields=self.sort_fields, limit=self.limit, offset=self.offset
        )


@dataclass(eq=True)
class ShowSeriesStatement(Statement):
    database: str = ""
    sources: list[Source] = field(default_factory=list)
    condition: Expr | None = None
    sort_fields: list[SortField] = field(default_factory=list)
    limit: int = 0
    offset: int = 0

    def __str__(self) -> str:
        return "SHOW SERIES" + _clauses(
            database=self.database,
            sources=self.sources,
            condition=self.condition,
            sort_fields=self.sort_fields,
            limit=self.limit,
            offset=self.offset,
        )


def _with_key(op: str, expr: Literal | None) -> str:
    if expr is None:
        return ""
    value = quote_ident(expr.val) if isinstance(expr, StringLiteral) else str(expr)
    return f" WITH KEY {op} {value}"


@dataclass(eq=True)
class ShowTagKeysStatement(Statement):
    database: str = ""
    sources: list[Source] = field(default_factory=list)
    tag_key_op: str = ""
    tag_key_expr: Literal | None = None
    condition: Expr | None = None
    sort_fields: list[SortField] = field(default_factory=list)
    limit: int = 0
    offset: int = 0
    slimit: int = 0
    soffset: int = 0

    def __str__(self) -> str:
        return "SHOW TAG KEYS" + _clauses(
            database=self.database,
            sources=self.sources,
            with_key=_with_key(self.tag_key_op, self.tag_key_expr),
            condition=self.condition,
            sort_fields=self.sort_fields,
            limit=self.limit,
            offset=self.offset,
            slimit=self.slimit,
            soffset=self.soffset,
        )


@dataclass(eq=True)
class ShowTagValuesStatement(Statement):
    database: str = ""
    sources: list[Source] = field(default_factory=list)
    op: str = "="  # "=", "!=", "=~", "!~" or "IN"
    tag_key_expr: Literal | None = None  # StringLiteral, RegexLiteral or ListLiteral
    condition: Expr | None = None
    sort_fields: list[SortField] = field(default_factory=list)
    limit: int = 0
    offset: int = 0

    def __str__(self) -> str:
        return "SHOW TAG VALUES" + _clauses(
            database=self.database,
            sources=self.sources,
            with_key=_with_key(self.op, self.tag_key_expr),
            condition=self.condition,
            sort_fields=self.sort_fields,
            limit=self.limit,
            offset=self.offset,
        )

    def key_matches(self, key: str) -> bool:
        """Whether tag key `key` is selected by the WITH KEY clause."""
        expr = self.tag_key_expr
        if isinstance(expr, ListLiteral):
            return key in expr.vals
        if isinstance(expr, RegexLiteral):
            found = expr.compiled.search(key) is not None
            return found if self.op == "=~" else not found
        if isinstance(expr, StringLiteral):
            return (key == expr.val) if self.op == "=" else (key != expr.val)
        return False


@dataclass(eq=True)
class ShowFieldKeysStatement(Statement):
    database: str = ""
    sources: list[Source] = field(default_factory=list)
    sort_fields: list[SortField] = field(default_factory=list)
    limit: int = 0
    offset: int = 0

    def __str__(self) -> str:
        return "SHOW FIELD KEYS" + _clauses(
            database=self.database,
            sources=self.sources,
            sort_fields=self.sort_fields,
            limit=self.limit,
            offset=self.offset,
        )


@dataclass(eq=True)
class _Cardinality(Statement):
    exact: bool = False
    database: str = ""
    sources: list[Source] = field(default_factory=list)
    condition: Expr | None = None
    dimensions: list[Dimension] = field(default_factory=list)
    limit: int = 0
    offset: int = 0

    _what = ""

    def _render(self, with_key: str = "") -> str:
        exact = "EXACT " if self.exact else ""
        return f"SHOW {self._what} {exact}CARDINALITY" + _clauses(
            database=self.database,
            sources=self.sources,
            with_key=with_key,
            condition=self.condition,
            dimensions=self.dimensions,
            limit=self.limit,
            offset=self.offset,
        )

    def __str__(self) -> str:
        return self._render()


@dataclass(eq=True)
class ShowSeriesCardinalityStatement(_Cardinality):
    _what = "SERIES"


@dataclass(eq=True)
class ShowMeasurementCardinalityStatement(_Cardinality):
    _what = "MEASUREMENT"


@dataclass(eq=True)
class ShowTagKeyCardinalityStatement(_Cardinality):
    _what = "TAG KEY"


@dataclass(eq=True)
class ShowFieldKeyCardinalityStatement(_Cardinality):
    _what = "FIELD KEY"


@dataclass(eq=True)
class ShowTagValuesCardinalityStatement(_Cardinality):
    op: str = "="
    tag_key_expr: Literal | None = None

    _what = "TAG VALUES"

    def __str__(self) -> str:
        return self._render(_with_key(self.op, self.tag_key_expr))


@dataclass(eq=True)
class ShowRetentionPoliciesStatement(Statement):
    database: str = ""

    def __str__(self) -> str:
        return "SHOW RETENTION POLICIES" + (f" ON {quote_ident(self.database)}" if self.database else "")


@dataclass(eq=True)
class _Simple(Statement):
    _text = ""

    def __str__(self) -> str:
        return self._text


@dataclass(eq=True)
class ShowQueriesStatement(_Simple):
    _text = "SHOW QUERIES"


@dataclass(eq=True)
class ShowUsersStatement(_Simple):
    _text = "SHOW USERS"


@dataclass(eq=True)
class ShowContinuousQueriesStatement(_Simple):
    _text = "SHOW CONTINUOUS QUERIES"


@dataclass(eq=True)
class ShowShardsStatement(_Simple):
    _text = "SHOW SHARDS"


@dataclass(eq=True)
class ShowShardGroupsStatement(_Simple):
    _text = "SHOW SHARD GROUPS"


@dataclass(eq=True)
class ShowSubscriptionsStatement(_Simple):
    _text = "SHOW SUBSCRIPTIONS"


@dataclass(eq=True)
class ShowGrantsForUserStatement(Statement):
    name: str

    def __str__(self) -> str:
        return f"SHOW GRANTS FOR {quote_ident(self.name)}"


@dataclass(eq=True)
class ShowStatsStatement(Statement):
    module: str = ""

    def __str__(self) -> str:
        return "SHOW STATS" + (f" FOR {quote_string(self.module)}" if self.module else "")


@dataclass(eq=True)
class ShowDiagnosticsStatement(Statement):
    module: str = ""

    def __str__(self) -> str:
        return "SHOW DIAGNOSTICS" + (f" FOR {quote_string(self.module)}" if self.module else "")


def _write_limits(future: int | None, past: int | None) -> str:
    out = ""
    if future is not None:
        out += f" FUTURE LIMIT {format_duration(future)}"
    if past is not None:
        out += f" PAST LIMIT {format_duration(past)}"
    return out


@dataclass(eq=True)
class CreateDatabaseStatement(Statement):
    name: str
    retention_policy_create: bool = False
    retention_policy_duration: int | None = None  # ns; 0 = INF
    retention_policy_replication: int | None = None
    retention_policy_shard_group_duration: int = 0
    retention_policy_name: str = ""
    future_write_limit: int | None = None
    past_write_limit: int | None = None

    def __str__(self) -> str:
        out = f"CREATE DATABASE {quote_ident(self.name)}"
        if self.retention_policy_create:
            out += " WITH"
            if self.retention_policy_duration is not None:
                out += f" DURATION {format_duration(self.retention_policy_duration)}"
            if self.retention_policy_replication is not None:
                out += f" REPLICATION {self.retention_policy_replication}"
            if self.retention_policy_shard_group_duration > 0:
                out += f" SHARD DURATION {format_duration(self.retention_policy_shard_group_duration)}"
            out += _write_limits(self.future_write_limit, self.past_write_limit)
            if self.retention_policy_name:
                out += f" NAME {quote_ident(self.retention_policy_name)}"
        return out


@dataclass(eq=True)
class DropDatabaseStatement(Statement):
    name: str

    def __str__(self) -> str:
        return f"DROP DATABASE {quote_ident(self.name)}"


@dataclass(eq=True)
class CreateRetentionPolicyStatement(Statement):
    name: str
    database: str
    duration: int  # ns; 0 = INF
    replication: int
    shard_group_duration: int = 0
    default: bool = False
    future_write_limit: int = 0
    past_write_limit: int = 0

    def __str__(self) -> str:
        out = (
            f"CREATE RETENTION POLICY {quote_ident(self.name)} ON {quote_ident(self.database)}"
            f" DURATION {format_duration(self.duration)} REPLICATION {self.replication}"
        )
        if self.shard_group_duration:
            out += f" SHARD DURATION {format_duration(self.shard_group_duration)}"
        if self.default:
            out += " DEFAULT"
        out += _write_limits(self.future_write_limit or None, self.past_write_limit or None)
        return out


@dataclass(eq=True)
class AlterRetentionPolicyStatement(Statement):
    name: str
    database: str
    duration: int | None = None
    replication: int | None = None
    shard_group_duration: int | None = None
    default: bool = False
    future_write_limit: int | None = None
    past_write_limit: int | None = None

    def __str__(self) -> str:
        out = f"ALTER RETENTION POLICY {quote_ident(self.name)} ON {quote_ident(self.database)}"
        if self.duration is not None:
            out += f" DURATION {format_duration(self.duration)}"
        if self.replication is not None:
            out += f" REPLICATION {self.replication}"
        if self.shard_group_duration is not None:
            out += f" SHARD DURATION {format_duration(self.shard_group_duration)}"
        if self.default:
            out += " DEFAULT"
        return out + _write_limits(self.future_write_limit, self.past_write_limit)


@dataclass(eq=True)
class DropRetentionPolicyStatement(Statement):
    name: str
    database: str

    def __str__(self) -> str:
        return f"DROP RETENTION POLICY {quote_ident(self.name)} ON {quote_ident(self.database)}"


@dataclass(eq=True)
class CreateContinuousQueryStatement(Statement):
    name: str
    database: str
    source: SelectStatement
    resample_every: int = 0
    resample_for: int = 0

    def __str__(self) -> str:
        out = f"CREATE CONTINUOUS QUERY {quote_ident(self.name)} ON {quote_ident(self.database)} "
        if self.resample_every or self.resample_for:
            out += "RESAMPLE "
            if self.resample_every:
                out += f"EVERY {format_duration(self.resample_every)} "
            if self.resample_for:
                out += f"FOR {format_duration(self.resample_for)} "
        return out + f"BEGIN {self.source} END"


@dataclass(eq=True)
class DropContinuousQueryStatement(Statement):
    name: str
    database: str

    def __str__(self) -> str:
        return f"DROP CONTINUOUS QUERY {quote_ident(self.name)} ON {quote_ident(self.database)}"


@dataclass(eq=True)
class CreateUserStatement(Statement):
    name: str
    password: str
    admin: bool = False

    def __str__(self) -> str:
        out = f"CREATE USER {quote_ident(self.name)} WITH PASSWORD [REDACTED]"
        return out + " WITH ALL PRIVILEGES" if self.admin else out


@dataclass(eq=True)
class DropUserStatement(Statement):
    name: str

    def __str__(self) -> str:
        return f"DROP USER {quote_ident(self.name)}"


@dataclass(eq=True)
class SetPasswordUserStatement(Statement):
    name: str
    password: str

    def __str__(self) -> str:
        return f"SET PASSWORD FOR {quote_ident(self.name)} = [REDACTED]"


PRIVILEGE_NAMES = {"read": "READ", "write": "WRITE", "all": "ALL PRIVILEGES", "none": "NO PRIVILEGES"}


@dataclass(eq=True)
class GrantStatement(Statement):
    privilege: str  # "read", "write" or "all"
    on: str
    user: str

    def __str__(self) -> str:
        priv = PRIVILEGE_NAMES[self.privilege]
        return f"GRANT {priv} ON {quote_ident(self.on)} TO {quote_ident(self.user)}"


@dataclass(eq=True)
class GrantAdminStatement(Statement):
    user: str

    def __str__(self) -> str:
        return f"GRANT ALL PRIVILEGES TO {quote_ident(self.user)}"


@dataclass(eq=True)
class RevokeStatement(Statement):
    privilege: str
    on: str
    user: str

    def __str__(self) -> str:
        priv = PRIVILEGE_NAMES[self.privilege]
        return f"REVOKE {priv} ON {quote_ident(self.on)} FROM {quote_ident(self.user)}"


@dataclass(eq=True)
class RevokeAdminStatement(Statement):
    user: str

    def __str__(self) -> str:
        return f"REVOKE ALL PRIVILEGES FROM {quote_ident(self.user)}"


@dataclass(eq=True)
class CreateSubscriptionStatement(Statement):
    name: str
    database: str
    retention_policy: str
    mode: str  # "ALL" or "ANY"
    destinations: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        dests = ", ".join(quote_string(d) for d in self.destinations)
        where = f"{quote_ident(self.database)}.{quote_ident(self.retention_policy)}"
        return f"CREATE SUBSCRIPTION {quote_ident(self.name)} ON {where} DESTINATIONS {self.mode} {dests}"


@dataclass(eq=True)
class DropSubscriptionStatement(Statement):
    name: str
    database: str
    retention_policy: str

    def __str__(self) -> str:
        return (
            f"DROP SUBSCRIPTION {quote_ident(self.name)} ON "
            f"{quote_ident(self.database)}.{quote_ident(self.retention_policy)}"
        )


@dataclass(eq=True)
class KillQueryStatement(Statement):
    query_id: int
    host: str = ""

    def __str__(self) -> str:
        return f"KILL QUERY {self.query_id}" + (f" ON {quote_ident(self.host)}" if self.host else "")


@dataclass(eq=True)
class ExplainStatement(Statement):
    statement: SelectStatement
    analyze: bool = False
    verbose: bool = False

    def __str__(self) -> str:
        out = "EXPLAIN "
        if self.analyze:
            out += "ANALYZE "
        if self.verbose:
            out += "VERBOSE "
        return out + str(self.statement)


def rewrite_expr(expr: Expr | None, fn: Callable[[Expr], Expr | None]) -> Expr | None:
    """Bottom-up rewrite of binary/paren expressions; `fn` returning None removes a node (and an
    AND/OR whose side was removed collapses to the other side)."""
    if expr is None:
        return None
    if isinstance(expr, BinaryExpr):
        lhs = rewrite_expr(expr.lhs, fn)
        rhs = rewrite_expr(expr.rhs, fn)
        if lhs is None or rhs is None:
            if expr.op in ("AND", "OR"):
                kept = lhs if rhs is None else rhs
                return None if kept is None else fn(kept)
            return None
        expr = BinaryExpr(expr.op, lhs, rhs)
    elif isinstance(expr, ParenExpr):
        inner = rewrite_expr(expr.expr, fn)
        if inner is None:
            return None
        expr = ParenExpr(inner)
    return fn(expr)
