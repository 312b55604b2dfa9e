"""Where the CDK app finds the Chalice project and the per-stage settings it shares with it.

The stage settings are read from `.chalice/config.json` rather than repeated here, so `chalice local`,
the moto-backed local stack and the deployed stack all agree on `TICKLESS_PREFIX`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
PREFIX_ENV = "TICKLESS_PREFIX"


@dataclass(frozen=True)
class StageSettings:
    stage: str
    stack_name: str
    prefix: str
    # The stage's block of `.chalice/config.json`, handed to the Chalice construct as its stage config.
    chalice_stage_config: dict[str, Any]


def stack_name(stage: str) -> str:
    return f"tickless-{stage}"


def load_stage(stage: str, source_dir: Path = REPO_ROOT) -> StageSettings:
    config = json.loads((source_dir / ".chalice" / "config.json").read_text())
    stages = config.get("stages", {})
    if stage not in stages:
        raise ValueError(f"stage {stage!r} is not in .chalice/config.json (known: {', '.join(stages)})")
    stage_config = json.loads(json.dumps(stages[stage]))  # a private deep copy
    prefix = stage_config.get("environment_variables", {}).get(PREFIX_ENV)
    expected = f"{stack_name(stage)}-"
    if prefix != expected:
        # Resource names, the stack name and the app's view of them must line up; refuse to guess.
        raise ValueError(
            f".chalice/config.json stage {stage!r} sets {PREFIX_ENV}={prefix!r}, expected {expected!r}"
        )
    return StageSettings(
        stage=stage, stack_name=stack_name(stage), prefix=prefix, chalice_stage_config=stage_config
    )
