"""Each custom check fails on a bad example and passes on a good one (fixtures/, one checkov run)."""

from __future__ import annotations

import pytest

WS = "Microsoft.MachineLearningServices/workspaces"
COMPUTE = "Microsoft.MachineLearningServices/workspaces/computes"

CASES = [
    # check, bad example, good example
    ("CKV_MLP_1", f"arm/bad.json:{COMPUTE}.badws/cluster", f"arm/good.json:{COMPUTE}.goodws/cluster"),
    ("CKV_MLP_2", f"arm/bad.json:{COMPUTE}.badws/cluster", f"arm/good.json:{COMPUTE}.goodws/cluster"),
    ("CKV_MLP_3", f"arm/bad.json:{COMPUTE}.badws/cluster", f"arm/good.json:{COMPUTE}.goodws/cluster"),
    ("CKV_MLP_4", f"arm/bad.json:{COMPUTE}.badws/cluster", f"arm/good.json:{COMPUTE}.goodws/cluster"),
    ("CKV_MLP_5", f"arm/bad.json:{WS}.badws", f"arm/good.json:{WS}.goodws"),
    ("CKV_MLP_6", f"arm/bad.json:{WS}.badws", f"arm/good.json:{WS}.goodws"),
    (
        "CKV_MLP_6",
        "arm/bad.json:Microsoft.KeyVault/vaults.badkv",
        "arm/good.json:Microsoft.KeyVault/vaults.goodkv",
    ),
    (
        "CKV_MLP_6",
        "arm/bad.json:Microsoft.ContainerRegistry/registries.badcr",
        "arm/good.json:Microsoft.ContainerRegistry/registries.goodcr",
    ),
    (
        "CKV_MLP_6",
        "arm/bad.json:Microsoft.Storage/storageAccounts.badst",
        "arm/good.json:Microsoft.Storage/storageAccounts.goodst",
    ),
    (
        "CKV_MLP_7",
        "arm/bad.json:Microsoft.Storage/storageAccounts.badst",
        "arm/good.json:Microsoft.Storage/storageAccounts.goodst",
    ),
    ("CKV_MLP_8", f"arm/bad.json:{WS}.badws", f"arm/good.json:{WS}.goodws"),
    ("CKV_MLP_9", f"arm/bad.json:{WS}.badws", f"arm/good.json:{WS}.goodws"),
    ("CKV_MLP_10", f"arm/bad.json:{WS}.badws", f"arm/good.json:{WS}.goodws"),
    (
        "CKV_MLP_101",
        "environments/prod/endpoints/bad/endpoint.yml",
        "environments/prod/endpoints/good/endpoint.yml",
    ),
    *[
        (
            check,
            "environments/prod/endpoints/bad/deployments/blue.yml",
            "environments/prod/endpoints/good/deployments/blue.yml",
        )
        for check in ("CKV_MLP_102", "CKV_MLP_103", "CKV_MLP_104", "CKV_MLP_105")
    ],
    (
        "CKV_MLP_106",
        "environments/dev/endpoints/leaky/deployments/main.yml",
        "environments/prod/endpoints/good/deployments/blue.yml",
    ),
    ("CKV_MLP_107", "environments/prod/monitors/bad.yml", "environments/prod/monitors/good.yml"),
]


@pytest.mark.parametrize(
    ("check", "bad", "good"), CASES, ids=[f"{c}-{b.split('.')[-1]}" for c, b, _ in CASES]
)
def test_check_fails_on_bad_and_passes_on_good(
    check: str, bad: str, good: str, fixture_results: dict[tuple[str, str], str]
) -> None:
    assert fixture_results.get((check, bad)) == "FAILED", f"{check} should fail on {bad}"
    assert fixture_results.get((check, good)) == "PASSED", f"{check} should pass on {good}"


def test_compute_in_a_subnet_passes_without_managed_network(
    fixture_results: dict[tuple[str, str], str],
) -> None:
    assert fixture_results[("CKV_MLP_4", f"arm/good.json:{COMPUTE}.subnetws/cluster")] == "PASSED"


def test_prod_only_checks_ignore_other_environments(fixture_results: dict[tuple[str, str], str]) -> None:
    dev = "environments/dev/endpoints/leaky/deployments/main.yml"
    assert not [k for k in fixture_results if k[1] == dev and k[0] != "CKV_MLP_106"]
    # The managed-network rule is a prod rule: the dev-tagged workspace is not judged by it.
    assert ("CKV_MLP_5", f"arm/good.json:{WS}.subnetws") not in fixture_results


def test_every_custom_check_is_covered(fixture_results: dict[tuple[str, str], str]) -> None:
    import re
    from pathlib import Path

    source = "".join(p.read_text() for p in (Path(__file__).parents[2] / "policies" / "checkov").glob("*.py"))
    declared = set(re.findall(r'"(CKV_MLP_\d+)"', source))
    assert declared == {c for c, _, _ in CASES}


def test_a_broken_copy_of_the_prod_template_fails(fixture_results: dict[tuple[str, str], str]) -> None:
    kv = "prod-broken.json:Microsoft.KeyVault/vaults.kv-mlops-prod-p01"
    assert fixture_results[("CKV_AZURE_110", kv)] == "FAILED"  # purge protection (built-in)
    assert fixture_results[("CKV_AZURE_42", kv)] == "FAILED"  # recoverable (built-in)
    assert (
        fixture_results[("CKV_MLP_3", f"prod-broken.json:{COMPUTE}.mlw-mlops-prod/cpu-cluster")] == "FAILED"
    )
    failed = {
        check
        for (check, where), result in fixture_results.items()
        if where.startswith("prod-broken") and result == "FAILED"
    }
    # Only what was planted fails (the reviewed suppressions still apply to the copy).
    assert failed == {"CKV_AZURE_110", "CKV_AZURE_42", "CKV_MLP_3"}
