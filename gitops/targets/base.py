"""The interface every target (Azure ML workspace, local) implements.

A target knows how to read what is deployed and how to perform one change at a time. It never
decides *what* to change: planning, ordering, ownership and safety rules live in
:mod:`gitops.plan` and :mod:`gitops.apply`, so every target gets them for free.

Entities are azure-ai-ml's own (``OnlineEndpoint``, ``OnlineDeployment``, ``MonitorSchedule``),
as loaded from the environment's YAML. Methods block until the change is done (or failed) and
raise on failure; they must be safe to call again after an interruption (create-or-update).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from gitops.model.vocab import Health
from gitops.rollout.record import RolloutRecord

# Capability names a target may declare; the planner refuses desired state that needs a missing one.
CAP_MIRROR_TRAFFIC = "mirror_traffic"
CAP_MONITORS = "monitors"


@dataclass
class ActualDeployment:
    name: str
    endpoint_name: str
    entity: Any  # OnlineDeployment as read back from the target
    provisioning_state: str = "Succeeded"  # Succeeded | Failed | Creating | Updating | Deleting | Canceled
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def health(self) -> Health:
        return Health.of(self.provisioning_state)


@dataclass
class ActualEndpoint:
    name: str
    entity: Any  # OnlineEndpoint as read back from the target
    traffic: dict[str, int] = field(default_factory=dict)
    mirror_traffic: dict[str, int] = field(default_factory=dict)
    provisioning_state: str = "Succeeded"
    tags: dict[str, str] = field(default_factory=dict)
    deployments: dict[str, ActualDeployment] = field(default_factory=dict)
    # Progress record of the last progressive rollout (gitops.rollout.runner), as the target stores it.
    rollout: RolloutRecord | None = None

    @property
    def health(self) -> Health:
        return Health.of(self.provisioning_state)


@dataclass
class ActualMonitor:
    name: str
    entity: Any  # MonitorSchedule
    enabled: bool = True
    tags: dict[str, str] = field(default_factory=dict)
    endpoint_name: str | None = None
    deployment_name: str | None = None


@dataclass
class ActualState:
    endpoints: dict[str, ActualEndpoint] = field(default_factory=dict)
    monitors: dict[str, ActualMonitor] = field(default_factory=dict)


class DeploymentFailed(Exception):
    """The deployment did not become healthy; the message says why (from the service)."""


class OperationTimeout(Exception):
    """A long-running operation did not finish in time; it may still complete on the service side."""


@runtime_checkable
class Target(Protocol):
    """One environment's backend. Constructed by :func:`gitops.targets.create_target`."""

    kind: str
    capabilities: frozenset[str]

    def describe(self) -> str:
        """Human-readable location, e.g. ``azureml workspace ws1 (rg1)``."""
        ...

    def read_state(self) -> ActualState:
        """Everything deployed: all endpoints (with their deployments) and all monitors.

        Must use as few calls as the backend allows (Azure: one list of endpoints, one list of
        deployments per endpoint, one list of schedules). Traffic maps: lower-cased keys,
        zero entries removed."""
        ...

    def create_or_update_endpoint(self, endpoint: Any) -> None:
        """Create or update the endpoint. Its ``traffic``/``mirror_traffic`` are sent as given:
        the caller sets them to the values the endpoint must keep during this step."""
        ...

    def create_or_update_deployment(self, deployment: Any, timeout_s: float) -> None:
        """Create or update and wait until healthy; raise DeploymentFailed / OperationTimeout.
        Must not change the endpoint's traffic."""
        ...

    def set_traffic(
        self, endpoint_name: str, traffic: dict[str, int], mirror_traffic: dict[str, int]
    ) -> None:
        """Replace the endpoint's live and mirror traffic maps (zero entries may be omitted)."""
        ...

    def delete_deployment(self, endpoint_name: str, name: str) -> None: ...

    def delete_endpoint(self, name: str) -> None: ...

    def create_or_update_monitor(self, monitor: Any) -> None: ...

    def delete_monitor(self, name: str) -> None: ...

    def lock(self, env: str) -> AbstractContextManager[None]:
        """Hold the environment's apply lock; raise gitops.errors.LockHeldError if another apply holds it."""
        ...


@runtime_checkable
class RolloutHost(Protocol):
    """What a target adds so that gitops.rollout can run canaries on it."""

    def write_rollout(self, endpoint_name: str, record: dict[str, Any] | None) -> None:
        """Store the rollout progress record on the endpoint (read back as ActualEndpoint.rollout)."""
        ...

    def smoke_request(self, endpoint_name: str, deployment: str, body: bytes) -> tuple[int, bytes]:
        """POST the body to the endpoint, routed to ``deployment`` by the azureml-model-deployment header."""
        ...

    def metrics_provider(self, provider: str | None) -> Any:
        """A gitops.rollout.providers.MetricsProvider for this target (``provider`` from the strategy)."""
        ...


def iter_deployments(state: ActualState) -> Iterator[ActualDeployment]:
    for ep in state.endpoints.values():
        yield from ep.deployments.values()
