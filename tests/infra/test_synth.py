"""Synthesizes the CDK app (infra/) and checks the template against chalicelib.declarations, then lints it.

Synthesis runs `infra/app.py` in a subprocess, as `cdk synth` would (same context from infra/cdk.json):
it packages the Chalice app, which imports app.py, and must not leak that import or TICKLESS_PREFIX into
the test process. The aws-cdk npm CLI is not needed; node is (jsii runs aws-cdk-lib on it).

cfn-lint runs twice: on the synthesized template, and on that template once the SAM transform has been
applied (aws-sam-translator), since cfn-lint does not look inside SAM `Events`: the second run lints the
AWS::Lambda::EventSourceMapping the transform generates. No rule is ignored; warnings do not fail the test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from chalicelib import declarations

# What infra grants on "*": IAM takes no resource for task-token answers and listing state machines.
TOKEN_ONLY_STATES_ACTIONS = (
    "states:SendTaskSuccess",
    "states:SendTaskFailure",
    "states:SendTaskHeartbeat",
    "states:ListStateMachines",
)

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
CFN_LINT = Path(sys.executable).parent / "cfn-lint"
# cfn-lint rules whose errors are not failures here, with the reason. Keep empty unless justified.
IGNORED_LINT_RULES: dict[str, str] = {}
# Actions on data: their statements must name resources, never "*".
DATA_SERVICES = ("dynamodb:", "kinesis:", "sqs:", "states:", "s3:")

pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.skipif(
        shutil.which("node") is None, reason="node is required by aws-cdk-lib (jsii); not found"
    ),
]


def _synth(out: Path, stage: str, driver: Path | None = None, *args: str) -> dict[str, Any]:
    """Runs the CDK app (or a driver that runs it) and returns the stack's template."""
    context = json.loads((INFRA / "cdk.json").read_text())["context"]
    env = {k: v for k, v in os.environ.items() if k not in (declarations.PREFIX_ENV, "CDK_OUTDIR")}
    env |= {
        "CDK_OUTDIR": str(out / "cdk.out"),
        "CDK_CONTEXT_JSON": json.dumps({**context, "stage": stage}),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "18,20",
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
    }
    env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    script = driver or INFRA / "app.py"
    # cwd: the Chalice construct writes its package under ./chalice.out.
    proc = subprocess.run(
        [sys.executable, str(script), *args], cwd=out, env=env, capture_output=True, text=True, timeout=170
    )
    if proc.returncode != 0:
        pytest.fail(f"synthesis failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}")
    return json.loads((out / "cdk.out" / f"tickless-{stage}.template.json").read_text())


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _synth(tmp_path_factory.mktemp("synth-dev"), "dev")


def _name(logical: str, stage: str = "dev") -> str:
    return f"tickless-{stage}-{logical}"


def _resources(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == resource_type}


def _by_name(template: dict[str, Any], resource_type: str, name_property: str) -> dict[str, tuple[str, dict]]:
    return {
        r["Properties"][name_property]: (k, r["Properties"])
        for k, r in _resources(template, resource_type).items()
    }


def _arn_of(logical_id: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def _statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    """Every statement of every identity policy: inline role policies, policies, managed policies."""
    documents = []
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Role":
            documents += [p["PolicyDocument"] for p in props.get("Policies", [])]
        elif resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            documents.append(props["PolicyDocument"])
    return [s for d in documents for s in d["Statement"]]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _lint(path: Path) -> None:
    proc = subprocess.run(
        [str(CFN_LINT), "--format", "json", str(path)], capture_output=True, text=True, timeout=120
    )
    # The exit code is a bit mask: 2 errors, 4 warnings, 8 informational; 1 means cfn-lint itself failed.
    assert not proc.returncode & 1, proc.stderr
    matches = json.loads(proc.stdout or "[]")
    errors = [m for m in matches if m["Level"] == "Error" and m["Rule"]["Id"] not in IGNORED_LINT_RULES]
    report = "\n".join(
        f"{m['Rule']['Id']} {'/'.join(map(str, m['Location']['Path']))}: {m['Message']}" for m in errors
    )
    assert not errors, f"cfn-lint errors in {path.name}:\n{report}"


def _sam_transform(template: dict[str, Any]) -> dict[str, Any]:
    from samtranslator.translator.transform import transform

    class NoManagedPolicies:
        """The app's functions name their role: no managed policy is looked up (no AWS call)."""

        def load(self) -> dict[str, str]:
            return {}

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    return transform(json.loads(json.dumps(template)), {}, NoManagedPolicies())


# -- declared resources ---------------------------------------------------------------------------------


def test_tables_match_declarations(template):
    tables = _by_name(template, "AWS::DynamoDB::Table", "TableName")
    assert set(tables) == {_name(t.name) for t in declarations.TABLES}
    for decl in declarations.TABLES:
        logical_id, props = tables[_name(decl.name)]
        keys = [{"AttributeName": decl.hash_key, "KeyType": "HASH"}]
        if decl.range_key:
            keys.append({"AttributeName": decl.range_key, "KeyType": "RANGE"})
        assert props["KeySchema"] == keys
        types = {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]}
        assert types == {k["AttributeName"]: decl.key_type(k["AttributeName"]) for k in keys}
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        if decl.ttl_attribute:
            assert props["TimeToLiveSpecification"] == {"AttributeName": decl.ttl_attribute, "Enabled": True}
        else:
            assert "TimeToLiveSpecification" not in props
        assert template["Resources"][logical_id]["DeletionPolicy"] == "Delete"  # dev; prod retains


def test_streams_match_declarations(template):
    streams = _by_name(template, "AWS::Kinesis::Stream", "Name")
    assert set(streams) == {_name(s.name) for s in declarations.STREAMS}
    for decl in declarations.STREAMS:
        _, props = streams[_name(decl.name)]
        assert props["ShardCount"] == decl.shards
        assert props["StreamEncryption"]["EncryptionType"] == "KMS"


def test_queues_match_declarations(template):
    queues = _by_name(template, "AWS::SQS::Queue", "QueueName")
    expected = {_name(q.name) for q in declarations.QUEUES}
    expected |= {_name(f"{q.name}-dlq") for q in declarations.QUEUES if q.max_receive_count is not None}
    assert set(queues) == expected
    for decl in declarations.QUEUES:
        _, props = queues[_name(decl.name)]
        assert props["VisibilityTimeout"] == decl.visibility_timeout
        assert props["SqsManagedSseEnabled"] is True
        if decl.max_receive_count is not None:
            dlq_id, _ = queues[_name(f"{decl.name}-dlq")]
            assert props["RedrivePolicy"] == {
                "deadLetterTargetArn": _arn_of(dlq_id),
                "maxReceiveCount": decl.max_receive_count,
            }


def test_streams_keep_records_for_the_declared_retention(template):
    streams = _by_name(template, "AWS::Kinesis::Stream", "Name")
    for decl in declarations.STREAMS:
        assert streams[_name(decl.name)][1]["RetentionPeriodHours"] == decl.retention_hours


def _area_arn(bucket_id: str, area: declarations.BlobArea) -> dict[str, Any]:
    return {"Fn::Join": ["", [_arn_of(bucket_id), f"/{area.prefix}*"]]}


def test_buckets_match_declarations(template):
    buckets = _resources(template, "AWS::S3::Bucket")
    assert len(buckets) == len(declarations.BUCKETS)
    policies = _resources(template, "AWS::S3::BucketPolicy")
    functions = _resources(template, "AWS::Serverless::Function")
    for decl in declarations.BUCKETS:
        [bucket_id] = [k for k in buckets if k.startswith(f"Bucket{decl.name.capitalize()}")]
        props = buckets[bucket_id]["Properties"]
        # S3 names are global: CloudFormation picks a unique one and every function is handed it.
        assert "BucketName" not in props
        for function in functions.values():
            assert function["Properties"]["Environment"]["Variables"][decl.name_env] == {"Ref": bucket_id}
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"] == [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
        ]
        assert set(props["PublicAccessBlockConfiguration"].values()) == {True}
        assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
        rules = props.get("LifecycleConfiguration", {}).get("Rules", [])
        assert {(r["Prefix"], r["ExpirationInDays"], r["Status"]) for r in rules} == {
            (a.prefix, a.expire_days, "Enabled") for a in decl.areas if a.expire_days is not None
        }
        [policy] = [p for p in policies.values() if p["Properties"]["Bucket"] == {"Ref": bucket_id}]
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert {"Bool": {"aws:SecureTransport": "false"}} in [
            s.get("Condition") for s in statements if s["Effect"] == "Deny"
        ]
        assert template["Resources"][bucket_id]["DeletionPolicy"] == "Delete"  # dev; prod retains
        # dev empties the bucket on deletion (CloudFormation deletes only empty buckets)
        assert any(
            r["Properties"].get("BucketName") == {"Ref": bucket_id}
            for r in _resources(template, "Custom::S3AutoDeleteObjects").values()
        )


def test_claim_checks_outlive_every_retry_of_their_pointer(template):
    """A claim-checked record is retried until the stream drops it: its blob must still be there."""
    streams = _by_name(template, "AWS::Kinesis::Stream", "Name")
    retention = streams[_name(declarations.POINTS.name)][1]["RetentionPeriodHours"]
    [bucket] = _resources(template, "AWS::S3::Bucket").values()
    [rule] = [
        r
        for r in bucket["Properties"]["LifecycleConfiguration"]["Rules"]
        if r["Prefix"] == declarations.CLAIM_CHECKS.prefix
    ]
    # S3 rounds expiry up to a midnight and may delete at once: a whole day on top of the retention.
    assert rule["ExpirationInDays"] * 24 >= retention + 24
    # dead letters are kept until deleted by hand
    assert declarations.DEAD_LETTER_BLOBS.expire_days is None


def test_state_machines_match_declarations(template):
    machines = _by_name(template, "AWS::StepFunctions::StateMachine", "StateMachineName")
    assert set(machines) == {_name(m.name) for m in declarations.STATE_MACHINES}


def test_state_machines_send_their_steps_to_exactly_the_queues_they_name(template):
    """`${QueueUrl_workflow_tasks}` is substituted with that queue's URL, and the machine's role may send
    to it (sqs:SendMessage only), nothing else."""
    machines = _by_name(template, "AWS::StepFunctions::StateMachine", "StateMachineName")
    _, machine = machines[_name("proxy-migration")]
    queue_id, _ = _by_name(template, "AWS::SQS::Queue", "QueueName")[_name("workflow-tasks")]
    substitutions = machine["DefinitionSubstitutions"]
    assert substitutions["QueueUrl_workflow_tasks"] == {"Ref": queue_id}
    assert substitutions["Prefix"] == "tickless-dev-"
    role_id = machine["RoleArn"]["Fn::GetAtt"][0]
    statements = [
        statement
        for policy in _resources(template, "AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"].get("Roles", [])
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    sqs = [s for s in statements if any(a.startswith("sqs:") for a in _as_list(s["Action"]))]
    assert [(s["Action"], s["Resource"]) for s in sqs] == [("sqs:SendMessage", _arn_of(queue_id))]


def test_functions_get_the_stage_prefix(template):
    functions = _resources(template, "AWS::Serverless::Function")
    assert functions, "the Chalice app has no function in the template"
    for function in functions.values():
        assert function["Properties"]["Environment"]["Variables"][declarations.PREFIX_ENV] == "tickless-dev-"


# -- Kinesis consumers ----------------------------------------------------------------------------------


def _consumer_event(template: dict[str, Any], handler: str) -> tuple[str, dict[str, Any]]:
    functions = _resources(template, "AWS::Serverless::Function")
    [(function_id, function)] = [
        (k, f) for k, f in functions.items() if f["Properties"]["Handler"] == f"app.{handler}"
    ]
    [event] = [e for e in function["Properties"]["Events"].values() if e["Type"] == "Kinesis"]
    return function_id, event["Properties"]


def test_kinesis_event_sources_carry_the_declared_settings(template):
    streams = _by_name(template, "AWS::Kinesis::Stream", "Name")
    queues = _by_name(template, "AWS::SQS::Queue", "QueueName")
    assert declarations.KINESIS_CONSUMERS
    for decl in declarations.KINESIS_CONSUMERS:
        _, props = _consumer_event(template, decl.handler)
        assert props["Stream"] == _arn_of(streams[_name(decl.stream)][0])
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert props["BisectBatchOnFunctionError"] is decl.bisect_on_error
        assert props["MaximumRetryAttempts"] == decl.max_retry_attempts
        assert 0 <= props["MaximumRetryAttempts"] <= 10_000  # bounded: -1 would retry until expiry
        assert props["StartingPosition"] == decl.starting_position
        assert props["BatchSize"] == decl.batch_size
        assert props["MaximumBatchingWindowInSeconds"] == decl.max_batching_window
        assert decl.on_failure_queue is not None
        queue_id = queues[_name(decl.on_failure_queue)][0]
        assert props["DestinationConfig"] == {"OnFailure": {"Destination": _arn_of(queue_id)}}


def test_sam_transform_yields_the_event_source_mappings(template):
    pytest.importorskip("samtranslator", reason="aws-sam-translator (requirements-dev.txt) is not installed")
    transformed = _sam_transform(template)
    everything = _resources(transformed, "AWS::Lambda::EventSourceMapping")
    mappings = {k: m for k, m in everything.items() if "StartingPosition" in m["Properties"]}  # Kinesis
    assert len(mappings) == len(declarations.KINESIS_CONSUMERS)
    # The SQS workers (alert delivery, workflow tasks) take one message at a time (a failure retries that
    # message alone).
    workers = [m["Properties"] for k, m in everything.items() if k not in mappings]
    assert len(workers) == 2 and all(w["BatchSize"] == 1 for w in workers)
    for decl in declarations.KINESIS_CONSUMERS:
        function_id, _ = _consumer_event(template, decl.handler)
        [props] = [
            m["Properties"]
            for m in mappings.values()
            if m["Properties"]["FunctionName"] == {"Ref": function_id}
        ]
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert props["BisectBatchOnFunctionError"] is True
        assert props["MaximumRetryAttempts"] == decl.max_retry_attempts
        assert "Destination" in props["DestinationConfig"]["OnFailure"]
        # The mapping is checked against the role when created: the function waits for the grants.
        policies = _resources(transformed, "AWS::IAM::Policy")
        assert set(_as_list(transformed["Resources"][function_id].get("DependsOn", []))) & set(policies)


# -- the REST API's edge ---------------------------------------------------------------------------------

ANY_METHOD = "x-amazon-apigateway-any-method"


def _api_definition(template: dict[str, Any]) -> dict[str, Any]:
    [api] = _resources(template, "AWS::Serverless::Api").values()
    return api["Properties"]["DefinitionBody"]


def test_unknown_paths_and_methods_reach_the_app(template):
    """Without catch-alls API Gateway answers them itself: `403 Missing Authentication Token`, echoing a
    malformed Authorization header. With them the app answers 404/405 in each surface's format."""
    from chalicelib.api.routing import ResourceTree  # pure: loads neither app.py nor AWS libraries

    paths = _api_definition(template)["paths"]
    routes = {path for path, operations in paths.items() if set(operations) - {ANY_METHOD}}
    tree = ResourceTree.of(routes)
    assert set(paths) == set(tree.resources)
    assert {"/", "/{proxy+}", "/api/v2/{proxy+}", "/kapacitor/{proxy+}"} <= set(paths)
    for probe in ["/", "/nope", "/api/v2/nope/deeper", "/kapacitor/v1/tasks", "/api/v2/buckets/1/x/y"]:
        assert tree.match(probe)[0] in paths
    assert len(paths) <= 300  # API Gateway's default quota of resources per REST API
    for path, operations in paths.items():
        integration = operations[ANY_METHOD]["x-amazon-apigateway-integration"]
        assert integration["type"] == "aws_proxy"
        assert "${APIHandler.Arn}" in integration["uri"]["Fn::Sub"]
        variables = [part.strip("{}+") for part in path.split("/") if part.startswith("{")]
        assert [p["name"] for p in operations[ANY_METHOD].get("parameters", [])] == variables


def test_gateway_responses_echo_nothing_of_the_request(template):
    responses = _api_definition(template)["x-amazon-apigateway-gateway-responses"]
    assert {"MISSING_AUTHENTICATION_TOKEN", "RESOURCE_NOT_FOUND", "DEFAULT_4XX", "DEFAULT_5XX"} <= set(
        responses
    )
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["statusCode"] == "404"
    for response in responses.values():
        text = json.dumps(response)
        # No $context.error.message (it quotes a malformed Authorization header) and no request value.
        assert "$" not in text and "method.request" not in text
        body = json.loads(response["responseTemplates"]["application/json"])
        assert set(body) == {"code", "message", "error"} and body["message"] == body["error"]


def test_sam_transform_keeps_the_edge(template):
    pytest.importorskip("samtranslator", reason="aws-sam-translator (requirements-dev.txt) is not installed")
    [api] = _resources(_sam_transform(template), "AWS::ApiGateway::RestApi").values()
    body = api["Properties"]["Body"]
    assert (
        body["x-amazon-apigateway-gateway-responses"]
        == _api_definition(template)["x-amazon-apigateway-gateway-responses"]
    )
    assert ANY_METHOD in body["paths"]["/{proxy+}"] and ANY_METHOD in body["paths"]["/api/v2/write"]


# -- IAM ------------------------------------------------------------------------------------------------


def test_no_wildcard_resources_for_data_actions(template):
    _assert_no_wildcard_resources(template)


def _assert_no_wildcard_resources(template: dict[str, Any]) -> None:
    statements = _statements(template)
    assert statements
    for statement in statements:
        if statement["Effect"] != "Allow":
            continue
        actions = _as_list(statement["Action"])
        if not any(a.startswith(DATA_SERVICES) or a == "*" for a in actions):
            continue
        if set(actions) <= set(TOKEN_ONLY_STATES_ACTIONS) and statement["Resource"] == "*":
            continue  # IAM takes only "*" for task-token answers and listing machines
        for resource in _as_list(statement["Resource"]):
            text = json.dumps(resource)
            if any(a.startswith("states:") for a in actions) and text.endswith(':*"]]}'):
                continue  # executions of one named state machine: `execution:<machine>:*`
            if all(a.startswith("s3:") for a in actions) and _is_declared_area(resource):
                continue  # the objects of one declared area of one bucket: `<bucket arn>/<prefix>*`
            assert "*" not in text, f"wildcard resource for {actions}: {resource}"


def _is_declared_area(resource: Any) -> bool:
    prefixes = {f"/{a.prefix}*" for b in declarations.BUCKETS for a in b.areas}
    try:
        [arn, suffix] = resource["Fn::Join"][1]
        return "Fn::GetAtt" in arn and suffix in prefixes
    except (KeyError, TypeError, ValueError):
        return False


def test_chalice_role_has_no_unscoped_statement(template):
    """Chalice's autogenerated policy (`kinesis:*` reads on "*") is replaced; logs are scoped to the
    stack's functions."""
    roles = _resources(template, "AWS::IAM::Role")
    chalice_roles = {k: r for k, r in roles.items() if "lambda.amazonaws.com" in json.dumps(r)}
    assert "DefaultRole" in chalice_roles
    for role in chalice_roles.values():
        for policy in role["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                assert statement["Resource"] != "*" and "*" not in _as_list(statement["Resource"])
                assert all(a.startswith("logs:") for a in _as_list(statement["Action"]))


def test_chalice_role_is_granted_exactly_the_declared_resources(template):
    tables = {k for k, _ in _by_name(template, "AWS::DynamoDB::Table", "TableName").values()}
    streams = {k for k, _ in _by_name(template, "AWS::Kinesis::Stream", "Name").values()}
    queues = _by_name(template, "AWS::SQS::Queue", "QueueName")
    failure_queues = {
        queues[_name(c.on_failure_queue)][0] for c in declarations.KINESIS_CONSUMERS if c.on_failure_queue
    }
    alerts = queues[_name("alerts")][0]  # stream tasks send to it, its worker consumes and delays
    workflow_tasks = queues[_name("workflow-tasks")][0]  # executions' steps send to it, its worker consumes

    granted: dict[str, set[str]] = {"dynamodb": set(), "kinesis": set(), "sqs": set()}
    for statement in _statements(template):
        for service in granted:
            if any(a.startswith(f"{service}:") for a in _as_list(statement["Action"])):
                granted[service] |= {r["Fn::GetAtt"][0] for r in _as_list(statement["Resource"])}
    assert granted["dynamodb"] == tables
    assert granted["kinesis"] == streams
    assert granted["sqs"] == failure_queues | {alerts, workflow_tasks}
    sns = [s for s in _statements(template) if any(a.startswith("sns:") for a in _as_list(s["Action"]))]
    assert {a for s in sns for a in _as_list(s["Action"])} == {"sns:Publish"}  # the SNS alert handler

    # S3: put and get in exactly the declared areas; list (names only) on exactly the declared buckets.
    [bucket_id] = _resources(template, "AWS::S3::Bucket")
    s3 = [s for s in _statements(template) if any(a.startswith("s3:") for a in _as_list(s["Action"]))]
    objects = {
        json.dumps(r, sort_keys=True)
        for s in s3
        if set(_as_list(s["Action"])) == {"s3:GetObject", "s3:PutObject"}
        for r in _as_list(s["Resource"])
    }
    assert objects == {json.dumps(_area_arn(bucket_id, a), sort_keys=True) for a in declarations.BLOBS.areas}
    listed = [r for s in s3 if _as_list(s["Action"]) == ["s3:ListBucket"] for r in _as_list(s["Resource"])]
    assert listed and all(r == _arn_of(bucket_id) for r in listed)
    assert {a for s in s3 for a in _as_list(s["Action"])} == {"s3:GetObject", "s3:PutObject", "s3:ListBucket"}
    kinesis_actions = {
        a for s in _statements(template) for a in _as_list(s["Action"]) if a.startswith("kinesis:")
    }
    assert {"kinesis:PutRecords", "kinesis:GetRecords", "kinesis:GetShardIterator"} <= kinesis_actions


# -- cfn-lint -------------------------------------------------------------------------------------------


def test_cfn_lint(template, tmp_path):
    path = tmp_path / "tickless-dev.template.json"
    path.write_text(json.dumps(template, indent=1))
    _lint(path)


def test_cfn_lint_after_sam_transform(template, tmp_path):
    pytest.importorskip("samtranslator", reason="aws-sam-translator (requirements-dev.txt) is not installed")
    path = tmp_path / "tickless-dev.transformed.json"
    path.write_text(json.dumps(_sam_transform(template), indent=1))
    _lint(path)


# -- code paths today's declarations do not use ---------------------------------------------------------

_DRIVER = textwrap.dedent(
    """
    import runpy, sys
    from pathlib import Path

    repo, workflows = Path(sys.argv[1]), Path(sys.argv[2])
    sys.path.insert(0, str(repo))
    from chalicelib import declarations as d
    import infra.stacks.tickless as stack

    d.TABLES += (d.Table("leases", "id", ttl_attribute="expires", key_types={"id": "N"}),)
    d.QUEUES += (d.Queue("tasks", visibility_timeout=90, max_receive_count=3),)
    d.STATE_MACHINES += (d.StateMachine("sweep", "sweep.asl.json"),)
    stack.WORKFLOWS_DIR = workflows
    runpy.run_path(str(repo / "infra" / "app.py"), run_name="__main__")
    """
)
_ASL = {
    "StartAt": "Sweep",
    "States": {
        "Sweep": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {
                "FunctionName": "${FunctionArn_enforce_retention}",
                "Payload": {"prefix": "${Prefix}"},
            },
            "End": True,
        }
    },
}


def test_prod_with_ttl_dead_letter_queue_and_state_machine(tmp_path):
    """Synthesizes stage prod with a TTL table, a queue with a DLQ and a state machine added to the
    declarations, so those code paths are exercised before the first real declaration needs them."""
    shutil.copytree(REPO / "chalicelib" / "workflows", tmp_path / "workflows")  # the declared machines
    (tmp_path / "workflows" / "sweep.asl.json").write_text(json.dumps(_ASL))
    driver = tmp_path / "driver.py"
    driver.write_text(_DRIVER)
    prod = _synth(tmp_path, "prod", driver, str(REPO), str(tmp_path / "workflows"))

    tables = _by_name(prod, "AWS::DynamoDB::Table", "TableName")
    _, leases = tables[_name("leases", "prod")]
    assert leases["TimeToLiveSpecification"] == {"AttributeName": "expires", "Enabled": True}
    assert leases["AttributeDefinitions"] == [{"AttributeName": "id", "AttributeType": "N"}]
    for logical_id, _ in tables.values():
        assert prod["Resources"][logical_id]["DeletionPolicy"] == "Retain"
    for bucket in _resources(prod, "AWS::S3::Bucket").values():
        assert bucket["DeletionPolicy"] == "Retain"
    assert not _resources(prod, "Custom::S3AutoDeleteObjects")  # prod never empties a bucket

    queues = _by_name(prod, "AWS::SQS::Queue", "QueueName")
    dlq_id, _ = queues[_name("tasks-dlq", "prod")]
    assert queues[_name("tasks", "prod")][1]["RedrivePolicy"] == {
        "deadLetterTargetArn": _arn_of(dlq_id),
        "maxReceiveCount": 3,
    }

    machines = _by_name(prod, "AWS::StepFunctions::StateMachine", "StateMachineName")
    _, machine = machines[_name("sweep", "prod")]
    function_id = next(
        k
        for k, f in _resources(prod, "AWS::Serverless::Function").items()
        if f["Properties"]["Handler"] == "app.enforce_retention"
    )
    assert machine["DefinitionSubstitutions"] == {
        "Prefix": "tickless-prod-",
        "FunctionArn_enforce_retention": _arn_of(function_id),
    }
    states_actions = {a for s in _statements(prod) for a in _as_list(s["Action"]) if a.startswith("states:")}
    assert {"states:StartExecution", "states:DescribeExecution", "states:SendTaskSuccess"} <= states_actions
    _assert_no_wildcard_resources(prod)
    path = tmp_path / "tickless-prod.template.json"
    path.write_text(json.dumps(prod))
    _lint(path)


def test_api_gateway_compresses_responses(template):
    """API Gateway gzips responses for clients that accept it (docs/FLUX.md): the app cannot, since a
    Lambda's bytes reach the client only when the request's first Accept type is a binary media type."""
    (api,) = _resources(template, "AWS::Serverless::Api").values()
    assert api["Properties"]["MinimumCompressionSize"] == 1400


def test_stacktach_publish_grants_follow_the_stages_pipeline_file(tmp_path):
    from infra.stacks.tickless import stacktach_publish_streams

    (tmp_path / "pipelines.yaml").write_text(
        "usage_fire: [usage, {name: publish, params: {target: verdicts, env_keys: [usage_notifications]}}]\n"
    )
    assert stacktach_publish_streams(tmp_path, {}) == set()
    assert stacktach_publish_streams(tmp_path, {"STACKTACH_PIPELINES_CONFIG": "pipelines.yaml"}) == {
        "verdicts"
    }
