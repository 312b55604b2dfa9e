"""InfluxQL text from the syntax tree (the back end of `ast`).

`generate(node)` renders any `ast` node the way InfluxDB 1.x's `String()` methods do, so a rendered
statement parses back to an equal tree. The nodes themselves know nothing about text: one render
function per node class, found through `_RENDERERS`. The quoting helpers (`quote_ident`,
`quote_string`) live here too, for error messages that quote InfluxQL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from chalicelib.kit.time import format_rfc3339nano

from . import ast
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


def _go_float(v: float) -> str:
    """Go's %v for a float64 (shortest representation, exponent for very large/small)."""
    if v != v:
        return "NaN"
    if v in (float("inf"), float("-inf")):
        return "+Inf" if v > 0 else "-Inf"
    if v == int(v) and abs(v) < 1e21:
        return str(int(v))
    return repr(v)


# Dispatch ------------------------------------------------------------------------------------------

_N = TypeVar("_N", bound=ast.Node)
_RENDERERS: dict[type[ast.Node], Callable[[Any], str]] = {}


def generate(node: ast.Node) -> str:
    """InfluxQL text of `node` (any expression, source, field, dimension or statement)."""
    for cls in type(node).__mro__:
        render = _RENDERERS.get(cls)
        if render is not None:
            return render(node)
    raise TypeError(f"no InfluxQL rendering for {type(node).__name__}")


def _renders(*classes: type[_N]) -> Callable[[Callable[[_N], str]], Callable[[_N], str]]:
    def register(render: Callable[[_N], str]) -> Callable[[_N], str]:
        for cls in classes:
            _RENDERERS[cls] = render
        return render

    return register


def _join(items: list[Any]) -> str:
    return ", ".join(generate(i) for i in items)


# Expressions ---------------------------------------------------------------------------------------


@_renders(ast.VarRef)
def _var_ref(node: ast.VarRef) -> str:
    text = quote_ident(node.val)
    return f"{text}::{node.type}" if node.type else text


@_renders(ast.Call)
def _call(node: ast.Call) -> str:
    return f"{node.name}({_join(node.args)})"


@_renders(ast.Distinct)
def _distinct(node: ast.Distinct) -> str:
    return f"DISTINCT {node.val}"


@_renders(ast.BinaryExpr)
def _binary_expr(node: ast.BinaryExpr) -> str:
    return f"{generate(node.lhs)} {node.op} {generate(node.rhs)}"


@_renders(ast.ParenExpr)
def _paren_expr(node: ast.ParenExpr) -> str:
    return f"({generate(node.expr)})"


@_renders(ast.IntegerLiteral, ast.UnsignedLiteral)
def _integer(node: ast.IntegerLiteral | ast.UnsignedLiteral) -> str:
    return str(node.val)


@_renders(ast.NumberLiteral)
def _number(node: ast.NumberLiteral) -> str:
    return f"{node.val:.3f}"


@_renders(ast.StringLiteral)
def _string(node: ast.StringLiteral) -> str:
    return quote_string(node.val)


@_renders(ast.BooleanLiteral)
def _boolean(node: ast.BooleanLiteral) -> str:
    return "true" if node.val else "false"


@_renders(ast.DurationLiteral)
def _duration(node: ast.DurationLiteral) -> str:
    return format_duration(node.val)


@_renders(ast.TimeLiteral)
def _time(node: ast.TimeLiteral) -> str:
    return f"'{format_rfc3339nano(node.val)}'"


@_renders(ast.RegexLiteral)
def _regex(node: ast.RegexLiteral) -> str:
    return "/" + node.val.replace("/", "\\/") + "/"


@_renders(ast.ListLiteral)
def _list(node: ast.ListLiteral) -> str:
    return "(" + ", ".join(quote_ident(v) for v in node.vals) + ")"


@_renders(ast.NilLiteral)
def _nil(node: ast.NilLiteral) -> str:
    return "null"


@_renders(ast.BoundParameter)
def _bound_parameter(node: ast.BoundParameter) -> str:
    return "$" + quote_ident(node.name)


@_renders(ast.Wildcard)
def _wildcard(node: ast.Wildcard) -> str:
    return f"*::{node.type}" if node.type else "*"


# Sources, fields, dimensions -----------------------------------------------------------------------


@_renders(ast.Measurement)
def _measurement(node: ast.Measurement) -> str:
    out = ""
    if node.database:
        out += quote_ident(node.database) + "."
    if node.retention_policy:
        out += quote_ident(node.retention_policy)
    if node.database or node.retention_policy:
        out += "."
    if node.name:
        out += quote_ident(node.name)
    elif node.regex is not None:
        out += generate(node.regex)
    return out


@_renders(ast.SubQuery)
def _subquery(node: ast.SubQuery) -> str:
    return f"({generate(node.statement)})"


@_renders(ast.Field)
def _field(node: ast.Field) -> str:
    expr = generate(node.expr)
    return f"{expr} AS {quote_ident(node.alias)}" if node.alias else expr


@_renders(ast.Dimension)
def _dimension(node: ast.Dimension) -> str:
    return generate(node.expr)


@_renders(ast.SortField)
def _sort_field(node: ast.SortField) -> str:
    order = "ASC" if node.ascending else "DESC"
    return f"{node.name} {order}" if node.name else order


@_renders(ast.Target)
def _target(node: ast.Target) -> str:
    text = f"INTO {generate(node.measurement)}"
    return text + ":MEASUREMENT" if not node.measurement.name else text


def _clauses(
    *,
    database: str = "",
    sources: list[ast.Source] | None = None,
    condition: ast.Expr | None = None,
    dimensions: list[ast.Dimension] | None = None,
    sort_fields: list[ast.SortField] | None = None,
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
        out += f" WHERE {generate(condition)}"
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


def _with_key(op: str, expr: ast.Literal | None) -> str:
    if expr is None:
        return ""
    value = quote_ident(expr.val) if isinstance(expr, ast.StringLiteral) else generate(expr)
    return f" WITH KEY {op} {value}"


def _write_limits(future: int | None, past: int | None) -> str:
    out = ""
    if future is not None:
        out += f" FUTURE LIMIT {format_duration(future)}"
    if past is not None:
        out += f" PAST LIMIT {format_duration(past)}"
    return out


# Statements: data ----------------------------------------------------------------------------------


@_renders(ast.SelectStatement)
def _select(node: ast.SelectStatement) -> str:
    out = "SELECT " + _join(node.fields)
    if node.target is not None:
        out += f" {generate(node.target)}"
    if node.sources:
        out += " FROM " + _join(node.sources)
    if node.condition is not None:
        out += f" WHERE {generate(node.condition)}"
    if node.dimensions:
        out += " GROUP BY " + _join(node.dimensions)
    if node.fill == "none":
        out += " fill(none)"
    elif node.fill == "number":
        v = node.fill_value
        out += f" fill({_go_float(v) if isinstance(v, float) else v})"
    elif node.fill in ("linear", "previous"):
        out += f" fill({node.fill})"
    out += _clauses(
        sort_fields=node.sort_fields,
        limit=node.limit,
        offset=node.offset,
        slimit=node.slimit,
        soffset=node.soffset,
    )
    if node.location is not None:
        out += f" TZ('{node.location}')"
    return out


@_renders(ast.ExplainStatement)
def _explain(node: ast.ExplainStatement) -> str:
    out = "EXPLAIN "
    if node.analyze:
        out += "ANALYZE "
    if node.verbose:
        out += "VERBOSE "
    return out + generate(node.statement)


@_renders(ast.DeleteSeriesStatement)
def _delete_series(node: ast.DeleteSeriesStatement) -> str:
    return "DELETE" + _clauses(sources=node.sources, condition=node.condition)


@_renders(ast.DropSeriesStatement)
def _drop_series(node: ast.DropSeriesStatement) -> str:
    return "DROP SERIES" + _clauses(sources=node.sources, condition=node.condition)


@_renders(ast.DropMeasurementStatement)
def _drop_measurement(node: ast.DropMeasurementStatement) -> str:
    return f"DROP MEASUREMENT {quote_ident(node.name)}"


@_renders(ast.DropShardStatement)
def _drop_shard(node: ast.DropShardStatement) -> str:
    return f"DROP SHARD {node.id}"


# Statements: SHOW ----------------------------------------------------------------------------------

_FIXED = {
    ast.ShowDatabasesStatement: "SHOW DATABASES",
    ast.ShowQueriesStatement: "SHOW QUERIES",
    ast.ShowUsersStatement: "SHOW USERS",
    ast.ShowContinuousQueriesStatement: "SHOW CONTINUOUS QUERIES",
    ast.ShowShardsStatement: "SHOW SHARDS",
    ast.ShowShardGroupsStatement: "SHOW SHARD GROUPS",
    ast.ShowSubscriptionsStatement: "SHOW SUBSCRIPTIONS",
}


@_renders(*_FIXED)
def _fixed(node: ast.Statement) -> str:
    return _FIXED[type(node)]


@_renders(ast.ShowMeasurementsStatement)
def _show_measurements(node: ast.ShowMeasurementsStatement) -> str:
    out = "SHOW MEASUREMENTS"
    if node.database or node.wildcard_database:
        out += " ON " + ("*" if node.wildcard_database else quote_ident(node.database))
        if node.retention_policy or node.wildcard_retention_policy:
            rp = "*" if node.wildcard_retention_policy else quote_ident(node.retention_policy)
            out += "." + rp
    if node.source is not None:
        regex = isinstance(node.source, ast.Measurement) and node.source.regex is not None
        out += f" WITH MEASUREMENT {'=~' if regex else '='} {generate(node.source)}"
    return out + _clauses(
        condition=node.condition, sort_fields=node.sort_fields, limit=node.limit, offset=node.offset
    )


@_renders(ast.ShowSeriesStatement)
def _show_series(node: ast.ShowSeriesStatement) -> str:
    return "SHOW SERIES" + _clauses(
        database=node.database,
        sources=node.sources,
        condition=node.condition,
        sort_fields=node.sort_fields,
        limit=node.limit,
        offset=node.offset,
    )


@_renders(ast.ShowTagKeysStatement)
def _show_tag_keys(node: ast.ShowTagKeysStatement) -> str:
    return "SHOW TAG KEYS" + _clauses(
        database=node.database,
        sources=node.sources,
        with_key=_with_key(node.tag_key_op, node.tag_key_expr),
        condition=node.condition,
        sort_fields=node.sort_fields,
        limit=node.limit,
        offset=node.offset,
        slimit=node.slimit,
        soffset=node.soffset,
    )


@_renders(ast.ShowTagValuesStatement)
def _show_tag_values(node: ast.ShowTagValuesStatement) -> str:
    return "SHOW TAG VALUES" + _clauses(
        database=node.database,
        sources=node.sources,
        with_key=_with_key(node.op, node.tag_key_expr),
        condition=node.condition,
        sort_fields=node.sort_fields,
        limit=node.limit,
        offset=node.offset,
    )


@_renders(ast.ShowFieldKeysStatement)
def _show_field_keys(node: ast.ShowFieldKeysStatement) -> str:
    return "SHOW FIELD KEYS" + _clauses(
        database=node.database,
        sources=node.sources,
        sort_fields=node.sort_fields,
        limit=node.limit,
        offset=node.offset,
    )


_CARDINALITY_OF = {
    ast.ShowSeriesCardinalityStatement: "SERIES",
    ast.ShowMeasurementCardinalityStatement: "MEASUREMENT",
    ast.ShowTagKeyCardinalityStatement: "TAG KEY",
    ast.ShowFieldKeyCardinalityStatement: "FIELD KEY",
    ast.ShowTagValuesCardinalityStatement: "TAG VALUES",
}


@_renders(*_CARDINALITY_OF)
def _cardinality(node: ast._Cardinality) -> str:
    with_key = ""
    if isinstance(node, ast.ShowTagValuesCardinalityStatement):
        with_key = _with_key(node.op, node.tag_key_expr)
    exact = "EXACT " if node.exact else ""
    return f"SHOW {_CARDINALITY_OF[type(node)]} {exact}CARDINALITY" + _clauses(
        database=node.database,
        sources=node.sources,
        with_key=with_key,
        condition=node.condition,
        dimensions=node.dimensions,
        limit=node.limit,
        offset=node.offset,
    )


@_renders(ast.ShowRetentionPoliciesStatement)
def _show_retention_policies(node: ast.ShowRetentionPoliciesStatement) -> str:
    return "SHOW RETENTION POLICIES" + (f" ON {quote_ident(node.database)}" if node.database else "")


@_renders(ast.ShowGrantsForUserStatement)
def _show_grants(node: ast.ShowGrantsForUserStatement) -> str:
    return f"SHOW GRANTS FOR {quote_ident(node.name)}"


@_renders(ast.ShowStatsStatement)
def _show_stats(node: ast.ShowStatsStatement) -> str:
    return "SHOW STATS" + (f" FOR {quote_string(node.module)}" if node.module else "")


@_renders(ast.ShowDiagnosticsStatement)
def _show_diagnostics(node: ast.ShowDiagnosticsStatement) -> str:
    return "SHOW DIAGNOSTICS" + (f" FOR {quote_string(node.module)}" if node.module else "")


# Statements: databases, retention policies, continuous queries -------------------------------------


@_renders(ast.CreateDatabaseStatement)
def _create_database(node: ast.CreateDatabaseStatement) -> str:
    out = f"CREATE DATABASE {quote_ident(node.name)}"
    if node.retention_policy_create:
        out += " WITH"
        if node.retention_policy_duration is not None:
            out += f" DURATION {format_duration(node.retention_policy_duration)}"
        if node.retention_policy_replication is not None:
            out += f" REPLICATION {node.retention_policy_replication}"
        if node.retention_policy_shard_group_duration > 0:
            out += f" SHARD DURATION {format_duration(node.retention_policy_shard_group_duration)}"
        out += _write_limits(node.future_write_limit, node.past_write_limit)
        if node.retention_policy_name:
            out += f" NAME {quote_ident(node.retention_policy_name)}"
    return out


@_renders(ast.DropDatabaseStatement)
def _drop_database(node: ast.DropDatabaseStatement) -> str:
    return f"DROP DATABASE {quote_ident(node.name)}"


@_renders(ast.CreateRetentionPolicyStatement)
def _create_retention_policy(node: ast.CreateRetentionPolicyStatement) -> str:
    out = (
        f"CREATE RETENTION POLICY {quote_ident(node.name)} ON {quote_ident(node.database)}"
        f" DURATION {format_duration(node.duration)} REPLICATION {node.replication}"
    )
    if node.shard_group_duration:
        out += f" SHARD DURATION {format_duration(node.shard_group_duration)}"
    if node.default:
        out += " DEFAULT"
    out += _write_limits(node.future_write_limit or None, node.past_write_limit or None)
    return out


@_renders(ast.AlterRetentionPolicyStatement)
def _alter_retention_policy(node: ast.AlterRetentionPolicyStatement) -> str:
    out = f"ALTER RETENTION POLICY {quote_ident(node.name)} ON {quote_ident(node.database)}"
    if node.duration is not None:
        out += f" DURATION {format_duration(node.duration)}"
    if node.replication is not None:
        out += f" REPLICATION {node.replication}"
    if node.shard_group_duration is not None:
        out += f" SHARD DURATION {format_duration(node.shard_group_duration)}"
    if node.default:
        out += " DEFAULT"
    return out + _write_limits(node.future_write_limit, node.past_write_limit)


@_renders(ast.DropRetentionPolicyStatement)
def _drop_retention_policy(node: ast.DropRetentionPolicyStatement) -> str:
    return f"DROP RETENTION POLICY {quote_ident(node.name)} ON {quote_ident(node.database)}"


@_renders(ast.CreateContinuousQueryStatement)
def _create_continuous_query(node: ast.CreateContinuousQueryStatement) -> str:
    out = f"CREATE CONTINUOUS QUERY {quote_ident(node.name)} ON {quote_ident(node.database)} "
    if node.resample_every or node.resample_for:
        out += "RESAMPLE "
        if node.resample_every:
            out += f"EVERY {format_duration(node.resample_every)} "
        if node.resample_for:
            out += f"FOR {format_duration(node.resample_for)} "
    return out + f"BEGIN {generate(node.source)} END"


@_renders(ast.DropContinuousQueryStatement)
def _drop_continuous_query(node: ast.DropContinuousQueryStatement) -> str:
    return f"DROP CONTINUOUS QUERY {quote_ident(node.name)} ON {quote_ident(node.database)}"


# Statements: users, privileges, subscriptions, queries ---------------------------------------------

_PRIVILEGE_NAMES = {"read": "READ", "write": "WRITE", "all": "ALL PRIVILEGES", "none": "NO PRIVILEGES"}


@_renders(ast.CreateUserStatement)
def _create_user(node: ast.CreateUserStatement) -> str:
    out = f"CREATE USER {quote_ident(node.name)} WITH PASSWORD [REDACTED]"
    return out + " WITH ALL PRIVILEGES" if node.admin else out


@_renders(ast.DropUserStatement)
def _drop_user(node: ast.DropUserStatement) -> str:
    return f"DROP USER {quote_ident(node.name)}"


@_renders(ast.SetPasswordUserStatement)
def _set_password(node: ast.SetPasswordUserStatement) -> str:
    return f"SET PASSWORD FOR {quote_ident(node.name)} = [REDACTED]"


@_renders(ast.GrantStatement)
def _grant(node: ast.GrantStatement) -> str:
    priv = _PRIVILEGE_NAMES[node.privilege]
    return f"GRANT {priv} ON {quote_ident(node.on)} TO {quote_ident(node.user)}"


@_renders(ast.GrantAdminStatement)
def _grant_admin(node: ast.GrantAdminStatement) -> str:
    return f"GRANT ALL PRIVILEGES TO {quote_ident(node.user)}"


@_renders(ast.RevokeStatement)
def _revoke(node: ast.RevokeStatement) -> str:
    priv = _PRIVILEGE_NAMES[node.privilege]
    return f"REVOKE {priv} ON {quote_ident(node.on)} FROM {quote_ident(node.user)}"


@_renders(ast.RevokeAdminStatement)
def _revoke_admin(node: ast.RevokeAdminStatement) -> str:
    return f"REVOKE ALL PRIVILEGES FROM {quote_ident(node.user)}"


@_renders(ast.CreateSubscriptionStatement)
def _create_subscription(node: ast.CreateSubscriptionStatement) -> str:
    dests = ", ".join(quote_string(d) for d in node.destinations)
    where = f"{quote_ident(node.database)}.{quote_ident(node.retention_policy)}"
    return f"CREATE SUBSCRIPTION {quote_ident(node.name)} ON {where} DESTINATIONS {node.mode} {dests}"


@_renders(ast.DropSubscriptionStatement)
def _drop_subscription(node: ast.DropSubscriptionStatement) -> str:
    return (
        f"DROP SUBSCRIPTION {quote_ident(node.name)} ON "
        f"{quote_ident(node.database)}.{quote_ident(node.retention_policy)}"
    )


@_renders(ast.KillQueryStatement)
def _kill_query(node: ast.KillQueryStatement) -> str:
    return f"KILL QUERY {node.query_id}" + (f" ON {quote_ident(node.host)}" if node.host else "")
