from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from gitops.targets.local.datacollect import CollectorWriter

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "samples" / "wine-classifier" / "monitoring"
MONITOR_YAML = REPO / "environments" / "local" / "monitors" / "wine-classifier-blue.yml"
REFERENCE_PATH = "../../../samples/wine-classifier/monitoring/reference.csv"


def monitor_text() -> str:
    """The shipped monitor, pointing at a reference.csv beside it (for copies in a temp dir)."""
    return MONITOR_YAML.read_text().replace(REFERENCE_PATH, "./reference.csv")


def _module(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="session")
def traffic() -> ModuleType:
    return _module("wine_traffic", SAMPLE / "traffic.py")


@pytest.fixture(scope="session")
def wine_model() -> Any:
    ref = _module("wine_reference", SAMPLE / "make_reference.py")
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    _, x, y = ref.reference_rows()
    return make_pipeline(
        StandardScaler(), LogisticRegression(max_iter=2000, random_state=42, C=ref.V1_C)
    ).fit(x, y)


Collect = Callable[..., Path]


@pytest.fixture
def collect(tmp_path: Path, traffic: ModuleType, wine_model: Any) -> Collect:
    """Write wine traffic as the local router does (its own CollectorWriter), inputs and outputs."""

    def write(rows: int = 400, shifted: bool = False, seed: int = 1, root: Path | None = None) -> Path:
        root = root or tmp_path / ("collected-shifted" if shifted else "collected")
        writer = CollectorWriter(root)
        data = traffic.make_rows(rows, shifted, seed)
        for i in range(0, rows, 20):
            batch = data[i : i + 20]
            cid = f"req-{i}"
            writer.collect(
                "wine-classifier",
                "blue",
                "model_inputs",
                cid,
                data={"data": batch},
                content_type="application/json",
            )
            out = {"predictions": wine_model.predict(batch).tolist()}
            writer.collect(
                "wine-classifier", "blue", "model_outputs", cid, data=out, content_type="application/json"
            )
        writer.close()
        return root

    return write


def write_records(path: Path, bodies: list[Any], times: list[str] | None = None) -> None:
    """Collected JSON lines in the local data collector's record format, with chosen times."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        for i, body in enumerate(bodies):
            rec = {
                "id": f"id-{i}",
                "time": times[i] if times else "2026-01-02T03:04:05.000Z",
                "correlationid": f"c-{i}",
                "endpoint": "ep",
                "deployment": "d",
                "collection": "model_inputs",
                "datacontenttype": "application/json",
                "data": body,
            }
            fh.write(json.dumps(rec) + "\n")
