"""azure-native type tokens -> ARM resource types and where each keeps its name.

Used to give mocked resources realistic ARM IDs (so references between resources look like the
real thing in the capture) and, by the ARM renderer, to turn the capture into a template.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ResourceType:
    arm_type: str
    # Input keys naming the resource, outermost parent first (e.g. vnet name, then subnet name);
    # "=literal" is a fixed segment (blob containers live under blobServices/default).
    name_keys: tuple[str, ...]
    # Extension resources live under another resource's ID (their `scope`/`resourceUri` input).
    scope_key: str | None = None
    resource_group_level: bool = True


RESOURCE_TYPES: dict[str, ResourceType] = {
    "azure-native:resources:ResourceGroup": ResourceType(
        "Microsoft.Resources/resourceGroups", ("resourceGroupName",), resource_group_level=False
    ),
    "azure-native:operationalinsights:Workspace": ResourceType(
        "Microsoft.OperationalInsights/workspaces", ("workspaceName",)
    ),
    "azure-native:applicationinsights:Component": ResourceType(
        "Microsoft.Insights/components", ("resourceName",)
    ),
    "azure-native:monitor:ActionGroup": ResourceType("Microsoft.Insights/actionGroups", ("actionGroupName",)),
    "azure-native:monitor:DiagnosticSetting": ResourceType(
        "Microsoft.Insights/diagnosticSettings", ("name",), scope_key="resourceUri"
    ),
    "azure-native:network:NetworkSecurityGroup": ResourceType(
        "Microsoft.Network/networkSecurityGroups", ("networkSecurityGroupName",)
    ),
    "azure-native:network:NatGateway": ResourceType("Microsoft.Network/natGateways", ("natGatewayName",)),
    "azure-native:network:PublicIPAddress": ResourceType(
        "Microsoft.Network/publicIPAddresses", ("publicIpAddressName",)
    ),
    "azure-native:network:VirtualNetwork": ResourceType(
        "Microsoft.Network/virtualNetworks", ("virtualNetworkName",)
    ),
    "azure-native:network:Subnet": ResourceType(
        "Microsoft.Network/virtualNetworks/subnets", ("virtualNetworkName", "subnetName")
    ),
    "azure-native:network:PrivateEndpoint": ResourceType(
        "Microsoft.Network/privateEndpoints", ("privateEndpointName",)
    ),
    "azure-native:network:PrivateDnsZoneGroup": ResourceType(
        "Microsoft.Network/privateEndpoints/privateDnsZoneGroups",
        ("privateEndpointName", "privateDnsZoneGroupName"),
    ),
    "azure-native:privatedns:PrivateZone": ResourceType(
        "Microsoft.Network/privateDnsZones", ("privateZoneName",)
    ),
    "azure-native:privatedns:VirtualNetworkLink": ResourceType(
        "Microsoft.Network/privateDnsZones/virtualNetworkLinks", ("privateZoneName", "virtualNetworkLinkName")
    ),
    "azure-native:managedidentity:UserAssignedIdentity": ResourceType(
        "Microsoft.ManagedIdentity/userAssignedIdentities", ("resourceName",)
    ),
    "azure-native:managedidentity:FederatedIdentityCredential": ResourceType(
        "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
        ("resourceName", "federatedIdentityCredentialResourceName"),
    ),
    "azure-native:keyvault:Vault": ResourceType("Microsoft.KeyVault/vaults", ("vaultName",)),
    "azure-native:storage:StorageAccount": ResourceType(
        "Microsoft.Storage/storageAccounts", ("accountName",)
    ),
    "azure-native:storage:BlobServiceProperties": ResourceType(
        "Microsoft.Storage/storageAccounts/blobServices", ("accountName", "blobServicesName")
    ),
    "azure-native:storage:BlobContainer": ResourceType(
        "Microsoft.Storage/storageAccounts/blobServices/containers",
        ("accountName", "=default", "containerName"),
    ),
    "azure-native:containerregistry:Registry": ResourceType(
        "Microsoft.ContainerRegistry/registries", ("registryName",)
    ),
    "azure-native:machinelearningservices:Workspace": ResourceType(
        "Microsoft.MachineLearningServices/workspaces", ("workspaceName",)
    ),
    "azure-native:machinelearningservices:Compute": ResourceType(
        "Microsoft.MachineLearningServices/workspaces/computes", ("workspaceName", "computeName")
    ),
    "azure-native:authorization:RoleAssignment": ResourceType(
        "Microsoft.Authorization/roleAssignments", ("roleAssignmentName",), scope_key="scope"
    ),
    "azure-native:authorization:ManagementLockByScope": ResourceType(
        "Microsoft.Authorization/locks", ("lockName",), scope_key="scope"
    ),
    "azure-native:consumption:Budget": ResourceType(
        "Microsoft.Consumption/budgets", ("budgetName",), scope_key="scope"
    ),
    "azure-native:authorization:PolicyDefinition": ResourceType(
        "Microsoft.Authorization/policyDefinitions", ("policyDefinitionName",), resource_group_level=False
    ),
    "azure-native:authorization:PolicySetDefinition": ResourceType(
        "Microsoft.Authorization/policySetDefinitions",
        ("policySetDefinitionName",),
        resource_group_level=False,
    ),
    "azure-native:authorization:PolicyAssignment": ResourceType(
        "Microsoft.Authorization/policyAssignments", ("policyAssignmentName",), scope_key="scope"
    ),
    "azure-native:authorization:PolicyExemption": ResourceType(
        "Microsoft.Authorization/policyExemptions", ("policyExemptionName",), scope_key="scope"
    ),
}


def arm_id(token: str, inputs: dict[str, object], subscription_id: str, fallback_name: str) -> str:
    """The resource ID Azure would give this resource."""
    spec = RESOURCE_TYPES.get(token)
    if spec is None:
        raise KeyError(f"no ARM mapping for {token}; add it to RESOURCE_TYPES")
    names = [
        key[1:] if key.startswith("=") else str(inputs.get(key) or fallback_name) for key in spec.name_keys
    ]
    namespace, *types = spec.arm_type.split("/")
    path = f"providers/{namespace}/" + "/".join(f"{t}/{n}" for t, n in zip(types, names, strict=True))
    if spec.scope_key:
        return f"{inputs.get(spec.scope_key)}/{path}"
    if token == "azure-native:resources:ResourceGroup":
        return f"/subscriptions/{subscription_id}/resourceGroups/{names[0]}"
    if not spec.resource_group_level:
        return f"/subscriptions/{subscription_id}/{path}"
    return f"/subscriptions/{subscription_id}/resourceGroups/{inputs.get('resourceGroupName')}/{path}"
