"""Log Analytics, workspace-based Application Insights and the owners' action group.

Ingestion and query follow the environment's network posture; local (key) auth is off so only
Entra ID identities can write or read telemetry. Diagnostic settings of other resources are sent
here through services.LogAnalyticsDiagnostics, created from `log_analytics.id`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import applicationinsights, monitor, operationalinsights

from .common import Placement


@dataclass(frozen=True)
class ObservabilityArgs:
    placement: Placement
    public_network_access: str
    log_retention_days: int
    # Who is alerted (budget, platform alerts): distinct addresses, owner first.
    alert_emails: Sequence[str]
    # Azure allows at most 12 characters.
    action_group_short_name: str


class Observability(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: ObservabilityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlplatform:observability:Observability", name, None, opts)
        here = pulumi.ResourceOptions(parent=self)
        where = args.placement
        self.log_analytics = operationalinsights.Workspace(
            f"{name}-law",
            workspace_name=f"log-{where.base_name}",
            resource_group_name=where.resource_group_name,
            location=where.location,
            tags=where.tags,
            sku=operationalinsights.WorkspaceSkuArgs(name="PerGB2018"),
            retention_in_days=args.log_retention_days,
            public_network_access_for_ingestion=args.public_network_access,
            public_network_access_for_query=args.public_network_access,
            features=operationalinsights.WorkspaceFeaturesArgs(
                disable_local_auth=True, enable_log_access_using_only_resource_permissions=True
            ),
            opts=here,
        )
        self.app_insights = applicationinsights.Component(
            f"{name}-appi",
            resource_name_=f"appi-{where.base_name}",
            resource_group_name=where.resource_group_name,
            location=where.location,
            tags=where.tags,
            kind="web",
            application_type="web",
            ingestion_mode="LogAnalytics",
            workspace_resource_id=self.log_analytics.id,
            disable_local_auth=True,
            public_network_access_for_ingestion=args.public_network_access,
            public_network_access_for_query=args.public_network_access,
            opts=here,
        )
        self.action_group = monitor.ActionGroup(
            f"{name}-ag-owners",
            action_group_name=f"ag-{where.base_name}-owners",
            resource_group_name=where.resource_group_name,
            location="global",
            tags=where.tags,
            enabled=True,
            group_short_name=args.action_group_short_name,
            email_receivers=[
                monitor.MicrosoftCommonEmailReceiverArgs(
                    name=f"owner-{i}", email_address=email, use_common_alert_schema=True
                )
                for i, email in enumerate(args.alert_emails)
            ],
            opts=here,
        )
        self.register_outputs(
            {"logAnalyticsId": self.log_analytics.id, "appInsightsId": self.app_insights.id}
        )
