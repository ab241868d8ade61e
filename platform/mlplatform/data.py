"""The workspace's dependent services: Key Vault, storage (workspace store + ADLS Gen2 lake), ACR.

Each is private by default: public network access follows the stack (Disabled in prod), network
rules default to Deny, local keys and admin users are off, and each gets private endpoints and
diagnostic settings.
"""

from __future__ import annotations

import pulumi
from pulumi_azure_native import containerregistry, keyvault, storage

from .config import PlatformConfig
from .network import Network
from .observability import Observability


class DataServices(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        cfg: PlatformConfig,
        resource_group: pulumi.Input[str],
        tenant_id: pulumi.Input[str],
        net: Network,
        obs: Observability,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlplatform:data:DataServices", name, None, opts)
        here = pulumi.ResourceOptions(parent=self)
        compact = f"{cfg.project}{cfg.environment}{cfg.name_suffix}"

        self.key_vault = keyvault.Vault(
            f"{name}-kv",
            vault_name=f"kv-{cfg.base_name}-{cfg.name_suffix}"[:24],
            resource_group_name=resource_group,
            location=cfg.location,
            tags=cfg.tags,
            properties=keyvault.VaultPropertiesArgs(
                tenant_id=tenant_id,
                sku=keyvault.SkuArgs(family=keyvault.SkuFamily.A, name=keyvault.SkuName.STANDARD),
                enable_rbac_authorization=True,
                enable_purge_protection=True,
                enable_soft_delete=True,
                soft_delete_retention_in_days=cfg.key_vault_soft_delete_days,
                public_network_access=cfg.public_network_access,
                network_acls=keyvault.NetworkRuleSetArgs(default_action="Deny", bypass="AzureServices"),
                enabled_for_deployment=False,
                enabled_for_disk_encryption=False,
                enabled_for_template_deployment=False,
            ),
            opts=here,
        )
        net.private_endpoint(
            f"kv-{cfg.base_name}", self.key_vault.id, "vault", ["vault"], parent=self.key_vault
        )
        obs.send_logs(f"{name}-kv", self.key_vault.id, parent=self.key_vault)

        # The workspace's default store cannot have a hierarchical namespace, and blob versioning is
        # not available on one; so the workspace store keeps versioning and the lake (ADLS Gen2,
        # for data assets) keeps HNS. Both get soft delete for blobs and containers.
        self.storage = self._account(f"{name}-st", f"st{compact}"[:24], cfg, resource_group, hns=False)
        self.lake = self._account(f"{name}-dls", f"dls{compact}"[:24], cfg, resource_group, hns=True)
        for label, account, groups in (
            (f"st-{cfg.base_name}", self.storage, ("blob", "file")),
            (f"dls-{cfg.base_name}", self.lake, ("blob", "dfs")),
        ):
            for group in groups:
                net.private_endpoint(f"{label}-{group}", account.id, group, [group], parent=account)
            obs.send_logs(f"{label}", account.id, parent=account, logs=False)
            # dfs is served by the blob service: one diagnostic setting per service, or Pulumi
            # declares the same URN twice (and Azure the same setting name on one scope).
            for service_name in sorted({"blob" if g == "dfs" else g for g in groups}):
                obs.send_logs(
                    f"{label}-{service_name}svc",
                    pulumi.Output.concat(account.id, f"/{service_name}Services/default"),
                    parent=account,
                )

        # A dedicated container for online-endpoint data collection, so the endpoint identity can
        # be granted write access to it alone.
        self.collection_container = storage.BlobContainer(
            f"{name}-st-modeldata",
            container_name="modeldata",
            account_name=self.storage.name,
            resource_group_name=resource_group,
            public_access=storage.PublicAccess.NONE,
            opts=pulumi.ResourceOptions(parent=self.storage),
        )

        self.registry = containerregistry.Registry(
            f"{name}-acr",
            registry_name=f"cr{compact}"[:50],
            resource_group_name=resource_group,
            location=cfg.location,
            tags=cfg.tags,
            sku=containerregistry.SkuArgs(name="Premium"),
            admin_user_enabled=False,
            anonymous_pull_enabled=False,
            public_network_access=cfg.public_network_access,
            network_rule_set=containerregistry.NetworkRuleSetArgs(default_action="Deny"),
            network_rule_bypass_options="AzureServices",
            zone_redundancy="Enabled" if cfg.environment == "prod" else "Disabled",
            policies=containerregistry.PoliciesArgs(
                retention_policy=containerregistry.RetentionPolicyArgs(days=30, status="enabled"),
                export_policy=containerregistry.ExportPolicyArgs(status="disabled")
                if cfg.is_private
                else None,
                azure_ad_authentication_as_arm_policy=containerregistry.AzureADAuthenticationAsArmPolicyArgs(
                    status="disabled"
                ),
            ),
            opts=here,
        )
        net.private_endpoint(
            f"cr-{cfg.base_name}", self.registry.id, "registry", ["registry"], parent=self.registry
        )
        obs.send_logs(f"{name}-acr", self.registry.id, parent=self.registry)

        self.register_outputs(
            {
                "keyVaultId": self.key_vault.id,
                "storageId": self.storage.id,
                "lakeId": self.lake.id,
                "registryId": self.registry.id,
            }
        )

    def _account(
        self,
        logical: str,
        account_name: str,
        cfg: PlatformConfig,
        resource_group: pulumi.Input[str],
        *,
        hns: bool,
    ) -> storage.StorageAccount:
        account = storage.StorageAccount(
            logical,
            account_name=account_name,
            resource_group_name=resource_group,
            location=cfg.location,
            tags=cfg.tags,
            kind="StorageV2",
            sku=storage.SkuArgs(name=cfg.storage_sku),
            access_tier=storage.AccessTier.HOT,
            is_hns_enabled=hns,
            allow_shared_key_access=False,
            default_to_o_auth_authentication=True,
            allow_blob_public_access=False,
            allow_cross_tenant_replication=False,
            enable_https_traffic_only=True,
            minimum_tls_version="TLS1_2",
            public_network_access=cfg.public_network_access,
            network_rule_set=storage.NetworkRuleSetArgs(
                default_action=storage.DefaultAction.DENY, bypass="AzureServices"
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        retention = storage.DeleteRetentionPolicyArgs(enabled=True, days=cfg.storage_soft_delete_days)
        storage.BlobServiceProperties(
            f"{logical}-blobsvc",
            account_name=account.name,
            resource_group_name=resource_group,
            blob_services_name="default",
            is_versioning_enabled=not hns,
            delete_retention_policy=retention,
            container_delete_retention_policy=retention,
            opts=pulumi.ResourceOptions(parent=account),
        )
        return account
