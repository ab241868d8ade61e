"""Cost and lifecycle guardrails: the environment budget and delete locks.

Azure locks are inherited by child resources. A CanNotDelete lock on the ML workspace would also
forbid deleting its online deployments and computes, which blue/green rollouts must do; so the
locks sit on the stores of state that cannot be recreated (Key Vault, storage, lake) and the
workspace itself is protected in Pulumi (`protect`), on top of Azure's workspace soft delete.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import authorization, consumption


@dataclass(frozen=True)
class GovernanceArgs:
    base_name: str
    environment: str
    resource_group_id: pulumi.Input[str]
    action_group_id: pulumi.Input[str]
    budget_amount: float
    # First day of the first budget month, YYYY-MM-01.
    budget_start_date: str
    contact_emails: Sequence[str]
    # Percent of the budget: actual spend alerts at >=, forecasts at >.
    actual_thresholds: Sequence[float]
    forecast_thresholds: Sequence[float]
    # label -> resource ID of each store that gets a CanNotDelete lock (empty: no locks).
    locks: Mapping[str, pulumi.Input[str]]


class Governance(pulumi.ComponentResource):
    def __init__(self, name: str, args: GovernanceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlplatform:governance:Governance", name, None, opts)
        here = pulumi.ResourceOptions(parent=self)
        self.budget = consumption.Budget(
            f"{name}-budget",
            budget_name=f"budget-{args.base_name}",
            scope=args.resource_group_id,
            amount=args.budget_amount,
            category="Cost",
            time_grain="Monthly",
            time_period=consumption.BudgetTimePeriodArgs(start_date=f"{args.budget_start_date}T00:00:00Z"),
            notifications=_notifications(args),
            opts=here,
        )
        self.locks = [
            authorization.ManagementLockByScope(
                f"{name}-lock-{label}",
                lock_name=f"lock-{label}-cannot-delete",
                scope=scope,
                level="CanNotDelete",
                notes=f"mlplatform: {args.environment} {label} holds state that cannot be recreated",
                opts=here,
            )
            for label, scope in args.locks.items()
        ]
        self.register_outputs({"budgetId": self.budget.id})


def _notifications(args: GovernanceArgs) -> dict[str, pulumi.Input[consumption.NotificationArgs]]:
    notifications: dict[str, pulumi.Input[consumption.NotificationArgs]] = {}
    for kind, thresholds in (("Actual", args.actual_thresholds), ("Forecasted", args.forecast_thresholds)):
        for threshold in thresholds:
            notifications[f"{kind.lower()}-{int(threshold)}"] = consumption.NotificationArgs(
                enabled=True,
                operator="GreaterThanOrEqualTo" if kind == "Actual" else "GreaterThan",
                threshold=threshold,
                threshold_type=kind,
                contact_emails=list(args.contact_emails),
                contact_groups=[args.action_group_id],
                locale="en-us",
            )
    return notifications
