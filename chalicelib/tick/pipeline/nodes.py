"""Declarations of the pipeline's node types (all but alert and the InfluxQL functions)."""

from __future__ import annotations

from typing import Any

from chalicelib.kit.time import SECOND
from chalicelib.tick.pipeline import gotypes as go
from chalicelib.tick.pipeline.base import Method, append_one, dimensions, flag, node_type, put, strings
from chalicelib.tick.values import Star

S, I64, B, D, L, A = go.STRING, go.INT, go.BOOL, go.DURATION, go.LAMBDA, go.ANY


# ---- validation rules, worded as Kapacitor words them -------------------------------------------------


def check_dimensions(dims: list[Any], excluded: list[str]) -> str | None:
    has_star = False
    for dim in dims:
        if isinstance(dim, str):
            if not dim:
                return "dimensions cannot not be the empty string"
        elif isinstance(dim, Star):
            has_star = True
        else:
            return f"invalid dimension object of type {go.go_type_of(dim)}"
    if has_star and len(dims) > 1:
        return "cannot group by both '*' and named dimensions."
    if not has_star and excluded:
        return "exclude requires '*'"
    return None


def _validate_from(n: Any) -> str | None:
    return check_dimensions(n.dimensions, [])


def _validate_group_by(n: Any) -> str | None:
    return check_dimensions(n.dimensions, n.excluded_dimensions)


def _validate_window(n: Any) -> str | None:
    if n.period_count != 0 and n.period != 0:
        return "cannot specify both period and periodCount"
    if n.period_count != 0 and n.align:
        return "can only align windows based off time, not count"
    if n.period_count != 0 and n.every_count <= 0:
        return "everyCount must be greater than zero"
    return None


def _validate_eval(n: Any) -> str | None:
    if len(n.as_list) != len(n.lambdas):
        return (
            "must specify same number of expressions and .as() names: "
            f"got {len(n.as_list)} as names, and {len(n.lambdas)} expressions."
        )
    for tag in n.tags_list:
        if tag not in n.as_list:
            return f"invalid tag name {go.quote(tag)}, name is not present is .as() names"
    return None


def _validate_default(n: Any) -> str | None:
    # Go ranges over a map in random order; reporting the first offender in call order is deterministic.
    for name, value in n.fields.items():
        if go.go_type_of(value) not in (go.FLOAT, go.INT, go.BOOL, go.STRING):
            return (
                f"unsupported type {go.go_type_of(value)} for field {go.quote(name)}, "
                "field default values must be float,int,string or bool"
            )
    return None


def _check_prefixes(names: list[str], delimiter: str, what: str) -> str | None:
    for name in names:
        if not name:
            return f"must provide a prefix name for the {what} node, see .as() property method"
        if what == "combine" and delimiter in name:
            return f"cannot use name {name} as field prefix, it contains the delimiter character {delimiter}"
        if what == "join" and delimiter and delimiter in name:
            return (
                f"cannot use name {name} as field prefix, it contains the delimiter {go.quote(delimiter)}\t"
            )
    if len(set(names)) != len(names):
        return "cannot use the same prefix name see .as() property method"
    return None


def _validate_combine(n: Any) -> str | None:
    if not n.names:
        return "a call to combine.as() is required to specify the output stream prefixes."
    if len(n.names) != len(n.lambdas):
        return "number of prefixes specified by combine.as() must match the number of combine expressions"
    return _check_prefixes(n.names, n.delimiter, "combine")


def _validate_join(n: Any) -> str | None:
    if not n.names:
        return "a call to join.as() is required to specify the output stream prefixes."
    if len(n.names) != len(n.parents):
        return "number of prefixes specified by join.as() must match the number of joined streams"
    return _check_prefixes(n.names, n.delimiter, "join")


def check_post_headers(headers: dict[str, str]) -> str | None:
    if any(key.upper() == "AUTHENTICATE" for key in headers):
        return "cannot set 'authenticate' header"
    return None


def _validate_http_post(n: Any) -> str | None:
    if len(n.urls) >= 2:
        return f"httpPost expects 0 or 1 arguments, got {len(n.urls)}"
    if len(n.endpoints) > 1:
        return f"httpPost expects 0 or 1 endpoints, got {len(n.endpoints)}"
    if not n.urls and not n.endpoints:
        return "must provide url or endpoint"
    if n.urls and n.endpoints:
        return "only one endpoint and url may be specified"
    return check_post_headers(n.headers)


def _validate_loopback(n: Any) -> str | None:
    if not n.database:
        return "must specify a database"
    if not n.retention_policy:
        return "must specify a retention policy"
    return None


def _validate_barrier(n: Any) -> str | None:
    if n.idle != 0 and n.period != 0:
        return "cannot specify both idle and period"
    if n.period == 0 and n.idle <= 0:
        return "idle must be greater than zero"
    if n.period <= 0 and n.idle == 0:
        return "period must be greater than zero"
    return None


def _autoscale_validator(name_attr: str, tag_attr: str, label: str) -> Any:
    def validate(n: Any) -> str | None:
        if bool(getattr(n, name_attr)) == bool(getattr(n, tag_attr)):
            return f"must specify exactly one of {label} or {label}Tag"
        if label == "ResourceName" and n.kind not in ("deployments", "replicasets", "replicationcontrollers"):
            return (
                "invalid Kind, must be 'deployments', 'replicasets' or 'replicationcontrollers', "
                f"got {n.kind}"
            )
        if n.min < 1:
            return f"min must be >= 1, got {n.min}"
        if n.replicas is None:
            return "must provide a replicas lambda expression"
        return None

    return validate


# ---- property methods with a shape of their own -------------------------------------------------------


def _from_where(owner: Any, args: list[Any]) -> Any:
    # Kapacitor ANDs successive .where() lambdas together; they are kept in order, all must hold.
    owner.where_lambdas.append(args[0])
    return owner


def _eval_keep(owner: Any, args: list[Any]) -> Any:
    owner.keep = True
    owner.keep_list = list(args)
    return owner


def _drop_original(owner: Any, args: list[Any]) -> Any:
    owner.drop_original_field_name = args[0] if len(args) == 1 else True
    return owner


def _stats_align(owner: Any, args: list[Any]) -> Any:
    owner.align = True
    return owner


# ---- the node types -----------------------------------------------------------------------------------

STREAM_NODE = node_type("stream", "StreamNode", "stream", family="stream")
BATCH_NODE = node_type("batch", "BatchNode", "batch", family="batch")
NOOP = node_type("noop", "NoOpNode", "noop")

FROM = node_type(
    "from",
    "FromNode",
    "from",
    family="from",
    fields={
        "Database": ("database", S, ""),
        "RetentionPolicy": ("retention_policy", S, ""),
        "Measurement": ("measurement", S, ""),
        "Truncate": ("truncate", D, 0),
        "Round": ("round", D, 0),
    },
    methods={
        "Where": Method((L,), _from_where, attrs={"where_lambdas": []}),
        "GroupBy": dimensions(),
        "GroupByMeasurement": flag("group_by_measurement"),
    },
    extra_chains=frozenset({"GroupBy", "Where"}),
    validate=_validate_from,
)

QUERY = node_type(
    "query",
    "QueryNode",
    "query",
    fields={
        "QueryStr": ("query", S, ""),
        "Period": ("period", D, 0),
        "Every": ("every", D, 0),
        "Cron": ("cron", S, ""),
        "Offset": ("offset", D, 0),
        "Fill": ("fill", A, None),
        "Cluster": ("cluster", S, ""),
    },
    methods={
        "Align": flag("align"),
        "AlignGroup": flag("align_group"),
        "GroupBy": dimensions(),
        "GroupByMeasurement": flag("group_by_measurement"),
    },
    extra_chains=frozenset({"GroupBy"}),
)

QUERY_FLUX = node_type(
    "queryFlux",
    "QueryFluxNode",
    "queryFlux",
    fields={
        "QueryStr": ("query", S, ""),
        "Period": ("period", D, 0),
        "Every": ("every", D, 0),
        "Cron": ("cron", S, ""),
        "Offset": ("offset", D, 0),
        "Cluster": ("cluster", S, ""),
        "Org": ("org", S, ""),
        "OrgID": ("org_id", S, ""),
    },
    methods={"Align": flag("align")},
)

WHERE = node_type("where", "WhereNode", "where", fields={"Lambda": ("lambda_", L, None)})

WINDOW = node_type(
    "window",
    "WindowNode",
    "window",
    fields={
        "Period": ("period", D, 0),
        "Every": ("every", D, 0),
        "PeriodCount": ("period_count", I64, 0),
        "EveryCount": ("every_count", I64, 0),
    },
    methods={"Align": flag("align"), "FillPeriod": flag("fill_period")},
    validate=_validate_window,
)

GROUP_BY = node_type(
    "groupBy",
    "GroupByNode",
    "groupby",
    fields={"Dimensions": ("dimensions", go.LIST, [])},
    methods={
        "Exclude": strings("excluded_dimensions", append=True),
        "ByMeasurement": flag("by_measurement"),
    },
    validate=_validate_group_by,
)

EVAL = node_type(
    "eval",
    "EvalNode",
    "eval",
    fields={"Lambdas": ("lambdas", go.LAMBDAS, []), "KeepList": ("keep_list", go.STRINGS, [])},
    methods={
        "As": strings("as_list"),
        "Tags": strings("tags_list"),
        "Keep": Method((), _eval_keep, variadic=S, attrs={"keep": False}),
    },
    validate=_validate_eval,
)

DEFAULT = node_type(
    "default",
    "DefaultNode",
    "default",
    methods={"Field": put("fields", A), "Tag": put("tags")},
    validate=_validate_default,
)

DELETE = node_type(
    "delete", "DeleteNode", "delete", methods={"Field": append_one("fields"), "Tag": append_one("tags")}
)

SHIFT = node_type("shift", "ShiftNode", "shift", fields={"Shift": ("shift", D, 0)})

SAMPLE = node_type(
    "sample", "SampleNode", "sample", fields={"N": ("n", I64, 0), "Duration": ("duration", D, 0)}
)

DERIVATIVE = node_type(
    "derivative",
    "DerivativeNode",
    "derivative",
    fields={"Field": ("field", S, ""), "As": ("as_", S, ""), "Unit": ("unit", D, SECOND)},
    methods={"NonNegative": flag("non_negative")},
)

CHANGE_DETECT = node_type(
    "changeDetect", "ChangeDetectNode", "changeDetect", fields={"Fields": ("fields", go.STRINGS, [])}
)

FLATTEN = node_type(
    "flatten",
    "FlattenNode",
    "flatten",
    fields={"Delimiter": ("delimiter", S, "."), "Tolerance": ("tolerance", D, 0)},
    methods={
        "On": strings("dimensions"),
        "DropOriginalFieldName": Method(
            (), _drop_original, variadic=B, attrs={"drop_original_field_name": False}
        ),
    },
)

COMBINE = node_type(
    "combine",
    "CombineNode",
    "combine",
    fields={
        "Lambdas": ("lambdas", go.LAMBDAS, []),
        "Delimiter": ("delimiter", S, "."),
        "Tolerance": ("tolerance", D, 0),
        "Max": ("max", I64, 1_000_000),
    },
    methods={"As": strings("names")},
    validate=_validate_combine,
)

JOIN = node_type(
    "join",
    "JoinNode",
    "join",
    fields={
        "Delimiter": ("delimiter", S, "."),
        "DeleteAll": ("delete_all", B, False),
        "StreamName": ("stream_name", S, ""),
        "Tolerance": ("tolerance", D, 0),
        "Fill": ("fill", A, None),
    },
    methods={"As": strings("names"), "On": strings("dimensions")},
    validate=_validate_join,
)

UNION = node_type("union", "UnionNode", "union", fields={"Rename": ("rename", S, "")})

STATE_DURATION = node_type(
    "stateDuration",
    "StateDurationNode",
    "state_duration",
    fields={"Lambda": ("lambda_", L, None), "As": ("as_", S, "state_duration"), "Unit": ("unit", D, SECOND)},
)

STATE_COUNT = node_type(
    "stateCount",
    "StateCountNode",
    "state_count",
    fields={"Lambda": ("lambda_", L, None), "As": ("as_", S, "state_count")},
)

STATS = node_type(
    "stats",
    "StatsNode",
    "stats",
    fields={"SourceNode": ("source_node", go.NODE, None), "Interval": ("interval", D, 0)},
    methods={"Align": Method((), _stats_align, attrs={"align": False})},
)

LOG = node_type("log", "LogNode", "log", fields={"Level": ("level", S, "INFO"), "Prefix": ("prefix", S, "")})

HTTP_OUT = node_type("httpOut", "HTTPOutNode", "http_out", fields={"Endpoint": ("endpoint", S, "")})

HTTP_POST = node_type(
    "httpPost",
    "HTTPPostNode",
    "http_post",
    fields={
        "CodeField": ("code_field", S, ""),
        "URLs": ("urls", go.STRINGS, []),
        "Timeout": ("timeout", D, 0),
    },
    methods={
        "Endpoint": append_one("endpoints"),
        "Header": put("headers"),
        "CaptureResponse": flag("capture_response"),
    },
    validate=_validate_http_post,
)

INFLUXDB_OUT = node_type(
    "influxDBOut",
    "InfluxDBOutNode",
    "influxdb_out",
    family="node",
    fields={
        "Cluster": ("cluster", S, ""),
        "Database": ("database", S, ""),
        "RetentionPolicy": ("retention_policy", S, ""),
        "Measurement": ("measurement", S, ""),
        "WriteConsistency": ("write_consistency", S, ""),
        "Precision": ("precision", S, ""),
        "Buffer": ("buffer", I64, 1000),
        "FlushInterval": ("flush_interval", D, 10 * SECOND),
    },
    methods={"Tag": put("tags"), "Create": flag("create")},
)

KAPACITOR_LOOPBACK = node_type(
    "kapacitorLoopback",
    "KapacitorLoopbackNode",
    "kapacitor_loopback",
    family="node",
    fields={
        "Database": ("database", S, ""),
        "RetentionPolicy": ("retention_policy", S, ""),
        "Measurement": ("measurement", S, ""),
    },
    methods={"Tag": put("tags")},
    validate=_validate_loopback,
)

BARRIER = node_type(
    "barrier",
    "BarrierNode",
    "barrier",
    fields={"Idle": ("idle", D, 0), "Period": ("period", D, 0), "Delete": ("delete", B, False)},
    extra_chains=frozenset({"Delete"}),
    validate=_validate_barrier,
)

TRICKLE = node_type("trickle", "TrickleNode", "trickle")

SIDELOAD = node_type(
    "sideload",
    "SideloadNode",
    "sideload",
    fields={"Source": ("source", S, "")},
    methods={"Order": strings("order"), "Field": put("fields", A), "Tag": put("tags")},
)

_AUTOSCALE_COMMON = {
    "Cluster": ("cluster", S, ""),
    "CurrentField": ("current_field", S, ""),
    "Max": ("max", I64, 0),
    "Min": ("min", I64, 1),
    "Replicas": ("replicas", L, None),
    "IncreaseCooldown": ("increase_cooldown", D, 0),
    "DecreaseCooldown": ("decrease_cooldown", D, 0),
}

K8S_AUTOSCALE = node_type(
    "k8sAutoscale",
    "K8sAutoscaleNode",
    "k8s_autoscale",
    fields={
        **_AUTOSCALE_COMMON,
        "Namespace": ("namespace", S, ""),
        "Kind": ("kind", S, "deployments"),
        "ResourceName": ("resource_name", S, ""),
        "ResourceNameTag": ("resource_name_tag", S, ""),
        "NamespaceTag": ("namespace_tag", S, "namespace"),
        "KindTag": ("kind_tag", S, "kind"),
        "ResourceTag": ("resource_tag", S, "resource"),
    },
    validate=_autoscale_validator("resource_name", "resource_name_tag", "ResourceName"),
)

SWARM_AUTOSCALE = node_type(
    "swarmAutoscale",
    "SwarmAutoscaleNode",
    "swarm_autoscale",
    fields={
        **_AUTOSCALE_COMMON,
        "ServiceName": ("service_name", S, ""),
        "ServiceNameTag": ("service_name_tag", S, ""),
        "OutputServiceNameTag": ("output_service_name_tag", S, ""),
    },
    validate=_autoscale_validator("service_name", "service_name_tag", "ServiceName"),
)

EC2_AUTOSCALE = node_type(
    "ec2Autoscale",
    "Ec2AutoscaleNode",
    "ec2_autoscale",
    fields={
        **_AUTOSCALE_COMMON,
        "GroupName": ("group_name", S, ""),
        "GroupNameTag": ("group_name_tag", S, ""),
        "OutputGroupNameTag": ("output_group_name_tag", S, ""),
    },
    validate=_autoscale_validator("group_name", "group_name_tag", "GroupName"),
)
