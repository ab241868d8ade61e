"""An in-memory :class:`gitops.targets.base.Target` for planner and executor unit tests.

It keeps the entities it is given (deep copies), answers ``read_state`` from them, records every
call in order, and fails on request: a deployment named in ``fail_deployments`` ends Failed, a
method named in ``raise_on`` raises. It is a test fixture only; the product's targets are
``gitops.targets.azureml`` and ``gitops.targets.local``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from gitops.model.tags import TAG_SPEC_HASH
from gitops.model.traffic import normalise_map
from gitops.targets.base import (
    CAP_ASSETS,
    CAP_MIRROR_TRAFFIC,
    CAP_MONITORS,
    ActualAsset,
    ActualDeployment,
    ActualEndpoint,
    ActualMonitor,
    ActualState,
    DeploymentFailed,
)


@dataclass
class _Endpoint:
    entity: Any
    traffic: dict[str, int] = field(default_factory=dict)
    mirror: dict[str, int] = field(default_factory=dict)
    deployments: dict[str, tuple[Any, str]] = field(default_factory=dict)  # name -> (entity, state)
    rollout: Any = None


class FakeTarget:
    kind = "fake"

    def __init__(
        self, capabilities: frozenset[str] = frozenset({CAP_MIRROR_TRAFFIC, CAP_MONITORS, CAP_ASSETS})
    ) -> None:
        self.capabilities = capabilities
        self.assets: dict[str, Any] = {}  # "kind/name:version" -> registered entity
        self.endpoints: dict[str, _Endpoint] = {}
        self.monitors: dict[str, tuple[Any, bool]] = {}
        self.calls: list[tuple[str, ...]] = []
        self.fail_deployments: set[str] = set()
        self.raise_on: dict[str, Exception] = {}
        self.smoke_answer: tuple[int, bytes] = (200, b'{"predictions": [1]}')
        self.metrics: Any = None  # a gitops.rollout.providers.MetricsProvider for rollouts

    # ------------------------------------------------------------------ Target
    def describe(self) -> str:
        return "in-memory fake target"

    @contextmanager
    def lock(self, env: str) -> Iterator[None]:
        yield

    def _call(self, *call: str) -> None:
        self.calls.append(call)
        exc = self.raise_on.get(call[0])
        if exc is not None:
            raise exc

    def read_state(self) -> ActualState:
        state = ActualState()
        for name, ep in self.endpoints.items():
            actual = ActualEndpoint(
                name=name,
                entity=copy.deepcopy(ep.entity),
                traffic=dict(ep.traffic),
                mirror_traffic=dict(ep.mirror),
                tags=dict(ep.entity.tags or {}),
                rollout=ep.rollout,
            )
            for dname, (entity, st) in ep.deployments.items():
                actual.deployments[dname] = ActualDeployment(
                    name=dname,
                    endpoint_name=name,
                    entity=copy.deepcopy(entity),
                    provisioning_state=st,
                    tags=dict(entity.tags or {}),
                )
            state.endpoints[name] = actual
        for name, (entity, enabled) in self.monitors.items():
            ref = getattr(
                getattr(entity.create_monitor, "monitoring_target", None), "endpoint_deployment_id", ""
            )
            ep_name, _, dep_name = str(ref or "").removeprefix("azureml:").partition(":")
            state.monitors[name] = ActualMonitor(
                name=name,
                entity=copy.deepcopy(entity),
                enabled=enabled,
                tags=dict(entity.tags or {}),
                endpoint_name=ep_name or None,
                deployment_name=dep_name or None,
            )
        return state

    def create_or_update_endpoint(self, endpoint: Any) -> None:
        self._call("create_or_update_endpoint", endpoint.name)
        ep = self.endpoints.get(endpoint.name)
        if ep is None:
            ep = self.endpoints[endpoint.name] = _Endpoint(entity=None)
        ep.entity = copy.deepcopy(endpoint)
        ep.traffic = normalise_map(endpoint.traffic)
        ep.mirror = normalise_map(endpoint.mirror_traffic)

    def create_or_update_deployment(self, deployment: Any, timeout_s: float) -> None:
        self._call("create_or_update_deployment", deployment.endpoint_name, deployment.name)
        ep = self.endpoints[deployment.endpoint_name]
        failed = deployment.name in self.fail_deployments
        ep.deployments[deployment.name] = (copy.deepcopy(deployment), "Failed" if failed else "Succeeded")
        if failed:
            raise DeploymentFailed(
                f"deployment {deployment.endpoint_name}/{deployment.name} ended in state Failed"
            )

    def set_traffic(
        self, endpoint_name: str, traffic: dict[str, int], mirror_traffic: dict[str, int]
    ) -> None:
        self._call(
            "set_traffic", endpoint_name, repr(sorted(traffic.items())), repr(sorted(mirror_traffic.items()))
        )
        ep = self.endpoints[endpoint_name]
        ep.traffic, ep.mirror = normalise_map(traffic), normalise_map(mirror_traffic)

    def delete_deployment(self, endpoint_name: str, name: str) -> None:
        self._call("delete_deployment", endpoint_name, name)
        self.endpoints[endpoint_name].deployments.pop(name, None)

    def delete_endpoint(self, name: str) -> None:
        self._call("delete_endpoint", name)
        self.endpoints.pop(name, None)

    def create_or_update_monitor(self, monitor: Any) -> None:
        self._call("create_or_update_monitor", monitor.name)
        self.monitors[monitor.name] = (copy.deepcopy(monitor), True)

    def delete_monitor(self, name: str) -> None:
        self._call("delete_monitor", name)
        self.monitors.pop(name, None)

    # ------------------------------------------------------------------ assets
    def read_assets(self, wanted: list[tuple[str, str, str]]) -> dict[str, ActualAsset]:
        self._call("read_assets", *sorted(f"{k}/{n}:{v}" for k, n, v in wanted))
        out = {}
        for kind, name, version in wanted:
            entity = self.assets.get(f"{kind}/{name}:{version}")
            if entity is not None:
                tag = (entity.tags or {}).get(TAG_SPEC_HASH)
                out[f"{kind}/{name}:{version}"] = ActualAsset(kind, name, version, tag, copy.deepcopy(entity))
        return out

    def register_asset(self, kind: str, entity: Any) -> None:
        self._call("register_asset", kind, f"{entity.name}:{entity.version}")
        self.assets[f"{kind}/{entity.name}:{entity.version}"] = copy.deepcopy(entity)

    # ------------------------------------------------------------------ rollouts
    def write_rollout(self, endpoint_name: str, record: Any) -> None:
        self._call("write_rollout", endpoint_name)
        self.endpoints[endpoint_name].rollout = record

    def smoke_request(self, endpoint_name: str, deployment: str, body: bytes) -> tuple[int, bytes]:
        self._call("smoke_request", endpoint_name, deployment)
        return self.smoke_answer

    def metrics_provider(self, provider: str | None) -> Any:
        return self.metrics

    # ------------------------------------------------------------------ test set-up
    def seed_endpoint(self, entity: Any, traffic: dict[str, int] | None = None) -> None:
        self.endpoints[entity.name] = _Endpoint(entity=copy.deepcopy(entity), traffic=normalise_map(traffic))

    def seed_deployment(self, entity: Any, state: str = "Succeeded") -> None:
        self.endpoints[entity.endpoint_name].deployments[entity.name] = (copy.deepcopy(entity), state)
