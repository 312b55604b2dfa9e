#!/usr/bin/env python3
"""CDK app of tickless: `cdk deploy -c stage=dev` deploys the stack `tickless-dev`.

The stage (context `stage`, default `dev`) selects a stage of `.chalice/config.json`, whose
`TICKLESS_PREFIX` names every resource. It is exported before the Chalice app is packaged (which imports
app.py), so the names in app.py's decorators resolve exactly as the stack's.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# First on the path: Chalice imports the module `app`, which must be the repo's app.py, not this file.
sys.path.insert(0, str(REPO_ROOT))

import aws_cdk as cdk  # noqa: E402

from chalicelib.declarations import PREFIX_ENV  # noqa: E402
from infra.stacks.settings import load_stage  # noqa: E402
from infra.stacks.tickless import TicklessStack  # noqa: E402

DEFAULT_STAGE = "dev"


def build(stage: str | None = None, outdir: str | None = None) -> cdk.App:
    app = cdk.App(outdir=outdir)
    stage = stage or app.node.try_get_context("stage") or DEFAULT_STAGE
    settings = load_stage(stage, REPO_ROOT)
    os.environ[PREFIX_ENV] = settings.prefix
    # Packaging creates a boto3 session, which needs a region even though the template uses ${AWS::Region}.
    os.environ.setdefault("AWS_DEFAULT_REGION", os.environ.get("CDK_DEFAULT_REGION", "us-east-1"))
    TicklessStack(
        app,
        settings.stack_name,
        stage=stage,
        prefix=settings.prefix,
        source_dir=REPO_ROOT,
        chalice_stage_config=settings.chalice_stage_config,
        description=f"tickless ({stage}): InfluxDB/Kapacitor APIs on Lambda, DynamoDB and Kinesis",
    )
    return app


if __name__ == "__main__":
    build().synth()
