"""`mlops validate` on every case of the bad-input corpus: exit 1, one `file:line: message` per cause,
the expected file, line and words, no traceback, nothing written.

Most cases run in this process through ``mlops.cli.main`` (one azure-ai-ml import for all of them).
The cases that attack memory or time (alias bombs, deep nesting, the size cap) run in their own
process under a memory ceiling and a timeout, so that a regression fails those tests instead of the
whole run; so do a handful of ordinary cases, to prove the exit code and the clean stderr of the real
command line. Cases whose fix has not landed are strict xfails naming the missing feature: when the
fix lands they fail until the mark is removed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus
import measure

from mlops.cli import main

CASES = corpus.cases()
HAZARDS = ("alias budget", "nesting depth", "size cap")
# A few ordinary cases also run as a real subprocess: exit code and stderr as a user sees them.
SUBPROCESS_TOO = ("dup-traffic-key", "latin1-endpoint-description", "gzip-deployment", "traffic-fractional")

# Cases whose fix had not landed on main when the corpus was last run: strict xfails, the reason is
# the feature named in the case's expect.yaml (or below). Remove a name when its feature lands.
MISSING: frozenset[str] = frozenset(
    {
        "code-symlink-out-of-env",
        "deployment-file-case",
        "deployment-name-differs-from-file",
        "deployment-symlink-outside-env",
        "endpoint-folder-symlink-outside",
        "endpoint-folder-without-endpoint",
        "missing-endpoint-name",
        "missing-endpoint-yml",
        "monitor-without-create-monitor",
        "monitors-symlink-outside",
        "rollout-smoke-request-outside",
        "scoring-script-escape",
        "symlink-cycle-dir",
        "symlink-dangling",
        "symlink-loop-pair",
        "template-devops-token",
        "template-jinja-quoted",
    }
)
REASONS: dict[str, str] = {
    "missing-endpoint-name": "discovery by content: a deployment without endpoint_name now passes",
    "monitor-without-create-monitor": "discovery by content: a schedule without create_monitor is "
    "ignored silently (0 monitors, ok)",
    "deployment-name-differs-from-file": "discovery by content: only the knock-on traffic error is "
    "reported, not the file whose name differs",
    "endpoint-folder-without-endpoint": "discovery by content: the message names the deployment, "
    "not the folder without endpoint.yml",
    "missing-endpoint-yml": "discovery by content: the message names the deployment, "
    "not the folder without endpoint.yml",
    "deployment-file-case": "case-insensitive uniqueness reported against Blue.yml alone "
    "(today against blue.yml, plus a knock-on monitor error)",
}


def _param(case: corpus.Expect) -> object:
    marks = []
    if case.name in MISSING:
        reason = REASONS.get(case.name, case.feature)
        marks.append(pytest.mark.xfail(strict=True, reason=f"not yet on main: {reason}"))
    return pytest.param(case, id=case.name, marks=marks)


def _hazard(case: corpus.Expect) -> bool:
    return any(h in case.feature for h in HAZARDS)


IN_PROCESS = [_param(c) for c in CASES if not _hazard(c)]
OWN_PROCESS = [_param(c) for c in CASES if _hazard(c) or c.name in SUBPROCESS_TOO]


def test_corpus_size() -> None:
    bad = [c for c in CASES if not c.valid]
    assert len(bad) >= 100


def test_base_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["validate", "--environments", str(corpus.HERE), "--env", corpus.BASE_NAME])
    out = capsys.readouterr()
    assert code == 0, out.err


@pytest.mark.parametrize("case", IN_PROCESS)
def test_case(case: corpus.Expect, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = corpus.materialise(case, tmp_path)
    before = corpus.tree_hash(root / case.name)
    code = main(["validate", "--environments", str(root), "--env", case.name])
    out = capsys.readouterr()
    assert corpus.problems(case, code, out.out, out.err) == [], out.err
    assert corpus.tree_hash(root / case.name) == before


@pytest.mark.e2e
@pytest.mark.parametrize("case", OWN_PROCESS)
def test_case_subprocess(case: corpus.Expect, tmp_path: Path) -> None:
    root = corpus.materialise(case, tmp_path)
    before = corpus.tree_hash(root / case.name)
    code, wall, _, out, err = measure.run_case(root, case.name, timeout=30, mem_mb=2048)
    assert code is not None, f"killed after {wall:.0f} s"
    assert corpus.problems(case, code, out, err) == [], err
    assert corpus.tree_hash(root / case.name) == before
