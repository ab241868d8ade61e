"""The plan for people and for machines: text (terminal), JSON (files, CI), Markdown (PR comments).

One :class:`gitops.plan.Plan` value, three renderings; the plan file ``apply --plan`` reads is
:func:`plan_json`. Each view's output is a compatibility surface (PR bots, CI parsers, tests):
change it on purpose, never as a side effect.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

from gitops.plan import Action, Plan, summary
from gitops.rollout.spec import format_duration

_SYMBOL = {
    "create": "+",
    "register": "+",  # register_model / register_environment: a new asset version
    "update": "~",
    "replace": "-/+",
    "delete": "-",
    "set": "~",
    "enable": "~",
    "rollout": ">",
}
_GATES = ("error_ratio", "latency_p95_ms", "latency_p99_ms")
WARNING_PREFIX = "warning: "


def _traffic_str(traffic: Mapping[str, Any], mirror: Mapping[str, Any]) -> str:
    live = ", ".join(f"{k} {v}%" for k, v in sorted(traffic.items())) or "none"
    mir = ", ".join(f"{k} {v}%" for k, v in sorted(mirror.items()))
    return live + (f" + mirror {mir}" if mir else "")


def _gate_text(name: str, gate: Mapping[str, Any]) -> str:
    parts = []
    if gate.get("max") is not None:
        parts.append(f"<= {gate['max']}")
    if gate.get("relative") is not None:
        rel = gate["relative"]
        parts.append(f"<= baseline + {rel}" if name == "error_ratio" else f"<= {rel}x baseline")
    return f"{name} {' and '.join(parts)}"


def _smoke_line(ro: Mapping[str, Any]) -> str:
    keys = f" with keys {ro['smoke_expect_keys']}" if ro.get("smoke_expect_keys") else ""
    return (
        f"0. smoke test {ro.get('smoke_source', '')} -> {ro['canary']}: "
        f"expect {ro.get('smoke_expect_status')}{keys}"
    )


def rollout_lines(ro: Mapping[str, Any]) -> list[str]:
    """The steps a rollout action goes through, one line each (shared by text and markdown)."""
    a = ro.get("analysis") or {}
    gates = [_gate_text(g, a[g]) for g in _GATES if a.get(g)]
    lines = [
        f"canary {ro['canary']} vs baseline {', '.join(ro['baseline'])}; rollback to "
        f"{_traffic_str(ro['previous_traffic'], ro['previous_mirror'])}",
        f"gates every {format_duration(a.get('interval_s', 0))}: {'; '.join(gates) or 'none'}; "
        f"min {a.get('min_requests')} request(s); "
        f"rollback after {a.get('failure_limit')} consecutive failure(s)",
    ]
    if ro.get("smoke_request") is not None:
        lines.append(_smoke_line(ro))
    resuming = bool(ro.get("resume_elapsed_s"))
    for i, st in enumerate(ro["steps"]):
        dur = f" for {format_duration(st['duration_s'])}" if st["duration_s"] else ""
        here = "  <- resumes here" if resuming and ro.get("resume_step", 0) == i else ""
        lines.append(f"{i + 1}. {st['name']}: {_traffic_str(st['traffic'], st['mirror'])}{dur}{here}")
    return lines


def _fmt(v: Any) -> str:
    if isinstance(v, dict | list):
        return json.dumps(v, sort_keys=True)
    return "(unset)" if v is None else str(v)


def _summary_line(plan: Plan) -> str:
    s = summary(plan)
    return (
        f"Plan for {plan.env} ({plan.target}): {s['create']} to create, {s['update']} to update, "
        f"{s['replace']} to replace, {s['traffic']} traffic change(s), {s['delete']} to delete."
    )


# ---------------------------------------------------------------------------------------- text
def _action_text(a: Action) -> list[str]:
    sym = _SYMBOL.get(str(a.kind).split("_")[0], "~")
    lines = [f"{sym} {a.kind!s:<18} {a.resource}  ({a.reason})"]
    lines += [f"      {d.field}: {_fmt(d.before)} -> {_fmt(d.after)}" for d in a.diff]
    if a.rollout:
        lines += [f"      {x}" for x in rollout_lines(a.rollout)]
    return lines


def _note_text(note: str) -> str:
    # Planners mark notes that need attention (an endpoint that would serve nothing) "warning: ".
    if note.startswith(WARNING_PREFIX):
        return f"WARNING: {note.removeprefix(WARNING_PREFIX)}"
    return f"note: {note}"


def plan_text(plan: Plan) -> str:
    lines: list[str] = []
    if not plan.actions and not plan.blocked and not plan.diverged:
        lines.append(f"No changes. Environment {plan.env} matches git.")
    for a in plan.actions:
        lines += _action_text(a)
    if plan.actions:
        lines += ["", _summary_line(plan)]
    lines += [f"BLOCKED: {b}" for b in plan.blocked]
    lines += [_note_text(n) for n in plan.notes]
    lines += [f"DIVERGED: {dv}" for dv in plan.diverged]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------ markdown
def _md_alert(kind: str, title: str, items: list[str]) -> list[str]:
    if not items:
        return []
    return [f"> [!{kind}]", f"> {title}", *(f"> - {x}" for x in items), ""]


def _md_table(plan: Plan) -> list[str]:
    out = ["| # | action | resource | reason |", "|---|---|---|---|"]
    out += [f"| {i} | `{a.kind}` | `{a.resource}` | {a.reason} |" for i, a in enumerate(plan.actions, 1)]
    return out


def _md_rollouts(plan: Plan) -> list[str]:
    out: list[str] = []
    for a in plan.actions:
        if a.rollout:
            out += ["", f"**Rollout of `{a.rollout['canary']}` on `{a.resource}`**", ""]
            out += [x if x[:1].isdigit() else f"- {x}" for x in rollout_lines(a.rollout)]
    return out


def _md_diffs(plan: Plan) -> list[str]:
    diffs = [a for a in plan.actions if a.diff]
    if not diffs:
        return []
    out = ["", "<details><summary>Field changes</summary>", "", "```diff"]
    for a in diffs:
        out.append(f"# {a.kind} {a.resource}")
        for d in a.diff:
            if d.before is not None:
                out.append(f"- {d.field}: {_fmt(d.before)}")
            out.append(f"+ {d.field}: {_fmt(d.after)}")
    return [*out, "```", "", "</details>"]


def plan_markdown(plan: Plan) -> str:
    out = [f"### mlops plan: `{plan.env}` ({plan.target})", ""]
    out += _md_alert("CAUTION", "This plan cannot be applied:", plan.blocked)
    out += _md_alert("WARNING", "Diverged from git (rolled back, not retried):", plan.diverged)
    if not plan.actions and not plan.diverged:
        out.append("No changes: the environment matches git.")
    else:
        out += [_summary_line(plan), "", *_md_table(plan), *_md_rollouts(plan), *_md_diffs(plan)]
    warnings = [n.removeprefix(WARNING_PREFIX) for n in plan.notes if n.startswith(WARNING_PREFIX)]
    out += _md_alert("WARNING", "Needs attention:", warnings)
    notes = [n for n in plan.notes if not n.startswith(WARNING_PREFIX)]
    if notes:
        out += ["", *(f"- note: {n}" for n in notes)]
    out += ["", f"<sub>fingerprint `{plan.fingerprint[:16]}`</sub>"]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------- json
def plan_json(plan: Plan) -> str:
    """The plan file: what `mlops plan --out` writes and `mlops apply --plan` reads back."""
    return json.dumps(plan.to_dict(), indent=2, sort_keys=False, default=str) + "\n"


# --------------------------------------------------------------------------------------- views
class PlanView(Protocol):
    def render(self, plan: Plan) -> str: ...


class PlanText:
    def render(self, plan: Plan) -> str:
        return plan_text(plan)


class PlanMarkdown:
    def render(self, plan: Plan) -> str:
        return plan_markdown(plan)


class PlanJSON:
    def render(self, plan: Plan) -> str:
        return plan_json(plan)


PLAN_VIEWS: Mapping[str, type[PlanView]] = {"text": PlanText, "markdown": PlanMarkdown, "json": PlanJSON}


def render_plan(plan: Plan, fmt: str) -> str:
    return PLAN_VIEWS.get(fmt, PlanText)().render(plan)
