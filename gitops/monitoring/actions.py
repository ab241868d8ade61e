"""Alert → action: what happens when a monitor's signal breaches a threshold.

Configured in our own file, not inside Azure's schedule YAML (whose schema we do not extend):
``environments/<env>/monitor-actions/<monitor name>.yml`` (or ``--actions FILE``), validated
against ``gitops/schemas/actions.schema.json``::

    actions:
      - type: webhook               # POST the breach summary as JSON
        url: https://hooks.example.com/ml-drift
        signals: [data-drift]       # optional: only these signals trigger it
        retries: 3                  # on connection errors, 429 and 5xx; exponential backoff
        headers_from_env:           # header values from the environment, never from git
          Authorization: DRIFT_HOOK_TOKEN
      - type: retraining_request    # a JSON file a CI workflow picks up and turns into a training run
        directory: build/retraining-requests

An action runs only for signals that breached *and* have ``alert_enabled: true`` in the monitor
YAML, mirroring Azure, which only alerts for those.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitops import schemas
from gitops.errors import GitopsError, InputErrors
from gitops.monitoring.results import MonitorResult, SignalResult
from gitops.yamlmarks import YamlSyntaxError, load_yaml

RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
REQUEST_KIND = "mlops.retraining-request/v1"


class ActionFailed(GitopsError):
    pass


@dataclass
class ActionOutcome:
    type: str
    target: str
    ok: bool
    detail: str
    attempts: int = 1


@dataclass
class ActionsConfig:
    file: Path
    actions: list[dict[str, Any]] = field(default_factory=list)


def load_actions(path: Path) -> ActionsConfig:
    import jsonschema

    try:
        doc = load_yaml(path)
    except YamlSyntaxError as exc:
        raise InputErrors([exc.diagnostic]) from None
    schema = schemas.load(schemas.ACTIONS)
    validator = jsonschema.Draft202012Validator(schema)
    diags = []
    for err in sorted(validator.iter_errors(doc.data), key=lambda e: list(e.absolute_path)):
        keys = [k for k in err.absolute_path]
        where = ".".join(str(k) for k in keys) or "(top level)"
        msg = err.message
        if err.validator == "oneOf":
            msg = (
                "each action needs `type: webhook` with `url`, or `type: retraining_request` with `directory`"
            )
        diags.append(doc.diag(f"{where}: {msg}", *keys))
    if diags:
        raise InputErrors(diags)
    return ActionsConfig(path, list(doc.data["actions"]))


def default_actions_file(env_dir: Path, monitor: str) -> Path | None:
    for suffix in (".yml", ".yaml"):
        p = env_dir / "monitor-actions" / f"{monitor}{suffix}"
        if p.exists():
            return p
    return None


def payload(result: MonitorResult, signals: list[SignalResult]) -> dict[str, Any]:
    return {
        "kind": REQUEST_KIND,
        "monitor": result.monitor,
        "env": result.env,
        "endpoint": result.endpoint,
        "deployment": result.deployment,
        "generated_at": result.generated_at,
        "window": result.window,
        "report": result.report_dir,
        "alert_emails": result.alert_emails,
        "breached_signals": [
            {
                "signal": s.name,
                "type": s.type,
                "features": [
                    {
                        "feature": f.feature,
                        "metrics": {m: f.metrics[m] for m in f.breaches},
                        "thresholds": {m: f.thresholds[m] for m in f.breaches},
                    }
                    for f in s.features
                    if f.breaches
                ],
            }
            for s in signals
        ],
    }


def run_actions(config: ActionsConfig, result: MonitorResult, sleep: Any = time.sleep) -> list[ActionOutcome]:
    """Run every action whose signals breached; failures are returned, not raised, so one bad
    webhook does not stop a retraining request from being written."""
    alerting = [s for s in result.breached_signals() if s.alert_enabled]
    outcomes: list[ActionOutcome] = []
    for action in config.actions:
        wanted = set(action.get("signals") or [])
        chosen = [s for s in alerting if not wanted or s.name in wanted]
        if not chosen:
            continue
        body = payload(result, chosen)
        if action["type"] == "webhook":
            outcomes.append(_webhook(action, body, sleep))
        else:
            outcomes.append(_retraining_request(action, body, config.file))
    return outcomes


def _webhook(action: dict[str, Any], body: dict[str, Any], sleep: Any) -> ActionOutcome:
    url = str(action["url"])
    retries = int(action.get("retries", 3))
    backoff = float(action.get("backoff_seconds", 1.0))
    timeout = float(action.get("timeout_seconds", 10))
    data = json.dumps(body, allow_nan=False).encode()
    headers = {"Content-Type": "application/json", **action.get("headers", {})}
    for header, var in action.get("headers_from_env", {}).items():
        value = os.environ.get(var)
        if value is None:
            return ActionOutcome(
                "webhook", url, False, f"environment variable {var} (header {header}) is not set", 0
            )
        headers[header] = value
    detail = ""
    for attempt in range(1, retries + 2):
        # The schema admits only http(s) URLs, so urlopen cannot be pointed at a file: or ftp: URL.
        req = urllib.request.Request(url, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return ActionOutcome("webhook", url, True, f"HTTP {resp.status}", attempt)
        except urllib.error.HTTPError as exc:
            detail = f"HTTP {exc.code}"
            if exc.code not in RETRYABLE_STATUS:
                return ActionOutcome("webhook", url, False, detail, attempt)
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            detail = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
        if attempt <= retries:
            sleep(backoff * 2 ** (attempt - 1))
    return ActionOutcome(
        "webhook", url, False, f"gave up after {retries + 1} attempts: {detail}", retries + 1
    )


def _retraining_request(action: dict[str, Any], body: dict[str, Any], config_file: Path) -> ActionOutcome:
    directory = Path(action["directory"])
    try:
        directory.mkdir(parents=True, exist_ok=True)
        stamp = body["generated_at"].replace(":", "").replace("-", "").replace("+0000", "Z")
        path = directory / f"{body['monitor']}-{stamp}.json"
        tmp = path.with_suffix(".json.tmp")
        # Write-then-rename so a CI job polling the folder never reads a half-written request.
        tmp.write_text(json.dumps(body, indent=2, allow_nan=False) + "\n", encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        return ActionOutcome("retraining_request", str(directory), False, f"{exc.strerror} ({config_file})")
    return ActionOutcome("retraining_request", str(path), True, "written")
