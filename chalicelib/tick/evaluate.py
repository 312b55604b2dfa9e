"""Evaluating a TICKscript: its statements run in order over a scope of variables and build the task's
pipeline, as Kapacitor's evaluator does (tick/eval.go). Template variables (`var x type`) take their
values from the task's vars; declared variables (`var x = 5`) may be overridden by them, with the same
type. Errors read as Kapacitor's (`line 3 char 6: no method or property "foo" on *pipeline.FromNode`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.kit.errors import TicklessError, invalid
from chalicelib.tick import ast
from chalicelib.tick.formatter import expression_text
from chalicelib.tick.lambdas import compile_lambda, resolve_identifiers
from chalicelib.tick.parser import literal_value
from chalicelib.tick.pipeline import CHAIN, DYNAMIC, PROPERTY, Pipeline, invoke
from chalicelib.tick.tokens import TokenType
from chalicelib.tick.values import Duration, Lambda, Regex, Star, TimeDimension

STREAM, BATCH = "stream", "batch"
# The var types of Kapacitor's API, and how its syntax tree names the same types in errors.
VAR_TYPES = ("bool", "int", "float", "string", "regex", "duration", "lambda", "star", "list")
_AST_NAMES = {"bool": "boolean"}
_OPERATORS = {TokenType.PIPE: CHAIN, TokenType.DOT: PROPERTY, TokenType.AT: DYNAMIC}


@dataclass(frozen=True, slots=True)
class Var:
    """A task var: `type` one of VAR_TYPES; `value` a Python value as chalicelib.tick.values holds them
    (None for a template var without a default)."""

    type: str
    value: Any
    description: str = ""


@dataclass(frozen=True, slots=True)
class Evaluation:
    pipeline: Pipeline
    vars: dict[str, Var]  # the script's own vars and their defaults (a template reports them)


def var_type_of(value: Any) -> str | None:
    """The var type of a value, or None for what is not a var (a pipeline node)."""
    if isinstance(value, bool):
        return "bool"
    for kind, name in (
        (int, "int"),
        (float, "float"),
        (str, "string"),
        (Regex, "regex"),
        (Duration, "duration"),
        (Lambda, "lambda"),
        (Star, "star"),
        (list, "list"),
    ):
        if isinstance(value, kind):
            return name
    return None


def task_type(program: ast.Program) -> str:
    """`stream` or `batch`, from the source each statement starts from; `invalid` when none does or they
    disagree (Kapacitor's rule for the task's type)."""
    found: set[str] = set()
    for node in program.nodes:
        start = node.right if isinstance(node, ast.DeclarationNode) else node
        while isinstance(start, ast.ChainNode):
            start = start.left
        if isinstance(start, ast.IdentifierNode) and start.ident in (STREAM, BATCH):
            found.add(start.ident)
    return found.pop() if len(found) == 1 else "invalid"


def dbrps_of(program: ast.Program) -> list[tuple[str, str]]:
    """The `dbrp "db"."rp"` statements, in order."""
    return [(n.db.reference, n.rp.reference) for n in program.nodes if isinstance(n, ast.DBRPNode)]


def evaluate(
    program: ast.Program, kind: str, predefined: Mapping[str, Var] | None = None, *, ignore_missing=False
) -> Evaluation:
    """Build the pipeline of a `kind` (stream or batch) task. `ignore_missing` gives template vars without
    a value their zero value (a template is checked that way)."""
    run = _Run(Pipeline(), kind, dict(predefined or {}), ignore_missing)
    for node in program.nodes:
        run.statement(node)
    run.pipeline.validate()
    return Evaluation(run.pipeline, run.defaults)


def _positioned(node: Any, exc: TicklessError) -> TicklessError:
    where = node.where
    return invalid(f"line {where.line} char {where.char}: {exc.message}")


_ZERO: dict[str, Any] = {
    "bool": False,
    "int": 0,
    "float": 0.0,
    "string": "",
    "duration": Duration(0),
    "list": [],
    "star": Star(),
}


class _Run:
    def __init__(self, pipeline: Pipeline, kind: str, predefined: dict[str, Var], ignore_missing: bool):
        self.pipeline = pipeline
        self.kind = kind
        self.predefined = predefined
        self.ignore_missing = ignore_missing
        self.scope: dict[str, Any] = {}
        self.defaults: dict[str, Var] = {}

    # -- statements ---------------------------------------------------------------------------------

    def statement(self, node: Any) -> None:
        if isinstance(node, ast.DBRPNode | ast.CommentNode):
            return
        if isinstance(node, ast.TypeDeclarationNode):
            self.type_declaration(node)
        elif isinstance(node, ast.DeclarationNode):
            self.declaration(node)
        elif isinstance(node, ast.FunctionNode) and node.type is ast.FuncType.GLOBAL:
            raise invalid(
                f'line {node.where.line} char {node.where.char}: no global function "{node.func}" defined'
            )
        else:
            self.value(node)

    def type_declaration(self, node: ast.TypeDeclarationNode) -> None:
        declared = node.type.ident
        if declared not in VAR_TYPES:
            raise invalid(f'invalid var type "{declared}"')
        name = node.node.ident
        self.defaults[name] = Var(declared, None, _description(node))
        given = self.predefined.get(name)
        if given is not None:
            if given.type != declared:
                raise invalid(
                    f"invalid type supplied for {name}, got {_ast(given.type)} exp {_ast(declared)}"
                )
            self.scope[name] = given.value
        elif self.ignore_missing:
            self.scope[name] = _ZERO.get(declared)
        else:
            raise invalid(f'missing value for var "{name}".')

    def declaration(self, node: ast.DeclarationNode) -> None:
        name = node.left.ident
        if self.scope.get(name) is not None:
            raise invalid(f"attempted to redefine {name}, vars are immutable")
        value = self.value(node.right)
        declared = var_type_of(value)
        if declared is not None:
            self.defaults[name] = Var(declared, value, _description(node))
        given = self.predefined.get(name)
        if given is not None:
            if given.type != declared:
                got, expected = _ast(given.type), _ast(declared) if declared else "invalid type"
                raise invalid(f"invalid type supplied for {name}, got {got} exp {expected}")
            value = given.value
        self.scope[name] = value

    # -- expressions --------------------------------------------------------------------------------

    def value(self, node: Any) -> Any:
        if isinstance(node, ast.IdentifierNode):
            return self.lookup(node.ident)
        if isinstance(node, ast.ChainNode):
            return self.chain(node)
        if isinstance(node, ast.LambdaNode):
            resolved = self.resolve(node.expression)
            return Lambda(resolved, expression_text(ast.LambdaNode(node.where, resolved)))
        if isinstance(node, ast.BinaryNode):
            return self.constant(node)
        if isinstance(node, ast.UnaryNode):
            return self.unary(node)
        if isinstance(node, ast.ListNode):
            return [self.value(item) for item in node.nodes]
        if isinstance(node, ast.ReferenceNode):
            return node  # only a lambda reads fields; the pipeline words the mistake
        if isinstance(node, ast.FunctionNode) and node.func == "time":
            return _group_by_time(node, [self.value(arg) for arg in node.args])
        if isinstance(node, ast.FunctionNode):
            raise invalid(
                f'line {node.where.line} char {node.where.char}: no global function "{node.func}" defined'
            )
        return literal_value(node)

    def lookup(self, name: str) -> Any:
        if name == self.kind:
            return self.pipeline.source(name)
        if name in self.scope:
            return self.scope[name]
        names = ",".join([self.kind, *self.scope])
        raise invalid(f'name "{name}" is undefined. Names in scope: {names}')

    def resolve(self, expression: Any) -> Any:
        try:
            return resolve_identifiers(expression, self.scope)
        except TicklessError as exc:
            raise invalid(exc.message) from None

    def constant(self, node: ast.BinaryNode) -> Any:
        """A binary expression outside a lambda is computed once, at definition (`var x = 5 * 2`)."""
        from chalicelib.tick.lambdas import Scope

        try:
            return compile_lambda(self.resolve(node)).evaluate(Scope())
        except TicklessError as exc:
            raise invalid(exc.message) from None

    def unary(self, node: ast.UnaryNode) -> Any:
        operand = self.value(node.node)
        if node.operator is TokenType.MINUS and not isinstance(operand, bool):
            if isinstance(operand, int | float):
                return -operand
            if isinstance(operand, Duration):
                return Duration(-operand.nanoseconds)
            raise _positioned(node, invalid(f"invalid arugument to '-' {_go_text(operand)}"))
        if node.operator is TokenType.NOT and isinstance(operand, bool):
            return not operand
        symbol = "-" if node.operator is TokenType.MINUS else "!"
        raise _positioned(node, invalid(f"invalid arugument to '{symbol}' {_go_text(operand)}"))

    def chain(self, node: ast.ChainNode) -> Any:
        # A chain's links are walked in a loop, from its head: a script of thousands of `|node()` and
        # `.property()` links (the parser lets them through) must not exhaust Python's stack.
        links = []
        while isinstance(node, ast.ChainNode):
            links.append(node)
            node = node.left
        receiver = self.value(node)
        for link in reversed(links):
            call = link.right
            if not isinstance(call, ast.FunctionNode):
                name = getattr(call, "ident", "?")
                raise _positioned(link, invalid(f"object {_go_type(receiver)} has no property {name}"))
            args = [self.value(arg) for arg in call.args]
            try:
                receiver = invoke(receiver, _OPERATORS[link.operator], call.func, args)
            except TicklessError as exc:
                raise _positioned(call, exc) from None
        return receiver


def _group_by_time(node: Any, args: list[Any]) -> TimeDimension:
    """The scope's global `time()` (Kapacitor's groupByTime): a batch query's time dimension."""
    if len(args) == 1 and isinstance(args[0], list):
        args = args[0]  # a single list argument is the argument list, as Kapacitor's evaluator takes it
    if not 1 <= len(args) <= 2:
        raise _positioned(node, invalid(f"time() function expects 1 or 2 args, got {len(args)}"))
    for arg in args:
        if not isinstance(arg, Duration):
            raise _positioned(
                node, invalid(f'error calling func "time": cannot use {_go_text(arg)} as time.Duration')
            )
    return TimeDimension(args[0].nanoseconds, args[1].nanoseconds if len(args) == 2 else 0)


def _description(node: Any) -> str:
    return node.comment.text() if node.comment is not None else ""


def _ast(var_type: str) -> str:
    return _AST_NAMES.get(var_type, var_type)


def _go_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _go_type(value: Any) -> str:
    go_type = getattr(value, "go_type", None)
    return go_type if isinstance(go_type, str) else type(value).__name__
