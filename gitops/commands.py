"""`mlops validate | plan | apply | status`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import safeload
from gitops.errors import GitopsError, InputErrors, StalePlanError

DEFAULT_ENVIRONMENTS_DIR = "environments"
EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2

# Extra keyword arguments for the target factory; tests point the azureml target at a fake ARM.
TARGET_OPTIONS: dict[str, Any] = {}
# Extra keyword arguments for the rollout runner (``sleep``, ``clock``; fields of
# gitops.sync.SyncOptions); tests inject a clock that moves when the canary has been observed
# instead of waiting out each step in wall time.
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
        if (p.is_dir() and (p / "environment.yaml").is_file()) or (p / "environment.yml").is_file()
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
    p.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="list every YAML file: what it was taken for, or why skipped",
    )
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
        help="emergencies only: move traffic to its final split at once, without smoke test, steps or "
        "gates (recorded)",
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
    from gitops.views.validate import file_lines, summary_line

    errors: list[Any] = []
    ok: list[str] = []
    for env_dir in _env_dirs(args):
        try:
            state = load_desired(env_dir)
        except InputErrors as exc:
            errors.extend(exc.diagnostics)
            if args.verbose:  # the failed load kept nothing: walk again to say what each file is
                print("\n".join(file_lines(env_dir.name, _file_lines(env_dir, None))))
            continue
        if args.verbose:
            print("\n".join(file_lines(env_dir.name, _file_lines(env_dir, state.files))))
        ok.append(summary_line(summarize(state)))
    if errors:
        raise InputErrors(errors)
    for line in ok:
        print(line)
    return EXIT_OK


def _file_lines(env_dir: Path, files: Any) -> list[Any]:
    from gitops.desired.discover import describe_files, skip_label
    from gitops.errors import rel
    from gitops.views.validate import FileLine

    return [FileLine(skip_label(f), rel(f.path), f.why) for f in describe_files(env_dir, files)]


def summarize(state: Any) -> Any:
    from gitops.views.validate import EnvironmentSummary

    kinds = [getattr(a, "kind", "") for a in getattr(state, "assets", {}).values()]
    return EnvironmentSummary(
        env=state.env,
        endpoints=len(state.endpoints),
        deployments=sum(len(e.deployments) for e in state.endpoints.values()),
        monitors=len(state.monitors),
        models=kinds.count("model"),
        environments=kinds.count("environment"),
    )


def _prepare(args: argparse.Namespace) -> tuple[Any, Any]:
    from gitops.desired import load_desired
    from gitops.targets import create_target

    env_dir = _env_dirs(args)[0]
    desired = load_desired(env_dir)
    target = create_target(desired.manifest, getattr(args, "target", None), **TARGET_OPTIONS)
    return desired, target


def _current_plan(
    desired: Any, target: Any, allow_empty: bool = False, retry_rollout: bool = False
) -> tuple[Any, Any]:
    """Read the target once and plan against git: the one path plan, apply and status share."""
    from gitops.plan import make_plan
    from gitops.sync import sdk_stdout_silenced
    from gitops.targets.base import TargetHandle

    with sdk_stdout_silenced():
        actual = target.read_state()
        handle = TargetHandle.of(target)
        if desired.assets and handle.assets is not None:
            # Only the versions git declares: a workspace may hold thousands of assets.
            wanted = [(a.kind, a.name, a.version) for a in desired.assets.values()]
            actual.assets = handle.assets.read_assets(wanted)
    plan = make_plan(
        desired,
        actual,
        target.kind,
        target.capabilities,
        allow_empty=allow_empty,
        retry_rollout=retry_rollout,
    )
    return actual, plan


def cmd_plan(args: argparse.Namespace) -> int:
    from gitops.views import plan_json, plan_view

    view = plan_view(args.format)
    desired, target = _prepare(args)
    _, plan = _current_plan(desired, target, args.allow_empty, args.retry_rollout)
    if args.out:
        Path(args.out).write_text(plan_json(plan), encoding="utf-8")
    sys.stdout.write(view.render(plan))
    if plan.blocked:
        return EXIT_ERROR
    pending = plan.has_changes or bool(plan.diverged)
    return EXIT_CHANGES if args.detailed_exitcode and pending else EXIT_OK


# A plan lists every action with its diff and is never sent to Azure as one request: room for the
# largest environments, still refused before parsing when it is something else entirely.
_PLAN_LIMITS = safeload.Limits(max_bytes=16_000_000, size_note="")


def _read_saved_plan(path: str | None) -> Any:
    from gitops.plan import Plan

    if not path:
        return None
    try:
        # A plan is this tool's own output, but it arrives as an input file (often a CI artifact).
        raw = safeload.load_json_file(Path(path), _PLAN_LIMITS)
    except safeload.LoadError as exc:
        raise GitopsError(
            f"{exc.where}: cannot read plan ({exc.message}); write one with `mlops plan --out`"
        ) from None
    except OSError as exc:
        raise GitopsError(f"{path}: cannot read plan ({exc}); write one with `mlops plan --out`") from None
    try:
        return Plan.from_dict(raw)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise GitopsError(f"{path}: cannot read plan ({exc}); write one with `mlops plan --out`") from None


def _check_saved_plan(args: argparse.Namespace, saved: Any, plan: Any) -> None:
    if saved is not None and saved.fingerprint != plan.fingerprint:
        raise StalePlanError(
            f"{args.plan_file} is stale: git or the environment changed since it was made; "
            "run `mlops plan --out` again"
        )


def _approved(args: argparse.Namespace, saved: Any, view: Any, plan: Any) -> bool:
    """A saved plan was reviewed when it was made; otherwise someone at a terminal says yes."""
    if saved is not None or args.auto_approve:
        return True
    if not sys.stdin.isatty():
        raise GitopsError("refusing to apply without confirmation: pass --auto-approve or --plan plan.json")
    approved: bool = view.confirm(plan)
    return approved


def cmd_apply(args: argparse.Namespace) -> int:
    from gitops.views import apply_view

    view = apply_view(args.output)
    saved = _read_saved_plan(args.plan_file)
    desired, target = _prepare(args)
    if saved is not None and saved.env != desired.env:
        raise GitopsError(f"{args.plan_file} is a plan for environment {saved.env!r}, not {desired.env!r}")
    with target.lock(desired.env):
        actual, plan = _current_plan(desired, target, args.allow_empty, args.retry_rollout)
        _check_saved_plan(args, saved, plan)
        if plan.blocked:
            view.blocked(plan)
            raise GitopsError("plan is blocked (see BLOCKED lines above); nothing was changed")
        if not plan.has_changes:
            if plan.diverged:
                view.diverged(plan)
                return EXIT_ERROR
            view.in_sync(plan)
            return EXIT_OK
        view.proposed(plan)
        if not _approved(args, saved, view, plan):
            return EXIT_ERROR
        results = _execute(plan, desired, actual, target, view, skip_analysis=args.skip_analysis)
    view.results(plan, results, bool(args.skip_analysis))
    return EXIT_OK if all(r.ok for r in results) else EXIT_ERROR


def _execute(
    plan: Any, desired: Any, actual: Any, target: Any, view: Any, *, skip_analysis: bool
) -> list[Any]:
    from gitops.sync import Executor, SyncOptions, git_revision, sdk_stdout_silenced

    options = SyncOptions(
        revision=git_revision(desired.manifest.root),
        skip_analysis=skip_analysis,
        log=view.log,
        **RUNNER_OPTIONS,
    )
    with view.progress(plan) as observer, sdk_stdout_silenced():
        results: list[Any] = Executor(plan, desired, actual, target, options=options, observer=observer).run()
    return results


def cmd_status(args: argparse.Namespace) -> int:
    from gitops.sync.status import SyncState, environment_status
    from gitops.views import status_view

    view = status_view(args.output)
    desired, target = _prepare(args)
    actual, plan = _current_plan(desired, target)
    status = environment_status(desired, actual, plan, target.describe())
    sys.stdout.write(view.render(status))
    return EXIT_CHANGES if args.detailed_exitcode and status.state is not SyncState.IN_SYNC else EXIT_OK
