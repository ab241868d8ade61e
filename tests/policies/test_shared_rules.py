"""The shared-rule test: the same fixtures fed to both policy gates get the same verdicts.

`mlops validate` (in process, the real loader) and the checkov custom checks (the one checkov run
of tests/policies) judge the tree of shared_cases.py; both must agree with each other and with
the verdict the case names, e.g. SIGNING_KEY with a literal value fails both, KANSAS_REGION
passes both, a Key Vault reference is not a secret.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from shared_cases import Case

from gitops.desired import load_desired
from gitops.errors import Diagnostic, InputErrors

# The message of each rule family in validate, by the checkov check of the same rule.
FAMILY = {
    "CKV_MLP_101": ("a production endpoint",),
    "CKV_MLP_102": ("a production deployment",),
    "CKV_MLP_105": ("floats (", "has no version", "is not pinned"),
    "CKV_MLP_106": ("looks like a secret",),
    "CKV_MLP_107": ("monitor targets", "monitor needs", "endpoint_deployment_id"),
}


def _validate(env_dir: Path) -> list[Diagnostic]:
    try:
        load_desired(env_dir)
    except InputErrors as exc:
        return list(exc.diagnostics)
    return []


@pytest.fixture(scope="module")
def validate_diagnostics(policy_fixtures: tuple[Path, list[Case]]) -> list[Diagnostic]:
    folder, _ = policy_fixtures
    envs = folder / "shared" / "environments"
    return _validate(envs / "dev") + _validate(envs / "prod")


def _validate_passes(case: Case, diagnostics: list[Diagnostic]) -> bool:
    return not [
        d
        for d in diagnostics
        if Path(d.file).as_posix().endswith(case.file) and any(m in d.message for m in FAMILY[case.check])
    ]


def test_fixtures_break_only_the_rules_they_are_about(
    policy_fixtures: tuple[Path, list[Case]], validate_diagnostics: list[Diagnostic]
) -> None:
    # Otherwise a verdict could come from an unrelated problem (a schema error, a bad name).
    unrelated = [
        str(d) for d in validate_diagnostics if not any(m in d.message for ms in FAMILY.values() for m in ms)
    ]
    assert unrelated == []


def test_validate_and_scan_agree(
    policy_fixtures: tuple[Path, list[Case]],
    validate_diagnostics: list[Diagnostic],
    fixture_results: dict[tuple[str, str], str],
) -> None:
    _, cases = policy_fixtures
    verdicts = {
        (case.check, case.file): (
            case.passes,
            _validate_passes(case, validate_diagnostics),
            fixture_results.get((case.check, f"shared/{case.file}")),
        )
        for case in cases
    }
    wrong = {
        key: f"expected {'pass' if want else 'fail'}; validate {'passes' if val else 'fails'}, checkov {scan}"
        for key, (want, val, scan) in verdicts.items()
        if val != want or scan != ("PASSED" if want else "FAILED")
    }
    assert wrong == {}


@pytest.mark.parametrize(("name", "passes"), [("signing", False), ("kansas", True)])
def test_the_two_names_of_the_issue(
    name: str,
    passes: bool,
    validate_diagnostics: list[Diagnostic],
    fixture_results: dict[tuple[str, str], str],
) -> None:
    case = Case("CKV_MLP_106", f"environments/dev/endpoints/{name}/deployments/main.yml", passes)
    assert _validate_passes(case, validate_diagnostics) is passes
    assert fixture_results[(case.check, f"shared/{case.file}")] == ("PASSED" if passes else "FAILED")
