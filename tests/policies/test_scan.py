"""`mlops scan` end to end on a copy of the repository with findings planted on purpose.

One scan (both stacks rendered, checkov over ARM, environments, workflows and secrets) proves both
halves: exactly the planted findings fail, and everything else, suppressions included, passes.
"""

from __future__ import annotations

import json
import random
import shutil
import string
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def require_checkov() -> Path:
    checkov = ROOT / ".venv-checkov" / "bin" / "checkov"
    if not checkov.exists():
        pytest.skip("checkov tool venv missing: run `make checkov-venv` (make test creates it)")
    return checkov


def _copy(dest: Path) -> None:
    for name in ("Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml"):
        shutil.copy(ROOT / name, dest / name)
    for folder in ("environments", "policies", ".github"):
        shutil.copytree(ROOT / folder, dest / folder)


@pytest.mark.slow  # renders both stacks and runs checkov once over everything (about 15 s)
def test_scan_fails_exactly_on_planted_findings(tmp_path: Path) -> None:
    checkov = require_checkov()
    repo = tmp_path / "repo"
    repo.mkdir()
    _copy(repo)
    prod = repo / "Pulumi.prod.yaml"
    prod.write_text(prod.read_text().replace("sku: Standard_GZRS", "sku: Standard_LRS"))
    endpoint = repo / "environments" / "prod" / "endpoints" / "credit-default" / "endpoint.yml"
    endpoint.write_text(
        endpoint.read_text().replace("public_network_access: disabled", "public_network_access: enabled")
    )
    # Built at run time so this file itself holds no token-shaped string for the repository's scan.
    token = "ghp_" + "".join(random.choices(string.ascii_letters + string.digits, k=36))
    (repo / "environments" / "prod" / "leak.yml").write_text(f"env:\n  GITHUB_TOKEN: {token}\n")
    out = tmp_path / "scan"

    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mlops.cli",
            "scan",
            "--root",
            str(repo),
            "--out",
            str(out),
            "--checkov",
            str(checkov),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    summary = proc.stdout
    assert proc.returncode == 1, summary + proc.stderr[-3000:]
    failed = {
        line.split()[0]
        for line in summary.split("FAILED checks:")[1].splitlines()[1:]
        if line.startswith("  ")
    }
    assert {"CKV_AZURE_206", "CKV_MLP_101"} <= failed, summary
    assert failed - {"CKV_AZURE_206", "CKV_MLP_101"} <= {c for c in failed if c.startswith("CKV_SECRET")}, (
        summary
    )
    assert any(c.startswith("CKV_SECRET") for c in failed), "the planted token was not found"
    assert "stmlopsprodp01" in summary
    assert "dlsmlopsprodp01" in summary
    assert "stmlopsdevd01" not in summary.split("FAILED")[1]
    assert "RESULT: FAIL" in summary
    # Suppressions are listed with reasons, graph-check ones included (applied by mlops scan itself).
    assert "CKV2_AZURE_49 Microsoft.MachineLearningServices/workspaces.mlw-mlops-dev" in summary
    assert "expires 2027-" in summary

    sarif = json.loads((out / "results.sarif").read_text())
    results = [r for run in sarif["runs"] for r in run["results"]]
    open_rules = {r["ruleId"] for r in results if not r.get("suppressions")}
    assert {"CKV_AZURE_206", "CKV_MLP_101"} <= open_rules
    assert "CKV2_AZURE_49" not in open_rules
    suites = ET.parse(out / "results.xml").getroot()
    assert suites.tag == "testsuites"
    assert int(sum(int(s.get("failures", 0)) for s in suites)) >= 3
    assert (out / "summary.txt").read_text().strip() == summary.strip()
