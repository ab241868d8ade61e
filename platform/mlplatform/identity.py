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
        # Pull-request plans only read; they get their own identity, trusted only from the
        # `<env>-plan` GitHub environment, so a PR workflow can never hold deploy rights.
        self.ci_plan = uami("ci-plan")
        for identity, logical, github_environment in (
            (self.ci, f"{name}-ci-github", cfg.ci.github_environment),
            (self.ci_plan, f"{name}-ci-plan-github", f"{cfg.ci.github_environment}-plan"),
        ):
            managedidentity.FederatedIdentityCredential(
                logical,
                federated_identity_credential_resource_name=f"github-{github_environment}",
                resource_name_=identity.name,
                resource_group_name=resource_group,
                issuer=GITHUB_OIDC_ISSUER,
                subject=f"repo:{cfg.ci.github_repository}:environment:{github_environment}",
                audiences=[AZURE_AD_TOKEN_EXCHANGE],
                opts=pulumi.ResourceOptions(parent=identity),
            )
        self.workspace_grants: list[pulumi.Resource] = []
        self.compute_grants: list[pulumi.Resource] = []
        self.register_outputs(
            {
                "workspaceClientId": self.workspace.client_id,
                "computeClientId": self.compute.client_id,
                "endpointsClientId": self.endpoints.client_id,
                "ciClientId": self.ci.client_id,
                "ciPlanClientId": self.ci_plan.client_id,
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
            f"{self._name}-{who.replace('_', '-')}-{target}-{role.lower().replace(' ', '-').replace('(', '').replace(')', '')}",
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
