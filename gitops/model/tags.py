"""Tags this tool writes on what it manages, and the ownership rule built on them.

Azure tag limits (https://learn.microsoft.com/azure/azure-resource-manager/management/tag-resources#limitations):
at most 50 tag name/value pairs per resource, names up to 512 characters (128 for storage
accounts), values up to 256 characters.
"""

from __future__ import annotations

from collections.abc import Mapping

TAG_MANAGED_BY = "managed-by"
TAG_ENVIRONMENT = "environment"
TAG_REVISION = "git-revision"
TAG_SPEC_HASH = "mlops-spec-hash"
MANAGED_BY_VALUE = "mlops-gitops"
# Endpoint tags holding the progress record of a progressive rollout (azureml target).
ROLLOUT_TAG_PREFIX = "mlops-rollout"
# Users may not set these in YAML.
RESERVED_TAGS = (TAG_MANAGED_BY, TAG_ENVIRONMENT, TAG_REVISION, TAG_SPEC_HASH)
# Compared as metadata of the apply, not as desired state.
BOOKKEEPING_TAGS = (TAG_REVISION, TAG_SPEC_HASH)

MAX_TAGS_PER_RESOURCE = 50
MAX_TAG_VALUE_LENGTH = 256


def ownership_tags(env: str, user: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment's own tags plus the two that mark a resource as managed by it."""
    return {**(user or {}), TAG_MANAGED_BY: MANAGED_BY_VALUE, TAG_ENVIRONMENT: env}


def is_owned(tags: Mapping[str, str], env: str) -> bool:
    """Prune deletes only what this environment created: other environments and hand-made
    resources share the workspace."""
    return tags.get(TAG_MANAGED_BY) == MANAGED_BY_VALUE and tags.get(TAG_ENVIRONMENT) == env


def is_rollout_tag(name: str) -> bool:
    return name.startswith(ROLLOUT_TAG_PREFIX)
