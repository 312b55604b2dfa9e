"""Executing a parsed template against data: walking the tree, evaluating pipelines, writing output."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.kit.gotemplate.errors import TemplateError
from chalicelib.kit.gotemplate.escape import html_text_escape
from chalicelib.kit.gotemplate.funcs import _FUNCS, _CallError, _Func, _method, _truth
from chalicelib.kit.gotemplate.limits import MAX_DEPTH, MAX_OUTPUT, MAX_STEPS
from chalicelib.kit.gotemplate.nodes import (
    _Action,
    _Bool,
    _Call,
    _Chain,
    _Command,
    _Control,
    _Dot,
    _Field,
    _Identifier,
    _Loop,
    _Nil,
    _Number,
    _Pipe,
    _String,
    _Text,
    _Variable,
)
from chalicelib.kit.gotemplate.parser import KAPACITOR_JSON_FUNCS
from chalicelib.kit.gotemplate.printf import format_value, go_quote
from chalicelib.kit.gotemplate.values import _MISSING, GoDuration, GoStruct, _sort_keys, type_name

if TYPE_CHECKING:
    from chalicelib.kit.gotemplate.template import Template


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


_PRINTF_SIG = ("string",)


class _State:
    def __init__(self, tmpl: Template, html: bool) -> None:
        self.tmpl = tmpl
        self.html = html
        self.out: list[str] = []
        self.size = 0
        self.steps = 0
        self.vars: list[list[Any]] = []
        self.node: Any = None
        self.depth = 0

    # errors and bounds
    def error(self, message: str) -> TemplateError:
        name = self.tmpl.name
        if self.node is None or not hasattr(self.node, "pos"):
            return TemplateError(f"template: {name}: {message}")
        pos = self.node.pos
        before = self.tmpl.text[:pos]
        line = before.count("\n") + 1
        col = pos - (before.rfind("\n") + 1) if "\n" in before else pos
        return TemplateError(
            f"template: {name}:{line}:{col}: executing {go_quote(name)} at <{self.context()}>: {message}"
        )

    def context(self) -> str:
        node = self.node
        if isinstance(node, _Control):
            return str(node.pipe)
        text = f"({node})" if isinstance(node, _Pipe) and node is not self.node else str(node)
        return text if len(text) <= 20 else text[:20] + "..."

    def step(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise self.error("execution exceeded its budget")

    def write(self, text: str) -> None:
        self.size += len(text)
        if self.size > MAX_OUTPUT:
            raise self.error("output exceeded its limit")
        self.out.append(text)

    # variables
    def push(self, name: str, value: Any) -> None:
        self.vars.append([name, value])

    def set_var(self, name: str, value: Any) -> None:
        for slot in reversed(self.vars):
            if slot[0] == name:
                slot[1] = value
                return
        raise self.error(f"undefined variable: {name}")

    def var(self, name: str) -> Any:
        for slot in reversed(self.vars):
            if slot[0] == name:
                return slot[1]
        raise self.error(f"undefined variable: {name}")

    # walking
    def walk_list(self, dot: Any, nodes: list[Any]) -> None:
        for node in nodes:
            self.walk(dot, node)

    def walk(self, dot: Any, node: Any) -> None:
        self.step()
        self.node = node
        if isinstance(node, _Text):
            self.write(node.text)
        elif isinstance(node, _Action):
            value = self.eval_pipeline(dot, node.pipe)
            if not node.pipe.decl:
                self.print_value(node, value)
        elif isinstance(node, _Control):
            self.enter()
            try:
                if node.kind == "range":
                    self.walk_range(dot, node)
                else:
                    self.walk_if_with(dot, node)
            finally:
                self.depth -= 1
        elif isinstance(node, _Loop):
            raise _Break if node.kind == "break" else _Continue
        elif isinstance(node, _Call):
            self.walk_template(dot, node)

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error("exceeded maximum template depth")

    def walk_if_with(self, dot: Any, node: _Control) -> None:
        mark = len(self.vars)
        try:
            value = self.eval_pipeline(dot, node.pipe)
            if _truth(value):
                self.walk_list(value if node.kind == "with" else dot, node.body)
            elif node.orelse is not None:
                self.walk_list(dot, node.orelse)
        finally:
            del self.vars[mark:]

    def walk_range(self, dot: Any, node: _Control) -> None:
        mark = len(self.vars)
        try:
            value = self.eval_pipeline(dot, node.pipe)
            pairs: list[tuple[Any, Any]]
            if isinstance(value, list | tuple):
                pairs = list(enumerate(value))
            elif isinstance(value, dict) and not isinstance(value, GoStruct):
                pairs = [(k, value[k]) for k in _sort_keys(list(value))]
            elif isinstance(value, int) and not isinstance(value, bool | GoDuration):
                if len(node.pipe.decl) > 1:
                    raise self.error(f"can't use {value} to iterate over more than one variable")
                pairs = [(i, i) for i in range(max(value, 0))]
            elif value is None:
                pairs = []
            else:
                raise self.error(f"range can't iterate over {format_value(value)}")
            inner = len(self.vars)
            try:
                for key, elem in pairs:
                    self.step()
                    self._bind_range(node.pipe, key, elem)
                    try:
                        self.walk_list(elem, node.body)
                    except _Continue:
                        pass
                    finally:
                        del self.vars[inner:]
            except _Break:
                return
            if not pairs and node.orelse is not None:
                self.walk_list(dot, node.orelse)
        finally:
            del self.vars[mark:]

    def _bind_range(self, pipe: _Pipe, key: Any, elem: Any) -> None:
        decl = pipe.decl
        if not decl:
            return
        if pipe.is_assign:
            if len(decl) > 1:
                self.set_var(decl[0].idents[0], key)
                self.set_var(decl[1].idents[0], elem)
            else:
                self.set_var(decl[0].idents[0], elem)
            return
        # declared variables sit on top of the stack: the last one gets the element
        top = len(self.vars) - 1
        for slot in range(top, -1, -1):
            if self.vars[slot][0] == decl[-1].idents[0]:
                self.vars[slot][1] = elem
                break
        if len(decl) > 1:
            for slot in range(top, -1, -1):
                if self.vars[slot][0] == decl[0].idents[0]:
                    self.vars[slot][1] = key
                    break

    def walk_template(self, dot: Any, node: _Call) -> None:
        body = self.tmpl.trees.get(node.name)
        if body is None:
            raise self.error(f"template {go_quote(node.name)} not defined")
        value = self.eval_pipeline(dot, node.pipe) if node.pipe is not None else None
        self.enter()
        saved = self.vars
        self.vars = [["$", value]]
        try:
            self.walk_list(value, body)
        finally:
            self.vars = saved
            self.depth -= 1

    def print_value(self, node: Any, value: Any) -> None:
        self.node = node
        text = "<no value>" if value is None else format_value(value)
        if self.html:
            text = html_text_escape(text)
        self.write(text)

    # evaluation
    def eval_pipeline(self, dot: Any, pipe: _Pipe | None) -> Any:
        if pipe is None:
            return None
        self.node = pipe
        value: Any = _MISSING
        for cmd in pipe.cmds:
            value = self.eval_command(dot, cmd, value)
        for var in pipe.decl:
            if pipe.is_assign:
                self.set_var(var.idents[0], value)
            else:
                self.push(var.idents[0], value)
        return value

    def not_a_function(self, args: list[Any], final: Any) -> None:
        if len(args) > 1 or final is not _MISSING:
            raise self.error(f"can't give argument to non-function {args[0]}")

    def eval_command(self, dot: Any, cmd: _Command, final: Any) -> Any:
        self.step()
        first = cmd.args[0]
        if isinstance(first, _Field):
            self.node = first
            return self.eval_chain(dot, dot, first, first.idents, cmd.args, final)
        if isinstance(first, _Chain):
            return self.eval_chain_node(dot, first, cmd.args, final)
        if isinstance(first, _Identifier):
            return self.eval_function(dot, first, cmd, cmd.args, final)
        if isinstance(first, _Pipe):
            self.not_a_function(cmd.args, final)
            return self.eval_nested(dot, first)
        if isinstance(first, _Variable):
            return self.eval_variable(dot, first, cmd.args, final)
        self.node = first
        self.not_a_function(cmd.args, final)
        if isinstance(first, _Bool):
            return first.value
        if isinstance(first, _Dot):
            return dot
        if isinstance(first, _Nil):
            raise self.error("nil is not a command")
        if isinstance(first, _Number):
            return self.constant(first)
        if isinstance(first, _String):
            return first.value
        raise self.error(f"can't evaluate command {go_quote(str(first))}")

    def eval_nested(self, dot: Any, pipe: _Pipe) -> Any:
        self.enter()
        try:
            return self.eval_pipeline(dot, pipe)
        finally:
            self.depth -= 1

    def constant(self, node: _Number) -> Any:
        self.node = node
        if node.overflow:
            raise self.error(f"{node.text} overflows int")
        return node.value

    def eval_chain_node(self, dot: Any, chain: _Chain, args: list[Any], final: Any) -> Any:
        self.node = chain
        if isinstance(chain.node, _Nil):
            raise self.error(f"indirection through explicit nil in {chain}")
        receiver = self.eval_arg(dot, chain.node)
        return self.eval_chain(dot, receiver, chain, chain.fields, args, final)

    def eval_variable(self, dot: Any, var: _Variable, args: list[Any], final: Any) -> Any:
        self.node = var
        value = self.var(var.idents[0])
        if len(var.idents) == 1:
            self.not_a_function(args, final)
            return value
        return self.eval_chain(dot, value, var, var.idents[1:], args, final)

    def eval_chain(
        self, dot: Any, receiver: Any, node: Any, idents: list[str], args: list[Any], final: Any
    ) -> Any:
        for name in idents[:-1]:
            receiver = self.eval_field(dot, name, node, [], _MISSING, receiver)
        return self.eval_field(dot, idents[-1], node, args, final, receiver)

    def eval_field(self, dot: Any, name: str, node: Any, args: list[Any], final: Any, receiver: Any) -> Any:
        self.node = node
        if receiver is None:
            return None
        method = _method(receiver, name)
        if method is not None:
            return self.call(dot, method, node, name, args, final)
        has_args = len(args) > 1 or final is not _MISSING
        if isinstance(receiver, GoStruct):
            found, value = receiver.lookup(name)
            if found:
                if has_args:
                    raise self.error(f"{name} has arguments but cannot be invoked as function")
                return value
            if name in receiver.embedded:
                raise self.error(f"{name} is an unexported field of struct type {receiver.type_name}")
        elif isinstance(receiver, dict):
            if has_args:
                raise self.error(f"{name} is not a method but has arguments")
            return receiver.get(name)
        raise self.error(f"can't evaluate field {name} in type {type_name(receiver)}")

    def eval_function(self, dot: Any, node: _Identifier, cmd: Any, args: list[Any], final: Any) -> Any:
        self.node = node
        name = node.name
        if name in ("and", "or"):
            return self.and_or(dot, name, args[1:], final)
        impl = _FUNCS.get(name)
        if impl is None or (name in KAPACITOR_JSON_FUNCS and name not in self.tmpl.funcs):
            raise self.error(f"{go_quote(name)} is not a defined function")
        return self.call(dot, impl, cmd, name, args, final)

    def and_or(self, dot: Any, name: str, args: list[Any], final: Any) -> Any:
        count = len(args) + (final is not _MISSING)
        if count < 1:
            raise self.error(f"wrong number of args for {name}: want at least 1 got 0")
        value: Any = None
        for arg in args:
            value = self.eval_arg(dot, arg)
            if _truth(value) == (name == "or"):
                return value
        if final is not _MISSING:
            value = final
        return value

    def call(self, dot: Any, impl: _Func, node: Any, name: str, args: list[Any], final: Any) -> Any:
        where = self.node
        args = args[1:]
        count = len(args) + (final is not _MISSING)
        if impl.variadic:
            if count < impl.fixed:
                raise self.error(
                    f"wrong number of args for {name}: want at least {impl.fixed} got {len(args)}"
                )
        elif count != impl.fixed:
            raise self.error(f"wrong number of args for {name}: want {impl.fixed} got {count}")
        values: list[Any] = []
        self.node = where
        for i, arg in enumerate(args):
            kind = impl.types[i] if i < len(impl.types) else None
            values.append(self.eval_typed_arg(dot, arg, kind))
        if final is not _MISSING:
            kind = impl.types[count - 1] if count - 1 < len(impl.types) else None
            if kind == "string" and not isinstance(final, str):
                raise self.error(f"wrong type for value; expected string; got {type_name(final)}")
            values.append(final)
        try:
            result = impl.fn(self, values)
        except _CallError as err:
            self.node = node
            raise self.error(f"error calling {name}: {err}") from None
        if isinstance(result, str) and len(result) > MAX_OUTPUT:
            self.node = node
            raise self.error("output exceeded its limit")
        return result

    def eval_typed_arg(self, dot: Any, arg: Any, kind: str | None) -> Any:
        if kind == "string":
            if isinstance(arg, _String):
                return arg.value
            if isinstance(arg, _Bool | _Number | _Nil):
                self.node = arg
                if isinstance(arg, _Nil):
                    raise self.error("cannot assign nil to string")
                raise self.error(f"expected string; found {arg}")
            value = self.eval_arg(dot, arg)
            if not isinstance(value, str):
                raise self.error(
                    "invalid value; expected string"
                    if value is None
                    else f"wrong type for value; expected string; got {type_name(value)}"
                )
            return value
        if isinstance(arg, _Nil):
            return None
        return self.eval_arg(dot, arg)

    def eval_arg(self, dot: Any, arg: Any) -> Any:
        self.node = arg
        if isinstance(arg, _Dot):
            return dot
        if isinstance(arg, _Nil):
            return None
        if isinstance(arg, _Field):
            return self.eval_chain(dot, dot, arg, arg.idents, [arg], _MISSING)
        if isinstance(arg, _Variable):
            return self.eval_variable(dot, arg, [arg], _MISSING)
        if isinstance(arg, _Pipe):
            return self.eval_nested(dot, arg)
        if isinstance(arg, _Identifier):
            return self.eval_function(dot, arg, arg, [arg], _MISSING)
        if isinstance(arg, _Chain):
            return self.eval_chain_node(dot, arg, [arg], _MISSING)
        if isinstance(arg, _Bool):
            return arg.value
        if isinstance(arg, _Number):
            return self.constant(arg)
        if isinstance(arg, _String):
            return arg.value
        raise self.error(f"can't handle {arg} for arg")
