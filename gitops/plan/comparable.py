"""The compared views of desired resources: :mod:`gitops.diff.normalize`'s view of the YAML
entity, with the ownership tags every created resource carries (so an untagged live resource
differs, and is adopted)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from gitops.diff.normalize import deployment_view, endpoint_view, monitor_view
from gitops.plan.types import FieldDiff

if TYPE_CHECKING:
    from gitops.desired import DesiredDeployment, DesiredEndpoint, DesiredMonitor


def _tagged(view: dict[str, Any], owner_tags: Mapping[str, str]) -> dict[str, Any]:
    view["tags"] = {**view["tags"], **owner_tags}
    return view


def desired_endpoint_view(ep: DesiredEndpoint, owner_tags: Mapping[str, str]) -> dict[str, Any]:
    return _tagged(endpoint_view(ep.entity), owner_tags)


def desired_deployment_view(dep: DesiredDeployment, owner_tags: Mapping[str, str]) -> dict[str, Any]:
    return _tagged(deployment_view(dep.entity), owner_tags)


def desired_monitor_view(mon: DesiredMonitor, owner_tags: Mapping[str, str]) -> dict[str, Any]:
    return _tagged(monitor_view(mon.entity), owner_tags)


def field_diffs(changes: list[tuple[str, Any, Any]]) -> list[FieldDiff]:
    """:func:`gitops.diff.normalize.diff_views` triples (field, actual, desired) as FieldDiffs."""
    return [FieldDiff(f, before, after) for f, before, after in changes]
