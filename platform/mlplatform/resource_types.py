"""azure-native type tokens -> ARM: the one table of what the platform knows about each resource type.

The mocks read it to give captured resources realistic ARM IDs (so references between resources
look like the real thing), and the ARM renderer (arm.py) reads it to turn the capture back into a
deployment template for checkov. One row per type keeps the two in step: a type the program starts
to declare needs exactly one new row here.

azure-native is generated from the same REST specs as ARM, so the captured wire inputs are nearly
ARM already; what differs is undone with the rendering columns: the API version the SDK uses,
whether azure-native lifts the type's ARM `properties` to the top level ("flattening"), fields it
renames, and list items it flattens. tests/infra/test_arm.py checks every row against the SDK.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ResourceType:
    arm_type: str
    # Input keys naming the resource, outermost parent first (e.g. vnet name, then subnet name);
    # "=literal" is a fixed segment (blob containers live under blobServices/default).
    name_keys: tuple[str, ...]
    # The REST API version the installed pulumi-azure-native uses ("Uses Azure REST API version").
    api_version: str
    # Extension resources live under another resource's ID (their `scope`/`resourceUri` input).
    scope_key: str | None = None
    # Resource groups and policy (set) definitions live at subscription scope: their IDs have no
    # resource group, and the template puts them into a nested subscription-scope deployment.
    subscription_scope: bool = False
    # azure-native lifts these types' ARM `properties` to the top level; the renderer puts them back.
    flattened: bool = True
    # azure-native name -> ARM name, for keys inside `properties`.
    renames: dict[str, str] = field(default_factory=dict)
    # Keys that ARM keeps in `properties` although they are top-level in other types.
    in_properties: tuple[str, ...] = ()
    # List-valued properties whose items azure-native flattens ({name, ...} -> {name, properties}).
    flattened_items: tuple[str, ...] = ()


_NETWORK = "2024-05-01"

RESOURCE_TYPES: dict[str, ResourceType] = {
    "azure-native:resources:ResourceGroup": ResourceType(
        "Microsoft.Resources/resourceGroups", ("resourceGroupName",), "2024-03-01", subscription_scope=True
    ),
    "azure-native:operationalinsights:Workspace": ResourceType(
        "Microsoft.OperationalInsights/workspaces", ("workspaceName",), "2023-09-01", in_properties=("sku",)
    ),
    "azure-native:applicationinsights:Component": ResourceType(
        "Microsoft.Insights/components",
        ("resourceName",),
        "2020-02-02",
        # ARM keeps the legacy Application Insights casing; azure-native camel-cases it.
        renames={
            "applicationType": "Application_Type",
            "flowType": "Flow_Type",
            "requestSource": "Request_Source",
            "workspaceResourceId": "WorkspaceResourceId",
            "ingestionMode": "IngestionMode",
            "disableLocalAuth": "DisableLocalAuth",
            "retentionInDays": "RetentionInDays",
            "samplingPercentage": "SamplingPercentage",
            "disableIpMasking": "DisableIpMasking",
        },
    ),
    "azure-native:monitor:ActionGroup": ResourceType(
        "Microsoft.Insights/actionGroups", ("actionGroupName",), "2024-10-01-preview"
    ),
    "azure-native:monitor:DiagnosticSetting": ResourceType(
        "Microsoft.Insights/diagnosticSettings", ("name",), "2021-05-01-preview", scope_key="resourceUri"
    ),
    "azure-native:network:NetworkSecurityGroup": ResourceType(
        "Microsoft.Network/networkSecurityGroups",
        ("networkSecurityGroupName",),
        _NETWORK,
        flattened_items=("securityRules",),
    ),
    "azure-native:network:NatGateway": ResourceType(
        "Microsoft.Network/natGateways", ("natGatewayName",), _NETWORK
    ),
    "azure-native:network:PublicIPAddress": ResourceType(
        "Microsoft.Network/publicIPAddresses", ("publicIpAddressName",), _NETWORK
    ),
    "azure-native:network:VirtualNetwork": ResourceType(
        "Microsoft.Network/virtualNetworks", ("virtualNetworkName",), _NETWORK
    ),
    "azure-native:network:Subnet": ResourceType(
        "Microsoft.Network/virtualNetworks/subnets", ("virtualNetworkName", "subnetName"), _NETWORK
    ),
    "azure-native:network:PrivateEndpoint": ResourceType(
        "Microsoft.Network/privateEndpoints",
        ("privateEndpointName",),
        _NETWORK,
        flattened_items=("privateLinkServiceConnections", "manualPrivateLinkServiceConnections"),
    ),
    "azure-native:network:PrivateDnsZoneGroup": ResourceType(
        "Microsoft.Network/privateEndpoints/privateDnsZoneGroups",
        ("privateEndpointName", "privateDnsZoneGroupName"),
        _NETWORK,
        flattened_items=("privateDnsZoneConfigs",),
    ),
    "azure-native:privatedns:PrivateZone": ResourceType(
        "Microsoft.Network/privateDnsZones", ("privateZoneName",), "2024-06-01"
    ),
    "azure-native:privatedns:VirtualNetworkLink": ResourceType(
        "Microsoft.Network/privateDnsZones/virtualNetworkLinks",
        ("privateZoneName", "virtualNetworkLinkName"),
        "2024-06-01",
    ),
    "azure-native:managedidentity:UserAssignedIdentity": ResourceType(
        "Microsoft.ManagedIdentity/userAssignedIdentities", ("resourceName",), "2023-01-31"
    ),
    "azure-native:managedidentity:FederatedIdentityCredential": ResourceType(
        "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
        ("resourceName", "federatedIdentityCredentialResourceName"),
        "2023-01-31",
    ),
    "azure-native:keyvault:Vault": ResourceType(
        "Microsoft.KeyVault/vaults", ("vaultName",), "2024-11-01", flattened=False
    ),
    "azure-native:storage:StorageAccount": ResourceType(
        "Microsoft.Storage/storageAccounts",
        ("accountName",),
        "2024-01-01",
        renames={"enableHttpsTrafficOnly": "supportsHttpsTrafficOnly", "networkRuleSet": "networkAcls"},
    ),
    "azure-native:storage:BlobServiceProperties": ResourceType(
        "Microsoft.Storage/storageAccounts/blobServices", ("accountName", "blobServicesName"), "2024-01-01"
    ),
    "azure-native:storage:BlobContainer": ResourceType(
        "Microsoft.Storage/storageAccounts/blobServices/containers",
        ("accountName", "=default", "containerName"),
        "2024-01-01",
    ),
    "azure-native:containerregistry:Registry": ResourceType(
        "Microsoft.ContainerRegistry/registries", ("registryName",), "2023-01-01-preview"
    ),
    "azure-native:machinelearningservices:Workspace": ResourceType(
        "Microsoft.MachineLearningServices/workspaces", ("workspaceName",), "2025-12-01"
    ),
    "azure-native:machinelearningservices:Compute": ResourceType(
        "Microsoft.MachineLearningServices/workspaces/computes",
        ("workspaceName", "computeName"),
        "2025-12-01",
        flattened=False,
    ),
    "azure-native:authorization:RoleAssignment": ResourceType(
        "Microsoft.Authorization/roleAssignments", ("roleAssignmentName",), "2022-04-01", scope_key="scope"
    ),
    "azure-native:authorization:ManagementLockByScope": ResourceType(
        "Microsoft.Authorization/locks", ("lockName",), "2020-05-01", scope_key="scope"
    ),
    "azure-native:consumption:Budget": ResourceType(
        "Microsoft.Consumption/budgets", ("budgetName",), "2024-08-01", scope_key="scope"
    ),
    "azure-native:authorization:PolicyDefinition": ResourceType(
        "Microsoft.Authorization/policyDefinitions",
        ("policyDefinitionName",),
        "2025-01-01",
        subscription_scope=True,
    ),
    "azure-native:authorization:PolicySetDefinition": ResourceType(
        "Microsoft.Authorization/policySetDefinitions",
        ("policySetDefinitionName",),
        "2025-01-01",
        subscription_scope=True,
    ),
    "azure-native:authorization:PolicyAssignment": ResourceType(
        "Microsoft.Authorization/policyAssignments",
        ("policyAssignmentName",),
        "2025-01-01",
        scope_key="scope",
    ),
    "azure-native:authorization:PolicyExemption": ResourceType(
        "Microsoft.Authorization/policyExemptions",
        ("policyExemptionName",),
        "2022-07-01-preview",
        scope_key="scope",
    ),
}


def resource_type(token: str) -> ResourceType:
    spec = RESOURCE_TYPES.get(token)
    if spec is None:
        raise KeyError(
            f"platform/mlplatform/resource_types.py: no row for {token}; add one to RESOURCE_TYPES"
        )
    return spec


def arm_names(token: str, inputs: dict[str, object], fallback_name: str) -> list[str]:
    """The name segments of a resource, outermost parent first."""
    return [
        key[1:] if key.startswith("=") else str(inputs.get(key) or fallback_name)
        for key in resource_type(token).name_keys
    ]


def arm_id(token: str, inputs: dict[str, object], subscription_id: str, fallback_name: str) -> str:
    """The resource ID Azure would give this resource."""
    spec = resource_type(token)
    names = arm_names(token, inputs, fallback_name)
    namespace, *types = spec.arm_type.split("/")
    path = f"providers/{namespace}/" + "/".join(f"{t}/{n}" for t, n in zip(types, names, strict=True))
    if spec.scope_key:
        return f"{inputs.get(spec.scope_key)}/{path}"
    if token == "azure-native:resources:ResourceGroup":
        return f"/subscriptions/{subscription_id}/resourceGroups/{names[0]}"
    if spec.subscription_scope:
        return f"/subscriptions/{subscription_id}/{path}"
    return f"/subscriptions/{subscription_id}/resourceGroups/{inputs.get('resourceGroupName')}/{path}"
