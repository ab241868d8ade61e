"""`mlops monitor run`: evaluate an environment's model monitors on collected data.

Exit codes: 0 = every evaluated signal is within its thresholds, 3 = at least one threshold was
breached, 1 = error (bad YAML, missing reference or collected data, failed action).
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from gitops.errors import GitopsError, InputErrors

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_BREACH = 3
DEFAULT_ENVIRONMENTS_DIR = "environments"
DEFAULT_OUT = "build/monitors"
RELATIVE_RE = re.compile(r"^(\d+)([mhd])$")


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("monitor", help="model monitors: evaluate signals on collected data")
    sub = p.add_subparsers(dest="monitor_command", metavar="SUBCOMMAND")
    sub.required = True
    r = sub.add_parser(
        "run",
        help="compute drift/quality metrics and compare them with the thresholds (exit 3 on a breach)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    r.add_argument("--env", "-e", required=True, help="environment name (folder under environments/)")
    r.add_argument("--environments", default=DEFAULT_ENVIRONMENTS_DIR, help="default: %(default)s")
    r.add_argument("--monitor", "-m", action="append", help="only this monitor (repeatable)")
    r.add_argument(
        "--file",
        "-f",
        action="append",
        type=Path,
        help="monitor YAML to run instead of environments/<env>/monitors/*.yml (repeatable)",
    )
    r.add_argument(
        "--data-dir",
        type=Path,
        help="collected data root holding <endpoint>/<deployment>/<collection>/ "
        "(default: where the environment's target says its data collector writes)",
    )
    r.add_argument("--state-dir", help="local target: override local.state_dir from environment.yaml")
    r.add_argument("--since", help="window start: ISO time/date or relative (30m, 24h, 7d)")
    r.add_argument("--until", help="window end: ISO time/date or relative")
    r.add_argument("--out", type=Path, default=Path(DEFAULT_OUT), help="report root (default: %(default)s)")
    r.add_argument(
        "--actions", type=Path, help="actions file (default: environments/<env>/monitor-actions/<name>.yml)"
    )
    r.add_argument("--no-actions", action="store_true", help="do not run alert actions")
    r.add_argument("--output", "-o", choices=("text", "json"), default="text")
    r.set_defaults(func=cmd_run)


def parse_when(text: str | None, now: datetime | None = None) -> datetime | None:
    if text is None:
        return None
    now = now or datetime.now(UTC)
    m = RELATIVE_RE.match(text.strip())
    if m:
        n, unit = int(m.group(1)), m.group(2)
        return now - {"m": timedelta(minutes=n), "h": timedelta(hours=n), "d": timedelta(days=n)}[unit]
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise GitopsError(
            f"cannot read time {text!r}; use ISO 8601 (2026-01-31, 2026-01-31T12:00Z) or 30m/24h/7d"
        ) from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _monitor_files(env_dir: Path, files: list[Path] | None) -> list[Path]:
    if files:
        return files
    folder = env_dir / "monitors"
    found = sorted(p for p in folder.glob("*") if p.suffix in (".yml", ".yaml")) if folder.is_dir() else []
    if not found:
        raise GitopsError(f"no monitors in {folder}/ (add a schedule YAML there or pass --file)")
    return found


def _data_root(args: argparse.Namespace, env_dir: Path) -> Path:
    if args.data_dir is not None:
        return Path(args.data_dir)
    from gitops.manifest import load_manifest
    from gitops.targets import create_target

    manifest = load_manifest(env_dir)
    if args.state_dir and manifest.target != "local":
        raise GitopsError(
            f"--state-dir is a setting of the local target; environment {manifest.env!r} uses target "
            f"{manifest.target!r}: pass --data-dir with a downloaded copy of its collected data instead"
        )
    # The target knows where its data collector writes (a local folder, or a blob store it names).
    options = {"state_dir": args.state_dir} if args.state_dir else {}
    target = create_target(manifest, **options)
    return target.require_data().collected_data_dir()


def cmd_run(args: argparse.Namespace) -> int:
    from gitops.monitoring.actions import default_actions_file, load_actions, run_actions
    from gitops.monitoring.run import run_monitor
    from gitops.monitoring.spec import load_monitor

    env_dir = Path(args.environments) / args.env
    if not env_dir.is_dir():
        raise GitopsError(f"environment {args.env!r} not found under {args.environments}/")
    since, until = parse_when(args.since), parse_when(args.until)
    specs = []
    diags = []
    for f in _monitor_files(env_dir, args.file):
        try:
            specs.append(load_monitor(f))
        except InputErrors as exc:
            diags += exc.diagnostics
    if diags:
        raise InputErrors(diags)
    if args.monitor:
        unknown = set(args.monitor) - {s.name for s in specs}
        if unknown:
            raise GitopsError(
                f"no monitor named {', '.join(sorted(unknown))} (have: {', '.join(s.name for s in specs)})"
            )
        specs = [s for s in specs if s.name in args.monitor]
    data_root = _data_root(args, env_dir)
    any_breach = False
    failed_actions = False
    summaries = []
    for spec in specs:
        out_dir = Path(args.out) / args.env / spec.name
        result = run_monitor(spec, data_root, out_dir, env=args.env, since=since, until=until)
        any_breach |= result.breached
        outcomes = []
        actions_file = args.actions or default_actions_file(env_dir, spec.name)
        if result.breached and actions_file is not None and not args.no_actions:
            outcomes = run_actions(load_actions(actions_file), result)
            failed_actions |= any(not o.ok for o in outcomes)
        summaries.append((result, outcomes))
    if args.output == "json":
        import json

        print(
            json.dumps(
                [{**r.to_json(), "actions": [o.__dict__ for o in outcomes]} for r, outcomes in summaries],
                indent=2,
            )
        )
    else:
        for result, outcomes in summaries:
            _print_text(result, outcomes)
    if failed_actions:
        print("error: an alert action failed (see above)", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_BREACH if any_breach else EXIT_OK


def _print_text(result: Any, outcomes: list[Any]) -> None:
    from gitops.monitoring.metrics import LOWER_IS_DRIFT

    state = "BREACHED" if result.breached else "ok"
    print(f"monitor {result.monitor} ({result.endpoint}/{result.deployment}): {state}")
    for s in result.signals:
        if s.status == "not_evaluated":
            print(f"  {s.name} [{s.type}]: not evaluated locally: {s.reason}", file=sys.stderr)
            continue
        print(
            f"  {s.name} [{s.type}]: {s.status} ({s.production_rows} production rows vs {s.reference_rows} reference)"
        )
        for f in s.features:
            if f.note:
                print(f"    {f.feature}: {f.note}")
            for m in f.breaches:
                op = "<" if m in LOWER_IS_DRIFT else ">"
                print(f"    {f.feature}: {m} = {f.metrics[m]:.4g} {op} {f.thresholds[m]:.4g}")
        for note in s.notes:
            print(f"    note: {note}")
    for o in outcomes:
        print(
            f"  action {o.type} -> {o.target}: {'ok' if o.ok else 'FAILED'} ({o.detail}, {o.attempts} attempt(s))"
        )
    print(f"  report: {result.report_dir}/report.html")
