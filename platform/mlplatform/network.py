"""Spoke network: VNet, subnets, NSG, private DNS zones (or central ones) and private endpoints."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
from pulumi_azure_native import network, privatedns

from .common import DNS_ZONES
from .config import PlatformConfig


class Network(pulumi.ComponentResource):
    """The environment's VNet with a private-endpoint subnet and a training subnet.

    Private DNS zones are created and linked here unless the stack names centrally owned zones
    (hub-and-spoke), in which case their IDs are used as they are and nothing is created.
    """

    zone_ids: dict[str, pulumi.Output[str]]

    def __init__(
        self,
        name: str,
        cfg: PlatformConfig,
        resource_group: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlplatform:network:Network", name, None, opts)
        self._cfg = cfg
        self._resource_group = resource_group
        here = pulumi.ResourceOptions(parent=self)

        self.nsg = network.NetworkSecurityGroup(
            f"{name}-nsg-training",
            network_security_group_name=f"nsg-{cfg.base_name}-training",
            resource_group_name=resource_group,
            location=cfg.location,
            tags=cfg.tags,
            security_rules=_training_rules(),
            opts=here,
        )
        self.vnet = network.VirtualNetwork(
            f"{name}-vnet",
            virtual_network_name=f"vnet-{cfg.base_name}",
            resource_group_name=resource_group,
            location=cfg.location,
            tags=cfg.tags,
            address_space=network.AddressSpaceArgs(address_prefixes=[cfg.network.address_space]),
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["subnets"]),
        )
        # Subnets are separate resources (not inline) so that adding one never recreates the VNet,
        # and default outbound access is off: egress must be designed, not implicit.
        self.pe_subnet = network.Subnet(
            f"{name}-snet-pe",
            subnet_name="snet-private-endpoints",
            resource_group_name=resource_group,
            virtual_network_name=self.vnet.name,
            address_prefix=cfg.network.private_endpoint_subnet,
            private_endpoint_network_policies="Enabled",
            default_outbound_access=False,
            opts=here,
        )
        # Nodes without public IPs and without default outbound access still need a path to the
        # Azure services the NSG allows (Batch, AML, Entra ID, ARM, Monitor): a NAT gateway gives
        # them egress-only connectivity. Not needed when compute lives in the managed VNet.
        nat_gateway: network.SubResourceArgs | None = None
        if cfg.workspace.isolation_mode == "Disabled":
            egress_ip = network.PublicIPAddress(
                f"{name}-pip-nat",
                public_ip_address_name=f"pip-{cfg.base_name}-nat",
                resource_group_name=resource_group,
                location=cfg.location,
                tags=cfg.tags,
                sku=network.PublicIPAddressSkuArgs(name="Standard", tier="Regional"),
                public_ip_allocation_method="Static",
                public_ip_address_version="IPv4",
                opts=here,
            )
            self.nat = network.NatGateway(
                f"{name}-nat",
                nat_gateway_name=f"ng-{cfg.base_name}",
                resource_group_name=resource_group,
                location=cfg.location,
                tags=cfg.tags,
                sku=network.NatGatewaySkuArgs(name="Standard"),
                idle_timeout_in_minutes=10,
                public_ip_addresses=[network.SubResourceArgs(id=egress_ip.id)],
                opts=here,
            )
            nat_gateway = network.SubResourceArgs(id=self.nat.id)
        self.training_subnet = network.Subnet(
            f"{name}-snet-training",
            subnet_name="snet-training",
            resource_group_name=resource_group,
            virtual_network_name=self.vnet.name,
            address_prefix=cfg.network.training_subnet,
            network_security_group=network.NetworkSecurityGroupArgs(id=self.nsg.id),
            nat_gateway=nat_gateway,
            default_outbound_access=False,
            service_endpoints=[
                network.ServiceEndpointPropertiesFormatArgs(service=s)
                for s in ("Microsoft.Storage", "Microsoft.KeyVault", "Microsoft.ContainerRegistry")
            ],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.pe_subnet]),
        )

        self.zone_ids = {}
        for key, zone_name in DNS_ZONES.items():
            central = cfg.network.central_dns_zone_ids.get(zone_name)
            if central:
                self.zone_ids[key] = pulumi.Output.from_input(central)
                continue
            zone = privatedns.PrivateZone(
                f"{name}-zone-{key}",
                private_zone_name=zone_name,
                resource_group_name=resource_group,
                location="global",
                tags=cfg.tags,
                opts=here,
            )
            privatedns.VirtualNetworkLink(
                f"{name}-zone-{key}-link",
                virtual_network_link_name=f"link-{cfg.base_name}",
                private_zone_name=zone.name,
                resource_group_name=resource_group,
                location="global",
                registration_enabled=False,
                virtual_network=privatedns.SubResourceArgs(id=self.vnet.id),
                tags=cfg.tags,
                opts=pulumi.ResourceOptions(parent=zone),
            )
            self.zone_ids[key] = zone.id

        self.register_outputs({"vnetId": self.vnet.id, "privateEndpointSubnetId": self.pe_subnet.id})

    def private_endpoint(
        self,
        name: str,
        target_id: pulumi.Input[str],
        group_id: str,
        zone_keys: Sequence[str],
        parent: pulumi.Resource,
    ) -> network.PrivateEndpoint:
        """A private endpoint in the PE subnet plus its DNS zone group (one group, all zones)."""
        cfg = self._cfg
        endpoint = network.PrivateEndpoint(
            f"{name}-pe",
            private_endpoint_name=f"pe-{name}",
            resource_group_name=self._resource_group,
            location=cfg.location,
            tags=cfg.tags,
            subnet=network.SubnetArgs(id=self.pe_subnet.id),
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
            resource_group_name=self._resource_group,
            private_dns_zone_configs=[
                network.PrivateDnsZoneConfigArgs(name=key, private_dns_zone_id=self.zone_ids[key])
                for key in zone_keys
            ],
            opts=pulumi.ResourceOptions(parent=endpoint),
        )
        return endpoint


def _rule(
    name: str,
    priority: int,
    direction: str,
    access: str,
    source: str,
    destination: str,
    ports: str,
    protocol: str = "Tcp",
) -> network.SecurityRuleArgs:
    return network.SecurityRuleArgs(
        name=name,
        priority=priority,
        direction=direction,
        access=access,
        protocol=protocol,
        source_address_prefix=source,
        source_port_range="*",
        destination_address_prefix=destination,
        destination_port_range=ports,
    )


def _training_rules() -> list[network.SecurityRuleArgs]:
    # What an AML compute cluster in a customer VNet needs (Batch node management and AML inbound,
    # 443 to the Azure services it uses) and nothing more. Inbound from the internet is already
    # denied by the NSG's default rules; outbound to the internet is allowed by default, so deny it.
    rules = [
        _rule(
            "AllowBatchNodeManagement",
            100,
            "Inbound",
            "Allow",
            "BatchNodeManagement",
            "VirtualNetwork",
            "29876-29877",
        ),
        _rule(
            "AllowAzureMachineLearning",
            110,
            "Inbound",
            "Allow",
            "AzureMachineLearning",
            "VirtualNetwork",
            "44224",
        ),
    ]
    for i, tag in enumerate(
        (
            "AzureMachineLearning",
            "Storage",
            "AzureKeyVault",
            "AzureContainerRegistry",
            "AzureActiveDirectory",
            "AzureResourceManager",
            "AzureMonitor",
            "BatchNodeManagement",
        )
    ):
        rules.append(
            _rule(f"Allow{tag}Outbound", 100 + i * 10, "Outbound", "Allow", "VirtualNetwork", tag, "443")
        )
    rules.append(
        _rule("DenyInternetOutbound", 4000, "Outbound", "Deny", "VirtualNetwork", "Internet", "*", "*")
    )
    return rules
