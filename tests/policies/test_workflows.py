"""The GitHub workflows parse, run commands that exist, log in by OIDC only and hold no secrets."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
SHA = re.compile(r"^[^@]+@[0-9a-f]{40}$")


def _load(path: Path) -> dict[Any, Any]:
    doc = yaml.safe_load(path.read_text())
    # PyYAML reads the bare key `on` as True.
    doc["on"] = doc.pop(True, doc.get("on"))
    return dict(doc)


def _steps(doc: dict[Any, Any]) -> list[dict[str, Any]]:
    return [step for job in doc["jobs"].values() for step in job.get("steps", [])]


def test_both_workflows_exist() -> None:
    assert {p.name for p in WORKFLOWS} == {"pr.yml", "deploy.yml"}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_is_least_privilege_and_pinned(path: Path) -> None:
    doc = _load(path)
    assert doc["permissions"] == {"contents": "read"}
    for step in _steps(doc):
        uses = step.get("uses")
        if uses:
            assert SHA.match(uses), f"{uses}: pin actions by commit SHA"
    text = path.read_text()
    assert "${{ secrets." not in text, "no secrets: OIDC with client/tenant/subscription IDs from vars"
    assert not re.search(r"(client-secret|password|AccountKey=|creds:)", text, re.I)


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_azure_login_is_oidc(path: Path) -> None:
    doc = _load(path)
    for job in doc["jobs"].values():
        logins = [s for s in job.get("steps", []) if str(s.get("uses", "")).startswith("azure/login@")]
        for login in logins:
            assert set(login["with"]) == {"client-id", "tenant-id", "subscription-id"}
            assert job["permissions"]["id-token"] == "write"


def test_commands_exist() -> None:
    from mlops.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    commands = set(getattr(sub, "choices", {}))
    makefile = (ROOT / "Makefile").read_text()
    for path in WORKFLOWS:
        for step in _steps(_load(path)):
            for line in str(step.get("run", "")).splitlines():
                for used in re.findall(r"\.venv/bin/mlops (\S+)", line):
                    assert used in commands, f"{path.name}: mlops {used}"
                for target in re.findall(r"\bmake (\S+)", line):
                    assert re.search(rf"^{re.escape(target)}:", makefile, re.M), f"{path.name}: make {target}"


def test_deploy_order_and_gates() -> None:
    jobs = _load(ROOT / ".github" / "workflows" / "deploy.yml")["jobs"]
    assert jobs["apps-dev"]["needs"] == "infra-dev"
    assert jobs["infra-prod"]["needs"] == "apps-dev"
    assert jobs["apps-prod"]["needs"] == "infra-prod"
    for name, job in jobs.items():
        env = "prod" if "prod" in name else "dev"
        assert job["environment"] == env
        assert job["concurrency"] == {"group": f"deploy-{env}", "cancel-in-progress": False}


def test_pr_workflow_uploads_sarif_and_comments_the_plan() -> None:
    jobs = _load(ROOT / ".github" / "workflows" / "pr.yml")["jobs"]
    upload = [s for s in jobs["scan"]["steps"] if "upload-sarif" in str(s.get("uses"))]
    assert upload
    assert upload[0]["with"]["sarif_file"] == "build/scan/results.sarif"
    assert jobs["scan"]["permissions"]["security-events"] == "write"
    runs = " ".join(str(s.get("run", "")) for s in jobs["plan"]["steps"])
    assert "--format markdown" in runs
    assert "gh pr comment" in runs
