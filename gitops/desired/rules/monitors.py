"""A monitor must watch a deployment declared in the same environment, and that deployment must
collect the inputs and outputs the monitor reads; otherwise it fails on its first run, days later.
The rule lives in :mod:`gitops.model.policy_rules`, shared with the checkov check CKV_MLP_107."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gitops.desired.rules.values import integer
from gitops.desired.types import DesiredDeployment, DesiredState
from gitops.errors import Diagnostic
from gitops.model import policy_rules
from gitops.yamlmarks import YamlDoc


def is_monitor_schedule(doc: YamlDoc) -> list[Diagnostic]:
    if "create_monitor" not in doc.data:
        return [
            doc.diag("a monitor file must be a schedule with `create_monitor:` (Azure ML model monitor YAML)")
        ]
    return []


def monitor_target_ref(mon: Any) -> str | None:
    target = getattr(getattr(mon, "create_monitor", None), "monitoring_target", None)
    ref = getattr(target, "endpoint_deployment_id", None)
    return str(ref) if ref else None


def missing_collections(dep: DesiredDeployment) -> list[str]:
    return policy_rules.missing_collections(dep.doc.data)


def _declared(state: DesiredState) -> policy_rules.DeploymentsOf:
    def deployments_of(endpoint: str) -> Mapping[str, policy_rules.DeclaredDeployment] | None:
        ep = state.endpoints.get(endpoint)
        if ep is None:
            return None
        return {
            name: policy_rules.DeclaredDeployment(dep.doc.data, dep.doc.file)
            for name, dep in ep.deployments.items()
        }

    return deployments_of


def monitor_target(
    doc: YamlDoc, mon: Any, state: DesiredState
) -> tuple[str | None, str | None, list[Diagnostic]]:
    """The endpoint and deployment the monitor watches (None when it names none, or not as
    ``azureml:<endpoint>:<deployment>``) and what is wrong with that target."""
    target, findings = policy_rules.monitor_target(monitor_target_ref(mon), _declared(state))
    diags = [doc.diag(f.message, *f.keys) for f in findings]
    return (target[0], target[1], diags) if target else (None, None, diags)


# --------------------------------------------------------------------------- schedule ranges
# The SDK types a trigger's fields but checks no range: `15 25 * * *` and `hours: 27` load, and
# Azure refuses them at apply (or the monitor never runs). Ranges from MicrosoftDocs/azure-ai-docs
# articles/machine-learning/reference-yaml-schedule.md: recurrence `hours` 0-23, `minutes` 0-59,
# `week_days` monday..sunday, `interval` an integer; cron is "standard crontab" with five fields
# MINUTES HOURS DAYS MONTHS DAYS-OF-WEEK.
_CRON_FIELDS: tuple[tuple[str, int, int], ...] = (
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day of month", 1, 31),
    ("month", 1, 12),
    ("day of week", 0, 7),  # crontab: 0 and 7 are both Sunday
)
_CRON_NAMES: dict[int, tuple[str, ...]] = {
    3: ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"),
    4: ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"),
}
WEEK_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_PATTERN_RANGES = (("hours", 0, 23), ("minutes", 0, 59), ("month_days", 1, 31))


def _cron_value(text: str, index: int) -> int | None:
    names = _CRON_NAMES.get(index, ())
    if text.upper() in names:
        return names.index(text.upper()) + (1 if index == 3 else 0)
    return int(text) if text.isdigit() else None


def _cron_part_ok(part: str, index: int) -> bool:
    """One comma-separated item of a crontab field: `*`, `n`, `a-b`, each optionally `/step`."""
    _, low, high = _CRON_FIELDS[index]
    base, _, step = part.partition("/")
    if step and (not step.isdigit() or int(step) < 1):
        return False
    if base == "*":
        return True
    ends = [_cron_value(v, index) for v in base.split("-", 1)]
    if None in ends or not all(low <= e <= high for e in ends if e is not None):
        return False
    return len(ends) == 1 or (ends[0] or 0) <= (ends[1] or 0)


def cron_problem(expression: str) -> str | None:
    """What is wrong with a five-field crontab expression, or None."""
    fields = expression.split()
    if len(fields) != len(_CRON_FIELDS):
        return f"has {len(fields)} fields; Azure takes five: minute hour day-of-month month day-of-week"
    for index, text in enumerate(fields):
        if not all(part and _cron_part_ok(part, index) for part in text.split(",")):
            what, low, high = _CRON_FIELDS[index]
            return f"field {index + 1} ({what}) {text!r} is out of range: Azure's cron takes {low}-{high}"
    return None


def _values(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _pattern_problems(doc: YamlDoc, pattern: Mapping[str, Any]) -> list[Diagnostic]:
    diags = []
    for key, low, high in _PATTERN_RANGES:
        bad = [v for v in _values(pattern.get(key)) if key in pattern and not _int_in(v, low, high)]
        if bad:
            diags.append(
                doc.diag(
                    f"trigger.schedule.{key} {bad[0]!r} is out of range: Azure takes integers {low}-{high}",
                    "trigger",
                    "schedule",
                    key,
                )
            )
    days = [d for d in _values(pattern.get("week_days")) if "week_days" in pattern]
    wrong = [d for d in days if not isinstance(d, str) or d.lower() not in WEEK_DAYS]
    if wrong:
        diags.append(
            doc.diag(
                f"trigger.schedule.week_days {wrong[0]!r} is not a day: Azure takes {', '.join(WEEK_DAYS)}",
                "trigger",
                "schedule",
                "week_days",
            )
        )
    return diags


def _int_in(value: Any, low: int, high: int) -> bool:
    number = integer(value)
    return number is not None and low <= number <= high


def schedule_ranges(doc: YamlDoc) -> list[Diagnostic]:
    """The monitor's trigger fires at times that exist: cron fields and recurrence values in range."""
    trigger = doc.data.get("trigger")
    if not isinstance(trigger, Mapping):
        return []  # absent or another type: the SDK schema reports it
    kind = str(trigger.get("type", "")).lower()
    if kind == "cron" and isinstance(trigger.get("expression"), str):
        problem = cron_problem(trigger["expression"])
        return (
            [doc.diag(f"trigger.expression {trigger['expression']!r} {problem}", "trigger", "expression")]
            if problem
            else []
        )
    if kind != "recurrence":
        return []
    diags = []
    interval = trigger.get("interval")
    if "interval" in trigger and not _int_in(interval, 1, 2**31 - 1):
        diags.append(
            doc.diag(
                f"trigger.interval {interval!r} must be an integer >= 1 (Azure's recurrence interval)",
                "trigger",
                "interval",
            )
        )
    pattern = trigger.get("schedule", trigger.get("pattern"))
    if isinstance(pattern, Mapping):
        diags += _pattern_problems(doc, pattern)
    return diags
