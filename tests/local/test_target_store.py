"""The local target stores what it can read back (issue 13, item 7), and says what cannot run here.

Fixtures are unchanged official files (tests/local/fixtures/azureml-examples/NOTICE).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gitops.manifest import ApplySettings, Manifest
from gitops.targets.local import LocalTargetError
from gitops.targets.local.target import LocalTarget

EXAMPLES = Path(__file__).parent / "fixtures" / "azureml-examples" / "cli" / "endpoints" / "online"
UAI_ENDPOINT = EXAMPLES / "managed" / "managed-identities" / "1-uai-create-endpoint.yml"


@pytest.fixture
def target(tmp_path: Path) -> Iterator[LocalTarget]:
    manifest = Manifest(
        env="byo",
        root=tmp_path,
        path=tmp_path / "environment.yaml",
        target="local",
        subscription_id=None,
        resource_group=None,
        workspace=None,
        prune=False,
        require_pinned_versions=False,
        apply=ApplySettings(),
    )
    lines: list[str] = []
    t = LocalTarget(manifest, state_dir=tmp_path / "state", out=lines.append)
    try:
        yield t
    finally:
        t.engine.down()


def _uai_endpoint() -> Any:
    from azure.ai.ml import load_online_endpoint

    return load_online_endpoint(str(UAI_ENDPOINT))


def _stored_source(t: LocalTarget, name: str) -> dict[str, Any]:
    row = t.engine.store.endpoint(name)
    assert row is not None
    source: dict[str, Any] = row.spec["source"]
    return source


def _overwrite_source(t: LocalTarget, name: str, source: dict[str, Any]) -> None:
    row = t.engine.store.endpoint(name)
    assert row is not None
    row.spec["source"] = source
    t.engine.store.upsert_endpoint(row)


def test_user_assigned_identity_endpoint_reads_back(target: LocalTarget) -> None:
    target.create_or_update_endpoint(_uai_endpoint())
    # Azure fills principal_id and client_id in; from YAML they are null and are not stored.
    identities = _stored_source(target, "my-uai-endpoint")["identity"]["user_assigned_identities"]
    assert identities == [{"resource_id": "user_identity_ARM_id_place_holder"}]
    live = target.read_state().endpoints["my-uai-endpoint"]
    assert live.entity.identity.type == "user_assigned"
    assert live.entity.identity.user_assigned_identities[0].resource_id == "user_identity_ARM_id_place_holder"
    assert live.scoring_uri == target.engine.scoring_uri("my-uai-endpoint")


def test_record_written_with_nulls_still_reads_back(target: LocalTarget) -> None:
    # What earlier versions stored: _to_dict() as it is, nulls included.
    target.create_or_update_endpoint(_uai_endpoint())
    source = json.loads(json.dumps(_uai_endpoint()._to_dict(), default=str))
    assert source["identity"]["user_assigned_identities"][0]["principal_id"] is None
    _overwrite_source(target, "my-uai-endpoint", source)
    assert target.read_state().endpoints["my-uai-endpoint"].entity.identity.type == "user_assigned"


def test_unreadable_record_is_one_clear_error(target: LocalTarget) -> None:
    target.create_or_update_endpoint(_uai_endpoint())
    source = _stored_source(target, "my-uai-endpoint")
    source["identity"]["type"] = "no_such_identity_type"
    _overwrite_source(target, "my-uai-endpoint", source)
    with pytest.raises(LocalTargetError) as info:
        target.read_state()
    text = str(info.value)
    assert "the stored endpoint my-uai-endpoint cannot be read back" in text
    assert "mlops down --env byo" in text
    assert "\n" not in text
    assert "Traceback" not in text


def test_store_is_a_database_of_plain_json(target: LocalTarget) -> None:
    target.create_or_update_endpoint(_uai_endpoint())
    con = sqlite3.connect(target.engine.store.path)
    try:
        (spec,) = con.execute("SELECT spec FROM endpoints WHERE name='my-uai-endpoint'").fetchone()
    finally:
        con.close()
    assert "null" not in json.dumps(json.loads(spec)["source"])
