"""Cost and lifecycle guardrails: the environment budget and delete locks.

Azure locks are inherited by child resources. A CanNotDelete lock on the ML workspace would also
forbid deleting its online deployments and computes, which blue/green rollouts must do; so the
locks sit on the stores of state that cannot be recreated (Key Vault, storage, lake) and the
workspace itself is protected in Pulumi (`protect`), on top of Azure's workspace soft delete.
"""

from __future__ import annotations

import pulumi
from pulumi_azure_native import authorization, consumption

from .config import PlatformConfig


class Governance(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        cfg: PlatformConfig,
        resource_group_id: pulumi.Input[str],
        action_group_id: pulumi.Input[str],
        lock: dict[str, pulumi.Input[str]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlplatform:governance:Governance", name, None, opts)
        here = pulumi.ResourceOptions(parent=self)
        notifications: dict[str, pulumi.Input[consumption.NotificationArgs]] = {}
        for kind, thresholds in (
            ("Actual", cfg.budget.actual_thresholds),
            ("Forecasted", cfg.budget.forecast_thresholds),
        ):
            for threshold in thresholds:
                notifications[f"{kind.lower()}-{int(threshold)}"] = consumption.NotificationArgs(
                    enabled=True,
                    operator="GreaterThanOrEqualTo" if kind == "Actual" else "GreaterThan",
                    threshold=threshold,
                    threshold_type=kind,
                    contact_emails=list(cfg.budget.contact_emails),
                    contact_groups=[action_group_id],
                    locale="en-us",
                )
        self.budget = consumption.Budget(
            f"{name}-budget",
            budget_name=f"budget-{cfg.base_name}",
            scope=resource_group_id,
            amount=cfg.budget.amount,
            category="Cost",
            time_grain="Monthly",
            time_period=consumption.BudgetTimePeriodArgs(start_date=f"{cfg.budget.start_date}T00:00:00Z"),
            notifications=notifications,
            opts=here,
        )
        self.locks: list[authorization.ManagementLockByScope] = []
        if cfg.delete_locks:
            for label, scope in lock.items():
                self.locks.append(
                    authorization.ManagementLockByScope(
                        f"{name}-lock-{label}",
                        lock_name=f"lock-{label}-cannot-delete",
                        scope=scope,
                        level="CanNotDelete",
                        notes=f"mlplatform: {cfg.environment} {label} holds state that cannot be recreated",
                        opts=here,
                    )
                )
        self.register_outputs({"budgetId": self.budget.id})
