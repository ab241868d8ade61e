"""`mlops status` says why a deployment failed, where its log is, and where each endpoint is served."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

from gitops.plan.types import Plan
from gitops.sync.status import SyncState, environment_status
from gitops.targets.base import ActualDeployment, ActualEndpoint, ActualState
from gitops.views.status import StatusHuman, StatusJSON

CAUSE = (
    "the inference server exited with code 3 during start-up: ModuleNotFoundError: No module named 'mlflow'"
)
LOG = "/state/logs/shop/green/20261202T000000-1234.log"


def _world(local_uri: str | None) -> tuple[Any, ActualState]:
    desired: Any = SimpleNamespace(env="dev", endpoints={"shop": object()})
    # The azureml target's entity carries Azure's scoring_uri; the local one says it on ActualEndpoint.
    entity = SimpleNamespace(scoring_uri="https://shop.westeurope.inference.ml.azure.com/score")
    shop = ActualEndpoint(name="shop", entity=entity, scoring_uri=local_uri)
    shop.deployments["green"] = ActualDeployment(
        "green", "shop", None, provisioning_state="Failed", message=CAUSE, log_path=LOG
    )
    shop.deployments["blue"] = ActualDeployment("blue", "shop", None)
    undeclared = ActualEndpoint(name="other", entity=entity)
    return desired, ActualState(endpoints={"shop": shop, "other": undeclared})


def _plan() -> Plan:
    return Plan(env="dev", target="local", fingerprint="f", actions=[])


def test_failed_deployment_carries_cause_and_log() -> None:
    desired, actual = _world("http://127.0.0.1:41234/score")
    status = environment_status(desired, actual, _plan(), "local target")
    assert status.state is SyncState.FAILED
    assert status.failed == ["deployment/shop/green"]
    assert status.causes == {"deployment/shop/green": f"{CAUSE} (log: {LOG})"}
    assert status.scoring_uris == {"shop": "http://127.0.0.1:41234/score"}
    assert StatusHuman().render(status) == (
        "dev: failed (local target)\n"
        "  failed: deployment/shop/green\n"
        f"      cause: {CAUSE} (log: {LOG})\n"
        "  endpoint/shop: scoring URI http://127.0.0.1:41234/score\n"
    )
    doc = json.loads(StatusJSON().render(status))
    assert doc["causes"] == status.causes
    assert doc["scoring_uris"] == status.scoring_uris


def test_scoring_uri_from_the_entity_when_the_target_gives_none() -> None:
    desired, actual = _world(None)
    status = environment_status(desired, actual, _plan(), "azureml workspace ws (rg)")
    assert status.scoring_uris == {"shop": "https://shop.westeurope.inference.ml.azure.com/score"}
