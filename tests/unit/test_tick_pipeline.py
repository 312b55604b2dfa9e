"""The TICKscript pipeline model: what evaluating a script builds, and Kapacitor's texts for mistakes."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.kit.errors import INVALID, TicklessError
from chalicelib.kit.time import MINUTE, SECOND
from chalicelib.tick.pipeline import (
    AlertDataView,
    AlertNode,
    DeadmanCondition,
    DeadmanConfig,
    Handler,
    Pipeline,
    dot,
    invoke,
)
from chalicelib.tick.values import Duration, Lambda, Regex, Star


def lam(text: str = '"value" > 1') -> Lambda:
    return Lambda(object(), text)


def sec(n: int) -> Duration:
    return Duration(n * SECOND)


class Chain:
    """A tiny stand-in for the evaluator: `Chain(x).c("from").p("measurement", "cpu").node`."""

    def __init__(self, receiver: Any) -> None:
        self.node = receiver

    def c(self, name: str, *args: Any) -> Chain:
        return Chain(invoke(self.node, "chain", name, list(args)))

    def p(self, name: str, *args: Any) -> Chain:
        return Chain(invoke(self.node, "property", name, list(args)))

    def d(self, name: str, *args: Any) -> Chain:
        return Chain(invoke(self.node, "dynamic", name, list(args)))


def stream() -> tuple[Pipeline, Chain]:
    pipeline = Pipeline()
    return pipeline, Chain(pipeline.source("stream"))


def batch() -> tuple[Pipeline, Chain]:
    pipeline = Pipeline()
    return pipeline, Chain(pipeline.source("batch"))


def error_of(fn: Any) -> str:
    with pytest.raises(TicklessError) as info:
        fn()
    assert info.value.code == INVALID
    return info.value.message


# ---- building ------------------------------------------------------------------------------------------


def test_multiline_window_properties_as_in_kapacitor_pipeline_test() -> None:
    pipeline, src = stream()
    w = src.c("from").c("window")
    w.p("period", sec(10))
    w.p("every", sec(1))
    pipeline.validate()
    assert pipeline.kind == "stream"
    assert [n.name for n in pipeline.nodes] == ["stream0", "from1", "window2"]
    assert w.node.period == 10 * SECOND and w.node.every == SECOND
    assert (w.node.wants, w.node.provides) == ("stream", "batch")
    assert w.node.parents[0].type == "from"


def test_node_names_for_every_type() -> None:
    pipeline, src = stream()
    f = src.c("from")
    f.c("where", lam()).c("groupBy", "host").c("eval", lam()).p("as", "x").c("default").c("delete").c(
        "shift", sec(1)
    )
    f.c("sample", 2).c("derivative", "x").c("changeDetect", "x").c("flatten").c("combine", lam()).p("as", "a")
    f.c("stateDuration", lam()).c("stateCount", lam()).c("log").c("httpOut", "top").c("httpPost", "http://x")
    f.c("influxDBOut")
    f.c("kapacitorLoopback").p("database", "d").p("retentionPolicy", "rp")
    f.c("alert")
    f.c("barrier").p("idle", sec(1))
    w = f.c("window")
    for name, args in [("mean", ["x"]), ("percentile", ["x", 90.0]), ("top", [3, "x", "host"])]:
        w.c(name, *args)
    w.c("holtWintersWithFit", "x", 1, 2, sec(1))
    f.c("movingAverage", "x", 3).c("cumulativeSum", "x").c("difference", "x").c("elapsed", "x", sec(1))
    pipeline.validate()
    names = [n.name for n in pipeline.nodes]
    assert names == [
        "stream0", "from1", "where2", "groupby3", "eval4", "default5", "delete6", "shift7", "sample8",
        "derivative9", "changeDetect10", "flatten11", "combine12", "state_duration13", "state_count14",
        "log15", "http_out16", "http_post17", "influxdb_out18", "kapacitor_loopback19", "alert20",
        "barrier21", "window22", "mean23", "percentile24", "top25", "holtWinters26", "movingAverage27",
        "cumulativeSum28", "difference29", "elapsed30",
    ]  # fmt: skip


def test_influxql_nodes_edges_and_arguments() -> None:
    _, src = stream()
    w = src.c("from").c("window")
    mean = w.c("mean", "usage").node
    assert (mean.type, mean.method, mean.field, mean.as_) == ("influxql", "mean", "usage", "mean")
    assert (mean.wants, mean.provides) == ("batch", "stream")
    top = w.c("top", 3, "usage", "host", "cpu").node
    assert (top.provides, top.field, top.args) == ("batch", "usage", [3, "host", "cpu"])
    hw = w.c("holtWintersWithFit", "usage", 10, 4, sec(60)).node
    assert hw.args == [10, 4, MINUTE, True] and hw.point_times and hw.name.startswith("holtWinters")
    diff = w.c("difference", "usage").node
    assert diff.provides == "batch"
    assert src.c("from").c("difference", "x").node.provides == "stream"
    assert w.c("percentile", "usage", 99.0).node.args == [99.0]
    assert w.c("elapsed", "usage", sec(1)).node.args == [SECOND]
    assert w.c("count", "x").p("as", "n").p("usePointTimes").node.point_times is True


def test_join_and_union_take_one_id_per_link_as_kapacitor_does() -> None:
    # TestStream_JoinCardinality: two froms joined is join4.
    pipeline, src = stream()
    s1 = src.c("from").p("measurement", "cpu").p("groupBy", "host")
    s2 = src.c("from").p("measurement", "cpu").p("groupBy", "cpu")
    join = s2.c("join", s1.node).p("as", "s1", "s2")
    pipeline.validate()
    assert join.node.name == "join4"
    assert [p.name for p in join.node.parents] == ["from2", "from1"]
    assert s1.node.dimensions == ["host"]
    u = s1.c("union", s2.node).p("rename", "r")
    assert u.node.name == "union6" and [p.name for p in u.node.parents] == ["from2", "from1"]
    assert s1.c("log").node.id == 7


def test_walk_order_matches_kapacitor_pipeline_sort() -> None:
    # The shape of TestPipelineSort: p1->p2->p3, p1->p4->p5->p3 sorts p1 p4 p5 p2 p3.
    pipeline, src = stream()
    p2 = src.c("from")
    p4 = src.c("from")
    p5 = p4.c("where", lam())
    p3 = p2.c("union", p5.node)
    assert pipeline.sorted_nodes() == [src.node, p4.node, p5.node, p2.node, p3.node]


def test_batch_query_properties() -> None:
    pipeline, src = batch()
    q = src.c("query", "SELECT mean(usage) FROM db.rp.cpu")
    q.p("period", sec(60)).p("every", sec(10)).p("offset", sec(1)).p("align").p("groupBy", Star(), "x")
    q.p("fill", "null").p("cluster", "c").p("alignGroup").p("groupByMeasurement")
    node = q.node
    assert pipeline.kind == "batch"
    assert (node.query, node.period, node.every, node.offset) == (
        "SELECT mean(usage) FROM db.rp.cpu",
        MINUTE,
        10 * SECOND,
        SECOND,
    )
    assert node.align and node.align_group and node.group_by_measurement and node.fill == "null"
    assert (node.wants, node.provides) == ("batch", "batch")
    assert src.node.wants == "noedge"
    # groupBy is both a property (above) and a chaining method on a query.
    assert q.c("groupBy", "host").node.type == "groupBy"


def test_from_where_and_group_by_property_versus_chain() -> None:
    _, src = stream()
    f = src.c("from")
    first, second = lam('"a" > 1'), lam('"b" < 2')
    f.p("where", first).p("where", second).p("database", "db").p("retentionPolicy", "rp").p(
        "truncate", sec(1)
    )
    assert f.node.where_lambdas == [first, second] and f.node.truncate == SECOND
    assert f.c("where", first).node.type == "where"
    assert f.c("from").node.type == "from"


def test_alert_properties_handlers_and_views() -> None:
    pipeline, src = stream()
    alert = src.c("from").c("alert")
    node = alert.node
    assert isinstance(node, AlertNode)
    assert (node.alert_id, node.message, node.details, node.history) == (
        "{{ .Name }}:{{ .Group }}",
        "{{ .ID }} is {{ .Level }}",
        "{{ json . }}",
        21,
    )
    crit = lam('"usage" > 90')
    assert alert.p("crit", crit).node is node  # a field set returns the receiver
    view = alert.p("stateChangesOnly", sec(300)).node
    assert isinstance(view, AlertDataView) and view.go_type == "*pipeline.AlertNodeData"
    assert node.state_changes_only and node.state_changes_only_duration == 5 * MINUTE
    slack = Chain(view).p("slack").p("channel", "#alerts").p("iconEmoji", ":x:")
    assert isinstance(slack.node, Handler) and slack.node.go_type == "*pipeline.SlackHandler"
    # properties the handler lacks fall through to the alert node, and the handler is returned.
    assert slack.p("warn", lam()).node is slack.node and node.warn is not None
    post = slack.p("post", "http://example.com").p("header", "k", "v").p("captureResponse")
    email = post.p("email", "a@b").p("to", "c@d")
    email.p("flapping", 0.25, 0.5).p("inhibit", "cpu", "host").p("noRecoveries").p("all")
    log = Chain(node).p("log", "/tmp/alerts.log").p("mode", 0o644)
    topic = log.p("topic", "cpu").p("mqtt", "t").p("topic", "mqtt-topic")
    assert [h.kind for h in node.handlers] == ["slack", "post", "email", "log", "mqtt"]
    assert node.topic == "cpu" and topic.node.topic == "mqtt-topic"
    assert node.handlers[1].url == "http://example.com" and node.handlers[1].headers == {"k": "v"}
    assert node.handlers[2].to_list == ["a@b", "c@d"] and node.handlers[3].mode == 0o644
    assert (node.use_flapping, node.flap_low, node.flap_high) == (True, 0.25, 0.5)
    assert node.inhibitors[0].category == "cpu" and node.inhibitors[0].equal_tags == ["host"]
    assert node.no_recoveries and node.all
    # |log() on an alert is still the log node, although .log() is a handler.
    assert alert.c("log").node.type == "log"
    pipeline.validate()


def test_handler_properties_shadow_the_alerts() -> None:
    _, src = stream()
    alert = src.c("from").c("alert")
    og = (
        alert.p("opsGenie2")
        .p("teams", "a", "b")
        .p("recipients", "r")
        .p("details")
        .p("recoveryAction", "close")
    )
    assert (og.node.teams, og.node.recipients, og.node.details, og.node.recovery_action) == (
        ["a", "b"],
        ["r"],
        True,
        "close",
    )
    assert alert.node.details == "{{ json . }}"
    pd2 = alert.p("pagerDuty2").p("serviceKey", "k").p("link", "http://x").p("link", "http://y", "Y")
    assert pd2.node.routing_key == "k"
    assert pd2.node.links == [{"href": "http://x", "text": ""}, {"href": "http://y", "text": "Y"}]
    zen = alert.p("zenoss").p("message", "m")
    assert zen.node.message == "m" and zen.node.summary == "{{ .Message }}"
    assert alert.node.message == "{{ .ID }} is {{ .Level }}"
    assert alert.p("tcp", "host:9000").node.address == "host:9000"
    assert alert.p("teams").p("channelURL", "u").node.channel_url == "u"
    assert alert.p("telegram").p("disableNotification").node.disable_notification


def test_deadman_builds_stats_derivative_alert() -> None:
    pipeline, src = stream()
    f = src.c("from").p("measurement", "cpu")
    extra = lam('hour("time") >= 8')
    alert = f.c("deadman", 100.0, sec(10), extra).node
    assert isinstance(alert, AlertNode)
    stats = pipeline.sources[1]
    assert (stats.name, stats.interval, stats.align, stats.source_node) == (
        "stats2",
        10 * SECOND,
        True,
        f.node,
    )
    # from1 had no children: a no-op node gives it somewhere to send data.
    assert [c.name for c in f.node.children] == ["noop3"]
    derivative = alert.parents[0]
    assert (derivative.name, derivative.field, derivative.unit, derivative.non_negative) == (
        "derivative4", "emitted", 10 * SECOND, True
    )  # fmt: skip
    assert alert.name == "alert5"
    assert alert.alert_id == "{{ .Group }}:from1 for task '{{ .TaskName }}'"
    assert alert.message.endswith("points/10s.")
    assert alert.crit.expression == DeadmanCondition(100.0, (extra,))
    assert alert.crit.text == '"emitted" <= 100.0 AND (hour("time") >= 8)'
    assert dot("t", pipeline) == (
        "digraph t {\nstream0 -> from1;\nfrom1 -> noop3;\nstats2 -> derivative4;\nderivative4 -> alert5;\n}"
    )


def test_global_deadman_is_added_on_validate() -> None:
    pipeline = Pipeline(DeadmanConfig(global_=True, threshold=5.0))
    src = Chain(pipeline.source("stream"))
    src.c("from")
    pipeline.validate()
    assert [n.name for n in pipeline.nodes] == ["stream0", "from1", "stats2", "derivative3", "alert4"]
    assert pipeline.nodes[-1].alert_id == "{{ .Group }}:stream0 for task '{{ .TaskName }}'"


def test_sources_are_one_per_kind() -> None:
    pipeline = Pipeline()
    assert pipeline.source("stream") is pipeline.source("stream")
    assert error_of(lambda: pipeline.source("batch")) == 'name "batch" is undefined. Names in scope: stream'


# ---- Kapacitor's texts for mistakes --------------------------------------------------------------------


def test_unknown_method() -> None:
    _, src = stream()
    assert error_of(lambda: src.c("query", "x")) == 'no method or property "query" on *pipeline.StreamNode'
    assert error_of(lambda: src.c("from").p("foo")) == 'no method or property "foo" on *pipeline.FromNode'
    _, b = batch()
    assert error_of(lambda: b.c("from")) == 'no method or property "from" on *pipeline.BatchNode'


def test_wrong_operator_hints() -> None:
    _, src = stream()
    w = src.c("from").c("window")
    assert error_of(lambda: w.c("period", sec(1))) == (
        'no chaining method "period" on *pipeline.WindowNode, but property does exist. '
        "Use '.' operator instead: 'node.period(..)'."
    )
    assert error_of(lambda: src.p("from")) == (
        'no property method "from" on *pipeline.StreamNode, but chaining method does exist. '
        "Use '|' operator instead: 'node|from(..)'."
    )
    assert error_of(lambda: w.d("period")) == (
        'no dynamic method "period" on *pipeline.WindowNode, but property does exist. '
        "Use '.' operator instead: 'node.period(..)'."
    )
    assert error_of(lambda: w.d("mean", "x")) == (
        'no dynamic method "mean" on *pipeline.WindowNode, but chaining method does exist. '
        "Use '|' operator instead: 'node|mean(..)'."
    )
    # a user-defined function: none can exist here, and the refusal says why.
    assert error_of(lambda: w.d("movingAvg")) == (
        'UDF "movingAvg" is not available: a UDF needs a long-running process, which tickless '
        "(tasks run on AWS Lambda) cannot host"
    )


def test_argument_types_and_counts_as_reflect_words_them() -> None:
    _, src = stream()
    f = src.c("from")
    w = f.c("window")
    assert error_of(lambda: w.p("period", 10)) == (
        'error calling func "period" on obj *pipeline.WindowNode: '
        "reflect.Set: value of type int64 is not assignable to type time.Duration"
    )
    assert error_of(lambda: w.p("period", sec(1), sec(2))) == (
        "too many arguments to set property Period on *pipeline.WindowNode"
    )
    assert error_of(lambda: f.c("deadman", 100, sec(10))) == (
        'error calling func "deadman" on obj *pipeline.FromNode: reflect: Call using int64 as type float64'
    )
    assert error_of(lambda: f.c("derivative")) == (
        'error calling func "derivative" on obj *pipeline.FromNode: '
        "reflect: Call with too few input arguments"
    )
    assert error_of(lambda: f.c("log", "x")) == (
        'error calling func "log" on obj *pipeline.FromNode: reflect: Call with too many input arguments'
    )
    assert error_of(lambda: f.c("eval", "x")) == (
        'error calling func "eval" on obj *pipeline.FromNode: '
        "reflect: cannot use string as type *ast.LambdaNode in Call"
    )
    assert error_of(lambda: f.c("sample", "x")) == (
        'error calling func "sample" on obj *pipeline.FromNode: '
        "must pass int64 or duration to new sample node"
    )
    assert error_of(lambda: f.c("join", "x")) == (
        'error calling func "join" on obj *pipeline.FromNode: '
        "reflect: cannot use string as type pipeline.Node in Call"
    )
    assert error_of(lambda: f.p("where", Regex.of("a"))) == (
        'error calling func "where" on obj *pipeline.FromNode: '
        "reflect: Call using *regexp.Regexp as type *ast.LambdaNode"
    )


def test_double_quoted_reference_where_a_string_is_wanted() -> None:
    class ReferenceNode:  # what the evaluator passes for `"cpu"`
        pass

    _, src = stream()
    assert error_of(lambda: src.c("from").p("measurement", ReferenceNode())) == (
        "cannot assign *ast.ReferenceNode to type string, did you use double quotes instead of single quotes?"
    )


def test_edge_rules() -> None:
    _, b = batch()
    q = b.c("query", "SELECT")
    assert error_of(lambda: q.c("window")) == (
        'error calling func "window" on obj *pipeline.QueryNode: cannot Window batch edge'
    )
    _, s = stream()
    assert error_of(lambda: s.c("from").c("trickle")) == (
        'error calling func "trickle" on obj *pipeline.FromNode: cannot Trickle stream edge'
    )
    assert q.c("trickle").node.provides == "stream"
    # influxDBOut embeds only the basic node: no chaining but stats and deadman.
    out = s.c("from").c("influxDBOut")
    assert error_of(lambda: out.c("log")) == 'no method or property "log" on *pipeline.InfluxDBOutNode'
    assert out.c("stats", sec(1)).node.type == "stats"


def test_a_single_list_argument_is_spread() -> None:
    _, s = stream()
    g = s.c("from").c("groupBy", ["host", "cpu"])
    assert g.node.dimensions == ["host", "cpu"]


def test_go_names_are_matched_after_capitalising() -> None:
    _, s = stream()
    f = s.c("From").p("Measurement", "cpu")
    assert f.node.measurement == "cpu"


def test_exec_and_non_objects_are_refused() -> None:
    _, s = stream()
    alert = s.c("from").c("alert")
    assert "exec alert handler is not supported" in error_of(lambda: alert.p("exec", "/bin/sh"))
    assert (
        error_of(lambda: invoke("text", "chain", "from", [])) == "cannot get properties of non pointer value"
    )


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda f: f.c("window").p("periodCount", 10).p("period", sec(1)),
            "cannot specify both period and periodCount",
        ),
        (
            lambda f: f.c("window").p("periodCount", 10).p("align"),
            "can only align windows based off time, not count",
        ),
        (lambda f: f.c("window").p("periodCount", 10), "everyCount must be greater than zero"),
        (lambda f: f.c("groupBy", ""), "dimensions cannot not be the empty string"),
        (lambda f: f.c("groupBy", 1), "invalid dimension object of type int64"),
        (lambda f: f.c("groupBy", Star(), "host"), "cannot group by both '*' and named dimensions."),
        (lambda f: f.c("groupBy", "host").p("exclude", "cpu"), "exclude requires '*'"),
        (lambda f: f.p("groupBy", 1.5), "invalid dimension object of type float64"),
        (
            lambda f: f.c("eval", lam(), lam()).p("as", "a"),
            "must specify same number of expressions and .as() names: got 1 as names, and 2 expressions.",
        ),
        (
            lambda f: f.c("eval", lam()).p("as", "a").p("tags", "b"),
            'invalid tag name "b", name is not present is .as() names',
        ),
        (
            lambda f: f.c("default").p("field", "x", sec(1)),
            'unsupported type time.Duration for field "x", '
            "field default values must be float,int,string or bool",
        ),
        (
            lambda f: f.c("combine", lam()),
            "a call to combine.as() is required to specify the output stream prefixes.",
        ),
        (
            lambda f: f.c("combine", lam(), lam()).p("as", "a"),
            "number of prefixes specified by combine.as() must match the number of combine expressions",
        ),
        (
            lambda f: f.c("combine", lam()).p("as", "a.b"),
            "cannot use name a.b as field prefix, it contains the delimiter character .",
        ),
        (
            lambda f: f.c("combine", lam(), lam()).p("as", "a", "a"),
            "cannot use the same prefix name see .as() property method",
        ),
        (
            lambda f: f.c("join", f.node),
            "a call to join.as() is required to specify the output stream prefixes.",
        ),
        (
            lambda f: f.c("join", f.node).p("as", "a"),
            "number of prefixes specified by join.as() must match the number of joined streams",
        ),
        (
            lambda f: f.c("join", f.node).p("as", "a.x", "b"),
            'cannot use name a.x as field prefix, it contains the delimiter "."\t',
        ),
        (
            lambda f: f.c("join", f.node).p("as", "", "b"),
            "must provide a prefix name for the join node, see .as() property method",
        ),
        (lambda f: f.c("httpPost"), "must provide url or endpoint"),
        (lambda f: f.c("httpPost", "a", "b"), "httpPost expects 0 or 1 arguments, got 2"),
        (
            lambda f: f.c("httpPost").p("endpoint", "a").p("endpoint", "b"),
            "httpPost expects 0 or 1 endpoints, got 2",
        ),
        (lambda f: f.c("httpPost", "u").p("endpoint", "a"), "only one endpoint and url may be specified"),
        (lambda f: f.c("httpPost", "u").p("header", "Authenticate", "x"), "cannot set 'authenticate' header"),
        (lambda f: f.c("kapacitorLoopback"), "must specify a database"),
        (lambda f: f.c("kapacitorLoopback").p("database", "d"), "must specify a retention policy"),
        (
            lambda f: f.c("barrier").p("idle", sec(1)).p("period", sec(1)),
            "cannot specify both idle and period",
        ),
        (lambda f: f.c("barrier"), "idle must be greater than zero"),
        (lambda f: f.c("barrier").p("period", Duration(-1)), "period must be greater than zero"),
        (
            lambda f: f.c("alert").p("post").p("header", "authenticate", "x"),
            "invalid post: cannot set 'authenticate' header",
        ),
        (lambda f: f.c("alert").p("snmpTrap", ""), 'invalid SNMP trap "": you must supply a trap Oid'),
        (
            lambda f: f.c("alert").p("snmpTrap", "1.1").p("data", "1.1.2", "x", "v"),
            'invalid SNMP trap "1.1": unsupported data type "x" for data entry "1.1.2"',
        ),
        (lambda f: f.c("k8sAutoscale"), "must specify exactly one of ResourceName or ResourceNameTag"),
        (
            lambda f: f.c("k8sAutoscale").p("resourceName", "r").p("kind", "pods"),
            "invalid Kind, must be 'deployments', 'replicasets' or 'replicationcontrollers', got pods",
        ),
        (lambda f: f.c("swarmAutoscale").p("serviceName", "s").p("min", 0), "min must be >= 1, got 0"),
        (lambda f: f.c("ec2Autoscale").p("groupName", "g"), "must provide a replicas lambda expression"),
    ],
)
def test_node_validation_messages(build: Any, message: str) -> None:
    pipeline, src = stream()
    build(src.c("from"))
    assert error_of(pipeline.validate) == message


def test_valid_nodes_pass_validation() -> None:
    pipeline, src = stream()
    f = src.c("from")
    f.c("window").p("periodCount", 10).p("everyCount", 1)
    f.c("groupBy", Star()).p("exclude", "cpu")
    f.c("default").p("field", "x", 1.0).p("field", "y", 1).p("tag", "t", "v")
    f.c("httpPost").p("endpoint", "e")
    f.c("barrier").p("period", sec(1)).p("delete", True)
    f.c("k8sAutoscale").p("resourceNameTag", "r").p("replicas", lam())
    f.c("flatten").p("on", "a", "b").p("dropOriginalFieldName", False)
    f.c("alert").p("snmpTrap", "1.1").p("data", "1.1.2", "i", "1")
    pipeline.validate()


# ---- hostile input never crashes -----------------------------------------------------------------------

_NAMES = st.sampled_from(
    ["from", "window", "period", "alert", "slack", "channel", "mean", "groupBy", "join", "union", "as",
     "where", "log", "post", "header", "deadman", "stats", "eval", "tag", "field", "query", "exec", "", "x"]
)  # fmt: skip
_VALUES = st.one_of(
    st.integers(-5, 5),
    st.floats(allow_nan=True),
    st.text(max_size=5),
    st.booleans(),
    st.builds(Duration, st.integers(-(10**12), 10**12)),
    st.just(Star()),
    st.builds(lam, st.text(max_size=5)),
    st.lists(st.text(max_size=3), max_size=3),
)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["stream", "batch"]),
    st.lists(
        st.tuples(st.sampled_from(["chain", "property", "dynamic"]), st.one_of(_NAMES, st.text(max_size=8)),
                  st.lists(_VALUES, max_size=3)),
        max_size=25,
    ),
)  # fmt: skip
def test_random_calls_raise_only_kapacitor_errors(kind: str, calls: list[tuple[str, str, list[Any]]]) -> None:
    pipeline = Pipeline()
    receivers: list[Any] = [pipeline.source(kind)]
    for call_kind, name, args in calls:
        # Sometimes hand a node as an argument (join, union).
        args = [receivers[0] if isinstance(a, bool) and a else a for a in args]
        try:
            receivers.append(invoke(receivers[-1], call_kind, name, args))
        except TicklessError as err:
            assert err.code == INVALID and err.message
    try:
        pipeline.validate()
    except TicklessError as err:
        assert err.code == INVALID
    assert dot("t", pipeline).startswith("digraph t {\n")


def test_node_count_is_bounded() -> None:
    pipeline = Pipeline(max_nodes=50)
    node = Chain(pipeline.source("stream")).c("from")
    with pytest.raises(TicklessError) as info:
        for _ in range(100):
            node = node.c("log")
    assert info.value.message == "pipeline has too many nodes, the limit is 50"


def test_long_chains_sort_without_recursion() -> None:
    pipeline = Pipeline()
    node = Chain(pipeline.source("stream")).c("from")
    for _ in range(3000):
        node = node.c("log")
    assert len(pipeline.sorted_nodes()) == 3002


def test_long_chains_evaluate_without_recursion() -> None:
    # Found by tests/e2e/test_kapacitor_fuzz.py: a PATCH with a script of 200 `|window()...` links was
    # a RecursionError (500) in the evaluator, which walked a chain recursively.
    from chalicelib.tick.evaluate import evaluate
    from chalicelib.tick.parser import parse

    script = "stream|from()" + ".measurement('m')" * 3000 + "|eval(lambda: 1).as('x')|log()" * 1000
    pipeline = evaluate(parse(script), "stream").pipeline
    assert len(pipeline.sorted_nodes()) == 2002
    windows = "stream|from()" + "|window().period(1s).every(1s)" * 400
    with pytest.raises(TicklessError, match="cannot Window batch edge"):
        evaluate(parse(windows), "stream")
