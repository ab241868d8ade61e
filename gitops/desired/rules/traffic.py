"""An endpoint's traffic split, checked with the shared rules of :mod:`gitops.model.traffic` (the
local target enforces the same ones), plus Azure's cap on deployments per endpoint."""

from __future__ import annotations

from gitops.desired.types import DesiredEndpoint
from gitops.errors import Diagnostic
from gitops.model.traffic import TrafficRules, check_traffic

MAX_DEPLOYMENTS_PER_ENDPOINT = 20


def deployment_count(ep: DesiredEndpoint) -> list[Diagnostic]:
    if len(ep.deployments) > MAX_DEPLOYMENTS_PER_ENDPOINT:
        return [
            ep.doc.diag(
                f"endpoint {ep.name!r} declares {len(ep.deployments)} deployments; Azure allows at most "
                f"{MAX_DEPLOYMENTS_PER_ENDPOINT} per endpoint",
                "name",
            )
        ]
    return []


def traffic_split(ep: DesiredEndpoint) -> list[Diagnostic]:
    rules = TrafficRules(declared_in=f"under endpoints/{ep.name}/deployments/")
    problems = check_traffic(ep.traffic, ep.mirror_traffic, list(ep.deployments), rules)
    return [
        ep.doc.diag(p.message, p.key, *([p.deployment] if p.deployment is not None else [])) for p in problems
    ]


def endpoint_traffic(ep: DesiredEndpoint) -> list[Diagnostic]:
    return deployment_count(ep) + traffic_split(ep)
