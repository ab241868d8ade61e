"""The Azure ML workspace, its private endpoint, diagnostics and the training compute cluster."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import machinelearningservices as ml

from .common import Placement
from .config import OutboundRule
from .services import Diagnostics, PrivateEndpoints

OutboundRuleArgs = (
    ml.FqdnOutboundRuleArgs | ml.PrivateEndpointOutboundRuleArgs | ml.ServiceTagOutboundRuleArgs
)
CLUSTER_NAME = "cpu-cluster"


@dataclass(frozen=True)
class ManagedNetwork:
    """Workspace managed network isolation: the cluster lives in Azure's managed VNet."""

    isolation_mode: str
    firewall_sku: str
    # The data lake is not an associated resource of the workspace: it needs its own rules.
    lake_id: pulumi.Input[str]
    # Reviewed egress from the stack config (package feeds, external APIs).
    rules: Sequence[OutboundRule]


@dataclass(frozen=True)
class ClusterArgs:
    vm_size: str
    vm_priority: str
    max_nodes: int
    idle_seconds_before_scale_down: int
    identity_id: pulumi.Input[str]
    # Without a managed network the cluster lives in our training subnet; with one, Azure rejects any.
    subnet_id: pulumi.Input[str] | None
    # Roles the cluster identity must hold before the cluster starts using them.
    depends_on: Sequence[pulumi.Resource]


@dataclass(frozen=True)
class MLWorkspaceArgs:
    placement: Placement
    friendly_name: str
    public_network_access: str
    hbi_workspace: bool
    # None: no managed network (isolation mode Disabled).
    managed_network: ManagedNetwork | None
    identity_id: pulumi.Input[str]
    key_vault_id: pulumi.Input[str]
    storage_id: pulumi.Input[str]
    registry_id: pulumi.Input[str]
    app_insights_id: pulumi.Input[str]
    # Azure validates the workspace identity's data-plane roles when the workspace is created.
    depends_on: Sequence[pulumi.Resource]
    # Pulumi `protect` instead of an Azure lock, which child deployments would inherit.
    protect: bool
    cluster: ClusterArgs
    private_endpoints: PrivateEndpoints
    diagnostics: Diagnostics


class MLWorkspace(pulumi.ComponentResource):
    def __init__(self, name: str, args: MLWorkspaceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlplatform:workspace:MLWorkspace", name, None, opts)
        where, managed = args.placement, args.managed_network
        self.workspace = ml.Workspace(
            f"{name}-mlw",
            workspace_name=f"mlw-{where.base_name}",
            resource_group_name=where.resource_group_name,
            location=where.location,
            tags=where.tags,
            kind="Default",
            sku=ml.SkuArgs(name="Basic", tier=ml.SkuTier.BASIC),
            friendly_name=args.friendly_name,
            # Set explicitly: Azure Policy 438c38d2 treats a missing value as non-compliant.
            public_network_access=args.public_network_access,
            allow_public_access_when_behind_vnet=False,
            hbi_workspace=args.hbi_workspace,
            v1_legacy_mode=False,
            identity=ml.ManagedServiceIdentityArgs(
                type="UserAssigned", user_assigned_identities=[args.identity_id]
            ),
            primary_user_assigned_identity=args.identity_id,
            # Storage has shared keys disabled, so datastores must authenticate with identities.
            system_datastores_auth_mode="Identity",
            key_vault=args.key_vault_id,
            storage_account=args.storage_id,
            container_registry=args.registry_id,
            application_insights=args.app_insights_id,
            image_build_compute=CLUSTER_NAME,
            managed_network=ml.ManagedNetworkSettingsArgs(
                isolation_mode=managed.isolation_mode if managed else "Disabled",
                firewall_sku=managed.firewall_sku if managed else None,
                outbound_rules=_outbound_rules(managed) if managed else None,
            ),
            provision_network_now=managed is not None,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on), protect=args.protect),
        )
        args.private_endpoints(
            f"mlw-{where.base_name}",
            self.workspace.id,
            "amlworkspace",
            ["amlworkspace", "notebooks"],
            parent=self.workspace,
        )
        args.diagnostics(f"{name}-mlw", self.workspace.id, parent=self.workspace)
        self.compute = self._cluster(name, where, args.cluster)
        self.register_outputs({"workspaceId": self.workspace.id, "computeId": self.compute.id})

    def _cluster(self, name: str, where: Placement, cluster: ClusterArgs) -> ml.Compute:
        scale = ml.ScaleSettingsArgs(
            min_node_count=0,
            max_node_count=cluster.max_nodes,
            node_idle_time_before_scale_down=f"PT{cluster.idle_seconds_before_scale_down}S",
        )
        return ml.Compute(
            f"{name}-{CLUSTER_NAME}",
            compute_name=CLUSTER_NAME,
            workspace_name=self.workspace.name,
            resource_group_name=where.resource_group_name,
            location=where.location,
            tags=where.tags,
            identity=ml.ManagedServiceIdentityArgs(
                type="UserAssigned", user_assigned_identities=[cluster.identity_id]
            ),
            properties=ml.AmlComputeArgs(
                compute_type="AmlCompute",
                disable_local_auth=True,
                description="Training cluster; scales to zero when idle",
                properties=ml.AmlComputePropertiesArgs(
                    vm_size=cluster.vm_size,
                    vm_priority=cluster.vm_priority,
                    os_type="Linux",
                    enable_node_public_ip=False,
                    remote_login_port_public_access="Disabled",
                    scale_settings=scale,
                    subnet=ml.ResourceIdArgs(id=cluster.subnet_id) if cluster.subnet_id is not None else None,
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(cluster.depends_on)),
        )


def _outbound_rules(managed: ManagedNetwork) -> dict[str, OutboundRuleArgs]:
    """Approved egress for the managed VNet.

    Azure adds the Required rules for the workspace's own storage, Key Vault and registry. The data
    lake is not an associated resource, so it needs its own private-endpoint rules; everything else
    (package feeds, external APIs) comes from the stack config, reviewed like code.
    """
    rules: dict[str, OutboundRuleArgs] = {
        f"lake-{sub}": ml.PrivateEndpointOutboundRuleArgs(
            type="PrivateEndpoint",
            category="UserDefined",
            destination=ml.PrivateEndpointDestinationArgs(
                service_resource_id=managed.lake_id, subresource_target=sub
            ),
        )
        for sub in ("blob", "dfs")
    }
    for rule in managed.rules:
        rules[rule.name] = _configured_rule(rule)
    return rules


def _configured_rule(rule: OutboundRule) -> OutboundRuleArgs:
    if rule.type == "FQDN":
        return ml.FqdnOutboundRuleArgs(type="FQDN", category="UserDefined", destination=rule.destination)
    return ml.ServiceTagOutboundRuleArgs(
        type="ServiceTag",
        category="UserDefined",
        destination=ml.ServiceTagDestinationArgs(
            service_tag=rule.destination, protocol=rule.protocol, port_ranges=rule.port_ranges, action="Allow"
        ),
    )
