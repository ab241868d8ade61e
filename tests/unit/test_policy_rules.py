"""gitops.model.policy_rules on its own: the decisions both gates share, without checkov."""

from __future__ import annotations

import pytest

from gitops.model import policy_rules as rules


@pytest.mark.parametrize(
    ("name", "value", "secret"),
    [
        ("SIGNING_KEY", "literal", True),
        ("KANSAS_REGION", "central", False),
        ("SASQUATCH", "y", False),
        ("MY_SAS", "x", True),
        ("apiKey", "x", True),
        ("ACCESS_KEY_ID", "x", True),
        ("KEY_VAULT_URL", "https://kv-a.vault.azure.net", False),
        ("TOKENIZER_PATH", "/models/tok", False),
        ("DB_PASSWORD", "", False),
        ("DB_PASSWORD", None, False),
        ("DB_PASSWORD", "db-password@https://kv-mlops-prod.vault.azure.net", False),
        ("DB_PASSWORD", "https://kv-mlops-prod.vault.azure.net/secrets/db-password", False),
        (
            "DB_PASSWORD",
            "https://kv-mlops-prod.vault.azure.net/secrets/db/0123456789abcdef0123456789abcdef",
            False,
        ),
        ("DB_PASSWORD", "${{azureml://connections/db/credentials/password}}", False),
        ("DB_PASSWORD", "db-password@https://evil.example.com", True),
        ("STORAGE", "AccountName=x;Account" + "Key=y", True),
        ("LOG_LEVEL", "info", False),
    ],
)
def test_committed_secret(name: str, value: object, secret: bool) -> None:
    assert rules.is_committed_secret(name, value) is secret


@pytest.mark.parametrize(
    ("env", "manifest", "required"),
    [
        ("prod", {}, True),
        ("prod", {"require_pinned_versions": False}, False),
        ("dev", {}, False),
        ("dev", {"require_pinned_versions": True}, True),
    ],
)
def test_pinning_required(env: str, manifest: dict[str, object], required: bool) -> None:
    assert rules.pinning_required(env, manifest) is required


def test_latest_version_floats() -> None:
    [finding] = rules.unpinned_versions({"model": "azureml:m:latest"})
    assert (
        finding.message == "model 'azureml:m:latest' floats (latest); pin a version: azureml:<name>:<version>"
    )
    assert finding.keys == ("model",)


def test_endpoint_exposure() -> None:
    assert rules.endpoint_exposure({"public_network_access": "Disabled", "auth_mode": "aml_token"}) == []
    assert [f.keys for f in rules.endpoint_exposure({"auth_mode": "key"})] == [
        ("public_network_access",),
        ("auth_mode",),
    ]


def test_monitor_without_target_has_nothing_to_collect() -> None:
    assert rules.monitor_target(None, lambda _: None) == (None, [])


@pytest.mark.parametrize(
    ("deployment", "pinned"),
    [
        ({"model": "azureml:m:3", "environment": "azureml:e:1"}, True),
        ({"model": "azureml://registries/r/models/m/versions/3"}, True),
        (
            {
                "model": "/subscriptions/s/resourceGroups/g/providers/Microsoft.MachineLearningServices/"
                "workspaces/w/models/m/versions/3"
            },
            True,
        ),
        ({"model": "azureml://registries/r/models/m/labels/latest"}, False),
        ({"model": "azureml://registries/r/models/m/labels/champion"}, False),
        ({"model": "azureml://registries/r/models/m"}, False),
        ({"environment": "azureml:e@latest"}, False),
        ({"environment": "azureml://registries/azureml/environments/sklearn@latest"}, False),
        ({"model": {"path": "./model"}}, False),
        ({"model": {"path": "./model", "version": "latest"}}, False),
        ({"model": {"name": "m", "version": 2, "path": "./model"}}, True),
        ({"code_configuration": {"code": "azureml://registries/r/codes/c/labels/latest"}}, False),
        ({"code_configuration": {"code": "./src"}}, True),
    ],
)
def test_unpinned_versions(deployment: dict[str, object], pinned: bool) -> None:
    assert (rules.unpinned_versions(deployment) == []) is pinned
