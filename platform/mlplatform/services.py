"""Cross-cutting services the components are handed: private endpoints and diagnostic settings.

Several components need a private endpoint or a diagnostic setting for what they create, but none
of them should know the network or the Log Analytics workspace behind it. Each need is a small
Protocol here; the composition (program.py) creates one implementation of each and passes it in
the Args of the components that use it. Both implementations parent what they create to the
resource they serve, so the resource tree reads "the vault, its endpoint, its diagnostics".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import pulumi
from pulumi_azure_native import monitor, network

from .common import Placement


class PrivateEndpoints(Protocol):
    def __call__(
        self,
        name: str,
        target_id: pulumi.Input[str],
        group_id: str,
        zone_keys: Sequence[str],
        *,
        parent: pulumi.Resource,
    ) -> None:
        """A private endpoint to `group_id` of `target_id`, registered in the zones of `zone_keys`."""


class Diagnostics(Protocol):
    def __call__(
        self, name: str, resource_uri: pulumi.Input[str], *, parent: pulumi.Resource, logs: bool = True
    ) -> None:
        """Send the resource's metrics (and, when `logs`, all its log categories) to Log Analytics."""


class SubnetPrivateEndpoints:
    """Private endpoints in one subnet, each with one DNS zone group holding all its zones."""

    def __init__(
        self,
        placement: Placement,
        subnet_id: pulumi.Input[str],
        zone_ids: Mapping[str, pulumi.Input[str]],
    ) -> None:
        self._placement = placement
        self._subnet_id = subnet_id
        self._zone_ids = zone_ids

    def __call__(
        self,
        name: str,
        target_id: pulumi.Input[str],
        group_id: str,
        zone_keys: Sequence[str],
        *,
        parent: pulumi.Resource,
    ) -> None:
        where = self._placement
        endpoint = network.PrivateEndpoint(
            f"{name}-pe",
            private_endpoint_name=f"pe-{name}",
            resource_group_name=where.resource_group_name,
            location=where.location,
            tags=where.tags,
            subnet=network.SubnetArgs(id=self._subnet_id),
            custom_network_interface_name=f"nic-pe-{name}",
            private_link_service_connections=[
                network.PrivateLinkServiceConnectionArgs(
                    name=f"plsc-{name}", private_link_service_id=target_id, group_ids=[group_id]
                )
            ],
            opts=pulumi.ResourceOptions(parent=parent),
        )
        network.PrivateDnsZoneGroup(
            f"{name}-pe-dns",
            private_dns_zone_group_name="default",
            private_endpoint_name=endpoint.name,
            resource_group_name=where.resource_group_name,
            private_dns_zone_configs=[
                network.PrivateDnsZoneConfigArgs(name=key, private_dns_zone_id=self._zone_ids[key])
                for key in zone_keys
            ],
            opts=pulumi.ResourceOptions(parent=endpoint),
        )


class LogAnalyticsDiagnostics:
    """Diagnostic settings that send to one Log Analytics workspace."""

    def __init__(self, workspace_id: pulumi.Input[str]) -> None:
        self._workspace_id = workspace_id

    def __call__(
        self, name: str, resource_uri: pulumi.Input[str], *, parent: pulumi.Resource, logs: bool = True
    ) -> None:
        monitor.DiagnosticSetting(
            f"{name}-diag",
            name="to-log-analytics",
            resource_uri=resource_uri,
            workspace_id=self._workspace_id,
            logs=[monitor.DiagnosticsLogSettingsArgs(category_group="allLogs", enabled=True)]
            if logs
            else None,
            metrics=[monitor.DiagnosticsMetricSettingsArgs(category="AllMetrics", enabled=True)],
            opts=pulumi.ResourceOptions(parent=parent),
        )
