"""Alert -> action: webhook with retry against a loopback HTTP server, retraining request files."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from gitops.errors import InputErrors
from gitops.monitoring.actions import ActionsConfig, load_actions, run_actions
from gitops.monitoring.results import MonitorResult
from gitops.monitoring.run import run_monitor
from gitops.monitoring.spec import load_monitor
from mlops.cli import main

from .conftest import MONITOR_YAML, Collect


class Hook:
    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses  # answered in order; the last one repeats
        self.bodies: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []


@pytest.fixture
def hook() -> Iterator[tuple[Hook, str]]:
    state = Hook([200])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.bodies.append(json.loads(body))
            state.headers.append(dict(self.headers.items()))
            status = state.statuses[min(len(state.bodies), len(state.statuses)) - 1]
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None  # keep test output clean

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_port}/drift"
    server.shutdown()
    server.server_close()


@pytest.fixture
def breached(collect: Collect, tmp_path: Path) -> MonitorResult:
    result = run_monitor(
        load_monitor(MONITOR_YAML), collect(rows=200, shifted=True), tmp_path / "r", env="local"
    )
    assert result.breached
    return result


def test_webhook_retries_then_succeeds(hook: tuple[Hook, str], breached: MonitorResult) -> None:
    state, url = hook
    state.statuses = [503, 429, 200]
    sleeps: list[float] = []
    config = ActionsConfig(
        Path("a.yml"), [{"type": "webhook", "url": url, "retries": 3, "backoff_seconds": 0.5}]
    )
    (outcome,) = run_actions(config, breached, sleep=sleeps.append)
    assert outcome.ok
    assert outcome.attempts == 3
    assert outcome.detail == "HTTP 200"
    assert sleeps == [0.5, 1.0]  # exponential backoff between the three attempts
    body = state.bodies[-1]
    assert body["monitor"] == "wine-classifier-blue-monitor"
    assert body["deployment"] == "blue"
    signals = {s["signal"] for s in body["breached_signals"]}
    assert signals == {"data-drift", "prediction-drift", "data-quality"}


def test_webhook_gives_up_on_client_error_and_after_retries(
    hook: tuple[Hook, str], breached: MonitorResult
) -> None:
    state, url = hook
    state.statuses = [400]
    config = ActionsConfig(Path("a.yml"), [{"type": "webhook", "url": url, "retries": 3}])
    (outcome,) = run_actions(config, breached, sleep=lambda s: None)
    assert not outcome.ok
    assert outcome.attempts == 1
    assert outcome.detail == "HTTP 400"
    state.statuses = [500]
    state.bodies.clear()
    (outcome,) = run_actions(config, breached, sleep=lambda s: None)
    assert not outcome.ok
    assert len(state.bodies) == 4
    assert "gave up after 4 attempts" in outcome.detail


def test_signal_filter_and_alert_enabled(hook: tuple[Hook, str], breached: MonitorResult) -> None:
    state, url = hook
    config = ActionsConfig(Path("a.yml"), [{"type": "webhook", "url": url, "signals": ["prediction-drift"]}])
    run_actions(config, breached, sleep=lambda s: None)
    assert [s["signal"] for s in state.bodies[-1]["breached_signals"]] == ["prediction-drift"]
    for s in breached.signals:
        s.alert_enabled = False  # Azure only alerts for alert_enabled signals; so do we
    assert run_actions(config, breached, sleep=lambda s: None) == []


def test_retraining_request_written(tmp_path: Path, breached: MonitorResult) -> None:
    out = tmp_path / "requests"
    config = ActionsConfig(Path("a.yml"), [{"type": "retraining_request", "directory": str(out)}])
    (outcome,) = run_actions(config, breached)
    assert outcome.ok
    (written,) = out.glob("*.json")
    req = json.loads(written.read_text())
    assert req["kind"] == "mlops.retraining-request/v1"
    assert req["endpoint"] == "wine-classifier"
    drift = next(s for s in req["breached_signals"] if s["signal"] == "data-drift")
    assert {f["feature"] for f in drift["features"]} == {"alcohol", "color_intensity", "proline"}
    assert not list(out.glob("*.tmp"))


def test_actions_file_validation(tmp_path: Path) -> None:
    bad = tmp_path / "a.yml"
    bad.write_text("actions:\n  - type: webhook\n    url: ftp://x\n  - type: email\n")
    with pytest.raises(InputErrors) as exc:
        load_actions(bad)
    msgs = [str(d) for d in exc.value.diagnostics]
    assert any(m.startswith(f"{bad}:2:") and "actions.0" in m for m in msgs), msgs
    assert any(m.startswith(f"{bad}:4:") and "actions.1" in m for m in msgs), msgs


def test_cli_runs_actions_from_env_folder(
    tmp_path: Path, collect: Collect, hook: tuple[Hook, str], capsys: pytest.CaptureFixture[str]
) -> None:
    state, url = hook
    env = tmp_path / "environments" / "local"
    (env / "monitor-actions").mkdir(parents=True)
    (env / "monitor-actions" / "wine-classifier-blue-monitor.yml").write_text(
        f"actions:\n  - type: webhook\n    url: {url}\n    retries: 0\n"
    )
    args = [
        "monitor", "run", "--env", "local", "--environments", str(tmp_path / "environments"),
        "--file", str(MONITOR_YAML), "--out", str(tmp_path / "out"),
    ]  # fmt: skip
    assert main([*args, "--data-dir", str(collect(rows=200, shifted=True))]) == 3
    assert len(state.bodies) == 1
    assert "action webhook" in capsys.readouterr().out
    state.statuses = [500]
    assert main([*args, "--data-dir", str(collect(rows=200, shifted=True, seed=2))]) == 1
    assert "an alert action failed" in capsys.readouterr().err
    # No breach: no call.
    assert main([*args, "--data-dir", str(collect(rows=200, seed=3))]) == 0
    assert len(state.bodies) == 2


def test_webhook_headers_from_environment(
    hook: tuple[Hook, str], breached: MonitorResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    state, url = hook
    config = ActionsConfig(
        Path("a.yml"), [{"type": "webhook", "url": url, "headers_from_env": {"Authorization": "HOOK_TOKEN"}}]
    )
    monkeypatch.delenv("HOOK_TOKEN", raising=False)
    (outcome,) = run_actions(config, breached)
    assert not outcome.ok
    assert "HOOK_TOKEN" in outcome.detail
    assert state.bodies == []
    monkeypatch.setenv("HOOK_TOKEN", "Bearer s3cret")
    (outcome,) = run_actions(config, breached)
    assert outcome.ok
    assert state.headers[-1].get("Authorization") == "Bearer s3cret"
