"""Composition of the platform's components for one stack.

Reads no setting itself: stack.py turns the configuration into each component's Args. What is
wired here is which component's outputs another one needs, and the order Azure requires.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi_azure_native import authorization, resources

from . import stack
from .config import PlatformConfig
from .data import DataServices
from .governance import Governance
from .identity import Identities
from .network import Network
from .observability import Observability
from .policy import Policy
from .rbac import Rbac
from .services import LogAnalyticsDiagnostics, SubnetPrivateEndpoints
from .workspace import MLWorkspace


def build(cfg: PlatformConfig) -> dict[str, Any]:
    """Declare every resource of the environment; return the stack outputs."""
    client = authorization.get_client_config_output()
    site = stack.site(cfg)
    rg = resources.ResourceGroup(
        "rg", resource_group_name=site.resource_group_name, location=site.location, tags=site.tags
    )
    where = site.placement(rg.name)

    obs = Observability("obs", stack.observability_args(cfg, where))
    diagnostics = LogAnalyticsDiagnostics(obs.log_analytics.id)
    net = Network("net", stack.network_args(cfg, where))
    private_endpoints = SubnetPrivateEndpoints(where, net.pe_subnet.id, net.zone_ids)
    ids = Identities("ids", stack.identities_args(cfg, where))
    data = DataServices(
        "data",
        stack.data_args(
            cfg, where, client.tenant_id, private_endpoints=private_endpoints, diagnostics=diagnostics
        ),
    )

    rbac = Rbac(stack.rbac_args(cfg, ids, client.subscription_id, name_prefix="ids"))
    grants = rbac.before_workspace(
        {
            "resource-group": rg.id,
            "storage": data.storage.id,
            "lake": data.lake.id,
            "modeldata": data.collection_container.id,
            "keyvault": data.key_vault.id,
            "registry": data.registry.id,
            "app-insights": obs.app_insights.id,
            "endpoints-identity": ids.endpoints.id,
        }
    )
    given = stack.WorkspaceInputs(net, obs, data, ids, grants, private_endpoints, diagnostics)
    mlw = MLWorkspace("mlw", stack.workspace_args(cfg, where, given))
    rbac.on_workspace(mlw.workspace.id)

    Governance(
        "gov",
        stack.governance_args(cfg, where, rg.id, action_group_id=obs.action_group.id, data=data),
    )
    Policy("policy", stack.policy_args(cfg, rg.id, client.subscription_id))

    return {
        "environment": site.environment,
        "location": site.location,
        "subscriptionId": client.subscription_id,
        "resourceGroupName": rg.name,
        "workspaceName": mlw.workspace.name,
        "workspaceId": mlw.workspace.id,
        "computeName": mlw.compute.name,
        "keyVaultUri": data.key_vault.properties.apply(lambda p: p.vault_uri),
        "storageAccountName": data.storage.name,
        "dataLakeAccountName": data.lake.name,
        "containerRegistryLoginServer": data.registry.login_server,
        "appInsightsConnectionString": pulumi.Output.secret(obs.app_insights.connection_string),
        "logAnalyticsWorkspaceId": obs.log_analytics.id,
        "vnetId": net.vnet.id,
        "identities": {
            "workspaceClientId": ids.workspace.client_id,
            "computeClientId": ids.compute.client_id,
            "endpointsClientId": ids.endpoints.client_id,
            "endpointsIdentityId": ids.endpoints.id,
            "ciClientId": ids.ci.client_id,
            "ciPlanClientId": ids.ci_plan.client_id,
        },
        "tenantId": client.tenant_id,
    }
