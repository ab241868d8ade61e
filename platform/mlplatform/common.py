"""What every component shares: where resources go (Placement), built-in role IDs, DNS zone names."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi


@dataclass(frozen=True)
class Placement:
    """Where a component puts its resources and how it names and tags them."""

    resource_group_name: pulumi.Input[str]
    location: str
    tags: Mapping[str, str]
    # Prefix of every resource name: <project>-<environment>, e.g. mlops-prod.
    base_name: str


# Built-in Azure RBAC role definition GUIDs (the same in every tenant). Owner, Contributor and
# User Access Administrator are deliberately absent: no identity of this platform gets them.
ROLES: dict[str, str] = {
    "Reader": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
    "AzureML Data Scientist": "f6c7c914-8db3-469d-8ca1-694a8f32e121",
    "AzureML Compute Operator": "e503ece1-11d0-4e8e-8e2c-7a6c3bf38815",
    "AzureML Metrics Writer (preview)": "635dd51f-9968-44d3-b7fb-6d9a6bd613ae",
    "Azure AI Enterprise Network Connection Approver": "b556d68e-0be0-4f35-a333-ad7ee1ce17ea",
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "Storage Blob Data Reader": "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
    "Storage File Data Privileged Contributor": "69566ab7-960f-475b-8e7c-b8783c82e0d9",
    "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
    "Key Vault Secrets Officer": "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
    "AcrPull": "7f951dda-4ed3-4680-a7ca-43fe172d538d",
    "AcrPush": "8311e382-0749-4cb8-b61a-304f252e45ec",
    "Monitoring Reader": "43d0d8ad-25c7-4714-9337-8ba259a9fe05",
    "Monitoring Metrics Publisher": "3913510d-42f4-4e42-8a64-420c390055eb",
    "Managed Identity Operator": "f1a07417-d97a-45cb-824c-7a7467783830",
    # Azure Policy remediation of tag inheritance (Modify): tags only, no other write access.
    "Tag Contributor": "4a9ae827-6dc8-4573-8ac7-8239d42aa03f",
}

FORBIDDEN_ROLES = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",  # Owner
    "b24988ac-6180-42a0-ab88-20f7382dd24c",  # Contributor
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",  # User Access Administrator
}

# Private DNS zones (Azure public cloud) per private-endpoint sub-resource.
DNS_ZONES: dict[str, str] = {
    "amlworkspace": "privatelink.api.azureml.ms",
    "notebooks": "privatelink.notebooks.azure.net",
    "vault": "privatelink.vaultcore.azure.net",
    "blob": "privatelink.blob.core.windows.net",
    "file": "privatelink.file.core.windows.net",
    "dfs": "privatelink.dfs.core.windows.net",
    "registry": "privatelink.azurecr.io",
}


def role_definition_id(subscription_id: pulumi.Input[str], role: str) -> pulumi.Output[str]:
    return pulumi.Output.concat(
        "/subscriptions/", subscription_id, "/providers/Microsoft.Authorization/roleDefinitions/", ROLES[role]
    )
