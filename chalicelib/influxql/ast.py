"""InfluxQL syntax tree (stage 2 of the front end).

Every node is a dataclass; the tree knows nothing about text (`generator.generate(node)` renders
InfluxQL the way InfluxDB 1.x's `String()` methods do). Durations and times are integers in
nanoseconds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Any

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


def expr_depth(node: Node | None) -> int:
    """The most expressions nested in one another under `node` (a subquery's count on from the
    outer one's), found without recursion: the trees measured may be too deep to recurse."""
    deepest = 0
    stack = [(node, 0)] if node is not None else []
    while stack:
        n, depth = stack.pop()
        if isinstance(n, Expr):
            depth += 1
            deepest = max(deepest, depth)
        stack.extend((child, depth) for child in n.children())
    return deepest


class Expr(Node):
    pass


class Literal(Expr):
    pass


@dataclass(eq=True)
class VarRef(Expr):
    val: str
    type: str = ""  # "", "float", "integer", "unsigned", "string", "boolean", "field", "tag"


@dataclass(eq=True)
class Call(Expr):
    name: str
    args: list[Expr] = field(default_factory=list)


@dataclass(eq=True)
class Distinct(Expr):
    val: str

    def to_call(self) -> Call:
        return Call("distinct", [VarRef(self.val)])


@dataclass(eq=True)
class BinaryExpr(Expr):
    op: str
    lhs: Expr
    rhs: Expr


@dataclass(eq=True)
class ParenExpr(Expr):
    expr: Expr


@dataclass(eq=True)
class IntegerLiteral(Literal):
    val: int


@dataclass(eq=True)
class UnsignedLiteral(Literal):
    val: int


@dataclass(eq=True)
class NumberLiteral(Literal):
    val: float


@dataclass(eq=True)
class StringLiteral(Literal):
    val: str

    def is_time_literal(self) -> bool:
        return bool(_DATE_RE.match(self.val) or _DATETIME_RE.match(self.val))


_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}.+")


@dataclass(eq=True)
class BooleanLiteral(Literal):
    val: bool


@dataclass(eq=True)
class DurationLiteral(Literal):
    val: int  # nanoseconds


@dataclass(eq=True)
class TimeLiteral(Literal):
    val: int  # nanoseconds since the epoch, UTC


@dataclass(eq=True)
class RegexLiteral(Literal):
    val: str  # the pattern, with `\/` already turned into `/`

    @cached_property
    def compiled(self) -> re.Pattern[str]:
        return re.compile(go_regex_to_python(self.val))

    def __getstate__(self) -> dict[str, Any]:
        return {"val": self.val}


@dataclass(eq=True)
class ListLiteral(Literal):
    vals: list[str]


@dataclass(eq=True)
class NilLiteral(Literal):
    pass


@dataclass(eq=True)
class BoundParameter(Expr):
    name: str


@dataclass(eq=True)
class Wildcard(Expr):
    type: str = ""  # "", "field" or "tag"


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


@dataclass(eq=True)
class SubQuery(Source):
    statement: SelectStatement


@dataclass(eq=True)
class Field(Node):
    expr: Expr
    alias: str = ""

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


@dataclass(eq=True)
class SortField(Node):
    name: str = ""
    ascending: bool = True


@dataclass(eq=True)
class Target(Node):
    measurement: Measurement


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


@dataclass(eq=True)
class DropSeriesStatement(Statement):
    sources: list[Source] = field(default_factory=list)
    condition: Expr | None = None


@dataclass(eq=True)
class DropMeasurementStatement(Statement):
    name: str


@dataclass(eq=True)
class DropShardStatement(Statement):
    id: int


@dataclass(eq=True)
class ShowDatabasesStatement(Statement):
    pass


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


@dataclass(eq=True)
class ShowSeriesStatement(Statement):
    database: str = ""
    sources: list[Source] = field(default_factory=list)
    condition: Expr | None = None
    sort_fields: list[SortField] = field(default_factory=list)
    limit: int = 0
    offset: int = 0


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


@dataclass(eq=True)
class _Cardinality(Statement):
    exact: bool = False
    database: str = ""
    sources: list[Source] = field(default_factory=list)
    condition: Expr | None = None
    dimensions: list[Dimension] = field(default_factory=list)
    limit: int = 0
    offset: int = 0


@dataclass(eq=True)
class ShowSeriesCardinalityStatement(_Cardinality):
    pass


@dataclass(eq=True)
class ShowMeasurementCardinalityStatement(_Cardinality):
    pass


@dataclass(eq=True)
class ShowTagKeyCardinalityStatement(_Cardinality):
    pass


@dataclass(eq=True)
class ShowFieldKeyCardinalityStatement(_Cardinality):
    pass


@dataclass(eq=True)
class ShowTagValuesCardinalityStatement(_Cardinality):
    op: str = "="
    tag_key_expr: Literal | None = None


@dataclass(eq=True)
class ShowRetentionPoliciesStatement(Statement):
    database: str = ""


@dataclass(eq=True)
class ShowQueriesStatement(Statement):
    pass


@dataclass(eq=True)
class ShowUsersStatement(Statement):
    pass


@dataclass(eq=True)
class ShowContinuousQueriesStatement(Statement):
    pass


@dataclass(eq=True)
class ShowShardsStatement(Statement):
    pass


@dataclass(eq=True)
class ShowShardGroupsStatement(Statement):
    pass


@dataclass(eq=True)
class ShowSubscriptionsStatement(Statement):
    pass


@dataclass(eq=True)
class ShowGrantsForUserStatement(Statement):
    name: str


@dataclass(eq=True)
class ShowStatsStatement(Statement):
    module: str = ""


@dataclass(eq=True)
class ShowDiagnosticsStatement(Statement):
    module: str = ""


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


@dataclass(eq=True)
class DropDatabaseStatement(Statement):
    name: str


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


@dataclass(eq=True)
class DropRetentionPolicyStatement(Statement):
    name: str
    database: str


@dataclass(eq=True)
class CreateContinuousQueryStatement(Statement):
    name: str
    database: str
    source: SelectStatement
    resample_every: int = 0
    resample_for: int = 0


@dataclass(eq=True)
class DropContinuousQueryStatement(Statement):
    name: str
    database: str


@dataclass(eq=True)
class CreateUserStatement(Statement):
    name: str
    password: str
    admin: bool = False


@dataclass(eq=True)
class DropUserStatement(Statement):
    name: str


@dataclass(eq=True)
class SetPasswordUserStatement(Statement):
    name: str
    password: str


@dataclass(eq=True)
class GrantStatement(Statement):
    privilege: str  # "read", "write" or "all"
    on: str
    user: str


@dataclass(eq=True)
class GrantAdminStatement(Statement):
    user: str


@dataclass(eq=True)
class RevokeStatement(Statement):
    privilege: str
    on: str
    user: str


@dataclass(eq=True)
class RevokeAdminStatement(Statement):
    user: str


@dataclass(eq=True)
class CreateSubscriptionStatement(Statement):
    name: str
    database: str
    retention_policy: str
    mode: str  # "ALL" or "ANY"
    destinations: list[str] = field(default_factory=list)


@dataclass(eq=True)
class DropSubscriptionStatement(Statement):
    name: str
    database: str
    retention_policy: str


@dataclass(eq=True)
class KillQueryStatement(Statement):
    query_id: int
    host: str = ""


@dataclass(eq=True)
class ExplainStatement(Statement):
    statement: SelectStatement
    analyze: bool = False
    verbose: bool = False


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
