"""What the stack configuration means for each component: PlatformConfig -> <Component>Args.

This is the one place that reads the typed configuration (config.py reads and checks the stack
file; program.py composes). Every decision that differs between stacks is made here and handed to
the component as an explicit Args field, so a component never asks which environment it is in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi

from .common import Placement
from .config import PlatformConfig
from .data import DataServices, DataServicesArgs
from .governance import GovernanceArgs
from .identity import Identities, IdentitiesArgs
from .network import Network, NetworkArgs
from .observability import Observability, ObservabilityArgs
from .policy import PolicyArgs
from .rbac import Principal, RbacArgs
from .services import Diagnostics, PrivateEndpoints
from .workspace import ClusterArgs, ManagedNetwork, MLWorkspaceArgs


@dataclass(frozen=True)
class Site:
    """The stack's identity: what it is called, where it runs, how its resources are tagged."""

    environment: str
    location: str
    base_name: str
    tags: Mapping[str, str]

    @property
    def resource_group_name(self) -> str:
        return f"rg-{self.base_name}"

    def placement(self, resource_group_name: pulumi.Input[str]) -> Placement:
        return Placement(resource_group_name, self.location, self.tags, self.base_name)


def site(cfg: PlatformConfig) -> Site:
    return Site(
        environment=cfg.environment,
        location=cfg.location,
        base_name=f"{cfg.project}-{cfg.environment}",
        tags={
            "environment": cfg.environment,
            "project": cfg.project,
            "owner": cfg.owner,
            "cost-center": cfg.cost_center,
            "managed-by": "pulumi",
        },
    )


def _managed_network(cfg: PlatformConfig) -> bool:
    return cfg.workspace.isolation_mode != "Disabled"


def observability_args(cfg: PlatformConfig, where: Placement) -> ObservabilityArgs:
    return ObservabilityArgs(
        placement=where,
        public_network_access=cfg.public_network_access,
        log_retention_days=cfg.log_retention_days,
        alert_emails=tuple(dict.fromkeys((cfg.owner, *cfg.budget.contact_emails))),
        action_group_short_name=f"{cfg.project[:6]}{cfg.environment[:6]}"[:12],
    )


def network_args(cfg: PlatformConfig, where: Placement) -> NetworkArgs:
    return NetworkArgs(
        placement=where,
        address_space=cfg.network.address_space,
        private_endpoint_subnet=cfg.network.private_endpoint_subnet,
        training_subnet=cfg.network.training_subnet,
        # The cluster egresses through our NAT gateway only when it lives in our training subnet.
        nat_egress=not _managed_network(cfg),
        central_dns_zone_ids=cfg.network.central_dns_zone_ids,
    )


def identities_args(cfg: PlatformConfig, where: Placement) -> IdentitiesArgs:
    return IdentitiesArgs(
        placement=where,
        github_repository=cfg.ci.github_repository,
        github_environment=cfg.ci.github_environment,
    )


def data_args(
    cfg: PlatformConfig,
    where: Placement,
    tenant_id: pulumi.Input[str],
    *,
    private_endpoints: PrivateEndpoints,
    diagnostics: Diagnostics,
) -> DataServicesArgs:
    # Storage and registry names allow no dashes and are global: project, environment and suffix.
    compact = f"{cfg.project}{cfg.environment}{cfg.name_suffix}"
    return DataServicesArgs(
        placement=where,
        tenant_id=tenant_id,
        key_vault_name=f"kv-{where.base_name}-{cfg.name_suffix}"[:24],
        storage_account_name=f"st{compact}"[:24],
        lake_account_name=f"dls{compact}"[:24],
        registry_name=f"cr{compact}"[:50],
        public_network_access=cfg.public_network_access,
        key_vault_soft_delete_days=cfg.key_vault_soft_delete_days,
        storage_sku=cfg.storage_sku,
        storage_soft_delete_days=cfg.storage_soft_delete_days,
        # Zone redundancy is a property of the production environment, not a free setting.
        registry_zone_redundant=cfg.environment == "prod",
        block_registry_export=cfg.public_network_access == "Disabled",
        private_endpoints=private_endpoints,
        diagnostics=diagnostics,
    )


def rbac_args(
    cfg: PlatformConfig, ids: Identities, subscription_id: pulumi.Input[str], *, name_prefix: str
) -> RbacArgs:
    principal_ids: dict[Principal, pulumi.Input[str]] = {
        "workspace": ids.workspace.principal_id,
        "compute": ids.compute.principal_id,
        "endpoints": ids.endpoints.principal_id,
        "ci": ids.ci.principal_id,
        "ci_plan": ids.ci_plan.principal_id,
    }
    return RbacArgs(
        stack=cfg.stack,
        subscription_id=subscription_id,
        managed_network=_managed_network(cfg),
        principal_ids=principal_ids,
        parent=ids,
        name_prefix=name_prefix,
    )


@dataclass(frozen=True)
class WorkspaceInputs:
    """What the workspace takes from the components composed before it."""

    net: Network
    obs: Observability
    data: DataServices
    ids: Identities
    # The data-plane grants (rbac.Rbac.before_workspace) per principal.
    grants: Mapping[Principal, Sequence[pulumi.Resource]]
    private_endpoints: PrivateEndpoints
    diagnostics: Diagnostics


def workspace_args(cfg: PlatformConfig, where: Placement, given: WorkspaceInputs) -> MLWorkspaceArgs:
    managed = _managed_network(cfg)
    return MLWorkspaceArgs(
        placement=where,
        friendly_name=f"{cfg.project} {cfg.environment}",
        public_network_access=cfg.public_network_access,
        hbi_workspace=cfg.workspace.hbi_workspace,
        managed_network=ManagedNetwork(
            isolation_mode=cfg.workspace.isolation_mode,
            firewall_sku=cfg.workspace.firewall_sku,
            lake_id=given.data.lake.id,
            rules=cfg.workspace.outbound_rules,
        )
        if managed
        else None,
        identity_id=given.ids.workspace.id,
        key_vault_id=given.data.key_vault.id,
        storage_id=given.data.storage.id,
        registry_id=given.data.registry.id,
        app_insights_id=given.obs.app_insights.id,
        depends_on=given.grants.get("workspace", ()),
        protect=cfg.delete_locks,
        cluster=ClusterArgs(
            vm_size=cfg.compute.vm_size,
            vm_priority="LowPriority" if cfg.compute.low_priority else "Dedicated",
            max_nodes=cfg.compute.max_nodes,
            idle_seconds_before_scale_down=cfg.compute.idle_seconds_before_scale_down,
            identity_id=given.ids.compute.id,
            # With workspace managed network isolation the cluster lives in the managed VNet
            # (Azure rejects a customer subnet there); without it, in our training subnet.
            subnet_id=None if managed else given.net.training_subnet.id,
            depends_on=given.grants.get("compute", ()),
        ),
        private_endpoints=given.private_endpoints,
        diagnostics=given.diagnostics,
    )


def governance_args(
    cfg: PlatformConfig,
    where: Placement,
    resource_group_id: pulumi.Input[str],
    *,
    action_group_id: pulumi.Input[str],
    data: DataServices,
) -> GovernanceArgs:
    stores = {"keyvault": data.key_vault.id, "storage": data.storage.id, "lake": data.lake.id}
    return GovernanceArgs(
        base_name=where.base_name,
        environment=cfg.environment,
        resource_group_id=resource_group_id,
        action_group_id=action_group_id,
        budget_amount=cfg.budget.amount,
        budget_start_date=cfg.budget.start_date,
        contact_emails=cfg.budget.contact_emails,
        actual_thresholds=cfg.budget.actual_thresholds,
        forecast_thresholds=cfg.budget.forecast_thresholds,
        locks=stores if cfg.delete_locks else {},
    )


def policy_args(
    cfg: PlatformConfig, resource_group_id: pulumi.Input[str], subscription_id: pulumi.Input[str]
) -> PolicyArgs:
    return PolicyArgs(
        stack=cfg.stack,
        environment=cfg.environment,
        location=cfg.location,
        resource_group_id=resource_group_id,
        subscription_id=subscription_id,
        effect=cfg.policy.effect,
        # Audit also switches off the fixed-Deny built-ins (allowed locations, required tags).
        enforcement_mode="Default" if cfg.policy.effect == "Deny" else "DoNotEnforce",
        allowed_locations=cfg.policy.allowed_locations,
        exemptions=cfg.policy.exemptions,
    )
