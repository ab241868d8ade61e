"""Normalisation, gitops-engine ``diff_test`` style: each ``testdata/normalize/<case>-desired.yml``
(what git declares) against ``<case>-live.json`` (what Azure returns for it: lower-cased,
zero-filled traffic, ARM ids for assets, PascalCase enums, ISO durations, read-only fields and
service defaults). The live files were recorded from the fake ARM (tests/gitops/fake_arm.py)
after the real MLClient applied the desired file. A converged pair compares equal; a drifted one
must produce exactly ``<case>-diff.json`` (``[field, live, desired]`` triples).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gitops.diff.normalize import deployment_view, diff_views, endpoint_view, monitor_view
from gitops.model.tags import ownership_tags
from gitops.model.traffic import Traffic

DATA = Path(__file__).parent / "testdata" / "normalize"
CASES = sorted(p.name.removesuffix("-desired.yml") for p in DATA.glob("*-desired.yml"))
# The planner compares the YAML entity plus the tags every apply writes (environment dev's).
OWNER_TAGS = ownership_tags("dev", {"cost-center": "ml-platform"})


@pytest.fixture(scope="session")
def sdk() -> dict[str, tuple[Callable[[str], Any], Callable[[dict[str, Any]], Any], Callable[[Any], Any]]]:
    """Per resource kind: the YAML loader, the REST reader MLClient uses, and our view. Imported
    once per session (azure-ai-ml takes seconds to import)."""
    from azure.ai.ml import load_online_deployment, load_online_endpoint
    from azure.ai.ml._restclient.arm_ml_service import models as rest
    from azure.ai.ml.entities import OnlineDeployment, OnlineEndpoint
    from azure.ai.ml.entities._load_functions import load_schedule
    from azure.ai.ml.entities._schedule.schedule import Schedule

    return {
        "endpoint": (
            load_online_endpoint,
            lambda d: OnlineEndpoint._from_rest_object(rest.OnlineEndpoint(d)),
            endpoint_view,
        ),
        "deployment": (
            load_online_deployment,
            lambda d: OnlineDeployment._from_rest_object(rest.OnlineDeployment(d)),
            deployment_view,
        ),
        "monitor": (load_schedule, lambda d: Schedule._from_rest_object(rest.Schedule(d)), monitor_view),
    }


def test_every_case_has_its_live_file() -> None:
    assert CASES
    for case in CASES:
        assert (DATA / f"{case}-live.json").is_file(), case


@pytest.mark.parametrize("case", CASES)
def test_normalised_views(case: str, sdk: dict[str, Any]) -> None:
    load, from_rest, view = sdk[case.split("-", 1)[0]]
    desired = load(str(DATA / f"{case}-desired.yml"))
    live = from_rest(json.loads((DATA / f"{case}-live.json").read_text()))
    want = view(desired)
    want["tags"] = {**want["tags"], **OWNER_TAGS}
    expected_file = DATA / f"{case}-diff.json"
    expected = json.loads(expected_file.read_text()) if expected_file.is_file() else []
    assert [list(d) for d in diff_views(want, view(live))] == expected
    if case.startswith("endpoint-"):
        assert Traffic.of(desired.traffic, desired.mirror_traffic) == Traffic.of(
            live.traffic, live.mirror_traffic
        )


def test_live_traffic_is_zero_filled_and_lower_cased() -> None:
    """The recorded live file really has the service's spelling, so the case above tests something."""
    live = json.loads((DATA / "endpoint-aml-token-private-zero-filled-live.json").read_text())
    desired = (DATA / "endpoint-aml-token-private-zero-filled-desired.yml").read_text()
    assert live["properties"]["traffic"] == {"main": 100, "shadow": 0}
    assert "Main: 100" in desired
    assert live["properties"]["authMode"] == "AMLToken"
