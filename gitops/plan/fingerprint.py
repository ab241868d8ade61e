"""The fingerprint of what a plan was built from: the compared views of both sides (git and the
target), hashed. ``apply --plan`` recomputes it and refuses a plan file that went stale.

It covers every resource the plan looked at, including the ones it decided to leave alone, and
the progress record of a rollout -- so a plan made before a rollout moved on is stale too. Live
endpoints and monitors that are not this environment's are left out: someone else changing them
does not make this environment's plan stale.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from gitops.diff.normalize import deployment_view, endpoint_view, monitor_view
from gitops.model.address import ResourceAddress
from gitops.model.tags import TAG_SPEC_HASH
from gitops.plan.comparable import desired_deployment_view, desired_endpoint_view, desired_monitor_view
from gitops.plan.pairing import EndpointPair, Pairing
from gitops.targets.base import ActualDeployment


def _deployment(dep: ActualDeployment) -> list[Any]:
    return [deployment_view(dep.entity), dep.tags.get(TAG_SPEC_HASH), dep.provisioning_state]


def _endpoint_views(
    pair: EndpointPair, owner_tags: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    want = pair.want_traffic
    desired: dict[str, Any] = {
        str(pair.address): [desired_endpoint_view(pair.desired, owner_tags), want.live, want.mirror]
    }
    actual: dict[str, Any] = {}
    for dep in pair.deployments:
        desired[str(dep.address)] = [desired_deployment_view(dep.desired, owner_tags), dep.desired.spec_hash]
        if dep.actual is not None:
            actual[str(dep.address)] = _deployment(dep.actual)
    for live in pair.live_only_deployments:
        actual[str(ResourceAddress.deployment(pair.name, live.actual.name))] = _deployment(live.actual)
    ep = pair.actual
    if ep is not None:
        view = endpoint_view(ep.entity)
        actual[str(pair.address)] = [view, ep.traffic, ep.mirror_traffic, ep.provisioning_state]
        if ep.rollout is not None:
            r = ep.rollout
            actual[f"rollout/{pair.name}"] = {"id": r.id, "status": r.status.value, "step": r.step}
    return desired, actual


def views(pairing: Pairing, owner_tags: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(desired, actual) views by resource address."""
    desired: dict[str, Any] = {}
    actual: dict[str, Any] = {}
    for pair in pairing.endpoints:
        d, a = _endpoint_views(pair, owner_tags)
        desired.update(d)
        actual.update(a)
    for live_ep in pairing.live_only_endpoints:
        e = live_ep.actual
        if live_ep.owned:
            actual[str(ResourceAddress.endpoint_(e.name))] = [
                endpoint_view(e.entity),
                e.traffic,
                e.mirror_traffic,
            ]
    for mp in pairing.monitors:
        desired[str(mp.address)] = [desired_monitor_view(mp.desired, owner_tags), mp.desired.spec_hash]
        if mp.actual is not None:
            actual[str(mp.address)] = _monitor(mp.actual)
    for live_mon in pairing.live_only_monitors:
        if live_mon.owned:
            actual[str(ResourceAddress.monitor(live_mon.actual.name))] = _monitor(live_mon.actual)
    return desired, actual


def _monitor(mon: Any) -> list[Any]:
    return [monitor_view(mon.entity), mon.tags.get(TAG_SPEC_HASH), mon.enabled]


def fingerprint(pairing: Pairing, owner_tags: Mapping[str, str]) -> str:
    desired, actual = views(pairing, owner_tags)
    blob = json.dumps({"desired": desired, "actual": actual}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()
