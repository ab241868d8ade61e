"""Log Analytics, workspace-based Application Insights, the owners' action group and diagnostic settings."""

from __future__ import annotations

import pulumi
from pulumi_azure_native import applicationinsights, monitor, operationalinsights

from .config import PlatformConfig


class Observability(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        cfg: PlatformConfig,
        resource_group: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlplatform:observability:Observability", name, None, opts)
        here = pulumi.ResourceOptions(parent=self)
        # Ingestion and query follow the environment's network posture; local (key) auth is off so
        # only Entra ID identities can write or read telemetry.
        self.log_analytics = operationalinsights.Workspace(
            f"{name}-law",
            workspace_name=f"log-{cfg.base_name}",
            resource_group_name=resource_group,
            location=cfg.location,
            tags=cfg.tags,
            sku=operationalinsights.WorkspaceSkuArgs(name="PerGB2018"),
            retention_in_days=cfg.log_retention_days,
            public_network_access_for_ingestion=cfg.public_network_access,
            public_network_access_for_query=cfg.public_network_access,
            features=operationalinsights.WorkspaceFeaturesArgs(
                disable_local_auth=True, enable_log_access_using_only_resource_permissions=True
            ),
            opts=here,
        )
        self.app_insights = applicationinsights.Component(
            f"{name}-appi",
            resource_name_=f"appi-{cfg.base_name}",
            resource_group_name=resource_group,
            location=cfg.location,
            tags=cfg.tags,
            kind="web",
            application_type="web",
            ingestion_mode="LogAnalytics",
            workspace_resource_id=self.log_analytics.id,
            disable_local_auth=True,
            public_network_access_for_ingestion=cfg.public_network_access,
            public_network_access_for_query=cfg.public_network_access,
            opts=here,
        )
        self.action_group = monitor.ActionGroup(
            f"{name}-ag-owners",
            action_group_name=f"ag-{cfg.base_name}-owners",
            resource_group_name=resource_group,
            location="global",
            tags=cfg.tags,
            enabled=True,
            group_short_name=f"{cfg.project[:6]}{cfg.environment[:6]}"[:12],
            email_receivers=[
                monitor.MicrosoftCommonEmailReceiverArgs(
                    name=f"owner-{i}", email_address=email, use_common_alert_schema=True
                )
                for i, email in enumerate(dict.fromkeys((cfg.owner, *cfg.budget.contact_emails)))
            ],
            opts=here,
        )
        self.register_outputs(
            {"logAnalyticsId": self.log_analytics.id, "appInsightsId": self.app_insights.id}
        )

    def send_logs(
        self, name: str, resource_uri: pulumi.Input[str], parent: pulumi.Resource, *, logs: bool = True
    ) -> monitor.DiagnosticSetting:
        """Send a resource's logs (all categories) and metrics to Log Analytics."""
        return monitor.DiagnosticSetting(
            f"{name}-diag",
            name="to-log-analytics",
            resource_uri=resource_uri,
            workspace_id=self.log_analytics.id,
            logs=[monitor.DiagnosticsLogSettingsArgs(category_group="allLogs", enabled=True)]
            if logs
            else None,
            metrics=[monitor.DiagnosticsMetricSettingsArgs(category="AllMetrics", enabled=True)],
            opts=pulumi.ResourceOptions(parent=parent),
        )
