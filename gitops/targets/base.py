"""The interface every target (Azure ML workspace, local) implements.

A target knows how to read what is deployed and how to perform one change at a time. It never
decides *what* to change: planning, ordering, ownership and safety rules live in
:mod:`gitops.plan` and :mod:`gitops.sync`, so every target gets them for free.

Entities are azure-ai-ml's own (``OnlineEndpoint``, ``OnlineDeployment``, ``MonitorSchedule``),
as loaded from the environment's YAML. Methods block until the change is done (or failed) and
raise on failure; they must be safe to call again after an interruption (create-or-update).

Beyond :class:`Target`, a target may implement small optional protocols (rollouts, metrics,
collected data). :class:`TargetHandle` finds out which, once, when the target is created, so the
rest of the code asks the handle instead of probing the target.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from gitops.errors import GitopsError
from gitops.model.vocab import Health
from gitops.rollout.record import RolloutRecord

if TYPE_CHECKING:
    from gitops.rollout.providers import MetricsProvider

# Capability names a target may declare; the planner refuses desired state that needs a missing one.
CAP_MIRROR_TRAFFIC = "mirror_traffic"
CAP_MONITORS = "monitors"
CAP_ASSETS = "assets"  # registers model.yml / environment.yml assets (AssetRegistry)
# What a deployment may ask of the compute (gitops.plan.planners.capabilities says what lacks them):
CAP_GENERATED_SCORING = "generated_scoring"  # builds the scoring server of a no-code MLflow deployment
CAP_CUSTOM_CONTAINER = "custom_container"  # runs a deployment's own serving container (inference_config)
CAP_GPU = "gpu"  # GPU instance types


@dataclass
class ActualDeployment:
    name: str
    endpoint_name: str
    entity: Any  # OnlineDeployment as read back from the target
    provisioning_state: str = "Succeeded"  # Succeeded | Failed | Creating | Updating | Deleting | Canceled
    tags: dict[str, str] = field(default_factory=dict)
    # Why it failed, in one line, and where its full log is, when the target knows (`mlops status`).
    message: str = ""
    log_path: str | None = None

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
    # Where requests go; None when the target does not say (`mlops status` then asks the entity).
    scoring_uri: str | None = None

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
class ActualAsset:
    """One registered version of a model or environment that git declares."""

    kind: str  # "model" | "environment"
    name: str
    version: str
    content_hash: str | None  # the TAG_SPEC_HASH tag it was registered with; None: registered by hand
    entity: Any = None

    @property
    def key(self) -> str:
        return f"{self.kind}/{self.name}:{self.version}"


@dataclass
class ActualState:
    endpoints: dict[str, ActualEndpoint] = field(default_factory=dict)
    monitors: dict[str, ActualMonitor] = field(default_factory=dict)
    # Only the asset versions git declares (read with AssetRegistry.read_assets), keyed like DesiredAsset.key.
    assets: dict[str, ActualAsset] = field(default_factory=dict)


class DeploymentFailed(Exception):
    """The deployment did not become healthy; the message says why (from the service)."""


class OperationTimeout(Exception):
    """A long-running operation did not finish in time; it may still complete on the service side."""


@runtime_checkable
class Target(Protocol):
    """One environment's backend. Constructed by :func:`gitops.targets.create_target`."""

    # Read-only: a TargetHandle forwards them from the target it wraps.
    @property
    def kind(self) -> str: ...

    @property
    def capabilities(self) -> frozenset[str]:
        """CAP_* names; the planner refuses desired state that needs a missing one."""
        ...

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
class RolloutCapable(Protocol):
    """What a target adds so that gitops.rollout can run canaries on it."""

    def write_rollout(self, endpoint_name: str, record: RolloutRecord | None) -> None:
        """Store the rollout progress record on the endpoint (read back as ActualEndpoint.rollout);
        ``None`` removes it."""
        ...

    def smoke_request(self, endpoint_name: str, deployment: str, body: bytes) -> tuple[int, bytes]:
        """POST the body to the endpoint, routed to ``deployment`` by the azureml-model-deployment header."""
        ...


@runtime_checkable
class AssetRegistry(Protocol):
    """A target that can hold model and environment assets (capability CAP_ASSETS)."""

    def read_assets(self, wanted: list[tuple[str, str, str]]) -> dict[str, ActualAsset]:
        """The registered versions among ``wanted`` (kind, name, version), keyed ``kind/name:version``;
        missing ones are left out. Reads only these: a workspace may hold thousands of assets."""
        ...

    def register_asset(self, kind: str, entity: Any) -> None:
        """Register ``entity`` (an azure-ai-ml Model or Environment, version and tags set) as is."""
        ...


class RolloutTarget(Target, RolloutCapable, Protocol):
    """A target the rollout runner can drive: it moves traffic (Target) and records progress."""


@runtime_checkable
class MetricsSource(Protocol):
    """A target that can measure its deployments, for the gates of a rollout step."""

    def metrics_provider(self, provider: str | None) -> MetricsProvider:
        """The provider for this target; ``provider`` is the strategy's ``analysis.provider``
        (``None``: the target's own). Raise GitopsError for a provider the target cannot serve."""
        ...


@runtime_checkable
class DataCollectionSource(Protocol):
    """A target that knows where its deployments' collected inputs/outputs are, for monitors."""

    def collected_data_dir(self) -> Path:
        """A folder on this machine holding ``<endpoint>/<deployment>/<collection>/`` as the data
        collector writes it. Raise GitopsError saying how to get the data when it is elsewhere."""
        ...


@dataclass(frozen=True)
class TargetHandle:
    """A target and the optional capabilities it was found to have, inspected once at creation.

    It is itself a :class:`Target` (every call goes to the wrapped target), so commands and the
    executor use it as one; code that needs a capability asks for it with ``require_*`` and gets a
    typed object or a GitopsError that says what the target cannot do.
    """

    target: Target
    rollouts: RolloutTarget | None = None
    metrics: MetricsSource | None = None
    data: DataCollectionSource | None = None
    assets: AssetRegistry | None = None

    @classmethod
    def of(cls, target: Target | TargetHandle) -> TargetHandle:
        """Inspect ``target`` (a handle is returned as it is)."""
        if isinstance(target, TargetHandle):
            return target
        if not isinstance(target, Target):
            raise TypeError(f"{type(target).__name__} does not implement gitops.targets.base.Target")
        return cls(
            target=target,
            rollouts=target if isinstance(target, RolloutCapable) else None,
            metrics=target if isinstance(target, MetricsSource) else None,
            data=target if isinstance(target, DataCollectionSource) else None,
            assets=target if isinstance(target, AssetRegistry) else None,
        )

    @property
    def features(self) -> tuple[str, ...]:
        """Names of the optional protocols the target implements, for messages and tests."""
        have = (
            ("rollouts", self.rollouts),
            ("metrics", self.metrics),
            ("collected data", self.data),
            ("assets", self.assets),
        )
        return tuple(name for name, impl in have if impl is not None)

    def require_rollouts(self) -> RolloutTarget:
        if self.rollouts is None:
            raise GitopsError(
                f"target {self.kind} cannot run progressive rollouts (no write_rollout/smoke_request); "
                "remove rollout.yml or use a target that can"
            )
        return self.rollouts

    def require_metrics(self) -> MetricsSource:
        if self.metrics is None:
            raise GitopsError(
                f"target {self.kind} cannot read rollout metrics; use a target that can, or --skip-analysis"
            )
        return self.metrics

    def require_assets(self) -> AssetRegistry:
        if self.assets is None:
            raise GitopsError(
                f"target {self.kind} cannot register models or environments; "
                "remove model.yml / environment.yml or reference assets registered elsewhere"
            )
        return self.assets

    def require_data(self) -> DataCollectionSource:
        if self.data is None:
            raise GitopsError(f"target {self.kind} does not say where its collected data is; pass --data-dir")
        return self.data

    # -- Target, by delegation ---------------------------------------------------------------

    @property
    def kind(self) -> str:
        return self.target.kind

    @property
    def capabilities(self) -> frozenset[str]:
        return self.target.capabilities

    def describe(self) -> str:
        return self.target.describe()

    def read_state(self) -> ActualState:
        return self.target.read_state()

    def create_or_update_endpoint(self, endpoint: Any) -> None:
        self.target.create_or_update_endpoint(endpoint)

    def create_or_update_deployment(self, deployment: Any, timeout_s: float) -> None:
        self.target.create_or_update_deployment(deployment, timeout_s)

    def set_traffic(
        self, endpoint_name: str, traffic: dict[str, int], mirror_traffic: dict[str, int]
    ) -> None:
        self.target.set_traffic(endpoint_name, traffic, mirror_traffic)

    def delete_deployment(self, endpoint_name: str, name: str) -> None:
        self.target.delete_deployment(endpoint_name, name)

    def delete_endpoint(self, name: str) -> None:
        self.target.delete_endpoint(name)

    def create_or_update_monitor(self, monitor: Any) -> None:
        self.target.create_or_update_monitor(monitor)

    def delete_monitor(self, name: str) -> None:
        self.target.delete_monitor(name)

    def lock(self, env: str) -> AbstractContextManager[None]:
        return self.target.lock(env)


def iter_deployments(state: ActualState) -> Iterator[ActualDeployment]:
    for ep in state.endpoints.values():
        yield from ep.deployments.values()
