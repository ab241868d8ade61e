"""The Azure ML workspace, its private endpoint, diagnostics and the training compute cluster."""

from __future__ import annotations

import pulumi
from pulumi_azure_native import machinelearningservices as ml

from .config import PlatformConfig
from .data import DataServices
from .identity import Identities
from .network import Network
from .observability import Observability


class MLWorkspace(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        cfg: PlatformConfig,
        resource_group: pulumi.Input[str],
        net: Network,
        obs: Observability,
        data: DataServices,
        ids: Identities,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlplatform:workspace:MLWorkspace", name, None, opts)
        managed = cfg.workspace.isolation_mode != "Disabled"

        self.workspace = ml.Workspace(
            f"{name}-mlw",
            workspace_name=f"mlw-{cfg.base_name}",
            resource_group_name=resource_group,
            location=cfg.location,
            tags=cfg.tags,
            kind="Default",
            sku=ml.SkuArgs(name="Basic", tier=ml.SkuTier.BASIC),
            friendly_name=f"{cfg.project} {cfg.environment}",
            # Set explicitly: Azure Policy 438c38d2 treats a missing value as non-compliant.
            public_network_access=cfg.public_network_access,
            allow_public_access_when_behind_vnet=False,
            hbi_workspace=cfg.workspace.hbi_workspace,
            v1_legacy_mode=False,
            identity=ml.ManagedServiceIdentityArgs(
                type="UserAssigned", user_assigned_identities=[ids.workspace.id]
            ),
            primary_user_assigned_identity=ids.workspace.id,
            # Storage has shared keys disabled, so datastores must authenticate with identities.
            system_datastores_auth_mode="Identity",
            key_vault=data.key_vault.id,
            storage_account=data.storage.id,
            container_registry=data.registry.id,
            application_insights=obs.app_insights.id,
            image_build_compute="cpu-cluster",
            managed_network=ml.ManagedNetworkSettingsArgs(
                isolation_mode=cfg.workspace.isolation_mode,
                firewall_sku=cfg.workspace.firewall_sku if managed else None,
                outbound_rules=_outbound_rules(cfg, data) if managed else None,
            ),
            provision_network_now=managed,
            # The workspace identity must hold its data-plane roles before Azure validates them.
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=ids.workspace_grants, protect=cfg.delete_locks
            ),
        )
        net.private_endpoint(
            f"mlw-{cfg.base_name}",
            self.workspace.id,
            "amlworkspace",
            ["amlworkspace", "notebooks"],
            parent=self.workspace,
        )
        obs.send_logs(f"{name}-mlw", self.workspace.id, parent=self.workspace)

        scale = ml.ScaleSettingsArgs(
            min_node_count=0,
            max_node_count=cfg.compute.max_nodes,
            node_idle_time_before_scale_down=f"PT{cfg.compute.idle_seconds_before_scale_down}S",
        )
        self.compute = ml.Compute(
            f"{name}-cpu-cluster",
            compute_name="cpu-cluster",
            workspace_name=self.workspace.name,
            resource_group_name=resource_group,
            location=cfg.location,
            tags=cfg.tags,
            identity=ml.ManagedServiceIdentityArgs(
                type="UserAssigned", user_assigned_identities=[ids.compute.id]
            ),
            properties=ml.AmlComputeArgs(
                compute_type="AmlCompute",
                disable_local_auth=True,
                description="Training cluster; scales to zero when idle",
                properties=ml.AmlComputePropertiesArgs(
                    vm_size=cfg.compute.vm_size,
                    vm_priority="LowPriority" if cfg.compute.low_priority else "Dedicated",
                    os_type="Linux",
                    enable_node_public_ip=False,
                    remote_login_port_public_access="Disabled",
                    scale_settings=scale,
                    # With workspace managed network isolation the cluster lives in the managed VNet
                    # (Azure rejects a customer subnet there); without it, in our training subnet.
                    subnet=None if managed else ml.ResourceIdArgs(id=net.training_subnet.id),
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=ids.compute_grants),
        )
        self.register_outputs({"workspaceId": self.workspace.id, "computeId": self.compute.id})


OutboundRuleArgs = (
    ml.FqdnOutboundRuleArgs | ml.PrivateEndpointOutboundRuleArgs | ml.ServiceTagOutboundRuleArgs
)


def _outbound_rules(cfg: PlatformConfig, data: DataServices) -> dict[str, OutboundRuleArgs]:
    """Approved egress for the managed VNet.

    Azure adds the Required rules for the workspace's own storage, Key Vault and registry. The data
    lake is not an associated resource, so it needs its own private-endpoint rules; everything else
    (package feeds, external APIs) comes from the stack config, reviewed like code.
    """
    rules: dict[str, OutboundRuleArgs] = {}
    for sub in ("blob", "dfs"):
        rules[f"lake-{sub}"] = ml.PrivateEndpointOutboundRuleArgs(
            type="PrivateEndpoint",
            category="UserDefined",
            destination=ml.PrivateEndpointDestinationArgs(
                service_resource_id=data.lake.id, subresource_target=sub
            ),
        )
    for rule in cfg.workspace.outbound_rules:
        if rule.type == "FQDN":
            rules[rule.name] = ml.FqdnOutboundRuleArgs(
                type="FQDN", category="UserDefined", destination=rule.destination
            )
        else:
            rules[rule.name] = ml.ServiceTagOutboundRuleArgs(
                type="ServiceTag",
                category="UserDefined",
                destination=ml.ServiceTagDestinationArgs(
                    service_tag=rule.destination,
                    protocol=rule.protocol,
                    port_ranges=rule.port_ranges,
                    action="Allow",
                ),
            )
    return rules
