"""The desired state of one environment, as git declares it: discover -> load -> rules.

Endpoints, deployments and monitors are the official Azure ML CLI v2 YAML, loaded with
azure-ai-ml's own loaders; the rules add what Azure would only reject at apply time (or never),
and every finding carries ``file:line``.
"""

from gitops.desired.load import load_desired
from gitops.desired.rules.names import NAME_RE
from gitops.desired.sdk_errors import sdk_error_diagnostics
from gitops.desired.spec_hash import spec_hash
from gitops.desired.types import DesiredDeployment, DesiredEndpoint, DesiredMonitor, DesiredState

# The tags' single definition is gitops.model.tags; re-exported for code not yet switched to it.
from gitops.model.tags import (
    MANAGED_BY_VALUE,
    RESERVED_TAGS,
    ROLLOUT_TAG_PREFIX,
    TAG_ENVIRONMENT,
    TAG_MANAGED_BY,
    TAG_REVISION,
    TAG_SPEC_HASH,
)

__all__ = [
    "MANAGED_BY_VALUE",
    "NAME_RE",
    "RESERVED_TAGS",
    "ROLLOUT_TAG_PREFIX",
    "TAG_ENVIRONMENT",
    "TAG_MANAGED_BY",
    "TAG_REVISION",
    "TAG_SPEC_HASH",
    "DesiredDeployment",
    "DesiredEndpoint",
    "DesiredMonitor",
    "DesiredState",
    "load_desired",
    "sdk_error_diagnostics",
    "spec_hash",
]
