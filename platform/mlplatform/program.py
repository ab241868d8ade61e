"""Composition of the platform's components for one stack."""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi_azure_native import authorization, resources

from .config import PlatformConfig
from .data import DataServices
from .governance import Governance
from .identity import Identities
from .network import Network
from .observability import Observability
from .policy import Policy
from .workspace import MLWorkspace


def build(cfg: PlatformConfig) -> dict[str, Any]:
    """Declare every resource of the environment; return the stack outputs."""
    client = authorization.get_client_config_output()
    rg = resources.ResourceGroup(
        "rg", resource_group_name=f"rg-{cfg.base_name}", location=cfg.location, tags=cfg.tags
    )
    obs = Observability("obs", cfg, rg.name)
    net = Network("net", cfg, rg.name)
    ids = Identities("ids", cfg, rg.name, client.subscription_id)
    data = DataServices("data", cfg, rg.name, client.tenant_id, net, obs)

    # Data-plane roles come before the workspace: Azure checks the workspace identity's access
    # to its storage, vault and registry when the workspace is created.
    ids.grant("workspace", "Storage Blob Data Contributor", data.storage.id, "storage")
    ids.grant("workspace", "Storage File Data Privileged Contributor", data.storage.id, "storage")
    ids.grant("workspace", "Key Vault Secrets Officer", data.key_vault.id, "keyvault")
    ids.grant("workspace", "AcrPush", data.registry.id, "registry")
    if cfg.workspace.isolation_mode != "Disabled":
        # Lets the managed VNet approve its private endpoints to the lake, vault and registry.
        ids.grant("workspace", "Azure AI Enterprise Network Connection Approver", rg.id, "resource-group")
    ids.grant("compute", "Storage Blob Data Contributor", data.lake.id, "lake")
    ids.grant("compute", "Storage Blob Data Contributor", data.storage.id, "storage")
    ids.grant("compute", "AcrPull", data.registry.id, "registry")
    ids.grant("compute", "Key Vault Secrets User", data.key_vault.id, "keyvault")
    ids.grant("endpoints", "AcrPull", data.registry.id, "registry")
    ids.grant("endpoints", "Storage Blob Data Reader", data.storage.id, "storage")
    ids.grant("endpoints", "Storage Blob Data Contributor", data.collection_container.id, "modeldata")
    # App Insights accepts Entra-authenticated telemetry only (local auth is off), sent as this role.
    ids.grant("endpoints", "Monitoring Metrics Publisher", obs.app_insights.id, "app-insights")

    mlw = MLWorkspace("mlw", cfg, rg.name, net, obs, data, ids)

    ids.grant("compute", "AzureML Metrics Writer (preview)", mlw.workspace.id, "workspace")
    ids.grant("endpoints", "AzureML Metrics Writer (preview)", mlw.workspace.id, "workspace")
    ids.grant("ci", "AzureML Data Scientist", mlw.workspace.id, "workspace")
    # CI attaches the endpoint identity to online endpoints; that needs operator rights on it only.
    ids.grant("ci", "Managed Identity Operator", ids.endpoints.id, "endpoints-identity")
    ids.grant("ci", "Monitoring Reader", rg.id, "resource-group")
    ids.grant("ci_plan", "Reader", mlw.workspace.id, "workspace")

    Governance(
        "gov",
        cfg,
        rg.id,
        obs.action_group.id,
        lock={"keyvault": data.key_vault.id, "storage": data.storage.id, "lake": data.lake.id},
    )

    Policy("policy", cfg, rg.id, client.subscription_id)

    return {
        "environment": cfg.environment,
        "location": cfg.location,
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
