"""Chaining methods (`|name(...)`): what each creates, and which node families have which."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.tick.pipeline import gotypes as go
from chalicelib.tick.pipeline import nodes as n
from chalicelib.tick.pipeline.alert import ALERT, AlertNode
from chalicelib.tick.pipeline.base import BATCH, NO_EDGE, STREAM, Node, NodeType
from chalicelib.tick.pipeline.deadman import INTERVAL_MARKER, NODE_NAME_MARKER, DeadmanCondition
from chalicelib.tick.pipeline.influxql import FUNCTIONS, NODE_TYPES, SAME, TOP_BOTTOM, InfluxQLFunction
from chalicelib.tick.values import Duration, go_duration

S, I64, F, D, L, A = go.STRING, go.INT, go.FLOAT, go.DURATION, go.LAMBDA, go.ANY


@dataclass(frozen=True, slots=True)
class Chain:
    params: tuple[str, ...]
    build: Callable[[Node, list[Any]], Any]
    variadic: str | None = None


def new_node(parent: Node, kind: NodeType, wants: str, provides: str, **attrs: Any) -> Node:
    cls = AlertNode if kind is ALERT else Node
    child = cls(kind, wants, provides, parent.pipeline)
    for attr, value in attrs.items():
        setattr(child, attr, value)
    return child


def _child(parent: Node, kind: NodeType, provides: str | None = None, **attrs: Any) -> Node:
    """A node wanting what the parent provides, linked as its child."""
    child = new_node(parent, kind, parent.provides, provides or parent.provides, **attrs)
    parent.link_child(child)
    return child


def _simple(kind: NodeType, provides: str | None = None) -> Chain:
    return Chain((), lambda parent, args: _child(parent, kind, provides))


def _window(parent: Node, args: list[Any]) -> Node:
    if parent.provides != STREAM:
        raise go.GoPanic("cannot Window batch edge")
    child = new_node(parent, n.WINDOW, STREAM, BATCH)
    parent.link_child(child)
    return child


def _trickle(parent: Node, args: list[Any]) -> Node:
    if parent.provides != BATCH:
        raise go.GoPanic("cannot Trickle stream edge")
    child = new_node(parent, n.TRICKLE, BATCH, STREAM)
    parent.link_child(child)
    return child


def _sample(parent: Node, args: list[Any]) -> Node:
    rate = args[0]
    if isinstance(rate, Duration):
        return _child(parent, n.SAMPLE, duration=rate.nanoseconds)
    if go.go_type_of(rate) == I64:
        return _child(parent, n.SAMPLE, n=rate)
    raise go.GoPanic("must pass int64 or duration to new sample node")


def _union(parent: Node, args: list[Any]) -> Node:
    child = new_node(parent, n.UNION, parent.provides, parent.provides)
    for other in args:
        other.node.link_child(child)
    parent.link_child(child)
    return child


def _join(parent: Node, args: list[Any]) -> Node:
    child = new_node(parent, n.JOIN, parent.provides, parent.provides)
    for source in [parent, *(other.node for other in args)]:
        source.link_child(child)
    return child


def stats(parent: Node, interval: int) -> Node:
    node = new_node(parent, n.STATS, STREAM, STREAM, source_node=parent, interval=interval)
    parent.pipeline.add_source(node)
    # A source without children gets a no-op child, so that it has somewhere to send data to be counted.
    if not parent.children:
        parent.link_child(new_node(parent, n.NOOP, parent.provides, parent.provides))
    return node


def deadman(parent: Node, threshold: float, interval: int, extra: list[Any]) -> AlertNode:
    config = parent.pipeline.deadman
    counter = stats(parent, interval)
    counter.align = True
    derivative = _child(
        counter, n.DERIVATIVE, field="emitted", as_="emitted", non_negative=True, unit=interval
    )
    alert = _child(derivative, ALERT)
    assert isinstance(alert, AlertNode)
    alert.crit = DeadmanCondition(threshold, tuple(extra)).as_lambda()
    alert.alert_id = config.id.replace(NODE_NAME_MARKER, parent.name, 1)
    alert.message = config.message.replace(INTERVAL_MARKER, go_duration(interval), 1)
    return alert


def _influxql(name: str, fn: InfluxQLFunction) -> Chain:
    def build(parent: Node, args: list[Any]) -> Node:
        provides = parent.provides if fn.provides == SAME else fn.provides
        if name in TOP_BOTTOM:
            field, fn_args = args[1], [args[0], *args[2:]]
        else:
            field, fn_args = args[0], [go.native(a, t) for a, t in zip(args[1:], fn.params, strict=False)]
        if name == "HoltWinters" or name == "HoltWintersWithFit":
            fn_args.append(name == "HoltWintersWithFit")
        attrs: dict[str, Any] = {"field": field, "args": fn_args}
        if fn.desc == "holtWinters":
            attrs["point_times"] = True
        return _child(parent, NODE_TYPES[fn.desc], provides, **attrs)

    if name in TOP_BOTTOM:
        return Chain((I64, S), build, variadic=S)
    return Chain((S, *fn.params), build, variadic=fn.variadic)


def _from(parent: Node, args: list[Any]) -> Node:
    child = new_node(parent, n.FROM, STREAM, STREAM)
    parent.link_child(child)
    return child


def _query(kind: NodeType) -> Chain:
    def build(parent: Node, args: list[Any]) -> Node:
        child = new_node(parent, kind, BATCH, BATCH, query=args[0])
        parent.link_child(child)
        return child

    return Chain((S,), build)


NODE_CHAINS: dict[str, Chain] = {
    "Stats": Chain((D,), lambda parent, args: stats(parent, args[0].nanoseconds)),
    "Deadman": Chain(
        (F, D), lambda parent, args: deadman(parent, args[0], args[1].nanoseconds, args[2:]), variadic=L
    ),
}

CHAINNODE_CHAINS: dict[str, Chain] = {
    **NODE_CHAINS,
    "Where": Chain((L,), lambda p, a: _child(p, n.WHERE, lambda_=a[0])),
    "HttpOut": Chain((S,), lambda p, a: _child(p, n.HTTP_OUT, endpoint=a[0])),
    "HttpPost": Chain((), lambda p, a: _child(p, n.HTTP_POST, urls=list(a)), variadic=S),
    "InfluxDBOut": _simple(n.INFLUXDB_OUT, NO_EDGE),
    "KapacitorLoopback": _simple(n.KAPACITOR_LOOPBACK, NO_EDGE),
    "Alert": _simple(ALERT),
    "Union": Chain((), _union, variadic=go.NODE),
    "Join": Chain((), _join, variadic=go.NODE),
    "Combine": Chain((), lambda p, a: _child(p, n.COMBINE, STREAM, lambdas=list(a)), variadic=L),
    "Flatten": _simple(n.FLATTEN),
    "Eval": Chain((), lambda p, a: _child(p, n.EVAL, lambdas=list(a)), variadic=L),
    "GroupBy": Chain((), lambda p, a: _child(p, n.GROUP_BY, dimensions=list(a)), variadic=A),
    "Window": Chain((), _window),
    "Barrier": _simple(n.BARRIER),
    "Sample": Chain((A,), _sample),
    "Derivative": Chain((S,), lambda p, a: _child(p, n.DERIVATIVE, field=a[0], as_=a[0])),
    "ChangeDetect": Chain((), lambda p, a: _child(p, n.CHANGE_DETECT, fields=list(a)), variadic=S),
    "Shift": Chain((D,), lambda p, a: _child(p, n.SHIFT, shift=a[0].nanoseconds)),
    "Log": _simple(n.LOG),
    "Default": _simple(n.DEFAULT),
    "Delete": _simple(n.DELETE),
    "K8sAutoscale": _simple(n.K8S_AUTOSCALE, STREAM),
    "SwarmAutoscale": _simple(n.SWARM_AUTOSCALE, STREAM),
    "Ec2Autoscale": _simple(n.EC2_AUTOSCALE, STREAM),
    "StateDuration": Chain((L,), lambda p, a: _child(p, n.STATE_DURATION, lambda_=a[0])),
    "StateCount": Chain((L,), lambda p, a: _child(p, n.STATE_COUNT, lambda_=a[0])),
    "Sideload": _simple(n.SIDELOAD),
    "Trickle": Chain((), _trickle),
    **{name: _influxql(name, fn) for name, fn in FUNCTIONS.items()},
}

# Which chaining methods each family of node has (Go: node, chainnode, and the source nodes' own).
FAMILIES: dict[str, dict[str, Chain]] = {
    "node": NODE_CHAINS,
    "chain": CHAINNODE_CHAINS,
    "stream": {**NODE_CHAINS, "From": Chain((), _from)},
    "batch": {**NODE_CHAINS, "Query": _query(n.QUERY), "QueryFlux": _query(n.QUERY_FLUX)},
    "from": {**CHAINNODE_CHAINS, "From": Chain((), _from)},
}
