"""The secure settings a security reviewer checks, asserted on what each stack would deploy."""

from __future__ import annotations

from typing import Any

from mlplatform.common import DNS_ZONES, FORBIDDEN_ROLES, ROLES
from mlplatform.render import Capture

T = "azure-native:"


def inputs(capture: Capture, token: str, name: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = capture.one(T + token, name)["inputs"]
    return found


def expected_pna(capture: Capture) -> str:
    return "Disabled" if capture.stack == "prod" else "Enabled"


def test_key_vault_is_hardened(stack: Capture) -> None:
    props = inputs(stack, "keyvault:Vault")["properties"]
    assert props["enableRbacAuthorization"] is True
    assert props["enablePurgeProtection"] is True
    assert props["enableSoftDelete"] is True
    assert props["publicNetworkAccess"] == expected_pna(stack)
    assert props["networkAcls"]["defaultAction"] == "Deny"
    assert props.get("accessPolicies") in (None, [])


def test_storage_accounts_are_hardened(stack: Capture) -> None:
    accounts = stack.of_type(T + "storage:StorageAccount")
    assert {a["inputs"]["isHnsEnabled"] for a in accounts} == {True, False}, (
        "a workspace store and an ADLS Gen2 lake"
    )
    for account in accounts:
        a = account["inputs"]
        assert a["allowSharedKeyAccess"] is False
        assert a["minimumTlsVersion"] == "TLS1_2"
        assert a["allowBlobPublicAccess"] is False
        assert a["enableHttpsTrafficOnly"] is True
        assert a["allowCrossTenantReplication"] is False
        assert a["defaultToOAuthAuthentication"] is True
        assert a["publicNetworkAccess"] == expected_pna(stack)
        assert a["networkRuleSet"]["defaultAction"] == "Deny"


def test_blob_soft_delete_and_versioning(stack: Capture) -> None:
    hns = {
        a["inputs"]["accountName"]: a["inputs"]["isHnsEnabled"]
        for a in stack.of_type(T + "storage:StorageAccount")
    }
    services = stack.of_type(T + "storage:BlobServiceProperties")
    assert len(services) == 2
    for service in services:
        s = service["inputs"]
        assert s["deleteRetentionPolicy"]["enabled"] is True
        assert s["deleteRetentionPolicy"]["days"] >= 7
        assert s["containerDeleteRetentionPolicy"]["enabled"] is True
        # Azure has no blob versioning on hierarchical-namespace accounts; everywhere else it is on.
        assert s["isVersioningEnabled"] is (not hns[s["accountName"]])


def test_container_registry_is_hardened(stack: Capture) -> None:
    r = inputs(stack, "containerregistry:Registry")
    assert r["sku"]["name"] == "Premium"
    assert r["adminUserEnabled"] is False
    assert r["anonymousPullEnabled"] is False
    assert r["publicNetworkAccess"] == expected_pna(stack)
    assert r["networkRuleSet"]["defaultAction"] == "Deny"


def test_workspace_is_private_and_identity_based(stack: Capture) -> None:
    w = inputs(stack, "machinelearningservices:Workspace")
    assert w["publicNetworkAccess"] == expected_pna(stack)
    assert w["systemDatastoresAuthMode"] == "Identity"
    assert w["identity"]["type"] == "UserAssigned"
    assert w["primaryUserAssignedIdentity"].endswith(
        "/userAssignedIdentities/id-mlops-" + stack.stack + "-workspace"
    )
    assert w["identity"]["userAssignedIdentities"] == [w["primaryUserAssignedIdentity"]]
    for link, arm_type in (
        ("keyVault", "Microsoft.KeyVault/vaults/"),
        ("storageAccount", "Microsoft.Storage/storageAccounts/st"),
        ("containerRegistry", "Microsoft.ContainerRegistry/registries/"),
        ("applicationInsights", "Microsoft.Insights/components/"),
    ):
        assert arm_type in w[link], link
    assert w["v1LegacyMode"] is False


def test_prod_uses_managed_network_with_approved_outbound_only(captures: dict[str, Capture]) -> None:
    prod = inputs(captures["prod"], "machinelearningservices:Workspace")
    network = prod["managedNetwork"]
    assert network["isolationMode"] == "AllowOnlyApprovedOutbound"
    assert prod["provisionNetworkNow"] is True
    rules = network["outboundRules"]
    assert {r["category"] for r in rules.values()} == {"UserDefined"}
    assert {"lake-blob", "lake-dfs"} <= set(rules), "the data lake is reachable through private endpoints"
    assert rules["conda-packages"] == {
        "type": "FQDN",
        "category": "UserDefined",
        "destination": "conda.anaconda.org",
    }


def test_private_endpoints_and_dns_zone_groups(stack: Capture) -> None:
    endpoints = {e["name"]: e["inputs"] for e in stack.of_type(T + "network:PrivateEndpoint")}
    groups = {
        g["inputs"]["privateEndpointName"]: g["inputs"]
        for g in stack.of_type(T + "network:PrivateDnsZoneGroup")
    }
    by_group_id: dict[str, list[str]] = {}
    for endpoint in endpoints.values():
        (connection,) = endpoint["privateLinkServiceConnections"]
        by_group_id.setdefault(connection["groupIds"][0], []).append(endpoint["privateEndpointName"])
        assert endpoint["subnet"]["id"].endswith("/subnets/snet-private-endpoints")
    assert sorted(by_group_id) == ["amlworkspace", "blob", "dfs", "file", "registry", "vault"]
    assert len(by_group_id["blob"]) == 2, "blob endpoints for the workspace store and the lake"
    (ws_pe,) = by_group_id["amlworkspace"]
    zones = [c["privateDnsZoneId"].rsplit("/", 1)[-1] for c in groups[ws_pe]["privateDnsZoneConfigs"]]
    assert zones == ["privatelink.api.azureml.ms", "privatelink.notebooks.azure.net"], (
        "both ML zones in ONE group"
    )
    assert set(groups) == {e["privateEndpointName"] for e in endpoints.values()}, (
        "every endpoint has a zone group"
    )


def test_private_dns_zones_are_linked_to_the_vnet(stack: Capture) -> None:
    zones = {z["inputs"]["privateZoneName"] for z in stack.of_type(T + "privatedns:PrivateZone")}
    assert zones == set(DNS_ZONES.values())
    links = stack.of_type(T + "privatedns:VirtualNetworkLink")
    assert {link["inputs"]["privateZoneName"] for link in links} == zones
    for link in links:
        assert link["inputs"]["virtualNetwork"]["id"].endswith(f"/virtualNetworks/vnet-mlops-{stack.stack}")
        assert link["inputs"]["registrationEnabled"] is False


def test_compute_cluster_is_hardened(stack: Capture) -> None:
    c = inputs(stack, "machinelearningservices:Compute")
    props = c["properties"]
    assert props["computeType"] == "AmlCompute"
    assert props["disableLocalAuth"] is True
    inner = props["properties"]
    assert inner["enableNodePublicIp"] is False
    assert inner["remoteLoginPortPublicAccess"] == "Disabled"
    assert inner["scaleSettings"]["minNodeCount"] == 0
    assert inner["scaleSettings"]["nodeIdleTimeBeforeScaleDown"].startswith("PT")
    assert c["identity"]["type"] == "UserAssigned"
    assert c["identity"]["userAssignedIdentities"][0].endswith("-compute")
    isolated = (
        inputs(stack, "machinelearningservices:Workspace")["managedNetwork"]["isolationMode"] != "Disabled"
    )
    if isolated:
        assert "subnet" not in inner, "clusters of a managed-network workspace live in the managed VNet"
    else:
        assert inner["subnet"]["id"].endswith("/subnets/snet-training")


def test_training_subnet_has_nsg_denying_internet_egress(stack: Capture) -> None:
    subnet = inputs(stack, "network:Subnet", "net-snet-training")
    assert subnet["networkSecurityGroup"]["id"].endswith(f"nsg-mlops-{stack.stack}-training")
    assert subnet["defaultOutboundAccess"] is False
    rules = {r["name"]: r for r in inputs(stack, "network:NetworkSecurityGroup")["securityRules"]}
    if stack.stack == "dev":
        # Egress-only path for nodes without public IPs: a NAT gateway, not default outbound access.
        assert subnet["natGateway"]["id"].endswith("/natGateways/ng-mlops-dev")
        nat = inputs(stack, "network:NatGateway")
        assert nat["sku"]["name"] == "Standard"
    assert rules["DenyInternetOutbound"]["access"] == "Deny"
    assert rules["DenyInternetOutbound"]["destinationAddressPrefix"] == "Internet"


def test_identities_are_separate_and_least_privilege(stack: Capture) -> None:
    names = sorted(
        i["inputs"]["resourceName"] for i in stack.of_type(T + "managedidentity:UserAssignedIdentity")
    )
    assert names == sorted(
        f"id-mlops-{stack.stack}-{r}" for r in ("workspace", "compute", "endpoints", "ci", "ci-plan")
    )
    allowed = set(ROLES.values())
    assignments = stack.of_type(T + "authorization:RoleAssignment")
    assert assignments
    for a in assignments:
        role_guid = a["inputs"]["roleDefinitionId"].rsplit("/", 1)[-1]
        assert role_guid not in FORBIDDEN_ROLES, a["name"]
        assert role_guid in allowed, a["name"]
        assert a["inputs"]["principalType"] == "ServicePrincipal"
        assert not a["inputs"]["scope"].endswith(f"/subscriptions/{'0' * 8}-0000-0000-0000-{'0' * 12}"), (
            "no subscription scope"
        )

    def roles_of(who: str) -> set[str]:
        return {
            a["inputs"]["description"].split(": ", 1)[1].split(" on ")[0]
            for a in assignments
            if a["inputs"]["description"].startswith(f"{who} identity:")
        }

    assert roles_of("ci") == {"AzureML Data Scientist", "Managed Identity Operator", "Monitoring Reader"}
    assert roles_of("ci_plan") == {"Reader"}, "pull-request plans can read, never deploy"
    assert "AcrPush" not in roles_of("endpoints")
    assert "AcrPush" not in roles_of("compute")


def test_ci_signs_in_with_github_oidc_only(stack: Capture) -> None:
    credentials = {
        c["inputs"]["resourceName"]: c["inputs"]
        for c in stack.of_type(T + "managedidentity:FederatedIdentityCredential")
    }
    assert set(credentials) == {f"id-mlops-{stack.stack}-ci", f"id-mlops-{stack.stack}-ci-plan"}
    for identity, github_environment in (("ci", stack.stack), ("ci-plan", f"{stack.stack}-plan")):
        fic = credentials[f"id-mlops-{stack.stack}-{identity}"]
        assert fic["issuer"] == "https://token.actions.githubusercontent.com"
        assert fic["subject"] == f"repo:contoso/azure-mlops-platform:environment:{github_environment}"
        assert fic["audiences"] == ["api://AzureADTokenExchange"]


def test_diagnostic_settings_send_logs_to_log_analytics(stack: Capture) -> None:
    law = inputs(stack, "operationalinsights:Workspace")
    settings = stack.of_type(T + "monitor:DiagnosticSetting")
    targets = {s["inputs"]["resourceUri"].split("/providers/", 1)[1] for s in settings}
    for expected in (
        "Microsoft.MachineLearningServices/workspaces/mlw-mlops-",
        "Microsoft.KeyVault/vaults/",
        "Microsoft.ContainerRegistry/registries/",
        "Microsoft.Storage/storageAccounts/stmlops",
    ):
        assert any(t.startswith(expected) for t in targets), expected
    assert any(t.endswith("/blobServices/default") for t in targets), (
        "storage logs come from its blob service"
    )
    for s in settings:
        assert s["inputs"]["workspaceId"].endswith("/workspaces/" + law["workspaceName"])
    assert law["features"]["disableLocalAuth"] is True
    appi = inputs(stack, "applicationinsights:Component")
    assert appi["workspaceResourceId"].endswith("/workspaces/" + law["workspaceName"])
    assert appi["ingestionMode"] == "LogAnalytics"
    assert appi["disableLocalAuth"] is True


def test_budget_alerts_owners_on_actual_and_forecast(stack: Capture) -> None:
    budget = inputs(stack, "consumption:Budget")
    assert budget["scope"].endswith(f"/resourceGroups/rg-mlops-{stack.stack}")
    assert budget["timeGrain"] == "Monthly"
    assert budget["amount"] > 0
    kinds = {n["thresholdType"] for n in budget["notifications"].values()}
    assert kinds == {"Actual", "Forecasted"}
    action_group = stack.one(T + "monitor:ActionGroup")["inputs"]
    for n in budget["notifications"].values():
        assert n["contactEmails"]
        assert n["enabled"] is True
        assert n["contactGroups"][0].endswith("/actionGroups/" + action_group["actionGroupName"])
    assert {r["emailAddress"] for r in action_group["emailReceivers"]} >= {"ml-platform@contoso.com"}


def test_delete_locks_only_where_configured(captures: dict[str, Capture]) -> None:
    prod_locks = captures["prod"].of_type(T + "authorization:ManagementLockByScope")
    scopes = sorted(lock["inputs"]["scope"].split("/providers/", 1)[1] for lock in prod_locks)
    assert scopes == [
        "Microsoft.KeyVault/vaults/kv-mlops-prod-p01",
        "Microsoft.Storage/storageAccounts/dlsmlopsprodp01",
        "Microsoft.Storage/storageAccounts/stmlopsprodp01",
    ]
    assert {lock["inputs"]["level"] for lock in prod_locks} == {"CanNotDelete"}
    # An Azure lock on the workspace would be inherited by its deployments and block blue/green
    # clean-up, so the workspace is protected in Pulumi instead.
    assert captures["prod"].one(T + "machinelearningservices:Workspace").get("protect") is True
    assert captures["dev"].of_type(T + "authorization:ManagementLockByScope") == []
    assert "protect" not in captures["dev"].one(T + "machinelearningservices:Workspace")


def test_stack_outputs_give_gitops_what_it_needs(stack: Capture) -> None:
    out = stack.outputs
    for key in (
        "resourceGroupName",
        "workspaceName",
        "workspaceId",
        "keyVaultUri",
        "containerRegistryLoginServer",
    ):
        assert out[key], key
    assert out["appInsightsConnectionString"] == "[secret]", "secrets are redacted in the capture"
    assert set(out["identities"]) >= {"ciClientId", "endpointsClientId", "endpointsIdentityId"}
