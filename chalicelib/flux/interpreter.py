"""Evaluates a Flux program: statements in order over nested scopes, options (`now`), imports of the
packages it is given, and the results (explicit `yield`s, and implicit `_result` for a bare stream).

The universe and the importable packages are the interpreter's arguments (`stdlib` fills them, `engine`
passes them), and its data through the `Context`'s `Buckets` and `SeriesReader` (see `source`).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.flux import ast
from chalicelib.flux.budget import budget
from chalicelib.flux.source import Context
from chalicelib.flux.tables import Stream
from chalicelib.flux.values import (
    Duration,
    FluxError,
    Time,
    add_duration,
    compile_regex,
    duration_of,
    parse_time,
    to_string,
    type_name,
)
from chalicelib.kit.points import UInt

# -- functions ---------------------------------------------------------------------------------------


class Function:
    def call(self, interp: Interpreter, args: dict[str, Any], pipe: Any = None) -> Any:
        raise NotImplementedError


PIPE = object()  # default marker of a pipe parameter (`tables=<-`)
REQUIRED = object()


@dataclass
class Closure(Function):
    params: list[tuple[str, Any]]  # (name, default node | PIPE | REQUIRED)
    body: ast.Node
    scope: Scope
    name: str = "<function>"

    @property
    def param_names(self) -> list[str]:
        return [p for p, _ in self.params]

    def call(self, interp: Interpreter, args: dict[str, Any], pipe: Any = None) -> Any:
        interp.counted_call()
        scope = Scope(self.scope)
        names = set()
        for pname, default in self.params:
            names.add(pname)
            if pname in args:
                scope.vars[pname] = args[pname]
            elif default is PIPE:
                if pipe is None:
                    raise FluxError(f"missing required argument {pname}")
                scope.vars[pname] = pipe
            elif default is REQUIRED:
                raise FluxError(f"missing required argument {pname}")
            else:
                scope.vars[pname] = interp.eval(default, scope)
        for a in args:
            if a not in names:
                raise FluxError(f"function {self.name} does not take argument {a!r}")
        if isinstance(self.body, ast.Block):
            return interp.run_block(self.body, scope)
        return interp.eval(self.body, scope)


@dataclass
class Builtin(Function):
    name: str
    impl: Callable[..., Any]
    params: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    pipe: str | None = None

    def call(self, interp: Interpreter, args: dict[str, Any], pipe: Any = None) -> Any:
        for a in args:
            if a not in self.params and a != self.pipe:
                raise FluxError(f"function {self.name} does not take argument {a!r}")
        kwargs = dict(args)
        if self.pipe and self.pipe not in kwargs:
            if pipe is None:
                raise FluxError(f"function {self.name}: missing required argument {self.pipe}")
            kwargs[self.pipe] = pipe
        for r in self.required:
            if kwargs.get(r) is None:
                raise FluxError(f"function {self.name}: missing required argument {r}")
        return self.impl(interp, **kwargs)


def builtin(name: str, params: str = "", required: str = "", pipe: str | None = None):
    """Decorator: a Python function `impl(interp, **args)` as a Flux builtin."""

    def wrap(impl):
        return Builtin(name, impl, tuple(params.split()), tuple(required.split()), pipe)

    return wrap


class Scope:
    __slots__ = ("parent", "vars")

    def __init__(self, parent: Scope | None = None, vars: dict | None = None) -> None:
        self.parent = parent
        self.vars = vars if vars is not None else {}

    def lookup(self, name: str) -> Any:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.vars:
                return scope.vars[name]
            scope = scope.parent
        raise FluxError(f"undefined identifier {name}")

    def defines(self, name: str) -> bool:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.vars:
                return True
            scope = scope.parent
        return False


class Package(dict):
    """A package's members (a record whose missing members are errors, not nulls)."""

    def __init__(self, path: str, members: dict[str, Any]) -> None:
        super().__init__(members)
        self.path = path


class _Return(Exception):
    def __init__(self, value: Any) -> None:
        self.value = value


# -- the interpreter ---------------------------------------------------------------------------------


class Interpreter:
    def __init__(
        self, context: Context, universe: dict[str, Any], packages: dict[str, dict[str, Any]]
    ) -> None:
        """`universe`: the names every program sees; `packages`: import path -> the package's members."""
        self.context = context
        self.importable = packages
        self.universe = Scope(None, dict(universe))
        self.options: dict[str, Any] = {}
        self.globals = Scope(self.universe)
        self.results: list[tuple[str, Stream]] = []
        self._implicit: list[Stream] = []
        self.packages: dict[str, Package] = {}
        self._calls = 0  # of the program's functions

    # -- options -------------------------------------------------------------------------------------

    def now(self) -> int:
        fn = self.options.get("now")
        if fn is None:
            return self.context.now_ns
        value = fn.call(self, {}) if isinstance(fn, Function) else fn
        if not isinstance(value, Time):
            raise FluxError("option now must be a function returning a time")
        return value.ns

    # -- programs ------------------------------------------------------------------------------------

    def run(self, file: ast.File, scope: Scope | None = None) -> None:
        scope = scope or self.globals
        for imp in file.imports:
            path = imp.path.value
            alias = imp.as_.name if imp.as_ else path.rsplit("/", 1)[-1]
            scope.vars[alias] = self.import_package(path)
        for statement in file.body:
            self.statement(statement, scope)

    def import_package(self, path: str) -> Package:
        if path not in self.packages:
            members = self.importable.get(path)
            if members is None:
                raise FluxError(f'unknown import path: "{path}"')
            self.packages[path] = Package(path, dict(members))
        return self.packages[path]

    def finish(self) -> list[tuple[str, Stream]]:
        results = list(self.results)
        if self._implicit:
            names = {n for n, _ in results}
            if "_result" in names or len(self._implicit) > 1:
                raise FluxError('found duplicate yield name "_result"')
            results.append(("_result", self._implicit[0]))
        return results

    def statement(self, node: ast.Node, scope: Scope) -> None:
        if isinstance(node, ast.VariableAssignment):
            value = self.eval(node.init, scope)
            if isinstance(value, Closure) and value.name == "<function>":
                value.name = node.id.name
            scope.vars[node.id.name] = value
        elif isinstance(node, ast.OptionStatement):
            a = node.assignment
            if isinstance(a, ast.VariableAssignment):
                value = self.eval(a.init, scope)
                self.options[a.id.name] = value
                # an option is visible as a variable in the scope where it is set and below
                target = scope if scope is not self.universe else self.globals
                target.vars[a.id.name] = value
            elif isinstance(a, ast.MemberAssignment):
                obj = self.eval(a.member.object, scope)
                prop = _property_name(a.member.property)
                if not isinstance(obj, dict):
                    raise FluxError("option member assignment to a non-record")
                obj[prop] = self.eval(a.init, scope)
        elif isinstance(node, ast.ExpressionStatement):
            value = self.eval(node.expression, scope)
            if isinstance(value, Stream) and not getattr(value, "yielded", False):
                self._implicit.append(value)
        elif isinstance(node, ast.ReturnStatement):
            raise _Return(self.eval(node.argument, scope))
        elif isinstance(node, ast.BuiltinStatement):
            pass
        else:
            raise FluxError(f"unsupported statement {node.type}")

    def run_block(self, block: ast.Block, scope: Scope) -> Any:
        try:
            for statement in block.body:
                self.statement(statement, scope)
        except _Return as ret:
            return ret.value
        raise FluxError("function body has no return statement")

    # -- expressions ---------------------------------------------------------------------------------

    def eval(self, node: ast.Node, scope: Scope) -> Any:
        method = _DISPATCH.get(type(node))
        if method is None:
            raise FluxError(f"unsupported expression {node.type}")
        return method(self, node, scope)

    def _identifier(self, node: ast.Identifier, scope: Scope) -> Any:
        return scope.lookup(node.name)

    def _string_lit(self, node, scope) -> Any:
        return node.value

    def _literal(self, node, scope) -> Any:
        return node.value

    def _uint_lit(self, node, scope) -> Any:
        return UInt(node.value)

    def _time_lit(self, node, scope) -> Any:
        return Time(parse_time(node.value))

    def _duration_lit(self, node, scope) -> Any:
        return duration_of(node.values)

    def _regex_lit(self, node, scope) -> Any:
        return compile_regex(node.value)

    def _string_expr(self, node: ast.StringExpression, scope: Scope) -> Any:
        out = []
        for part in node.parts:
            if isinstance(part, ast.TextPart):
                out.append(part.value)
            else:
                out.append(to_string(self.eval(part.expression, scope)))
        return "".join(out)

    def _array(self, node: ast.ArrayExpression, scope: Scope) -> Any:
        return [self.eval(e, scope) for e in node.elements]

    def _object(self, node: ast.ObjectExpression, scope: Scope) -> Any:
        out: dict[str, Any] = {}
        if node.with_ is not None:
            base = self.eval(node.with_, scope)
            if not isinstance(base, dict):
                raise FluxError(f"cannot extend a value of type {type_name(base)}")
            out.update(base)
        for prop in node.properties:
            name = _property_name(prop.key)
            out[name] = self.eval(prop.value, scope) if prop.value is not None else scope.lookup(name)
        return out

    def _paren(self, node: ast.ParenExpression, scope: Scope) -> Any:
        return self.eval(node.expression, scope)

    def _member(self, node: ast.MemberExpression, scope: Scope) -> Any:
        obj = self.eval(node.object, scope)
        name = _property_name(node.property)
        if isinstance(obj, Package):
            if name not in obj:
                raise FluxError(f'{name} not found in package "{obj.path}"')
            return obj[name]
        if isinstance(obj, dict):
            return obj.get(name)
        if obj is None:
            return None
        raise FluxError(f"cannot access property {name} of a value of type {type_name(obj)}")

    def _index(self, node: ast.IndexExpression, scope: Scope) -> Any:
        arr = self.eval(node.array, scope)
        idx = self.eval(node.index, scope)
        if isinstance(arr, dict) and isinstance(idx, str):
            return arr.get(idx)
        if not isinstance(arr, list) or not isinstance(idx, int):
            raise FluxError("index expression needs an array and an integer")
        if not 0 <= idx < len(arr):
            raise FluxError(f"array index out of bounds: {idx}")
        return arr[idx]

    def _args(self, call: ast.CallExpression, scope: Scope) -> dict[str, Any]:
        args: dict[str, Any] = {}
        for obj in call.arguments:
            for prop in obj.properties:
                name = _property_name(prop.key)
                args[name] = self.eval(prop.value, scope) if prop.value is not None else scope.lookup(name)
        return args

    def _call(self, node: ast.CallExpression, scope: Scope, pipe: Any = None) -> Any:
        fn = self.eval(node.callee, scope)
        if not isinstance(fn, Function):
            what = node.callee.name if isinstance(node.callee, ast.Identifier) else "expression"
            raise FluxError(f"{what} is not a function (it is a {type_name(fn)})")
        return fn.call(self, self._args(node, scope), pipe)

    def _pipe(self, node: ast.PipeExpression, scope: Scope) -> Any:
        value = self.eval(node.argument, scope)
        return self._call(node.call, scope, pipe=value)

    def _function(self, node: ast.FunctionExpression, scope: Scope) -> Any:
        params = []
        for p in node.params:
            name = _property_name(p.key)
            if p.value is None:
                params.append((name, REQUIRED))
            elif isinstance(p.value, ast.PipeLiteral):
                params.append((name, PIPE))
            else:
                params.append((name, p.value))
        return Closure(params, node.body, scope)

    def _conditional(self, node: ast.ConditionalExpression, scope: Scope) -> Any:
        test = self.eval(node.test, scope)
        if test is not None and not isinstance(test, bool):
            raise FluxError(f"if condition must be a boolean, got {type_name(test)}")
        return self.eval(node.consequent if test else node.alternate, scope)

    def _logical(self, node: ast.LogicalExpression, scope: Scope) -> Any:
        left = self.eval(node.left, scope)
        if node.operator == "and":
            if not left:
                return False
            return bool(self.eval(node.right, scope))
        if left:
            return True
        return bool(self.eval(node.right, scope))

    def _unary(self, node: ast.UnaryExpression, scope: Scope) -> Any:
        v = self.eval(node.argument, scope)
        op = node.operator
        if op == "exists":
            return v is not None
        if op == "not":
            if v is None:
                return None
            if not isinstance(v, bool):
                raise FluxError(f"not expects a boolean, got {type_name(v)}")
            return not v
        if v is None:
            return None
        if op == "-":
            if isinstance(v, bool) or not isinstance(v, int | float | Duration):
                raise FluxError(f"cannot negate a value of type {type_name(v)}")
            return -v
        return v

    def _binary(self, node: ast.BinaryExpression, scope: Scope) -> Any:
        return binary(node.operator, self.eval(node.left, scope), self.eval(node.right, scope))

    # -- calling functions from builtins ---------------------------------------------------------------

    def call_function(self, fn: Any, args: dict[str, Any], pipe: Any = None) -> Any:
        if not isinstance(fn, Function):
            raise FluxError(f"expected a function, got {type_name(fn)}")
        return fn.call(self, args, pipe)

    def counted_call(self) -> None:
        """A function of the program is called (once a row by `map` or `filter`): the query's time is
        checked every 1024 calls."""
        self._calls += 1
        if not self._calls & 1023:
            budget().check()


def _property_name(key: ast.Node) -> str:
    if isinstance(key, ast.Identifier):
        return key.name
    if isinstance(key, ast.StringLiteral):
        return key.value
    raise FluxError("invalid property key")


# -- operators ---------------------------------------------------------------------------------------

_CMP = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _numeric(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def binary(op: str, a: Any, b: Any) -> Any:
    if op in ("=~", "!~"):
        if a is None:
            return None
        if not isinstance(a, str) or not hasattr(b, "search"):
            raise FluxError(f"{op} expects a string and a regular expression")
        found = b.search(a) is not None
        return found if op == "=~" else not found
    if op in _CMP:
        if a is None or b is None:
            return None
        comparable = (_numeric(a) and _numeric(b)) or type(a) is type(b)
        if comparable and (op in ("==", "!=") or not isinstance(a, dict | list | bool)):
            try:
                return _CMP[op](a, b)
            except TypeError:
                pass
        if isinstance(a, bool) and isinstance(b, bool):
            return _CMP[op](a, b)
        if op in ("==", "!="):
            return op == "!="
        raise FluxError(f"cannot compare {type_name(a)} and {type_name(b)} with {op}")
    if a is None or b is None:
        return None
    if isinstance(a, Time) and isinstance(b, Duration) and op in ("+", "-"):
        return Time(add_duration(a.ns, b, 1 if op == "+" else -1))
    if isinstance(a, Time) and isinstance(b, Time) and op == "-":
        return Duration(0, a.ns - b.ns)
    if isinstance(a, Duration) and isinstance(b, Duration) and op in ("+", "-"):
        sign = 1 if op == "+" else -1
        return Duration(a.months + sign * b.months, a.ns + sign * b.ns)
    if isinstance(a, str) and isinstance(b, str):
        if op == "+":
            return a + b
        raise FluxError(f"operator {op} is not defined on strings")
    if not (_numeric(a) and _numeric(b)):
        raise FluxError(f"operator {op} is not defined on {type_name(a)} and {type_name(b)}")
    is_float = isinstance(a, float) or isinstance(b, float)
    unsigned = isinstance(a, UInt) and isinstance(b, UInt)
    if op == "+":
        r = a + b
    elif op == "-":
        r = a - b
    elif op == "*":
        r = a * b
    elif op == "/":
        if is_float:
            if b == 0:
                return math.copysign(math.inf, a) if a else math.nan
            return a / b
        if b == 0:
            raise FluxError("cannot divide by zero")
        r = abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1)  # Go truncates toward zero
    elif op == "%":
        if is_float:
            return math.fmod(a, b) if b else math.nan
        if b == 0:
            raise FluxError("cannot divide by zero")
        r = int(math.fmod(a, b))
    elif op == "^":
        r = float(a) ** float(b) if is_float or b < 0 else a**b
        return float(r) if is_float else r
    else:
        raise FluxError(f"unknown operator {op}")
    if is_float:
        return float(r)
    return UInt(r) if unsigned else int(r)


_DISPATCH: dict[type, Callable] = {
    ast.Identifier: Interpreter._identifier,
    ast.StringLiteral: Interpreter._string_lit,
    ast.IntegerLiteral: Interpreter._literal,
    ast.UnsignedIntegerLiteral: Interpreter._uint_lit,
    ast.FloatLiteral: Interpreter._literal,
    ast.BooleanLiteral: Interpreter._literal,
    ast.DateTimeLiteral: Interpreter._time_lit,
    ast.DurationLiteral: Interpreter._duration_lit,
    ast.RegexpLiteral: Interpreter._regex_lit,
    ast.StringExpression: Interpreter._string_expr,
    ast.ArrayExpression: Interpreter._array,
    ast.ObjectExpression: Interpreter._object,
    ast.ParenExpression: Interpreter._paren,
    ast.MemberExpression: Interpreter._member,
    ast.IndexExpression: Interpreter._index,
    ast.CallExpression: Interpreter._call,
    ast.PipeExpression: Interpreter._pipe,
    ast.FunctionExpression: Interpreter._function,
    ast.ConditionalExpression: Interpreter._conditional,
    ast.LogicalExpression: Interpreter._logical,
    ast.UnaryExpression: Interpreter._unary,
    ast.BinaryExpression: Interpreter._binary,
}
