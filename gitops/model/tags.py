"""Tags this tool writes on what it manages, and the ownership rule built on them.

The ownership keys carry the ``mlops-`` prefix so that they cannot collide with the tags teams set
themselves (``environment``, ``owner``, ``project``): a user's ``environment: production`` is theirs.
Versions before this one wrote ``managed-by`` / ``environment``; a resource tagged that way is still
owned (:func:`migrated`), compares equal to the new keys (no update just for the rename), and loses
the old pair the next time apply writes it (Azure replaces tags whole on create-or-update).

Azure tag limits (https://learn.microsoft.com/azure/azure-resource-manager/management/tag-resources#limitations):
at most 50 tag name/value pairs per resource, names up to 512 characters (128 for storage
accounts), values up to 256 characters, and names cannot contain ``< > % & \\ ? /``.
"""

from __future__ import annotations

from collections.abc import Mapping

TAG_MANAGED_BY = "mlops-managed-by"
TAG_ENVIRONMENT = "mlops-environment"
TAG_REVISION = "git-revision"
TAG_SPEC_HASH = "mlops-spec-hash"
MANAGED_BY_VALUE = "mlops-gitops"
# What earlier versions wrote (read, never written).
LEGACY_TAG_MANAGED_BY = "managed-by"
LEGACY_TAG_ENVIRONMENT = "environment"
# Endpoint tags holding the progress record of a progressive rollout (azureml target).
ROLLOUT_TAG_PREFIX = "mlops-rollout"
# Users may not set these in YAML.
RESERVED_TAGS = (TAG_MANAGED_BY, TAG_ENVIRONMENT, TAG_REVISION, TAG_SPEC_HASH)
# Compared as metadata of the apply, not as desired state.
BOOKKEEPING_TAGS = (TAG_REVISION, TAG_SPEC_HASH)

MAX_TAGS_PER_RESOURCE = 50
MAX_TAG_NAME_LENGTH = 512
MAX_TAG_VALUE_LENGTH = 256
TAG_NAME_FORBIDDEN = "<>%&\\?/"


def ownership_tags(env: str, user: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment's own tags plus the two that mark a resource as managed by it."""
    return {**(user or {}), TAG_MANAGED_BY: MANAGED_BY_VALUE, TAG_ENVIRONMENT: env}


def migrated(tags: Mapping[str, str]) -> dict[str, str]:
    """``tags`` with an earlier version's ownership pair (``managed-by: mlops-gitops`` and
    ``environment``) read as today's keys; anything else unchanged. A ``managed-by`` with another
    value (``pulumi``, a team's own) is not ours and stays as it is."""
    out = dict(tags)
    if out.get(LEGACY_TAG_MANAGED_BY) != MANAGED_BY_VALUE or TAG_MANAGED_BY in out:
        return out
    out[TAG_MANAGED_BY] = out.pop(LEGACY_TAG_MANAGED_BY)
    if LEGACY_TAG_ENVIRONMENT in out and TAG_ENVIRONMENT not in out:
        out[TAG_ENVIRONMENT] = out.pop(LEGACY_TAG_ENVIRONMENT)
    return out


def is_owned(tags: Mapping[str, str], env: str) -> bool:
    """Prune deletes only what this environment created: other environments and hand-made
    resources share the workspace. Resources tagged by an earlier version count."""
    t = migrated(tags)
    return t.get(TAG_MANAGED_BY) == MANAGED_BY_VALUE and t.get(TAG_ENVIRONMENT) == env


def is_rollout_tag(name: str) -> bool:
    return name.startswith(ROLLOUT_TAG_PREFIX)


def tag_name_problem(name: str) -> str | None:
    """Why Azure would refuse ``name`` as a tag name, or None."""
    bad = sorted({c for c in name if c in TAG_NAME_FORBIDDEN})
    if bad:
        return f"contains {' '.join(bad)}, which Azure does not allow in tag names"
    if len(name) > MAX_TAG_NAME_LENGTH:
        return f"is {len(name)} characters long; Azure allows at most {MAX_TAG_NAME_LENGTH}"
    return None
