"""SELECT planning: validation with InfluxDB 1.x's compile-time messages, wildcard expansion per
measurement, column naming, and the "slots" (one per aggregate/selector/transform call) that the
executor fills."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib.influxql import ast
from chalicelib.influxql.engine import functions as fn
from chalicelib.influxql.engine.context import StatementError
from chalicelib.influxql.engine.evaluate import MATH_FUNCTIONS, check_math_call
from chalicelib.influxql.generator import generate
from chalicelib.influxql.tokens import format_duration as format_influx_duration

KNOWN = fn.AGGREGATES | fn.SELECTORS | fn.TRANSFORMS


_SIMPLE_REDUCERS: dict[str, type[fn.Reducer]] = {
    "sum": fn.Sum, "mean": fn.Mean, "median": fn.Median, "mode": fn.Mode, "spread": fn.Spread,
    "stddev": fn.Stddev, "distinct": fn.Distinct, "first": fn.First, "last": fn.Last,
    "max": fn.Max, "min": fn.Min,
}  # fmt: skip


@dataclass
class Slot:
    """One function call of the statement, fed with one field's points."""

    name: str  # the aggregate or selector (or "" for a transform of raw points)
    field: str
    args: list[ast.Expr] = field(default_factory=list)
    transform: str = ""  # the enclosing transformation, if any
    unit: int = 0  # transform / integral unit
    window: int = 0  # moving_average window
    distinct: bool = False  # count(distinct(x))
    tags: list[str] = field(default_factory=list)  # top/bottom tag arguments
    technical: tuple[int, str] = (-1, "")  # hold period and warmup type of technical analysis calls

    @property
    def keeps_point_time(self) -> bool:
        return self.name in ("top", "bottom", "sample")

    def reducer(self, window: tuple[int, int] | None) -> fn.Reducer:
        name = self.name
        if name == "count":
            return fn.CountDistinct() if self.distinct else fn.Count()
        simple = _SIMPLE_REDUCERS.get(name)
        if simple is not None:
            return simple()
        if name == "integral":
            return fn.Integral(self.unit or 1_000_000_000, window)
        if name == "percentile":
            return fn.Percentile(float(self.args[1].val))  # type: ignore[attr-defined]
        if name == "sample":
            return fn.Sample(self.args[1].val)  # type: ignore[attr-defined]
        if name in ("top", "bottom"):
            return fn.TopBottom(self.args[-1].val, name == "top", bool(self.tags))  # type: ignore[attr-defined]
        raise StatementError(f"undefined function {name}()")


@dataclass
class Column:
    name: str
    expr: ast.Expr


@dataclass
class Plan:
    columns: list[Column]
    slots: list[Slot]
    slot_of: dict[int, int]  # id(call node) -> slot index
    aggregate: bool
    time_name: str = "time"
    aux: bool = False  # raw fields/tags next to a single selector


# -- statement-level validation ---------------------------------------------------------------------


def validate(statement: ast.SelectStatement, interval: int) -> bool:
    """Checks what InfluxDB checks before reading; True when the statement is an aggregate query."""
    for dim in statement.dimensions:
        expr = dim.expr
        if isinstance(expr, ast.Call) and expr.name != "time":
            raise StatementError("only time() calls allowed in dimensions")
        if isinstance(expr, ast.Call) and not 1 <= len(expr.args) <= 2:
            raise StatementError("time dimension expected 1 or 2 arguments")
        if isinstance(expr, ast.VarRef) and expr.val.lower() == "time":
            raise StatementError("time() is a function and expects at least one argument")
        if not isinstance(expr, ast.Call | ast.VarRef | ast.Wildcard | ast.RegexLiteral):
            raise StatementError("only time and tag dimensions allowed")
    if sum(1 for d in statement.dimensions if isinstance(d.expr, ast.Call)) > 1:
        raise StatementError("multiple time dimensions not allowed")
    calls: list[ast.Call] = []
    top_bottom = ""
    only_selectors = True
    has_distinct = False
    aux = False
    non_time = 0
    for selected in statement.fields:
        expr = _normalize(selected.expr)
        if isinstance(expr, ast.VarRef) and expr.val == "time":
            continue
        non_time += 1
        for call, outer in _calls(expr):
            if call.name not in KNOWN:
                raise StatementError(f"undefined function {call.name}()")
            if outer:
                continue
            calls.append(call)
            _check_call(call, interval)
            name = call.name
            inner = call.args[0] if call.name in fn.TRANSFORMS and call.args else None
            if isinstance(inner, ast.Call):
                name = inner.name
            if call.name in fn.TRANSFORMS or (name in fn.AGGREGATES and name not in ("distinct",)):
                only_selectors = False
            if name in ("top", "bottom"):
                top_bottom = top_bottom or name
            if name == "distinct" or (
                name == "count" and isinstance(call.args[0], ast.Call) and call.args[0].name == "distinct"
            ):
                has_distinct = True
                only_selectors = False
        if _has_raw_ref(expr):
            aux = True
    if non_time == 0:
        raise StatementError("at least 1 non-time field must be queried")
    if len(calls) > 1 and top_bottom:
        raise StatementError(f"selector function {top_bottom}() cannot be combined with other functions")
    if not calls:
        if statement.fill == "none":
            raise StatementError("fill(none) must be used with a function")
        if statement.fill == "linear":
            raise StatementError("fill(linear) must be used with a function")
        if interval:
            raise StatementError("GROUP BY requires at least one aggregate function")
        return False
    if has_distinct and (len(calls) != 1 or aux):
        raise StatementError(
            "aggregate function distinct() cannot be combined with other functions or fields"
        )
    if aux:
        if not only_selectors:
            raise StatementError("mixing aggregate and non-aggregate queries is not supported")
        if len(calls) > 1:
            raise StatementError("mixing multiple selector functions with tags or fields is not supported")
    return True


def _normalize(expr: ast.Expr) -> ast.Expr:
    if isinstance(expr, ast.Distinct):
        return expr.to_call()
    if isinstance(expr, ast.Call):
        return ast.Call(expr.name, [_normalize(a) for a in expr.args])
    if isinstance(expr, ast.BinaryExpr):
        return ast.BinaryExpr(expr.op, _normalize(expr.lhs), _normalize(expr.rhs))
    if isinstance(expr, ast.ParenExpr):
        return ast.ParenExpr(_normalize(expr.expr))
    return expr


def _calls(expr: ast.Expr, inside: bool = False):
    """(call, nested) for the function calls of `expr`, math functions looked through."""
    if isinstance(expr, ast.Call):
        if expr.name in MATH_FUNCTIONS:
            check_math_call(expr)
            for arg in expr.args:
                yield from _calls(arg, inside)
            return
        yield expr, inside
        if expr.name in KNOWN:
            return
    elif isinstance(expr, ast.BinaryExpr):
        yield from _calls(expr.lhs, inside)
        yield from _calls(expr.rhs, inside)
    elif isinstance(expr, ast.ParenExpr):
        yield from _calls(expr.expr, inside)


def _has_raw_ref(expr: ast.Expr) -> bool:
    if isinstance(expr, ast.VarRef | ast.Wildcard | ast.RegexLiteral):
        return True
    if isinstance(expr, ast.Call):
        return expr.name in MATH_FUNCTIONS and any(_has_raw_ref(a) for a in expr.args)
    if isinstance(expr, ast.BinaryExpr):
        return _has_raw_ref(expr.lhs) or _has_raw_ref(expr.rhs)
    if isinstance(expr, ast.ParenExpr):
        return _has_raw_ref(expr.expr)
    return False


def _is_field_arg(expr: ast.Expr) -> bool:
    return isinstance(expr, ast.VarRef | ast.Wildcard | ast.RegexLiteral)


def _nargs(call: ast.Call, expected: int) -> None:
    if len(call.args) != expected:
        raise StatementError(
            f"invalid number of arguments for {call.name}, expected {expected}, got {len(call.args)}"
        )


def _check_call(call: ast.Call, interval: int) -> None:
    name, args = call.name, call.args
    if name in fn.TRANSFORMS:
        _check_transform(call, interval)
        return
    if name in ("top", "bottom"):
        if len(args) < 2:
            raise StatementError(
                f"invalid number of arguments for {name}, expected at least 2, got {len(args)}"
            )
        if not isinstance(args[-1], ast.IntegerLiteral):
            raise StatementError(f"expected integer as last argument in {name}(), found {generate(args[-1])}")
        if args[-1].val <= 0:
            raise StatementError(f"limit ({args[-1].val}) in {name} function must be at least 1")
        if not isinstance(args[0], ast.VarRef):
            raise StatementError(
                f"expected first argument to be a field in {name}(), found {generate(args[0])}"
            )
        for arg in args[1:-1]:
            if not isinstance(arg, ast.VarRef):
                raise StatementError(f"only fields or tags are allowed in {name}(), found {generate(arg)}")
        return
    if name == "percentile":
        _nargs(call, 2)
        if not isinstance(args[1], ast.IntegerLiteral | ast.NumberLiteral):
            raise StatementError("expected float argument in percentile()")
    elif name == "sample":
        _nargs(call, 2)
        if not isinstance(args[1], ast.IntegerLiteral):
            raise StatementError("expected integer argument in sample()")
        if args[1].val <= 0:
            raise StatementError(f"sample window must be greater than 1, got {args[1].val}")
    elif name == "integral":
        if not 1 <= len(args) <= 2:
            raise StatementError(
                "invalid number of arguments for integral, expected at least 1 but no more than 2, "
                f"got {len(args)}"
            )
        if len(args) == 2:
            if not isinstance(args[1], ast.DurationLiteral):
                raise StatementError("second argument must be a duration")
            if args[1].val <= 0:
                raise StatementError(
                    f"duration argument must be positive, got {format_influx_duration(args[1].val)}"
                )
    elif name == "distinct":
        _check_distinct(call)
        return
    else:
        _nargs(call, 1)
        if name == "count" and isinstance(args[0], ast.Call) and args[0].name == "distinct":
            _check_distinct(args[0])
            return
    if not _is_field_arg(args[0]):
        raise StatementError(f"expected field argument in {name}()")


def _check_distinct(call: ast.Call) -> None:
    if not call.args:
        raise StatementError("distinct function requires at least one argument")
    if len(call.args) != 1:
        raise StatementError("distinct function can only have one argument")
    if not isinstance(call.args[0], ast.VarRef):
        raise StatementError("expected field argument in distinct()")


def _check_technical(call: ast.Call) -> None:
    name, args = call.name, call.args
    most = 3 if name == "kaufmans_efficiency_ratio" else 4
    if not 2 <= len(args) <= most:
        raise StatementError(
            f"invalid number of arguments for {name}, expected at least 2 but no more than {most}, "
            f"got {len(args)}"
        )
    if not isinstance(args[1], ast.IntegerLiteral):
        raise StatementError(f"{name} period must be an integer")
    if args[1].val < 1:
        raise StatementError(f"{name} period must be greater than or equal to 1")
    if len(args) >= 3:
        if not isinstance(args[2], ast.IntegerLiteral):
            raise StatementError(f"{name} hold period must be an integer")
        if args[2].val < -1:
            raise StatementError(f"{name} hold period must be greater than or equal to 0")
    if len(args) == 4:
        if not isinstance(args[3], ast.StringLiteral):
            raise StatementError(f"{name} warmup type must be a string")
        if args[3].val not in fn.WARMUP_TYPES:
            raise StatementError(f"{name} warmup type must be one of: 'exponential' 'simple' 'none'")
        if name == "chande_momentum_oscillator" and args[3].val != "none":
            raise StatementError(f"{name} with warmup type {args[3].val!r} is not supported yet")


def _check_transform(call: ast.Call, interval: int) -> None:
    name, args = call.name, call.args
    if name in ("derivative", "non_negative_derivative", "elapsed"):
        if not 1 <= len(args) <= 2:
            raise StatementError(
                f"invalid number of arguments for {name}, expected at least 1 but no more than 2, "
                f"got {len(args)}"
            )
        if len(args) == 2:
            if not isinstance(args[1], ast.DurationLiteral):
                raise StatementError(
                    f"second argument to {name} must be a duration, got *influxql.{type(args[1]).__name__}"
                )
            if args[1].val <= 0:
                raise StatementError(
                    f"duration argument must be positive, got {format_influx_duration(args[1].val)}"
                )
    elif name in fn.TECHNICAL:
        _check_technical(call)
    elif name == "moving_average":
        _nargs(call, 2)
        if not isinstance(args[1], ast.IntegerLiteral):
            raise StatementError(
                "second argument for moving_average must be an integer, "
                f"got *influxql.{type(args[1]).__name__}"
            )
        if args[1].val <= 1:
            raise StatementError(f"moving_average window must be greater than 1, got {args[1].val}")
    else:
        _nargs(call, 1)
    inner = args[0]
    if isinstance(inner, ast.Call):
        if not interval:
            raise StatementError(f"{name} aggregate requires a GROUP BY interval")
        if inner.name not in KNOWN or inner.name in fn.TRANSFORMS:
            raise StatementError(f"undefined function {inner.name}()")
        _check_call(inner, interval)
    else:
        if interval:
            raise StatementError(f"aggregate function required inside the call to {name}")
        if not _is_field_arg(inner):
            raise StatementError(f"expected field argument in {name}()")


# -- per measurement --------------------------------------------------------------------------------


def plan(
    statement: ast.SelectStatement,
    aggregate: bool,
    interval: int,
    field_types: dict[str, str],
    tag_keys: list[str],
    schema: tuple[dict[str, str], list[str]] | None = None,
    grouped: list[str] | None = None,
) -> Plan:
    """Columns and slots of `statement` against one measurement's fields and tags.

    `schema` (fields, tags) is what wildcards expand to (the union over several measurements); tags
    in `grouped` (the GROUP BY tags) are left out of wildcard expansions, as influxd does."""
    wild_fields, wild_tags = schema if schema is not None else (field_types, tag_keys)
    if grouped:
        wild_tags = [t for t in wild_tags if t not in grouped]
    slots: list[Slot] = []
    slot_of: dict[int, int] = {}
    columns: list[tuple[str, str, ast.Expr]] = []  # (alias, generated name, expr)
    time_name = "time"

    for selected in statement.fields:
        expr = _normalize(selected.expr)
        if isinstance(expr, ast.VarRef) and expr.val == "time":
            if selected.alias:
                time_name = selected.alias
            continue
        if isinstance(expr, ast.Wildcard | ast.RegexLiteral):
            for ref in _expand_refs(expr, wild_fields, wild_tags):
                columns.append(("", ref.val, ref))
            continue
        wildcard_call = _wildcard_call(expr)
        if wildcard_call is not None:
            # over several measurements influxd expands `count(*)` to the fields of all of them: a
            # measurement without one of the fields answers null in its column
            for name in _wildcard_fields(wildcard_call, wild_fields):
                new = _substitute(expr, name)
                generated = f"{ast.expr_name(expr)}_{name}"
                columns.append((selected.alias, generated, new))
                _add_slots(new, slots, slot_of, interval, field_types)
            continue
        columns.append((selected.alias, ast.expr_name(expr), expr))
        _add_slots(expr, slots, slot_of, interval, field_types)
        for call, _ in _calls(expr):
            if call.name in ("top", "bottom"):
                for tag in call.args[1:-1]:
                    columns.append(("", tag.val, tag))  # type: ignore[attr-defined]
    names = _column_names(time_name, columns)
    plan = Plan(
        [Column(n, c[2]) for n, c in zip(names, columns, strict=True)],
        slots,
        slot_of,
        aggregate,
        time_name,
    )
    plan.aux = (aggregate and any(_has_raw_ref(c.expr) for c in plan.columns)) or any(s.tags for s in slots)
    return plan


def _expand_refs(expr: ast.Expr, field_types: dict[str, str], tag_keys: list[str]) -> list[ast.VarRef]:
    kind = expr.type if isinstance(expr, ast.Wildcard) else ""
    refs: list[ast.VarRef] = []
    names = sorted(set(field_types) | set(tag_keys))
    for name in names:
        if isinstance(expr, ast.RegexLiteral) and not expr.compiled.search(name):
            continue
        is_field = name in field_types
        if (kind == "field" and not is_field) or (kind == "tag" and is_field):
            continue
        refs.append(ast.VarRef(name, "" if is_field else "tag"))
    return refs


def _wildcard_call(expr: ast.Expr) -> ast.Call | None:
    for call, _ in _calls(expr):
        target = call.args[0] if call.args else None
        if isinstance(target, ast.Call) and call.name in fn.TRANSFORMS:
            target = target.args[0] if target.args else None
        if isinstance(target, ast.Wildcard | ast.RegexLiteral):
            return call
    return None


def _wildcard_fields(call: ast.Call, field_types: dict[str, str]) -> list[str]:
    target = call.args[0]
    name = call.name
    if isinstance(target, ast.Call):
        name = target.name
        target = target.args[0]
    names = sorted(field_types)
    if isinstance(target, ast.RegexLiteral):
        names = [n for n in names if target.compiled.search(n)]
    if name in fn.NUMERIC_ONLY or call.name in fn.NUMERIC_ONLY:
        kinds = {"float", "integer", "unsigned"}
        if name == call.name and name in fn.BOOLEAN_TOO:
            kinds.add("boolean")
        names = [n for n in names if field_types[n] in kinds]
    return names


def _substitute(expr: ast.Expr, name: str) -> ast.Expr:
    if isinstance(expr, ast.Wildcard | ast.RegexLiteral):
        return ast.VarRef(name)
    if isinstance(expr, ast.Call):
        return ast.Call(expr.name, [_substitute(a, name) for a in expr.args])
    if isinstance(expr, ast.BinaryExpr):
        return ast.BinaryExpr(expr.op, _substitute(expr.lhs, name), _substitute(expr.rhs, name))
    if isinstance(expr, ast.ParenExpr):
        return ast.ParenExpr(_substitute(expr.expr, name))
    return expr


def _add_slots(
    expr: ast.Expr, slots: list[Slot], slot_of: dict[int, int], interval: int, field_types: dict[str, str]
) -> None:
    for call, _ in _calls(expr):
        slot = _slot(call, interval)
        _check_types(slot, field_types.get(slot.field))
        slot_of[id(call)] = len(slots)
        slots.append(slot)


def _check_types(slot: Slot, ftype: str | None) -> None:
    """influxd's refusal of a numeric-only call over strings or booleans (min and max take booleans),
    naming the call whose input has the wrong type: the transformation of an aggregate is refused
    for what the aggregate gives (a count is an integer), as `unsupported derivative iterator type`."""
    if ftype not in ("string", "boolean"):
        return
    if slot.name in fn.NUMERIC_ONLY and not (ftype == "boolean" and slot.name in fn.BOOLEAN_TOO):
        raise StatementError(f"unsupported {slot.name} iterator type: *query.{ftype}InterruptIterator")
    if slot.transform in fn.NUMERIC_ONLY and slot.name != "count":
        name = slot.transform.removeprefix("non_negative_").replace("_", " ")
        raise StatementError(f"unsupported {name} iterator type: *query.{ftype}InterruptIterator")


def _slot(call: ast.Call, interval: int) -> Slot:
    if call.name in fn.TRANSFORMS:
        unit = 0
        window = 0
        if call.name in ("derivative", "non_negative_derivative"):
            unit = call.args[1].val if len(call.args) == 2 else (interval or 1_000_000_000)  # type: ignore[attr-defined]
        elif call.name == "elapsed":
            unit = call.args[1].val if len(call.args) == 2 else 1  # type: ignore[attr-defined]
        elif call.name == "moving_average" or call.name in fn.TECHNICAL:
            window = call.args[1].val  # type: ignore[attr-defined]
        inner = call.args[0]
        slot = _slot(inner, interval) if isinstance(inner, ast.Call) else Slot("", inner.val)  # type: ignore[attr-defined]
        slot.transform, slot.unit, slot.window = call.name, unit, window
        if call.name in fn.TECHNICAL:
            hold = call.args[2].val if len(call.args) >= 3 else -1  # type: ignore[attr-defined]
            warmup = call.args[3].val if len(call.args) == 4 else ""  # type: ignore[attr-defined]
            slot.technical = (hold, warmup)
        return slot
    arg = call.args[0]
    if call.name == "count" and isinstance(arg, ast.Call) and arg.name == "distinct":
        return Slot("count", arg.args[0].val, list(call.args), distinct=True)  # type: ignore[attr-defined]
    slot = Slot(call.name, arg.val, list(call.args))  # type: ignore[attr-defined]
    if call.name == "integral" and len(call.args) == 2:
        slot.unit = call.args[1].val  # type: ignore[attr-defined]
    if call.name in ("top", "bottom"):
        slot.tags = [a.val for a in call.args[1:-1]]  # type: ignore[attr-defined]
    return slot


def _column_names(time_name: str, columns: list[tuple[str, str, Any]]) -> list[str]:
    """InfluxDB's ColumnNames: aliases first, then generated names made unique with `_N` suffixes."""
    names: dict[str, int] = {time_name: 1}
    out = [alias for alias, _, _ in columns]
    for alias in out:
        if alias:
            names[alias] = 1
    for i, (alias, generated, _) in enumerate(columns):
        if alias:
            continue
        name = generated
        count = names.get(name)
        if count is not None:
            while True:
                resolved = f"{name}_{count}"
                if resolved not in names:
                    names[name] = count + 1
                    name = resolved
                    break
                count += 1
        names[name] = names.get(name, 0) + 1
        out[i] = name
    return out
