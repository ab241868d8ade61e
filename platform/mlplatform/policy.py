"""Azure Policy for the environment: what the PR scan checks, enforced in Azure for every client.

Creates our custom definitions (policies/azure/definitions/*.json) and the initiative
(policies/azure/initiative.json: them plus the relevant built-ins), and assigns the initiative to
the environment's resource group: Audit (DoNotEnforce) in dev, Deny in prod, from the stack config.
The assignment has a system-assigned identity so the Modify policy in the initiative can remediate;
that identity gets only Tag Contributor. Exemptions come from the stack config and always expire.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
from pulumi_azure_native import authorization

from .common import role_definition_id
from .config import PROJECT_ROOT, PolicyExemptionConfig

POLICY_DIR = PROJECT_ROOT / "policies" / "azure"
BUILTIN_PREFIX = "/providers/Microsoft.Authorization/policyDefinitions/"
# Roles the remediation identity needs for the initiative's Modify/DeployIfNotExists members.
# Tag inheritance (Modify) only writes tags; the built-in lists Contributor, which we never grant.
REMEDIATION_ROLES = ("Tag Contributor",)


def load_definitions(folder: Path = POLICY_DIR / "definitions") -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        if doc.get("name") != path.stem:
            raise ValueError(f"{path}: 'name' must equal the file name ({path.stem})")
        found[path.stem] = doc
    return found


def load_initiative(path: Path = POLICY_DIR / "initiative.json") -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return doc


@dataclass(frozen=True)
class PolicyArgs:
    stack: str
    # Suffix of the subscription-wide definitions, so stacks sharing a subscription never collide.
    environment: str
    location: str
    resource_group_id: pulumi.Input[str]
    subscription_id: pulumi.Input[str]
    effect: str
    # Default, or DoNotEnforce (which also switches off the fixed-Deny built-ins).
    enforcement_mode: str
    allowed_locations: Sequence[str]
    exemptions: Sequence[PolicyExemptionConfig]


class Policy(pulumi.ComponentResource):
    def __init__(self, name: str, args: PolicyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlplatform:policy:Policy", name, None, opts)
        self._name, self._args = name, args
        here = pulumi.ResourceOptions(parent=self)
        env = args.environment

        # Definitions are subscription-wide; the environment suffix keeps dev and prod stacks that
        # share a subscription from owning (and deleting) each other's definitions.
        self.definitions: dict[str, authorization.PolicyDefinition] = {}
        for stem, doc in load_definitions().items():
            props = doc["properties"]
            self.definitions[stem] = authorization.PolicyDefinition(
                f"{name}-def-{stem}",
                policy_definition_name=f"{stem}-{env}",
                display_name=props["displayName"],
                description=props["description"],
                mode=props["mode"],
                policy_type="Custom",
                metadata=props.get("metadata"),
                parameters=props.get("parameters"),
                policy_rule=props["policyRule"],
                opts=here,
            )
        self.initiative = self._initiative(load_initiative()["properties"])
        self.assignment = self._assignment()
        principal_id = self.assignment.identity.apply(lambda i: i.principal_id if i else None)
        self.remediation_grants = [
            authorization.RoleAssignment(
                f"{name}-remediation-{role.lower().replace(' ', '-')}",
                role_assignment_name=str(
                    uuid.uuid5(uuid.NAMESPACE_URL, f"{args.stack}/policy-remediation/{role}")
                ),
                principal_id=principal_id.apply(lambda p: p or ""),
                principal_type="ServicePrincipal",
                role_definition_id=role_definition_id(args.subscription_id, role),
                scope=args.resource_group_id,
                description=f"policy remediation identity: {role} on resource-group (mlplatform, least privilege)",
                opts=here,
            )
            for role in REMEDIATION_ROLES
        ]
        self.exemptions = [
            authorization.PolicyExemption(
                f"{name}-exemption-{exemption.policy_reference_id}",
                policy_exemption_name=f"mlplatform-{exemption.policy_reference_id}"[:64],
                scope=args.resource_group_id,
                policy_assignment_id=self.assignment.id,
                policy_definition_reference_ids=[exemption.policy_reference_id],
                exemption_category=exemption.category,
                expires_on=f"{exemption.expires_on}T00:00:00Z",
                display_name=f"{exemption.policy_reference_id} ({exemption.category})",
                description=exemption.reason,
                opts=here,
            )
            for exemption in args.exemptions
        ]
        self.register_outputs({"assignmentId": self.assignment.id, "initiativeId": self.initiative.id})

    def _member(self, member: dict[str, Any]) -> authorization.PolicyDefinitionReferenceArgs:
        ref = member["policyDefinitionId"]
        if ref.startswith(BUILTIN_PREFIX):
            definition_id: pulumi.Input[str] = ref
        elif ref in self.definitions:
            definition_id = self.definitions[ref].id
        else:
            raise ValueError(f"initiative.json: {ref!r} is neither a built-in ID nor a file in definitions/")
        return authorization.PolicyDefinitionReferenceArgs(
            policy_definition_reference_id=member["policyDefinitionReferenceId"],
            policy_definition_id=definition_id,
            parameters={
                k: authorization.ParameterValuesValueArgs(value=v["value"])
                for k, v in member.get("parameters", {}).items()
            },
            group_names=member.get("groupNames"),
        )

    def _initiative(self, initiative: dict[str, Any]) -> authorization.PolicySetDefinition:
        env = self._args.environment
        return authorization.PolicySetDefinition(
            f"{self._name}-initiative",
            policy_set_definition_name=f"mlplatform-baseline-{env}",
            display_name=f"{initiative['displayName']} ({env})",
            description=initiative["description"],
            policy_type="Custom",
            metadata=initiative.get("metadata"),
            parameters={
                k: authorization.ParameterDefinitionsValueArgs(
                    type=v["type"],
                    allowed_values=v.get("allowedValues"),
                    default_value=v.get("defaultValue"),
                    metadata=authorization.ParameterDefinitionsValueMetadataArgs(
                        display_name=v["metadata"]["displayName"],
                        description=v["metadata"].get("description"),
                        strong_type=v["metadata"].get("strongType"),
                    ),
                )
                for k, v in initiative["parameters"].items()
            },
            policy_definition_groups=[
                authorization.PolicyDefinitionGroupArgs(name=g["name"], display_name=g["displayName"])
                for g in initiative["policyDefinitionGroups"]
            ],
            policy_definitions=[self._member(m) for m in initiative["policyDefinitions"]],
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _assignment(self) -> authorization.PolicyAssignment:
        args = self._args
        return authorization.PolicyAssignment(
            f"{self._name}-assignment",
            policy_assignment_name=f"mlplatform-baseline-{args.environment}",
            scope=args.resource_group_id,
            policy_definition_id=self.initiative.id,
            display_name=f"ML platform baseline ({args.environment}, {args.effect})",
            description="Assigned by the mlplatform Pulumi stack; change it in the stack config, not the portal.",
            enforcement_mode=args.enforcement_mode,
            parameters={
                "effect": authorization.ParameterValuesValueArgs(value=args.effect),
                "allowedLocations": authorization.ParameterValuesValueArgs(
                    value=list(args.allowed_locations)
                ),
            },
            non_compliance_messages=[
                authorization.NonComplianceMessageArgs(
                    message="Blocked by the ML platform baseline; see policies/ in the platform repository."
                )
            ],
            # Remediation tasks of Modify/DeployIfNotExists policies run as this identity.
            identity=authorization.IdentityArgs(type=authorization.ResourceIdentityType.SYSTEM_ASSIGNED),
            location=args.location,
            opts=pulumi.ResourceOptions(parent=self),
        )
