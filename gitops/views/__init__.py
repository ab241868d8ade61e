"""How plan, apply and status results are shown: one view per audience, chosen once.

Commands parse arguments, call the library and hand the result to the view these factories
return; they never branch on ``--format`` / ``--output`` themselves (Terraform's
``internal/command/views`` split).
"""

from __future__ import annotations

from gitops.views.apply import ApplyHuman, ApplyJSON, ApplyView
from gitops.views.plan import PLAN_VIEWS, PlanJSON, PlanMarkdown, PlanText, PlanView, plan_json
from gitops.views.status import StatusHuman, StatusJSON, StatusView

__all__ = [
    "ApplyHuman",
    "ApplyJSON",
    "ApplyView",
    "PlanJSON",
    "PlanMarkdown",
    "PlanText",
    "PlanView",
    "StatusHuman",
    "StatusJSON",
    "StatusView",
    "apply_view",
    "plan_json",
    "plan_view",
    "status_view",
]


def plan_view(fmt: str) -> PlanView:
    """``--format text | json | markdown``."""
    return PLAN_VIEWS[fmt]()


def apply_view(output: str) -> ApplyView:
    """``--output text | json``."""
    return ApplyJSON() if output == "json" else ApplyHuman()


def status_view(output: str) -> StatusView:
    """``--output text | json``."""
    return StatusJSON() if output == "json" else StatusHuman()
