"""The local target's test kit: sample paths, a scoring client and YAML writers.

Shared by tests/local/ and tests/conformance/ (as a module: with --import-mode=importlib test
modules cannot import a conftest).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "samples" / "wine-classifier"
FIXTURES = REPO / "tests" / "local" / "fixtures"


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def score(
    url: str, payload: Any, *, key: str | None = None, deployment: str | None = None, timeout: float = 30
) -> Reply:
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    if deployment is not None:
        headers["azureml-model-deployment"] = deployment
    req = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return Reply(resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read())
    except urllib.error.HTTPError as err:
        return Reply(err.code, {k.lower(): v for k, v in err.headers.items()}, err.read())


def write_yaml(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def deployment_yaml(name: str, endpoint: str, code: Path, model: str | None, extra: str = "") -> str:
    model_line = f"model: {model}\n" if model else ""
    return (
        f"name: {name}\nendpoint_name: {endpoint}\n{model_line}"
        f"code_configuration:\n  code: {code}\n  scoring_script: score.py\n"
        "environment: azureml:wine-sklearn:1\ninstance_type: Standard_DS3_v2\ninstance_count: 1\n"
        "readiness_probe:\n  initial_delay: 1\n  period: 2\n  timeout: 2\n  failure_threshold: 30\n" + extra
    )


def mlops_in(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`mlops ARGS --environments TMP/environments` as a user runs it: its own process, in TMP, with
    its own apply-lock folder."""
    env = dict(os.environ, MLOPS_LOCK_DIR=str(tmp / "locks"))
    return subprocess.run(
        [sys.executable, "-m", "mlops.cli", *args, "--environments", str(tmp / "environments")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp,
        timeout=240,
    )
