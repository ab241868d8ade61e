"""User-assigned identities (workspace, compute, endpoints, CI) and their least-privilege roles.

Each identity gets only the built-in data-plane or AzureML roles its job needs, each at the
narrowest scope that works. No identity receives Owner, Contributor or User Access Administrator.
CI signs in through GitHub OIDC (a federated credential), so no client secret exists anywhere.
"""

from __future__ import annotations

import uuid

import pulumi
from pulumi_azure_native import authorization, managedidentity

from .common import role_definition_id
from .config import PlatformConfig

GITHUB_OIDC_ISSUER = "https://token.actions.githubusercontent.com"
AZURE_AD_TOKEN_EXCHANGE = "api://AzureADTokenExchange"


class Identities(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        cfg: PlatformConfig,
        resource_group: pulumi.Input[str],
        subscription_id: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlplatform:identity:Identities", name, None, opts)
        self._name = name
        self._cfg = cfg
        self._subscription_id = subscription_id
        here = pulumi.ResourceOptions(parent=self)

        def uami(role: str) -> managedidentity.UserAssignedIdentity:
            return managedidentity.UserAssignedIdentity(
                f"{name}-{role}",
                resource_name_=f"id-{cfg.base_name}-{role}",
                resource_group_name=resource_group,
                location=cfg.location,
                tags=cfg.tags,
                opts=here,
            )

        self.workspace = uami("workspace")
        self.compute = uami("compute")
        self.endpoints = uami("endpoints")
        self.ci = uami("ci")
        managedidentity.FederatedIdentityCredential(
            f"{name}-ci-github",
            federated_identity_credential_resource_name=f"github-{cfg.ci.github_environment}",
            resource_name_=self.ci.name,
            resource_group_name=resource_group,
            issuer=GITHUB_OIDC_ISSUER,
            subject=f"repo:{cfg.ci.github_repository}:environment:{cfg.ci.github_environment}",
            audiences=[AZURE_AD_TOKEN_EXCHANGE],
            opts=pulumi.ResourceOptions(parent=self.ci),
        )
        self.workspace_grants: list[pulumi.Resource] = []
        self.compute_grants: list[pulumi.Resource] = []
        self.register_outputs(
            {
                "workspaceClientId": self.workspace.client_id,
                "computeClientId": self.compute.client_id,
                "endpointsClientId": self.endpoints.client_id,
                "ciClientId": self.ci.client_id,
            }
        )

    def grant(
        self,
        who: str,
        role: str,
        scope: pulumi.Input[str],
        target: str,
        *,
        depends_on: list[pulumi.Resource] | None = None,
    ) -> authorization.RoleAssignment:
        """Give identity `who` the built-in `role` on `scope` (`target` names the scope for humans)."""
        identity: managedidentity.UserAssignedIdentity = getattr(self, who)
        # A deterministic assignment name keeps re-deploys idempotent (Azure refuses duplicates).
        assignment_name = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self._cfg.stack}/{who}/{role}/{target}"))
        assignment = authorization.RoleAssignment(
            f"{self._name}-{who}-{target}-{role.lower().replace(' ', '-').replace('(', '').replace(')', '')}",
            role_assignment_name=assignment_name,
            principal_id=identity.principal_id,
            principal_type="ServicePrincipal",
            role_definition_id=role_definition_id(self._subscription_id, role),
            scope=scope,
            description=f"{who} identity: {role} on {target} (mlplatform, least privilege)",
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on),
        )
        if who == "workspace":
            self.workspace_grants.append(assignment)
        if who == "compute":
            self.compute_grants.append(assignment)
        return assignment
