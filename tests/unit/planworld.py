"""A small environment on disk and a converged in-memory target, for planner tests.

``BASE`` is one endpoint (``shop``: blue 100 %, green 0 %) with a monitor on blue. A test edits
files of a copy (:func:`write_env`) and/or the live state, then plans. The SDK loads the YAML
exactly as ``mlops plan`` does (:func:`gitops.desired.load_desired`).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from fake_target import FakeTarget

from gitops.desired import DesiredState, load_desired
from gitops.model.tags import TAG_SPEC_HASH
from gitops.plan import ownership_tags

# A managed deployment of endpoint {endpoint}, collecting inputs and outputs (shared with test_executor).
DEPLOYMENT_YAML = """name: {name}
endpoint_name: {endpoint}
model: azureml:{endpoint}-model:{version}
code_configuration:
  code: azureml:{endpoint}-score:1
  scoring_script: score.py
environment: azureml:sklearn-inference:12
instance_type: Standard_DS3_v2
instance_count: 1
data_collector:
  collections:
    model_inputs:
      enabled: "true"
    model_outputs:
      enabled: "true"
"""

BASE: dict[str, str] = {
    "environment.yaml": (
        "target: azureml\nsubscription_id: 00000000-0000-0000-0000-000000000000\n"
        "resource_group: rg\nworkspace: ws-shop\nprune: true\ntags:\n  team: shop\n"
    ),
    "endpoints/shop/endpoint.yml": "name: shop\nauth_mode: key\ndescription: shop\ntraffic:\n  blue: 100\n",
    "endpoints/shop/deployments/blue.yml": DEPLOYMENT_YAML.format(name="blue", endpoint="shop", version=1),
    "endpoints/shop/deployments/green.yml": DEPLOYMENT_YAML.format(name="green", endpoint="shop", version=2),
    "monitors/shop-blue.yml": (
        "name: shop-blue\ntrigger:\n  type: recurrence\n  frequency: day\n  interval: 1\n"
        "create_monitor:\n  compute:\n    instance_type: standard_e4s_v3\n    runtime_version: '3.4'\n"
        "  monitoring_target:\n    ml_task: classification\n    endpoint_deployment_id: azureml:shop:blue\n"
    ),
}

ROLLOUT_YML = (
    "steps:\n  - {mirror: 10, duration: 15m}\n  - {weight: 10, duration: 30m}\n"
    "analysis:\n  interval: 5m\n  min_requests: 10\n  error_ratio: {max: 0.01}\n"
)


def deployment_yml(name: str, model_version: int) -> str:
    return DEPLOYMENT_YAML.format(name=name, endpoint="shop", version=model_version)


def set_line(rel: str, key: str, value: str) -> str:
    """The BASE file ``rel`` with the line of ``key`` (at any indent) set to ``value``."""
    lines = BASE[rel].splitlines(keepends=True)
    hits = [i for i, ln in enumerate(lines) if ln.strip().startswith(f"{key}:")]
    assert len(hits) == 1, f"{rel}: {key!r} is not on exactly one line"
    line = lines[hits[0]]
    lines[hits[0]] = f"{line[: len(line) - len(line.lstrip())]}{key}: {value}\n"
    return "".join(lines)


def write_env(parent: Path, edits: dict[str, str | None] | None = None) -> Path:
    """BASE with ``edits`` applied (None deletes a file), as environment ``dev`` under ``parent``."""
    root = parent / "dev"
    files: dict[str, str | None] = {**BASE, **(edits or {})}
    for rel, text in files.items():
        if text is None:
            continue
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def load(root: Path) -> DesiredState:
    return load_desired(root)


def converged(desired: DesiredState) -> FakeTarget:
    """A target holding exactly what ``desired`` declares, tagged as a previous apply tags it."""
    target = FakeTarget()
    owner = ownership_tags(desired)
    for ep in desired.endpoints.values():
        entity = copy.deepcopy(ep.entity)
        entity.tags = {**(entity.tags or {}), **owner}
        target.seed_endpoint(entity, ep.traffic or {})
        target.endpoints[ep.name].mirror = {k: v for k, v in (ep.mirror_traffic or {}).items() if v}
        for dep in ep.deployments.values():
            dentity = copy.deepcopy(dep.entity)
            dentity.tags = {**(dentity.tags or {}), **owner, TAG_SPEC_HASH: dep.spec_hash}
            target.seed_deployment(dentity)
    for mon in desired.monitors.values():
        mentity = copy.deepcopy(mon.entity)
        mentity.tags = {**(mentity.tags or {}), **owner, TAG_SPEC_HASH: mon.spec_hash}
        target.monitors[mon.name] = (mentity, True)
    return target


def clone(entity: Any, **changes: Any) -> Any:
    out = copy.deepcopy(entity)
    for k, v in changes.items():
        setattr(out, k, v)
    return out
