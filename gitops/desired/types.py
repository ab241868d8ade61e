"""What git declares for one environment, once loaded and checked: the values planning reads.

Entities are azure-ai-ml objects (the official YAML, loaded by the SDK's own loaders); each
resource keeps its parsed YAML document so that later findings can still point at ``file:line``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitops.desired.discover import EnvironmentFiles
from gitops.manifest import Manifest
from gitops.rollout.spec import RolloutSpec
from gitops.yamlmarks import YamlDoc


@dataclass
class DesiredDeployment:
    name: str
    endpoint_name: str
    entity: Any  # azure.ai.ml.entities.OnlineDeployment
    doc: YamlDoc
    spec_hash: str


@dataclass
class DesiredEndpoint:
    name: str
    entity: Any  # azure.ai.ml.entities.OnlineEndpoint
    doc: YamlDoc
    # None: the key is absent from endpoint.yml, so git does not manage that map (left as it is).
    traffic: dict[str, int] | None
    mirror_traffic: dict[str, int] | None
    deployments: dict[str, DesiredDeployment] = field(default_factory=dict)
    rollout: RolloutSpec | None = None  # None: traffic changes in one step


@dataclass
class DesiredMonitor:
    name: str
    entity: Any  # azure.ai.ml.entities.MonitorSchedule
    doc: YamlDoc
    endpoint_name: str | None
    deployment_name: str | None
    spec_hash: str


@dataclass
class DesiredAsset:
    """A model or environment asset git declares (``model.yml`` / ``environment.yml``), registered
    before any endpoint is touched so that deployments may reference ``azureml:<name>:<version>``."""

    kind: str  # "model" | "environment"
    name: str
    version: str  # declared, or derived from content_hash when the YAML declares none
    version_declared: bool
    content_hash: str  # spec_hash of the YAML and the local files it uploads
    entity: Any  # azure.ai.ml.entities.Model | Environment, with version set
    doc: YamlDoc
    local_paths: list[Path] = field(default_factory=list)

    @property
    def key(self) -> str:
        """``model/<name>:<version>``: the key of DesiredState.assets and ActualState.assets."""
        return f"{self.kind}/{self.name}:{self.version}"


@dataclass
class DesiredState:
    manifest: Manifest
    endpoints: dict[str, DesiredEndpoint] = field(default_factory=dict)
    monitors: dict[str, DesiredMonitor] = field(default_factory=dict)
    assets: dict[str, DesiredAsset] = field(default_factory=dict)
    files: EnvironmentFiles | None = None  # what discovery found, skipped and why (`validate -v`)

    @property
    def env(self) -> str:
        return self.manifest.env
