"""The workspace's dependent services: Key Vault, storage (workspace store + ADLS Gen2 lake), ACR.

Each is private by default: public network access follows the stack (Disabled in prod), network
rules default to Deny, local keys and admin users are off, and each gets private endpoints and
diagnostic settings through the services it is handed.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import containerregistry, keyvault, storage

from .common import Placement
from .services import Diagnostics, PrivateEndpoints


@dataclass(frozen=True)
class DataServicesArgs:
    placement: Placement
    tenant_id: pulumi.Input[str]
    key_vault_name: str
    storage_account_name: str
    lake_account_name: str
    registry_name: str
    public_network_access: str
    key_vault_soft_delete_days: int
    storage_sku: str
    storage_soft_delete_days: int
    registry_zone_redundant: bool
    # Image export is how a private registry's content could leave the network.
    block_registry_export: bool
    private_endpoints: PrivateEndpoints
    diagnostics: Diagnostics


class DataServices(pulumi.ComponentResource):
    def __init__(self, name: str, args: DataServicesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlplatform:data:DataServices", name, None, opts)
        self._args = args
        self.key_vault = self._key_vault(name)

        # The workspace's default store cannot have a hierarchical namespace, and blob versioning is
        # not available on one; so the workspace store keeps versioning and the lake (ADLS Gen2,
        # for data assets) keeps HNS. Both get soft delete for blobs and containers.
        self.storage = self._account(f"{name}-st", args.storage_account_name, hns=False)
        self.lake = self._account(f"{name}-dls", args.lake_account_name, hns=True)
        base = args.placement.base_name
        self._connect_account(f"st-{base}", self.storage, ("blob", "file"))
        self._connect_account(f"dls-{base}", self.lake, ("blob", "dfs"))

        # A dedicated container for online-endpoint data collection, so the endpoint identity can
        # be granted write access to it alone.
        self.collection_container = storage.BlobContainer(
            f"{name}-st-modeldata",
            container_name="modeldata",
            account_name=self.storage.name,
            resource_group_name=args.placement.resource_group_name,
            public_access=storage.PublicAccess.NONE,
            opts=pulumi.ResourceOptions(parent=self.storage),
        )
        self.registry = self._registry(name)
        self.register_outputs(
            {
                "keyVaultId": self.key_vault.id,
                "storageId": self.storage.id,
                "lakeId": self.lake.id,
                "registryId": self.registry.id,
            }
        )

    def _key_vault(self, name: str) -> keyvault.Vault:
        args, where = self._args, self._args.placement
        vault = keyvault.Vault(
            f"{name}-kv",
            vault_name=args.key_vault_name,
            resource_group_name=where.resource_group_name,
            location=where.location,
            tags=where.tags,
            properties=keyvault.VaultPropertiesArgs(
                tenant_id=args.tenant_id,
                sku=keyvault.SkuArgs(family=keyvault.SkuFamily.A, name=keyvault.SkuName.STANDARD),
                enable_rbac_authorization=True,
                enable_purge_protection=True,
                enable_soft_delete=True,
                soft_delete_retention_in_days=args.key_vault_soft_delete_days,
                public_network_access=args.public_network_access,
                network_acls=keyvault.NetworkRuleSetArgs(default_action="Deny", bypass="AzureServices"),
                enabled_for_deployment=False,
                enabled_for_disk_encryption=False,
                enabled_for_template_deployment=False,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        args.private_endpoints(f"kv-{where.base_name}", vault.id, "vault", ["vault"], parent=vault)
        args.diagnostics(f"{name}-kv", vault.id, parent=vault)
        return vault

    def _connect_account(self, label: str, account: storage.StorageAccount, groups: tuple[str, ...]) -> None:
        """Private endpoints per storage service and diagnostics for the account and its services."""
        args = self._args
        for group in groups:
            args.private_endpoints(f"{label}-{group}", account.id, group, [group], parent=account)
        args.diagnostics(label, account.id, parent=account, logs=False)
        # dfs is served by the blob service: one diagnostic setting per service, or Pulumi
        # declares the same URN twice (and Azure the same setting name on one scope).
        for service_name in sorted({"blob" if g == "dfs" else g for g in groups}):
            args.diagnostics(
                f"{label}-{service_name}svc",
                pulumi.Output.concat(account.id, f"/{service_name}Services/default"),
                parent=account,
            )

    def _account(self, logical: str, account_name: str, *, hns: bool) -> storage.StorageAccount:
        args, where = self._args, self._args.placement
        account = storage.StorageAccount(
            logical,
            account_name=account_name,
            resource_group_name=where.resource_group_name,
            location=where.location,
            tags=where.tags,
            kind="StorageV2",
            sku=storage.SkuArgs(name=args.storage_sku),
            access_tier=storage.AccessTier.HOT,
            is_hns_enabled=hns,
            allow_shared_key_access=False,
            default_to_o_auth_authentication=True,
            allow_blob_public_access=False,
            allow_cross_tenant_replication=False,
            enable_https_traffic_only=True,
            minimum_tls_version="TLS1_2",
            public_network_access=args.public_network_access,
            network_rule_set=storage.NetworkRuleSetArgs(
                default_action=storage.DefaultAction.DENY, bypass="AzureServices"
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        retention = storage.DeleteRetentionPolicyArgs(enabled=True, days=args.storage_soft_delete_days)
        storage.BlobServiceProperties(
            f"{logical}-blobsvc",
            account_name=account.name,
            resource_group_name=where.resource_group_name,
            blob_services_name="default",
            is_versioning_enabled=not hns,
            delete_retention_policy=retention,
            container_delete_retention_policy=retention,
            opts=pulumi.ResourceOptions(parent=account),
        )
        return account

    def _registry(self, name: str) -> containerregistry.Registry:
        args, where = self._args, self._args.placement
        registry = containerregistry.Registry(
            f"{name}-acr",
            registry_name=args.registry_name,
            resource_group_name=where.resource_group_name,
            location=where.location,
            tags=where.tags,
            sku=containerregistry.SkuArgs(name="Premium"),
            admin_user_enabled=False,
            anonymous_pull_enabled=False,
            public_network_access=args.public_network_access,
            network_rule_set=containerregistry.NetworkRuleSetArgs(default_action="Deny"),
            network_rule_bypass_options="AzureServices",
            zone_redundancy="Enabled" if args.registry_zone_redundant else "Disabled",
            policies=containerregistry.PoliciesArgs(
                retention_policy=containerregistry.RetentionPolicyArgs(days=30, status="enabled"),
                export_policy=containerregistry.ExportPolicyArgs(status="disabled")
                if args.block_registry_export
                else None,
                azure_ad_authentication_as_arm_policy=containerregistry.AzureADAuthenticationAsArmPolicyArgs(
                    status="disabled"
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        args.private_endpoints(
            f"cr-{where.base_name}", registry.id, "registry", ["registry"], parent=registry
        )
        args.diagnostics(f"{name}-acr", registry.id, parent=registry)
        return registry
