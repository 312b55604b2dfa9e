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

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
CFN_LINT = Path(sys.executable).parent / "cfn-lint"
# cfn-lint rules whose errors are not failures here, with the reason. Keep empty unless justified.
IGNORED_LINT_RULES: dict[str, str] = {}
# Actions on data: their statements must name resources, never "*".
DATA_SERVICES = ("dynamodb:", "kinesis:", "sqs:", "states:")

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


def test_state_machines_match_declarations(template):
    machines = _by_name(template, "AWS::StepFunctions::StateMachine", "StateMachineName")
    assert set(machines) == {_name(m.name) for m in declarations.STATE_MACHINES}


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
    mappings = _resources(transformed, "AWS::Lambda::EventSourceMapping")
    assert len(mappings) == len(declarations.KINESIS_CONSUMERS)
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
        for resource in _as_list(statement["Resource"]):
            text = json.dumps(resource)
            if any(a.startswith("states:") for a in actions) and text.endswith(':*"]]}'):
                continue  # executions of one named state machine: `execution:<machine>:*`
            assert "*" not in text, f"wildcard resource for {actions}: {resource}"


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

    granted: dict[str, set[str]] = {"dynamodb": set(), "kinesis": set(), "sqs": set()}
    for statement in _statements(template):
        for service in granted:
            if any(a.startswith(f"{service}:") for a in _as_list(statement["Action"])):
                granted[service] |= {r["Fn::GetAtt"][0] for r in _as_list(statement["Resource"])}
    assert granted["dynamodb"] == tables
    assert granted["kinesis"] == streams
    assert granted["sqs"] == failure_queues
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
    (tmp_path / "workflows").mkdir()
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
