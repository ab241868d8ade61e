"""Plan and result renderers: text (terminal), JSON (files, CI) and Markdown (PR comments)."""

from __future__ import annotations

import json
from typing import Any

from gitops.plan import Plan, summary

_SYMBOL = {"create": "+", "update": "~", "replace": "-/+", "delete": "-", "set": "~", "enable": "~"}


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
    if not plan.actions and not plan.blocked:
        lines.append(f"No changes. Environment {plan.env} matches git.")
    for a in plan.actions:
        sym = _SYMBOL.get(a.kind.split("_")[0], "~")
        lines.append(f"{sym} {a.kind:<18} {a.resource}  ({a.reason})")
        for d in a.diff:
            lines.append(f"      {d.field}: {_fmt(d.before)} -> {_fmt(d.after)}")
    if plan.actions:
        lines.append("")
        lines.append(_summary_line(plan))
    for b in plan.blocked:
        lines.append(f"BLOCKED: {b}")
    for n in plan.notes:
        lines.append(f"note: {n}")
    return "\n".join(lines) + "\n"


def plan_markdown(plan: Plan) -> str:
    out = [f"### mlops plan: `{plan.env}` ({plan.target})", ""]
    if plan.blocked:
        out.append("> [!CAUTION]")
        out.append("> This plan cannot be applied:")
        for b in plan.blocked:
            out.append(f"> - {b}")
        out.append("")
    if not plan.actions:
        out.append("No changes: the environment matches git.")
    else:
        out.append(_summary_line(plan))
        out.append("")
        out.append("| # | action | resource | reason |")
        out.append("|---|---|---|---|")
        for i, a in enumerate(plan.actions, 1):
            out.append(f"| {i} | `{a.kind}` | `{a.resource}` | {a.reason} |")
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
