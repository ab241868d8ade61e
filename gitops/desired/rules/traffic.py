"""An endpoint's traffic split, checked with the shared rules of :mod:`gitops.model.traffic` (the
local target enforces the same ones), plus Azure's cap on deployments per endpoint.

``traffic`` / ``mirror_traffic`` absent from endpoint.yml means git does not manage that map (the
official examples never declare it: it is set later with ``--all-traffic``); present, it is
checked as written, before the SDK's marshmallow schema would truncate ``87.5`` to ``87``."""

from __future__ import annotations

from typing import Any

from gitops.desired.types import DesiredEndpoint
from gitops.errors import Diagnostic
from gitops.model.traffic import LIVE_KEY, MIRROR_KEY, TrafficRules, check_traffic, is_share
from gitops.yamlmarks import YamlDoc

MAX_DEPLOYMENTS_PER_ENDPOINT = 20


def declared_map(doc: YamlDoc, key: str) -> dict[str, int] | None:
    """``traffic`` or ``mirror_traffic`` as git declares it; None when the key is absent (or null):
    not managed. Shares that are not integers are left out here and reported by
    :func:`traffic_split`."""
    data = doc.data if isinstance(doc.data, dict) else {}
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        return {}  # the SDK's schema check reports the wrong type
    return {str(k): v for k, v in value.items() if is_share(v)}


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


def _raw(ep: DesiredEndpoint, key: str) -> dict[Any, Any] | None:
    data = ep.doc.data if isinstance(ep.doc.data, dict) else {}
    value = data.get(key)
    if isinstance(value, dict):
        return value
    # Not from a file (tests, callers building the endpoint): the typed map.
    typed = ep.traffic if key == LIVE_KEY else ep.mirror_traffic
    return None if value is None and typed is None else dict(typed or {})


def traffic_split(ep: DesiredEndpoint) -> list[Diagnostic]:
    live, mirror = _raw(ep, LIVE_KEY), _raw(ep, MIRROR_KEY)
    if live is None and mirror is None:
        return []
    rules = TrafficRules(declared_in=f"under endpoints/{ep.name}/deployments/")
    problems = check_traffic(live or {}, mirror or {}, list(ep.deployments), rules)
    if live is None:
        # Only the mirror is declared: the live split is the endpoint's own, checked by Azure.
        problems = [p for p in problems if p.key == MIRROR_KEY]
    return [
        ep.doc.diag(p.message, p.key, *([str(p.deployment)] if p.deployment is not None else []))
        for p in problems
    ]


def endpoint_traffic(ep: DesiredEndpoint) -> list[Diagnostic]:
    return deployment_count(ep) + traffic_split(ep)
