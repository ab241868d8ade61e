"""Run a monitor end to end: evaluate it, then write its report.

This is the one place that composes :mod:`gitops.monitoring.evaluate` (the numbers) with
:mod:`gitops.monitoring.report` (their rendering), so that neither imports the other.
``mlops monitor run`` calls :func:`run_monitor`; a demo or notebook calls :func:`evaluate_file`
with a monitor YAML and a collected-data folder.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from gitops.monitoring.evaluate import evaluate_monitor
from gitops.monitoring.report import write_report
from gitops.monitoring.results import MonitorResult
from gitops.monitoring.spec import MonitorSpec, load_monitor


def run_monitor(
    spec: MonitorSpec,
    data_root: Path | None,
    out_dir: Path | None = None,
    *,
    env: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> MonitorResult:
    """Evaluate every signal of ``spec``; write ``report.json`` and ``report.html`` under ``out_dir``
    when given (see :func:`gitops.monitoring.evaluate.evaluate_monitor` for ``data_root``)."""
    result = evaluate_monitor(spec, data_root, env=env, since=since, until=until)
    if out_dir is not None:
        write_report(result, out_dir)
    return result


def evaluate_file(
    monitor_yaml: Path | str,
    data_root: Path | str,
    out_dir: Path | str | None = None,
    *,
    env: str = "local",
    since: datetime | None = None,
    until: datetime | None = None,
) -> MonitorResult:
    """One call for demos and notebooks: load the monitor YAML, evaluate it on ``data_root``
    (e.g. ``collected_data_dir(manifest)``), write the report to ``out_dir`` if given."""
    spec = load_monitor(Path(monitor_yaml))
    return run_monitor(
        spec,
        Path(data_root),
        Path(out_dir) if out_dir is not None else None,
        env=env,
        since=since,
        until=until,
    )
