from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from shared_cases import Case, write_tree

ROOT = Path(__file__).resolve().parents[2]
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
FIXTURES = Path(__file__).parent / "fixtures"


def require_checkov() -> Path:
    if not CHECKOV.exists():
        pytest.skip("checkov tool venv missing: run `make checkov-venv` (make test creates it)")
    return CHECKOV


def _broken_prod(folder: Path) -> None:
    """The real prod template with weaknesses planted: vault purge protection off, cluster min 1 node."""
    from mlplatform import arm, render

    template = arm.to_template(render.render("prod"))
    for resource in arm.iter_resources(template):
        if resource["type"] == "Microsoft.KeyVault/vaults":
            resource["properties"]["enablePurgeProtection"] = False
        if resource["type"] == "Microsoft.MachineLearningServices/workspaces/computes":
            resource["properties"]["properties"]["scaleSettings"]["minNodeCount"] = 1
    arm.write(template, folder / "prod-broken.json")


@pytest.fixture(scope="session")
def policy_fixtures(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Case]]:
    """Every fixture in one folder: fixtures/, a broken prod template, and the shared-rule tree
    (shared/, judged by `mlops validate` too) with its expected verdicts."""
    folder = tmp_path_factory.mktemp("policy-fixtures") / "fixtures"
    shutil.copytree(FIXTURES, folder)
    _broken_prod(folder)
    return folder, write_tree(folder / "shared")


@pytest.fixture(scope="session")
def fixture_results(policy_fixtures: tuple[Path, list[Case]]) -> dict[tuple[str, str], str]:
    """One checkov run over every fixture: (check ID, file:resource) -> PASSED/FAILED."""
    checkov = require_checkov()
    # One folder, one checkov run (several -d folders print one JSON document each).
    folder, _ = policy_fixtures
    proc = subprocess.run(
        [
            str(checkov),
            "-d",
            str(folder),
            "--framework",
            "arm",
            "yaml",
            "--skip-download",
            "--external-checks-dir",
            str(ROOT / "policies" / "checkov"),
            "-o",
            "json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    reports: Any = json.loads(proc.stdout)
    found: dict[tuple[str, str], str] = {}
    for report in reports if isinstance(reports, list) else [reports]:
        for item in report["results"]["passed_checks"] + report["results"]["failed_checks"]:
            where = item["file_path"].lstrip("/")
            if report["check_type"] == "arm":
                where += ":" + item["resource"]
            found[(item["check_id"], where)] = item["check_result"]["result"]
    return found
