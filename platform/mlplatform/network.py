"""Spoke network: VNet, subnets, NSG, NAT egress and private DNS zones (or central ones).

Private endpoints in the endpoint subnet are created by services.SubnetPrivateEndpoints, built
from this component's `pe_subnet` and `zone_ids` and handed to the components that need them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import network, privatedns

from .common import DNS_ZONES, Placement


@dataclass(frozen=True)
class NetworkArgs:
    placement: Placement
    address_space: str
    private_endpoint_subnet: str
    training_subnet: str
    # Nodes without public IPs and without default outbound access still need a path to the
    # Azure services the NSG allows: a NAT gateway. Not needed when compute lives in a managed VNet.
    nat_egress: bool
    # Zone name -> ID of a centrally owned (hub) zone; those zones are used, not created.
    central_dns_zone_ids: Mapping[str, str]


class Network(pulumi.ComponentResource):
    """The environment's VNet with a private-endpoint subnet and a training subnet.

    Private DNS zones are created and linked here unless the stack names centrally owned zones
    (hub-and-spoke), in which case their IDs are used as they are and nothing is created.
    """

    zone_ids: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlplatform:network:Network", name, None, opts)
        here = pulumi.ResourceOptions(parent=self)
        where = args.placement

        self.nsg = network.NetworkSecurityGroup(
            f"{name}-nsg-training",
            network_security_group_name=f"nsg-{where.base_name}-training",
            resource_group_name=where.resource_group_name,
            location=where.location,
            tags=where.tags,
            security_rules=_training_rules(),
            opts=here,
        )
        self.vnet = network.VirtualNetwork(
            f"{name}-vnet",
            virtual_network_name=f"vnet-{where.base_name}",
            resource_group_name=where.resource_group_name,
            location=where.location,
            tags=where.tags,
            address_space=network.AddressSpaceArgs(address_prefixes=[args.address_space]),
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["subnets"]),
        )
        # Subnets are separate resources (not inline) so that adding one never recreates the VNet,
        # and default outbound access is off: egress must be designed, not implicit.
        self.pe_subnet = network.Subnet(
            f"{name}-snet-pe",
            subnet_name="snet-private-endpoints",
            resource_group_name=where.resource_group_name,
            virtual_network_name=self.vnet.name,
            address_prefix=args.private_endpoint_subnet,
            private_endpoint_network_policies="Enabled",
            default_outbound_access=False,
            opts=here,
        )
        nat_gateway = self._nat_gateway(name, where) if args.nat_egress else None
        self.training_subnet = network.Subnet(
            f"{name}-snet-training",
            subnet_name="snet-training",
            resource_group_name=where.resource_group_name,
            virtual_network_name=self.vnet.name,
            address_prefix=args.training_subnet,
            network_security_group=network.NetworkSecurityGroupArgs(id=self.nsg.id),
            nat_gateway=nat_gateway,
            default_outbound_access=False,
            service_endpoints=[
                network.ServiceEndpointPropertiesFormatArgs(service=s)
                for s in ("Microsoft.Storage", "Microsoft.KeyVault", "Microsoft.ContainerRegistry")
            ],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.pe_subnet]),
        )
        self.zone_ids = {
            key: self._zone(name, where, key, zone_name, args.central_dns_zone_ids.get(zone_name))
            for key, zone_name in DNS_ZONES.items()
        }
        self.register_outputs({"vnetId": self.vnet.id, "privateEndpointSubnetId": self.pe_subnet.id})

    def _nat_gateway(self, name: str, where: Placement) -> network.SubResourceArgs:
        """Egress-only connectivity for nodes without public IPs."""
        here = pulumi.ResourceOptions(parent=self)
        egress_ip = network.PublicIPAddress(
            f"{name}-pip-nat",
            public_ip_address_name=f"pip-{where.base_name}-nat",
            resource_group_name=where.resource_group_name,
            location=where.location,
            tags=where.tags,
            sku=network.PublicIPAddressSkuArgs(name="Standard", tier="Regional"),
            public_ip_allocation_method="Static",
            public_ip_address_version="IPv4",
            opts=here,
        )
        self.nat = network.NatGateway(
            f"{name}-nat",
            nat_gateway_name=f"ng-{where.base_name}",
            resource_group_name=where.resource_group_name,
            location=where.location,
            tags=where.tags,
            sku=network.NatGatewaySkuArgs(name="Standard"),
            idle_timeout_in_minutes=10,
            public_ip_addresses=[network.SubResourceArgs(id=egress_ip.id)],
            opts=here,
        )
        return network.SubResourceArgs(id=self.nat.id)

    def _zone(
        self, name: str, where: Placement, key: str, zone_name: str, central_id: str | None
    ) -> pulumi.Output[str]:
        """A private DNS zone linked to the VNet, or the central zone's ID when the hub owns it."""
        if central_id:
            return pulumi.Output.from_input(central_id)
        zone = privatedns.PrivateZone(
            f"{name}-zone-{key}",
            private_zone_name=zone_name,
            resource_group_name=where.resource_group_name,
            location="global",
            tags=where.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        privatedns.VirtualNetworkLink(
            f"{name}-zone-{key}-link",
            virtual_network_link_name=f"link-{where.base_name}",
            private_zone_name=zone.name,
            resource_group_name=where.resource_group_name,
            location="global",
            registration_enabled=False,
            virtual_network=privatedns.SubResourceArgs(id=self.vnet.id),
            tags=where.tags,
            opts=pulumi.ResourceOptions(parent=zone),
        )
        return zone.id


def _rule(
    name: str,
    priority: int,
    direction: str,
    access: str,
    *,
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


# Service tags the training nodes reach on 443, in rule-priority order.
_OUTBOUND_SERVICE_TAGS = (
    "AzureMachineLearning",
    "Storage",
    "AzureKeyVault",
    "AzureContainerRegistry",
    "AzureActiveDirectory",
    "AzureResourceManager",
    "AzureMonitor",
    "BatchNodeManagement",
)


def _training_rules() -> list[network.SecurityRuleArgs]:
    # What an AML compute cluster in a customer VNet needs (Batch node management and AML inbound,
    # 443 to the Azure services it uses) and nothing more. Inbound from the internet is already
    # denied by the NSG's default rules; outbound to the internet is allowed by default, so deny it.
    return [
        _rule(
            "AllowBatchNodeManagement",
            100,
            "Inbound",
            "Allow",
            source="BatchNodeManagement",
            destination="VirtualNetwork",
            ports="29876-29877",
        ),
        _rule(
            "AllowAzureMachineLearning",
            110,
            "Inbound",
            "Allow",
            source="AzureMachineLearning",
            destination="VirtualNetwork",
            ports="44224",
        ),
        *(
            _rule(
                f"Allow{tag}Outbound",
                100 + i * 10,
                "Outbound",
                "Allow",
                source="VirtualNetwork",
                destination=tag,
                ports="443",
            )
            for i, tag in enumerate(_OUTBOUND_SERVICE_TAGS)
        ),
        _rule(
            "DenyInternetOutbound",
            4000,
            "Outbound",
            "Deny",
            source="VirtualNetwork",
            destination="Internet",
            ports="*",
            protocol="*",
        ),
    ]
