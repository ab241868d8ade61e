"""Pairing: match what git declares with what the target has, before any decision is made.

Azure lower-cases names in some responses, so endpoints and deployments are matched
case-insensitively; monitors by exact name (schedule names are case-preserving). What exists only
in the target is kept apart, in the target's order, marked owned (created by this environment,
per :func:`gitops.model.tags.is_owned`) or not. The planners then read one pair at a time
(gitops-engine's ``sync`` pairs target and live objects the same way).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from gitops.model.address import ResourceAddress
from gitops.model.tags import is_owned
from gitops.model.traffic import Traffic, wanted
from gitops.targets.base import ActualDeployment, ActualEndpoint, ActualMonitor, ActualState

if TYPE_CHECKING:
    from gitops.desired import DesiredDeployment, DesiredEndpoint, DesiredMonitor, DesiredState

T = TypeVar("T", ActualEndpoint, ActualDeployment, ActualMonitor)


@dataclass(frozen=True)
class LiveOnly(Generic[T]):
    """A resource the target has and git does not declare."""

    actual: T
    owned: bool


@dataclass(frozen=True)
class DeploymentPair:
    endpoint: str  # the endpoint's name as git spells it
    desired: DesiredDeployment
    actual: ActualDeployment | None

    @property
    def name(self) -> str:
        return self.desired.name

    @property
    def address(self) -> ResourceAddress:
        return ResourceAddress.deployment(self.endpoint, self.desired.name)


@dataclass(frozen=True)
class EndpointPair:
    desired: DesiredEndpoint
    actual: ActualEndpoint | None
    deployments: tuple[DeploymentPair, ...]  # in git's order
    live_only_deployments: tuple[LiveOnly[ActualDeployment], ...]  # in the target's order

    @property
    def name(self) -> str:
        return self.desired.name

    @property
    def address(self) -> ResourceAddress:
        return ResourceAddress.endpoint_(self.desired.name)

    @property
    def want_traffic(self) -> Traffic:
        """Git's split; a map git does not declare is what the endpoint has (not managed)."""
        have = self.have_traffic
        return Traffic(
            wanted(self.desired.traffic, have.live), wanted(self.desired.mirror_traffic, have.mirror)
        )

    @property
    def have_traffic(self) -> Traffic:
        """What the endpoint serves now; nothing when it does not exist yet."""
        if self.actual is None:
            return Traffic()
        return Traffic.of(self.actual.traffic, self.actual.mirror_traffic)


@dataclass(frozen=True)
class MonitorPair:
    desired: DesiredMonitor
    actual: ActualMonitor | None

    @property
    def name(self) -> str:
        return self.desired.name

    @property
    def address(self) -> ResourceAddress:
        return ResourceAddress.monitor(self.desired.name)


@dataclass(frozen=True)
class Pairing:
    env: str
    endpoints: tuple[EndpointPair, ...]
    monitors: tuple[MonitorPair, ...]
    live_only_endpoints: tuple[LiveOnly[ActualEndpoint], ...]
    live_only_monitors: tuple[LiveOnly[ActualMonitor], ...]
    owned_live_endpoints: int  # endpoints of this environment in the target, declared in git or not


def _by_lower(items: Mapping[str, T]) -> dict[str, T]:
    return {k.lower(): v for k, v in items.items()}


def _pair_endpoint(env: str, desired: DesiredEndpoint, actual: ActualEndpoint | None) -> EndpointPair:
    live = _by_lower(actual.deployments) if actual is not None else {}
    declared = {d.lower() for d in desired.deployments}
    return EndpointPair(
        desired=desired,
        actual=actual,
        deployments=tuple(
            DeploymentPair(desired.name, d, live.get(name.lower())) for name, d in desired.deployments.items()
        ),
        live_only_deployments=tuple(
            LiveOnly(a, is_owned(a.tags, env))
            for name, a in (actual.deployments.items() if actual is not None else ())
            if name.lower() not in declared
        ),
    )


def pair(desired: DesiredState, actual: ActualState) -> Pairing:
    env = desired.env
    live_endpoints = _by_lower(actual.endpoints)
    declared = {n.lower() for n in desired.endpoints}
    return Pairing(
        env=env,
        endpoints=tuple(
            _pair_endpoint(env, ep, live_endpoints.get(name.lower()))
            for name, ep in desired.endpoints.items()
        ),
        monitors=tuple(MonitorPair(m, actual.monitors.get(name)) for name, m in desired.monitors.items()),
        live_only_endpoints=tuple(
            LiveOnly(a, is_owned(a.tags, env))
            for a in actual.endpoints.values()
            if a.name.lower() not in declared
        ),
        live_only_monitors=tuple(
            LiveOnly(a, is_owned(a.tags, env))
            for name, a in actual.monitors.items()
            if name not in desired.monitors
        ),
        owned_live_endpoints=sum(1 for a in actual.endpoints.values() if is_owned(a.tags, env)),
    )
