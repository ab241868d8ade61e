"""Plan and result renderers: text (terminal), JSON (files, CI) and Markdown (PR comments)."""

from __future__ import annotations

import json
from typing import Any

from gitops.plan import Plan, summary
from gitops.rollout.spec import format_duration

_SYMBOL = {
    "create": "+",
    "update": "~",
    "replace": "-/+",
    "delete": "-",
    "set": "~",
    "enable": "~",
    "rollout": ">",
}


def _traffic_str(traffic: dict[str, Any], mirror: dict[str, Any]) -> str:
    live = ", ".join(f"{k} {v}%" for k, v in sorted(traffic.items())) or "none"
    mir = ", ".join(f"{k} {v}%" for k, v in sorted(mirror.items()))
    return live + (f" + mirror {mir}" if mir else "")


def rollout_lines(ro: dict[str, Any]) -> list[str]:
    """The steps a rollout action goes through, one line each (shared by text and markdown)."""
    a = ro.get("analysis") or {}
    gates = []
    for g in ("error_ratio", "latency_p95_ms", "latency_p99_ms"):
        v = a.get(g)
        if v:
            parts = []
            if v.get("max") is not None:
                parts.append(f"<= {v['max']}")
            if v.get("relative") is not None:
                rel = v["relative"]
                parts.append(f"<= baseline + {rel}" if g == "error_ratio" else f"<= {rel}x baseline")
            gates.append(f"{g} {' and '.join(parts)}")
    lines = [
        f"canary {ro['canary']} vs baseline {', '.join(ro['baseline'])}; rollback to "
        f"{_traffic_str(ro['previous_traffic'], ro['previous_mirror'])}",
        f"gates every {format_duration(a.get('interval_s', 0))}: {'; '.join(gates) or 'none'}; min {a.get('min_requests')} "
        f"request(s); rollback after {a.get('failure_limit')} consecutive failure(s)",
    ]
    n = 0
    if ro.get("smoke_request") is not None:
        lines.append(
            f"0. smoke test {ro.get('smoke_source', '')} -> {ro['canary']}: expect {ro.get('smoke_expect_status')}"
            + (f" with keys {ro['smoke_expect_keys']}" if ro.get("smoke_expect_keys") else "")
        )
    for i, st in enumerate(ro["steps"]):
        n = i + 1
        dur = f" for {format_duration(st['duration_s'])}" if st["duration_s"] else ""
        here = "  <- resumes here" if ro.get("resume_step", 0) == i and ro.get("resume_elapsed_s") else ""
        lines.append(f"{n}. {st['name']}: {_traffic_str(st['traffic'], st['mirror'])}{dur}{here}")
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


def plan_text(plan: Plan) -> str:
    lines: list[str] = []
    if not plan.actions and not plan.blocked and not plan.diverged:
        lines.append(f"No changes. Environment {plan.env} matches git.")
    for a in plan.actions:
        sym = _SYMBOL.get(a.kind.split("_")[0], "~")
        lines.append(f"{sym} {a.kind:<18} {a.resource}  ({a.reason})")
        for d in a.diff:
            lines.append(f"      {d.field}: {_fmt(d.before)} -> {_fmt(d.after)}")
        if a.rollout:
            lines += [f"      {x}" for x in rollout_lines(a.rollout)]
    if plan.actions:
        lines.append("")
        lines.append(_summary_line(plan))
    for b in plan.blocked:
        lines.append(f"BLOCKED: {b}")
    for n in plan.notes:
        lines.append(f"note: {n}")
    for dv in plan.diverged:
        lines.append(f"DIVERGED: {dv}")
    return "\n".join(lines) + "\n"


def plan_markdown(plan: Plan) -> str:
    out = [f"### mlops plan: `{plan.env}` ({plan.target})", ""]
    if plan.blocked:
        out.append("> [!CAUTION]")
        out.append("> This plan cannot be applied:")
        for b in plan.blocked:
            out.append(f"> - {b}")
        out.append("")
    if plan.diverged:
        out.append("> [!WARNING]")
        out.append("> Diverged from git (rolled back, not retried):")
        for dv in plan.diverged:
            out.append(f"> - {dv}")
        out.append("")
    if not plan.actions and not plan.diverged:
        out.append("No changes: the environment matches git.")
    else:
        out.append(_summary_line(plan))
        out.append("")
        out.append("| # | action | resource | reason |")
        out.append("|---|---|---|---|")
        for i, a in enumerate(plan.actions, 1):
            out.append(f"| {i} | `{a.kind}` | `{a.resource}` | {a.reason} |")
        for a in plan.actions:
            if a.rollout:
                out.append("")
                out.append(f"**Rollout of `{a.rollout['canary']}` on `{a.resource}`**")
                out.append("")
                out += [x if x[:1].isdigit() else f"- {x}" for x in rollout_lines(a.rollout)]
        diffs = [a for a in plan.actions if a.diff]
        if diffs:
            out.append("")
            out.append("<details><summary>Field changes</summary>")
            out.append("")
            out.append("```diff")
            for a in diffs:
                out.append(f"# {a.kind} {a.resource}")
                for d in a.diff:
                    if d.before is not None:
                        out.append(f"- {d.field}: {_fmt(d.before)}")
                    out.append(f"+ {d.field}: {_fmt(d.after)}")
            out.append("```")
            out.append("")
            out.append("</details>")
    if plan.notes:
        out.append("")
        for n in plan.notes:
            out.append(f"- note: {n}")
    out.append("")
    out.append(f"<sub>fingerprint `{plan.fingerprint[:16]}`</sub>")
    return "\n".join(out) + "\n"


def plan_json(plan: Plan) -> str:
    return json.dumps(plan.to_dict(), indent=2, sort_keys=False, default=str) + "\n"


def render_plan(plan: Plan, fmt: str) -> str:
    if fmt == "json":
        return plan_json(plan)
    if fmt == "markdown":
        return plan_markdown(plan)
    return plan_text(plan)
