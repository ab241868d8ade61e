"""Every role the platform's identities hold, as one table, and the one place that assigns them.

Each identity gets only the built-in data-plane or AzureML roles its job needs, each at the
narrowest scope that works. No identity receives Owner, Contributor or User Access Administrator
(tests/infra/test_secure_settings.py checks the rendered assignments against common.ROLES).

Order matters in one way: Azure checks the workspace identity's access to its storage, vault and
registry when the workspace is created, and the cluster's before it runs. So every grant that is not
on the workspace itself is made first (`before_workspace`), and the workspace and its cluster
`depends_on` what that returns; grants on the workspace can only follow it (`on_workspace`).
(The Azure Policy assignment's own remediation identity is granted in policy.py, next to it.)
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import pulumi
from pulumi_azure_native import authorization

from .common import role_definition_id

Principal = Literal["workspace", "compute", "endpoints", "ci", "ci_plan"]
Scope = Literal[
    "resource-group",
    "storage",
    "lake",
    "modeldata",
    "keyvault",
    "registry",
    "app-insights",
    "workspace",
    "endpoints-identity",
]


@dataclass(frozen=True)
class Grant:
    principal: Principal
    role: str
    scope: Scope
    why: str
    # Only a workspace with managed network isolation has private endpoints to approve.
    managed_network_only: bool = False


# One row per assignment: principal, built-in role, scope, why. Kept one line per row (fmt: off)
# so that the table reads, and diffs, like a table.
# fmt: off
GRANTS: tuple[Grant, ...] = (
    Grant("workspace", "Storage Blob Data Contributor", "storage", "job snapshots, outputs and logs on its store"),
    Grant("workspace", "Storage File Data Privileged Contributor", "storage", "code and notebooks on its file share"),
    Grant("workspace", "Key Vault Secrets Officer", "keyvault", "the workspace keeps its connection secrets there"),
    Grant("workspace", "AcrPush", "registry", "the workspace builds environment images into its registry"),
    Grant("workspace", "Azure AI Enterprise Network Connection Approver", "resource-group",
          "lets the managed VNet approve its private endpoints to the lake, vault and registry",
          managed_network_only=True),
    Grant("compute", "Storage Blob Data Contributor", "lake", "training jobs read and write data assets"),
    Grant("compute", "Storage Blob Data Contributor", "storage", "jobs read snapshots and write outputs"),
    Grant("compute", "AcrPull", "registry", "nodes pull environment images"),
    Grant("compute", "Key Vault Secrets User", "keyvault", "jobs read the secrets their connections name"),
    Grant("compute", "AzureML Metrics Writer (preview)", "workspace", "jobs log metrics to their runs"),
    Grant("endpoints", "AcrPull", "registry", "deployments pull their images"),
    Grant("endpoints", "Storage Blob Data Reader", "storage", "deployments download registered models"),
    Grant("endpoints", "Storage Blob Data Contributor", "modeldata", "data collection writes to its container only"),
    Grant("endpoints", "Monitoring Metrics Publisher", "app-insights",
          "App Insights accepts Entra-authenticated telemetry only (local auth is off)"),
    Grant("endpoints", "AzureML Metrics Writer (preview)", "workspace", "deployments report their metrics"),
    Grant("ci", "AzureML Data Scientist", "workspace", "deploys endpoints, deployments and monitors"),
    Grant("ci", "Managed Identity Operator", "endpoints-identity",
          "CI attaches the endpoint identity to online endpoints; operator rights on it only"),
    Grant("ci", "Monitoring Reader", "resource-group", "rollout gates read the endpoints' Azure Monitor metrics"),
    Grant("ci_plan", "Reader", "workspace", "pull-request plans read live state and never deploy"),
)
# fmt: on


@dataclass(frozen=True)
class RbacArgs:
    stack: str
    subscription_id: pulumi.Input[str]
    managed_network: bool
    principal_ids: Mapping[Principal, pulumi.Input[str]]
    # Assignments are listed under the identities they are for, named `<prefix>-<principal>-...`.
    parent: pulumi.Resource
    name_prefix: str


class Rbac:
    """Assigns the rows of GRANTS that apply to this stack, in the two steps Azure needs."""

    def __init__(self, args: RbacArgs) -> None:
        self._args = args
        self._rows = [g for g in GRANTS if args.managed_network or not g.managed_network_only]

    def before_workspace(
        self, scopes: Mapping[Scope, pulumi.Input[str]]
    ) -> dict[Principal, list[authorization.RoleAssignment]]:
        """Every grant not on the workspace; returns them per principal for the `depends_on` of its users."""
        made: dict[Principal, list[authorization.RoleAssignment]] = {}
        for grant in self._rows:
            if grant.scope != "workspace":
                made.setdefault(grant.principal, []).append(self._assign(grant, _scope(scopes, grant)))
        return made

    def on_workspace(self, workspace_id: pulumi.Input[str]) -> None:
        for grant in self._rows:
            if grant.scope == "workspace":
                self._assign(grant, workspace_id)

    def _assign(self, grant: Grant, scope: pulumi.Input[str]) -> authorization.RoleAssignment:
        args, who, role, target = self._args, grant.principal, grant.role, grant.scope
        slug = role.lower().replace(" ", "-").replace("(", "").replace(")", "")
        return authorization.RoleAssignment(
            f"{args.name_prefix}-{who.replace('_', '-')}-{target}-{slug}",
            # A deterministic assignment name keeps re-deploys idempotent (Azure refuses duplicates).
            role_assignment_name=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{args.stack}/{who}/{role}/{target}")),
            principal_id=args.principal_ids[who],
            principal_type="ServicePrincipal",
            role_definition_id=role_definition_id(args.subscription_id, role),
            scope=scope,
            description=f"{who} identity: {role} on {target} (mlplatform, least privilege)",
            opts=pulumi.ResourceOptions(parent=args.parent),
        )


def _scope(scopes: Mapping[Scope, pulumi.Input[str]], grant: Grant) -> pulumi.Input[str]:
    if grant.scope not in scopes:
        raise KeyError(
            f"platform/mlplatform/rbac.py: {grant.principal} needs {grant.role} on {grant.scope!r}, "
            "which the composition (program.py) does not pass to Rbac.before_workspace"
        )
    return scopes[grant.scope]
