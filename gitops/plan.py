"""The plan: an ordered list of typed actions, computed from desired (git) and actual (target) state.

Text, JSON, Markdown and execution all consume the same :class:`Plan`. A saved plan carries a
fingerprint of both sides; ``apply --plan`` recomputes it and refuses a plan that went stale.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from gitops.desired import (
    MANAGED_BY_VALUE,
    TAG_ENVIRONMENT,
    TAG_MANAGED_BY,
    TAG_SPEC_HASH,
    DesiredState,
)
from gitops.diff.normalize import deployment_view, diff_views, endpoint_view, monitor_view
from gitops.errors import GitopsError
from gitops.targets.base import CAP_MIRROR_TRAFFIC, CAP_MONITORS, ActualState

PLAN_FORMAT_VERSION = 1

# Execution phases; within one endpoint actions run in this order (see gitops.apply).
PHASE = {
    "create_endpoint": 1,
    "update_endpoint": 1,
    "create_deployment": 2,
    "update_deployment": 2,
    "replace_deployment": 2,
    "set_traffic": 3,
    "rollout": 3,
    "set_mirror": 3,
    "create_monitor": 4,
    "update_monitor": 4,
    "enable_monitor": 4,
    "delete_monitor": 5,
    "delete_deployment": 6,
    "delete_endpoint": 7,
}
# Fields Azure cannot change on an existing managed deployment.
IMMUTABLE_DEPLOYMENT_FIELDS = ("instance_type", "egress_public_network_access")


@dataclass
class FieldDiff:
    field: str
    before: Any
    after: Any


@dataclass
class Action:
    kind: str
    resource: str  # endpoint/<ep>, deployment/<ep>/<dep>, monitor/<name>
    reason: str
    diff: list[FieldDiff] = field(default_factory=list)
    endpoint: str | None = None  # actions sharing an endpoint run one at a time, in phase order
    name: str | None = None
    rollout: dict[str, Any] | None = None  # kind "rollout": gitops.rollout.spec.RolloutPlan.to_dict()

    @property
    def phase(self) -> int:
        return PHASE[self.kind]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["phase"] = self.phase
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Action:
        return cls(
            kind=d["kind"],
            resource=d["resource"],
            reason=d["reason"],
            diff=[FieldDiff(**x) for x in d.get("diff", [])],
            endpoint=d.get("endpoint"),
            name=d.get("name"),
            rollout=d.get("rollout"),
        )


@dataclass
class Plan:
    env: str
    target: str
    actions: list[Action]
    fingerprint: str
    blocked: list[str] = field(default_factory=list)  # refusals: the plan cannot be applied as is
    notes: list[str] = field(default_factory=list)  # things deliberately left alone
    # Endpoints left different from git on purpose (a rolled-back rollout), with the reason.
    diverged: list[str] = field(default_factory=list)

    @property
    def has_changes(self) -> bool:
        return bool(self.actions)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": PLAN_FORMAT_VERSION,
            "env": self.env,
            "target": self.target,
            "fingerprint": self.fingerprint,
            "actions": [a.to_dict() for a in self.actions],
            "blocked": self.blocked,
            "notes": self.notes,
            "diverged": self.diverged,
            "summary": summary(self),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Plan:
        if d.get("format_version") != PLAN_FORMAT_VERSION:
            raise GitopsError(
                f"plan file has format_version {d.get('format_version')!r}; re-run `mlops plan --out`"
            )
        return cls(
            env=d["env"],
            target=d["target"],
            actions=[Action.from_dict(a) for a in d["actions"]],
            fingerprint=d["fingerprint"],
            blocked=list(d.get("blocked", [])),
            notes=list(d.get("notes", [])),
            diverged=list(d.get("diverged", [])),
        )


def summary(plan: Plan) -> dict[str, int]:
    counts: dict[str, int] = {"create": 0, "update": 0, "replace": 0, "delete": 0, "traffic": 0}
    for a in plan.actions:
        verb = a.kind.split("_")[0]
        key = {"set": "traffic", "enable": "update", "rollout": "traffic"}.get(verb, verb)
        counts[key] = counts.get(key, 0) + 1
    return counts


def ownership_tags(desired: DesiredState) -> dict[str, str]:
    tags = dict(desired.manifest.tags)
    tags[TAG_MANAGED_BY] = MANAGED_BY_VALUE
    tags[TAG_ENVIRONMENT] = desired.env
    return tags


def is_owned(tags: dict[str, str], env: str) -> bool:
    return tags.get(TAG_MANAGED_BY) == MANAGED_BY_VALUE and tags.get(TAG_ENVIRONMENT) == env


def _diffs(pairs: list[tuple[str, Any, Any]]) -> list[FieldDiff]:
    return [FieldDiff(f, b, a) for f, b, a in pairs]


def _fingerprint(desired_views: Any, actual_views: Any) -> str:
    blob = json.dumps({"desired": desired_views, "actual": actual_views}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def make_plan(
    desired: DesiredState,
    actual: ActualState,
    target_kind: str,
    capabilities: frozenset[str],
    allow_empty: bool = False,
    retry_rollout: bool = False,
    now: float | None = None,
) -> Plan:
    env = desired.env
    prune = desired.manifest.prune
    owner_tags = ownership_tags(desired)
    actions: list[Action] = []
    blocked: list[str] = []
    notes: list[str] = []
    dviews: dict[str, Any] = {}
    aviews: dict[str, Any] = {}
    diverged: list[str] = []

    if desired.monitors and CAP_MONITORS not in capabilities:
        blocked.append(f"target {target_kind} does not support monitors; remove environments/{env}/monitors/")
    for ep in desired.endpoints.values():
        if any(ep.mirror_traffic.values()) and CAP_MIRROR_TRAFFIC not in capabilities:
            blocked.append(f"{ep.doc.file}: target {target_kind} does not support mirror_traffic")

    actual_eps_lower = {k.lower(): v for k, v in actual.endpoints.items()}
    for name, dep_ep in desired.endpoints.items():
        act_ep = actual_eps_lower.get(name.lower())
        want = endpoint_view(dep_ep.entity)
        want["tags"] = {**want["tags"], **owner_tags}
        want_traffic = {k.lower(): v for k, v in dep_ep.traffic.items() if v}
        want_mirror = {k.lower(): v for k, v in dep_ep.mirror_traffic.items() if v}
        dviews[f"endpoint/{name}"] = [want, want_traffic, want_mirror]
        res = f"endpoint/{name}"
        if act_ep is None:
            actions.append(
                Action(
                    "create_endpoint",
                    res,
                    "declared in git, missing in target",
                    _diffs(diff_views(want, {})),
                    name,
                    name,
                )
            )
            have_traffic: dict[str, int] = {}
            have_mirror: dict[str, int] = {}
            have_deps: dict[str, Any] = {}
        else:
            have = endpoint_view(act_ep.entity)
            aviews[f"endpoint/{name}"] = [
                have,
                act_ep.traffic,
                act_ep.mirror_traffic,
                act_ep.provisioning_state,
            ]
            d = diff_views(want, have)
            if d:
                reason = (
                    "differs from git"
                    if is_owned(act_ep.tags, env)
                    else "differs from git (adopting: not yet tagged as managed)"
                )
                actions.append(Action("update_endpoint", res, reason, _diffs(d), name, name))
            elif act_ep.provisioning_state.lower() == "failed":
                actions.append(
                    Action("update_endpoint", res, "endpoint is in Failed state; re-applying", [], name, name)
                )
            have_traffic, have_mirror = act_ep.traffic, act_ep.mirror_traffic
            if act_ep.rollout:
                aviews[f"rollout/{name}"] = {k: act_ep.rollout.get(k) for k in ("id", "status", "step")}
            have_deps = {k.lower(): v for k, v in act_ep.deployments.items()}

        for dname, ddep in dep_ep.deployments.items():
            dres = f"deployment/{name}/{dname}"
            dwant = deployment_view(ddep.entity)
            dwant["tags"] = {**dwant["tags"], **owner_tags}
            dviews[dres] = [dwant, ddep.spec_hash]
            ahave = have_deps.get(dname.lower())
            if ahave is None:
                actions.append(
                    Action(
                        "create_deployment",
                        dres,
                        "declared in git, missing in target (created with 0% traffic)",
                        _diffs(diff_views(dwant, {})),
                        name,
                        dname,
                    )
                )
                continue
            dhave = deployment_view(ahave.entity)
            aviews[dres] = [dhave, ahave.tags.get(TAG_SPEC_HASH), ahave.provisioning_state]
            dd = diff_views(dwant, dhave)
            if ahave.tags.get(TAG_SPEC_HASH) != ddep.spec_hash and not dd:
                dd = [("spec", ahave.tags.get(TAG_SPEC_HASH), ddep.spec_hash)]
            immutable = [x for x in dd if x[0] in IMMUTABLE_DEPLOYMENT_FIELDS]
            if immutable:
                fields = ", ".join(x[0] for x in immutable)
                live = have_traffic.get(dname.lower(), 0) or have_mirror.get(dname.lower(), 0)
                wanted_live = want_traffic.get(dname.lower(), 0) or want_mirror.get(dname.lower(), 0)
                if live or wanted_live:
                    blocked.append(
                        f"{ddep.doc.file}: {fields} of deployment {name}/{dname} cannot change in place and it "
                        f"{'serves' if live else 'would serve'} traffic. Add a new deployment file (e.g. {dname}-v2.yml) "
                        "with the new value, move traffic to it, and delete this one in a later commit."
                    )
                    continue
                actions.append(
                    Action(
                        "replace_deployment",
                        dres,
                        f"{fields} cannot change in place; deployment has 0% traffic, so it is deleted and re-created",
                        _diffs(dd),
                        name,
                        dname,
                    )
                )
            elif dd:
                actions.append(Action("update_deployment", dres, "differs from git", _diffs(dd), name, dname))
            elif ahave.provisioning_state.lower() != "succeeded":
                actions.append(
                    Action(
                        "update_deployment",
                        dres,
                        f"provisioning state is {ahave.provisioning_state}; re-applying",
                        [],
                        name,
                        dname,
                    )
                )

        # Deployments present in the target but not in git.
        desired_lower = {d.lower() for d in dep_ep.deployments}
        for adname, adep in act_ep.deployments.items() if act_ep else []:
            if adname.lower() in desired_lower:
                continue
            dres = f"deployment/{name}/{adname}"
            aviews[dres] = [
                deployment_view(adep.entity),
                adep.tags.get(TAG_SPEC_HASH),
                adep.provisioning_state,
            ]
            if not is_owned(adep.tags, env):
                notes.append(f"{dres} is not in git and not managed by mlops for {env!r}; left alone")
            elif not prune:
                notes.append(f"{dres} is not in git; kept because prune is off in environment.yaml")
            else:
                actions.append(
                    Action(
                        "delete_deployment",
                        dres,
                        "managed by mlops and removed from git (prune)",
                        [],
                        name,
                        adname,
                    )
                )

        if want_traffic != have_traffic or want_mirror != have_mirror:
            diff = []
            if want_traffic != have_traffic:
                diff.append(FieldDiff("traffic", have_traffic, want_traffic))
            if want_mirror != have_mirror:
                diff.append(FieldDiff("mirror_traffic", have_mirror, want_mirror))
            kind = "set_traffic" if want_traffic != have_traffic else "set_mirror"
            ro = (
                _rollout(
                    dep_ep, act_ep, have_traffic, have_mirror, want_traffic, want_mirror, retry_rollout, now
                )
                if kind == "set_traffic"
                else None
            )
            if ro is not None and ro[0] == "diverged":
                diverged.append(ro[1])
            elif ro is not None and isinstance(ro[2], dict):
                actions.append(Action("rollout", f"endpoint/{name}", ro[1], diff, name, name, ro[2]))
            else:
                actions.append(Action(kind, f"endpoint/{name}", "traffic differs from git", diff, name, name))

    # Endpoints in the target but not in git.
    desired_ep_lower = {n.lower() for n in desired.endpoints}
    owned_eps = [e for e in actual.endpoints.values() if is_owned(e.tags, env)]
    to_delete = []
    for act_ep in actual.endpoints.values():
        if act_ep.name.lower() in desired_ep_lower:
            continue
        res = f"endpoint/{act_ep.name}"
        if not is_owned(act_ep.tags, env):
            continue  # Not ours: other environments and hand-made endpoints share the workspace.
        aviews[res] = [endpoint_view(act_ep.entity), act_ep.traffic, act_ep.mirror_traffic]
        if not prune:
            notes.append(f"{res} is not in git; kept because prune is off in environment.yaml")
            continue
        to_delete.append(act_ep)
    if to_delete and owned_eps and len(to_delete) == len(owned_eps) and not allow_empty:
        blocked.append(
            f"this plan would delete every endpoint of environment {env!r} ({', '.join(e.name for e in to_delete)}); "
            "if that is intended, re-run with --allow-empty"
        )
    else:
        for act_ep in to_delete:
            actions.append(
                Action(
                    "delete_endpoint",
                    f"endpoint/{act_ep.name}",
                    "managed by mlops and removed from git (prune)",
                    [],
                    act_ep.name,
                    act_ep.name,
                )
            )

    # Monitors.
    for mname, dmon in desired.monitors.items():
        res = f"monitor/{mname}"
        mwant = monitor_view(dmon.entity)
        mwant["tags"] = {**mwant["tags"], **owner_tags}
        dviews[res] = [mwant, dmon.spec_hash]
        amon = actual.monitors.get(mname)
        if amon is None:
            actions.append(
                Action(
                    "create_monitor",
                    res,
                    "declared in git, missing in target",
                    _diffs(diff_views(mwant, {})),
                    dmon.endpoint_name,
                    mname,
                )
            )
            continue
        mhave = monitor_view(amon.entity)
        aviews[res] = [mhave, amon.tags.get(TAG_SPEC_HASH), amon.enabled]
        md = diff_views(mwant, mhave)
        if amon.tags.get(TAG_SPEC_HASH) != dmon.spec_hash and not md:
            md = [("spec", amon.tags.get(TAG_SPEC_HASH), dmon.spec_hash)]
        if md:
            actions.append(
                Action("update_monitor", res, "differs from git", _diffs(md), dmon.endpoint_name, mname)
            )
        elif not amon.enabled:
            actions.append(
                Action(
                    "enable_monitor",
                    res,
                    "monitor is disabled in the target",
                    [FieldDiff("enabled", False, True)],
                    dmon.endpoint_name,
                    mname,
                )
            )
    deleted_eps = {a.name for a in actions if a.kind == "delete_endpoint"}
    for mname, amon in actual.monitors.items():
        if mname in desired.monitors:
            continue
        res = f"monitor/{mname}"
        if not is_owned(amon.tags, env):
            continue
        aviews[res] = [monitor_view(amon.entity), amon.tags.get(TAG_SPEC_HASH), amon.enabled]
        if not prune:
            notes.append(f"{res} is not in git; kept because prune is off in environment.yaml")
            continue
        group = (
            amon.endpoint_name
            if amon.endpoint_name in desired.endpoints or amon.endpoint_name in deleted_eps
            else None
        )
        actions.append(
            Action("delete_monitor", res, "managed by mlops and removed from git (prune)", [], group, mname)
        )

    actions.sort(key=lambda a: (a.phase, a.endpoint or "", a.resource))
    fp = _fingerprint(dviews, aviews)
    return Plan(
        env=env,
        target=target_kind,
        actions=actions,
        fingerprint=fp,
        blocked=blocked,
        notes=notes,
        diverged=diverged,
    )


def _rollout(
    dep_ep: Any,
    act_ep: Any,
    have_traffic: dict[str, int],
    have_mirror: dict[str, int],
    want_traffic: dict[str, int],
    want_mirror: dict[str, int],
    retry: bool,
    now: float | None,
) -> tuple[str, str, dict[str, Any] | None] | None:
    """("rollout", reason, RolloutPlan dict), ("diverged", reason, None) or None (plain set_traffic).

    A rollout applies when the endpoint has a strategy, something serves now (the baseline) and
    exactly one deployment gains live traffic (the canary)."""
    import time

    from gitops.rollout.spec import RolloutPlan, expand_steps, rollout_id

    spec = dep_ep.rollout
    if spec is None or not spec.enabled or act_ep is None:
        return None
    record = act_ep.rollout or {}
    previous_traffic, previous_mirror = have_traffic, have_mirror
    gaining = [d for d, w in want_traffic.items() if w > have_traffic.get(d, 0)]
    if record.get("status") == "running" and record.get("canary") in want_traffic:
        # Mid-rollout the live maps are a step's; the canary and baseline come from the record.
        previous_traffic = {k.lower(): int(v) for k, v in (record.get("previous_traffic") or {}).items()}
        previous_mirror = {k.lower(): int(v) for k, v in (record.get("previous_mirror") or {}).items()}
        gaining = [str(record["canary"])]
    if len(gaining) != 1 or not any(v for k, v in previous_traffic.items() if k != gaining[0]):
        return None
    canary = gaining[0]
    ddep = {k.lower(): v for k, v in dep_ep.deployments.items()}.get(canary)
    spec_hash = ddep.spec_hash if ddep is not None else ""
    rid = rollout_id(canary, spec_hash, want_traffic, want_mirror)
    if record.get("id") == rid and record.get("status") == "failed" and not retry:
        return (
            "diverged",
            f"endpoint/{dep_ep.name}: rollout {rid} of {canary} was rolled back at "
            f"{record.get('step_name') or 'step ' + str(record.get('step'))}: {record.get('evidence')}. "
            f"Traffic stays {have_traffic}; git wants {want_traffic}. Not retried until {canary}'s spec "
            "changes, or run apply with --retry-rollout.",
            None,
        )
    steps = expand_steps(spec, canary, previous_traffic, want_traffic, want_mirror)
    plan = RolloutPlan(
        id=rid,
        canary=canary,
        baseline=sorted(k for k, v in previous_traffic.items() if v and k != canary),
        canary_spec_hash=spec_hash,
        previous_traffic=previous_traffic,
        previous_mirror=previous_mirror,
        steps=steps,
        analysis=spec.analysis,
        smoke_request=spec.smoke_test.request_body if spec.smoke_test else None,
        smoke_expect_status=spec.smoke_test.expect_status if spec.smoke_test else 200,
        smoke_expect_keys=list(spec.smoke_test.expect_keys) if spec.smoke_test else [],
        smoke_source=spec.smoke_test.request_file if spec.smoke_test else "",
    )
    reason = f"progressive rollout of {canary} ({len(steps)} step(s))"
    if record.get("id") == rid and record.get("status") == "running":
        step = int(record.get("step", 0))
        plan.resume_step = step
        if step >= 0:
            elapsed = (now if now is not None else time.time()) - float(record.get("step_started", 0))
            plan.resume_elapsed_s = round(
                min(max(elapsed, 0.0), steps[min(step, len(steps) - 1)].duration_s), 3
            )
        reason = f"resuming interrupted rollout of {canary} at step {step + 1}/{len(steps)}"
    elif record.get("id") == rid and record.get("status") == "failed":
        reason = f"retrying rolled-back rollout of {canary} (--retry-rollout)"
    return "rollout", reason, plan.to_dict()
