"""The layout by role (docs/ARCHITECTURE.md) holds at run time, not only in import-linter's static graph:
every domain module imports in a fresh interpreter without loading AWS, Chalice or Powertools, and the
root of chalicelib holds only packages, the composition root and the declarations."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import chalicelib

DOMAIN = (
    "kit",
    "lineprotocol",
    "ingest",
    "series",
    "tenancy",
    "influxql",
    "flux",
    "tick",
    "alert",
    "overrides",
    "proxy",
    "stacktach",
    "kapacitor",
    "scheduler",
)
WIRING = ("boto3", "botocore", "pynamodb", "chalice", "aws_lambda_powertools")
ROOT = Path(chalicelib.__file__).parent

_PROBE = """
import importlib, json, pkgutil, sys
import chalicelib
for name in sys.argv[1:]:
    module = importlib.import_module(f"chalicelib.{name}")
    for info in pkgutil.walk_packages(getattr(module, "__path__", []), f"chalicelib.{name}."):
        importlib.import_module(info.name)
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def test_domain_packages_load_no_aws_chalice_or_powertools():
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, *DOMAIN], capture_output=True, text=True, check=True, cwd=ROOT.parent
    )
    loaded = set(json.loads(result.stdout))
    assert "chalicelib" in loaded
    assert loaded.isdisjoint(WIRING), sorted(loaded & set(WIRING))


def test_the_probe_sees_wiring_when_it_is_loaded():
    """The probe above can fail: importing the composition root does load the AWS libraries."""
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, "compose"], capture_output=True, text=True, check=True, cwd=ROOT.parent
    )
    assert {"boto3", "pynamodb"} <= set(json.loads(result.stdout))


def test_chalicelib_root_holds_only_packages_compose_and_declarations():
    modules = {info.name for info in pkgutil.iter_modules([str(ROOT)]) if not info.ispkg}
    assert modules == {"compose", "declarations"}
    packages = {info.name for info in pkgutil.iter_modules([str(ROOT)]) if info.ispkg}
    assert set(DOMAIN) | {"api", "events", "adapters"} <= packages
