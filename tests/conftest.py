"""Suite-wide test settings: which tests are end-to-end, and the rollout clock helpers on sys.path.

A test is ``e2e`` when it starts real servers or HTTPS fakes: it asks (directly or through another
fixture) for the fake ARM (``fake``), the fake Azure Monitor metrics API (``metrics``) or the trained
sample models that the local target serves (``trained_models``). Marking by fixture keeps the mark
true as tests are added or moved; ``-m "not e2e"`` is then the quick in-memory run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

TESTS = Path(__file__).resolve().parent
# stepclock.py is shared by test modules and by the apply driver that tests run in a subprocess;
# with --import-mode=importlib neither can import a conftest.
sys.path.insert(0, str(TESTS))

SAMPLE = TESTS.parent / "samples" / "wine-classifier"
E2E_FIXTURES = frozenset({"fake", "metrics", "trained_models"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if E2E_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.e2e)


# Trained once per run for every folder that serves the sample model (tests/local, tests/conformance).
@pytest.fixture(scope="session")
def trained_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wine-models")
    subprocess.run(
        [sys.executable, str(SAMPLE / "train.py"), "--out", str(out)], check=True, capture_output=True
    )
    return out


@pytest.fixture(scope="session")
def registry(trained_models: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    from gitops.targets.local import ModelRegistry

    reg = ModelRegistry(tmp_path_factory.mktemp("registry"))
    reg.register("wine-classifier", trained_models / "v1" / "model")
    reg.register("wine-classifier", trained_models / "v2" / "model")
    return reg
