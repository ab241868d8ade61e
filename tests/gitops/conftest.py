from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fake_arm import FakeArm, client_options

from gitops import commands
from mlops.cli import main

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeArm]:
    # MLClient with a custom cloud writes AZUREML_CURRENT_CLOUD into os.environ; without this the
    # fake cloud's name would leak into later tests' subprocesses, which then cannot resolve it.
    # setenv (unlike delenv of an absent variable) records the prior state, so teardown removes it.
    monkeypatch.setenv("AZUREML_CURRENT_CLOUD", "AzureCloud")
    server = FakeArm()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def envs(tmp_path: Path) -> Path:
    """A private copy of the shipped example environments."""
    root = tmp_path / "environments"
    for name in ("dev", "prod"):
        shutil.copytree(REPO / "environments" / name, root / name)
    return root


@pytest.fixture
def mlops(
    fake: FakeArm,
    envs: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Callable[..., Result]:
    monkeypatch.setenv("MLOPS_LOCK_DIR", str(tmp_path / "locks"))
    monkeypatch.setattr(commands, "TARGET_OPTIONS", client_options(fake))

    def run(*argv: str) -> Result:
        capsys.readouterr()
        code = main([*argv, "--environments", str(envs)])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def pytest_configure(config: pytest.Config) -> None:
    # azure-ai-ml 1.35.2 triggers marshmallow deprecation warnings on every load; not ours to fix.
    config.addinivalue_line("filterwarnings", "ignore::DeprecationWarning:marshmallow")
    config.addinivalue_line("filterwarnings", "ignore::DeprecationWarning:azure.ai.ml")
    config.addinivalue_line("filterwarnings", "ignore:.*Marshmallow4Warning")
    config.addinivalue_line("filterwarnings", "ignore:.*marshmallow 4")
    config.addinivalue_line("filterwarnings", "ignore:`Number` field")
