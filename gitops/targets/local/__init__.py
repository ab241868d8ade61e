"""The local target's engine: serve Azure ML online endpoints on this machine with real model servers.

Kept free of heavy imports (no azure-ai-ml, no scikit-learn) because the router processes import it.
"""

from gitops.targets.local.engine import DeploymentResult, EndpointResult, LocalEngine, StatusReport
from gitops.targets.local.errors import DeploymentFailedError, LocalTargetError
from gitops.targets.local.registry import ModelRegistry, RegisteredModel

__all__ = [
    "DeploymentFailedError",
    "DeploymentResult",
    "EndpointResult",
    "LocalEngine",
    "LocalTargetError",
    "ModelRegistry",
    "RegisteredModel",
    "StatusReport",
]
