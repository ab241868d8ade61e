"""`mlops validate | plan | apply | status`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from gitops.errors import GitopsError, InputErrors, StalePlanError

DEFAULT_ENVIRONMENTS_DIR = "environments"
EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2

# Extra keyword arguments for the target factory; tests point the azureml target at a fake ARM.
TARGET_OPTIONS: dict[str, Any] = {}
# Extra keyword arguments for the rollout runner (``sleep``, ``clock``); tests inject a clock that
# moves when the canary has been observed instead of waiting out each step in wall time.
RUNNER_OPTIONS: dict[str, Any] = {}


def _env_dirs(args: argparse.Namespace) -> list[Path]:
    root = Path(args.environments)
    if getattr(args, "env", None):
        env_dir = root / args.env
        if not env_dir.is_dir():
            known = (
                sorted(p.name for p in root.iterdir() if p.is_dir() and p.name != "schema")
                if root.is_dir()
                else []
            )
            raise GitopsError(
                f"environment {args.env!r} not found under {root}/ (known: {', '.join(known) or 'none'})"
            )
        return [env_dir]
    if not root.is_dir():
        raise GitopsError(f"no {root}/ directory; run from the repository root or pass --environments")
    return sorted(
        p
        for p in root.iterdir()
        if p.is_dir() and (p / "environment.yaml").is_file() or (p / "environment.yml").is_file()
    )


def _add_common(p: argparse.ArgumentParser, env_required: bool) -> None:
    p.add_argument("--env", "-e", required=env_required, help="environment name (folder under environments/)")
    p.add_argument(
        "--environments",
        default=DEFAULT_ENVIRONMENTS_DIR,
        help="folder holding the environments (default: %(default)s)",
    )


def _add_target(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target", choices=("azureml", "local"), help="override `target:` from environment.yaml")


def _add_retry(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--retry-rollout",
        action="store_true",
        help="plan again a rollout that was rolled back, although the deployment did not change",
    )


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("validate", help="check an environment's YAML (all errors at once)")
    _add_common(p, env_required=False)
    p.set_defaults(func=cmd_validate)

    p = subparsers.add_parser("plan", help="show what apply would change")
    _add_common(p, env_required=True)
    _add_target(p)
    p.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    p.add_argument("--out", help="also write the plan as JSON to this file (for `apply --plan`)")
    p.add_argument("--detailed-exitcode", action="store_true", help="exit 2 when there are changes")
    p.add_argument(
        "--allow-empty",
        action="store_true",
        help="allow a plan that deletes every endpoint of the environment",
    )
    _add_retry(p)
    p.set_defaults(func=cmd_plan)

    p = subparsers.add_parser("apply", help="make the environment match git")
    _add_common(p, env_required=True)
    _add_target(p)
    p.add_argument(
        "--plan", dest="plan_file", help="apply this saved plan (refused if the environment changed since)"
    )
    p.add_argument("--auto-approve", action="store_true", help="do not ask for confirmation")
    p.add_argument("--output", choices=("text", "json"), default="text")
    p.add_argument(
        "--allow-empty", action="store_true", help="allow deleting every endpoint of the environment"
    )
    _add_retry(p)
    p.add_argument(
        "--skip-analysis",
        action="store_true",
        help="emergencies only: move traffic to its final split at once, without smoke test, steps or gates (recorded)",
    )
    p.set_defaults(func=cmd_apply)

    p = subparsers.add_parser("status", help="live state vs git: in sync, drifted or failed")
    _add_common(p, env_required=True)
    _add_target(p)
    p.add_argument("--output", choices=("text", "json"), default="text")
    p.add_argument("--detailed-exitcode", action="store_true", help="exit 2 when drifted or failed")
    p.set_defaults(func=cmd_status)


def cmd_validate(args: argparse.Namespace) -> int:
    from gitops.desired import load_desired

    errors: list[Any] = []
    ok: list[str] = []
    for env_dir in _env_dirs(args):
        try:
            state = load_desired(env_dir)
        except InputErrors as exc:
            errors.extend(exc.diagnostics)
            continue
        n_dep = sum(len(e.deployments) for e in state.endpoints.values())
        ok.append(
            f"{env_dir.name}: {len(state.endpoints)} endpoint(s), {n_dep} deployment(s), {len(state.monitors)} monitor(s)"
        )
    if errors:
        raise InputErrors(errors)
    for line in ok:
        print(f"ok  {line}")
    return EXIT_OK


def _prepare(args: argparse.Namespace) -> tuple[Any, Any]:
    from gitops.desired import load_desired
    from gitops.targets import create_target

    env_dir = _env_dirs(args)[0]
    desired = load_desired(env_dir)
    target = create_target(desired.manifest, getattr(args, "target", None), **TARGET_OPTIONS)
    return desired, target


def _current_plan(args: argparse.Namespace, desired: Any, target: Any) -> tuple[Any, Any]:
    """Read the target once and plan against git: the one path plan and apply share."""
    from gitops.apply import sdk_stdout_silenced
    from gitops.plan import make_plan

    with sdk_stdout_silenced():
        actual = target.read_state()
    plan = make_plan(
        desired,
        actual,
        target.kind,
        target.capabilities,
        allow_empty=args.allow_empty,
        retry_rollout=args.retry_rollout,
    )
    return actual, plan


def cmd_plan(args: argparse.Namespace) -> int:
    from gitops.render import plan_json, render_plan

    desired, target = _prepare(args)
    _, plan = _current_plan(args, desired, target)
    if args.out:
        Path(args.out).write_text(plan_json(plan), encoding="utf-8")
    sys.stdout.write(render_plan(plan, args.format))
    if plan.blocked:
        return EXIT_ERROR
    pending = plan.has_changes or bool(plan.diverged)
    return EXIT_CHANGES if args.detailed_exitcode and pending else EXIT_OK


def cmd_apply(args: argparse.Namespace) -> int:
    from rich.console import Console

    from gitops.apply import git_revision
    from gitops.plan import Plan
    from gitops.render import plan_text

    err = Console(stderr=True, highlight=False, soft_wrap=True)
    saved = None
    if args.plan_file:
        try:
            saved = Plan.from_dict(json.loads(Path(args.plan_file).read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError) as exc:
            raise GitopsError(
                f"{args.plan_file}: cannot read plan ({exc}); write one with `mlops plan --out`"
            ) from None
    desired, target = _prepare(args)
    if saved is not None and saved.env != desired.env:
        raise GitopsError(f"{args.plan_file} is a plan for environment {saved.env!r}, not {desired.env!r}")
    with target.lock(desired.env):
        actual, plan = _current_plan(args, desired, target)
        if saved is not None and saved.fingerprint != plan.fingerprint:
            raise StalePlanError(
                f"{args.plan_file} is stale: git or the environment changed since it was made; run `mlops plan --out` again"
            )
        if plan.blocked:
            sys.stderr.write(plan_text(plan))
            raise GitopsError("plan is blocked (see BLOCKED lines above); nothing was changed")
        if not plan.has_changes:
            if plan.diverged:
                # A rolled-back rollout: retrying the same revision would fail the same way.
                if args.output == "json":
                    print(json.dumps({"env": desired.env, "status": "diverged", "diverged": plan.diverged}))
                else:
                    for d in plan.diverged:
                        err.print(f"DIVERGED: {d}", markup=False)
                return EXIT_ERROR
            if args.output == "json":
                print(json.dumps({"env": desired.env, "status": "in_sync", "results": []}))
            else:
                err.print(f"No changes. Environment {desired.env} matches git.")
            return EXIT_OK
        if args.output == "text":
            err.print(plan_text(plan), end="")
        if saved is None and not args.auto_approve:
            if not sys.stdin.isatty():
                raise GitopsError(
                    "refusing to apply without confirmation: pass --auto-approve or --plan plan.json"
                )
            answer = input(f"Apply these {len(plan.actions)} change(s) to {desired.env}? Type 'yes': ")
            if answer.strip() != "yes":
                err.print("Cancelled; nothing was changed.")
                return EXIT_ERROR
        results = _execute(
            plan,
            desired,
            actual,
            target,
            err,
            git_revision(desired.manifest.root),
            args.output,
            args.skip_analysis,
        )
    failed = [r for r in results if r.status != "ok"]
    if args.output == "json":
        print(
            json.dumps(
                {
                    "env": desired.env,
                    "status": "failed" if failed else "applied",
                    "skip_analysis": bool(args.skip_analysis),
                    "results": [r.to_dict() for r in results],
                },
                indent=2,
            )
        )
    else:
        for r in results:
            if r.status == "ok":
                if r.action.kind == "rollout":
                    err.print(f"[green]ok[/] rollout {r.action.resource} {r.message}", markup=True)
                continue
            mark = {"ok": "[green]ok[/]", "failed": "[red]FAILED[/]", "skipped": "[yellow]skipped[/]"}[
                r.status
            ]
            err.print(f"{mark} {r.action.kind} {r.action.resource} {r.message}", markup=True)
        err.print(f"{len(results) - len(failed)}/{len(results)} action(s) succeeded.")
    return EXIT_ERROR if failed else EXIT_OK


def _execute(
    plan: Any,
    desired: Any,
    actual: Any,
    target: Any,
    err: Any,
    revision: str,
    output: str,
    skip_analysis: bool = False,
) -> list[Any]:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from gitops.apply import Executor, sdk_stdout_silenced

    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err,
        disable=output == "json" or not err.is_terminal,
    )
    task = progress.add_task(f"apply {desired.env}", total=len(plan.actions))

    def on_event(kind: str, action: Any, result: Any) -> None:
        if kind == "start":
            progress.update(task, description=f"{action.kind} {action.resource}")
        else:
            progress.advance(task)
            if output != "json" and not err.is_terminal:
                err.print(f"  {result.status:<7} {action.kind} {action.resource}", highlight=False)

    with progress, sdk_stdout_silenced():
        return Executor(
            plan,
            desired,
            actual,
            target,
            revision,
            on_event,
            skip_analysis=skip_analysis,
            log=lambda msg: err.print(msg, markup=False, highlight=False),
            runner_options=RUNNER_OPTIONS,
        ).run()


def cmd_status(args: argparse.Namespace) -> int:
    from gitops.apply import sdk_stdout_silenced
    from gitops.plan import make_plan

    desired, target = _prepare(args)
    with sdk_stdout_silenced():
        actual = target.read_state()
    plan = make_plan(desired, actual, target.kind, target.capabilities)
    failed = [
        f"deployment/{d.endpoint_name}/{d.name}"
        for e in actual.endpoints.values()
        if e.name in desired.endpoints
        for d in e.deployments.values()
        if d.provisioning_state.lower() == "failed"
    ]
    state = (
        "failed" if failed else ("diverged" if plan.diverged else ("drifted" if plan.actions else "in_sync"))
    )
    rollouts = {
        e.name: rollout_status(e.rollout)
        for e in actual.endpoints.values()
        if e.name in desired.endpoints and e.rollout
    }
    if args.output == "json":
        print(
            json.dumps(
                {
                    "env": desired.env,
                    "status": state,
                    "failed": failed,
                    "drift": [a.to_dict() for a in plan.actions],
                    "blocked": plan.blocked,
                    "diverged": plan.diverged,
                    "rollouts": rollouts,
                },
                indent=2,
                default=str,
            )
        )
    else:
        print(f"{desired.env}: {state.replace('_', ' ')} ({target.describe()})")
        for f in failed:
            print(f"  failed: {f}")
        for dv in plan.diverged:
            print(f"  diverged: {dv}")
        for name, ro in rollouts.items():
            print(f"  rollout endpoint/{name}: {ro['summary']}")
            if ro.get("gates"):
                print(f"      gates: {ro['gates']}")
            if ro.get("evidence"):
                print(f"      evidence: {ro['evidence']}")
        for a in plan.actions:
            print(f"  {a.kind} {a.resource}: {a.reason}")
            for d in a.diff:
                print(f"      {d.field}: {d.before} -> {d.after}")
    return EXIT_CHANGES if args.detailed_exitcode and state != "in_sync" else EXIT_OK


def rollout_status(record: dict[str, Any], now: float | None = None) -> dict[str, Any]:
    """A rollout progress record for people: which step, its gate values, how long it has left."""
    import time

    now = time.time() if now is None else now
    steps = list(record.get("steps") or [])
    step = int(record.get("step", 0))
    status = str(record.get("status", "?"))
    where = record.get("step_name") or (f"step {step + 1}" if step >= 0 else "smoke test")
    left = None
    if status == "running":
        left = max(0.0, float(record.get("step_started", now)) + float(record.get("step_duration", 0)) - now)
    summary = (
        f"{status} {record.get('canary')} (rollout {record.get('id')}, revision {record.get('revision')})"
    )
    summary += f", step {step + 1}/{len(steps)} {where}" if step >= 0 else f", {where}"
    if left is not None:
        summary += f", {left:.0f}s left in this step"
    if record.get("skip_analysis"):
        summary += ", analysis skipped (--skip-analysis)"
    return {
        **{
            k: record.get(k)
            for k in ("id", "canary", "status", "step", "step_name", "revision", "gates", "evidence")
        },
        "steps": steps,
        "time_left_s": None if left is None else round(left, 1),
        "summary": summary,
    }
