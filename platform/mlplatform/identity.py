"""User-assigned identities (workspace, compute, endpoints, CI) and CI's GitHub OIDC trust.

One identity per job, so each can be given only the roles its job needs (rbac.py holds them all).
CI signs in through GitHub OIDC (a federated credential), so no client secret exists anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import managedidentity

from .common import Placement

GITHUB_OIDC_ISSUER = "https://token.actions.githubusercontent.com"
AZURE_AD_TOKEN_EXCHANGE = "api://AzureADTokenExchange"


@dataclass(frozen=True)
class IdentitiesArgs:
    placement: Placement
    github_repository: str
    # The GitHub environment deploy workflows run in; plans run in `<it>-plan`.
    github_environment: str


class Identities(pulumi.ComponentResource):
    def __init__(self, name: str, args: IdentitiesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlplatform:identity:Identities", name, None, opts)
        where = args.placement

        def uami(role: str) -> managedidentity.UserAssignedIdentity:
            return managedidentity.UserAssignedIdentity(
                f"{name}-{role}",
                resource_name_=f"id-{where.base_name}-{role}",
                resource_group_name=where.resource_group_name,
                location=where.location,
                tags=where.tags,
                opts=pulumi.ResourceOptions(parent=self),
            )

        self.workspace = uami("workspace")
        self.compute = uami("compute")
        self.endpoints = uami("endpoints")
        self.ci = uami("ci")
        # Pull-request plans only read; they get their own identity, trusted only from the
        # `<env>-plan` GitHub environment, so a PR workflow can never hold deploy rights.
        self.ci_plan = uami("ci-plan")
        for identity, logical, github_environment in (
            (self.ci, f"{name}-ci-github", args.github_environment),
            (self.ci_plan, f"{name}-ci-plan-github", f"{args.github_environment}-plan"),
        ):
            managedidentity.FederatedIdentityCredential(
                logical,
                federated_identity_credential_resource_name=f"github-{github_environment}",
                resource_name_=identity.name,
                resource_group_name=where.resource_group_name,
                issuer=GITHUB_OIDC_ISSUER,
                subject=f"repo:{args.github_repository}:environment:{github_environment}",
                audiences=[AZURE_AD_TOKEN_EXCHANGE],
                opts=pulumi.ResourceOptions(parent=identity),
            )
        self.register_outputs(
            {
                "workspaceClientId": self.workspace.client_id,
                "computeClientId": self.compute.client_id,
                "endpointsClientId": self.endpoints.client_id,
                "ciClientId": self.ci.client_id,
                "ciPlanClientId": self.ci_plan.client_id,
            }
        )
