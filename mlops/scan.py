"""`mlops scan`: the policy gate CI runs on every pull request, offline.

It lives in the app because it is where the two halves meet: it renders the platform's stacks
(mlplatform) and runs checkov with checks whose rules are the reconciler's own
(gitops/model/policy_rules.py, shared with `mlops validate`).

Renders both stacks to ARM and runs checkov (pinned, from its own tool venv `.venv-checkov`, never
downloading anything) twice in parallel: once over the ARM templates, the environments' YAML and
the GitHub workflows with our custom checks, once as a secrets scan of the repository. Writes SARIF,
JUnit XML and a console summary to build/scan/ and exits non-zero on any failed check or any
expired or stale suppression.

checkov 3.3.30 ignores `metadata.checkov` skip comments for ARM *graph* checks (CKV2_*), so those
suppressions from policies/suppressions.yaml are applied here, to the results and to the reports.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Not imported from mlplatform.config: `register` must stay cheap (no Pulumi or jsonschema import
# for `mlops --help`), and `mlops scan` must stay listed when the platform's dependencies are missing.
PROJECT_ROOT = Path(__file__).resolve().parents[1]
CHECKOV_VERSION = "3.3.30"
DEFAULT_CHECKOV = PROJECT_ROOT / ".venv-checkov" / "bin" / "checkov"
CHECKS_DIR = PROJECT_ROOT / "policies" / "checkov"
SECRET_SKIPS = (
    r"\.venv",
    r"\.git/",
    r"build/",
    r"\.mypy_cache",
    r"\.ruff_cache",
    r"\.pytest_cache",
    r"\.state/",
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "scan",
        help="policy scan (checkov, offline): both stacks' ARM, environments' YAML, workflows, secrets",
        description="Render every stack to ARM and run checkov with the platform's custom checks; "
        "write SARIF, JUnit XML and a summary; exit 1 on any failed check.",
    )
    parser.add_argument("--stacks", nargs="+", default=["dev", "prod"], help="stacks to render and scan")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "build" / "scan", help="report folder")
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT, help="repository to scan")
    parser.add_argument(
        "--checkov",
        type=Path,
        default=Path(os.environ.get("MLOPS_CHECKOV", str(DEFAULT_CHECKOV))),
        help="checkov executable of the tool venv (make checkov-venv creates it)",
    )
    parser.set_defaults(func=run)


@dataclass
class Finding:
    check_id: str
    name: str
    resource: str
    file: str
    lines: list[int]
    framework: str
    reason: str = ""


@dataclass
class Outcome:
    passed: dict[str, int] = field(default_factory=dict)
    failed: list[Finding] = field(default_factory=list)
    suppressed: list[Finding] = field(default_factory=list)

    def count(self, framework: str) -> None:
        self.passed[framework] = self.passed.get(framework, 0) + 1


def _checkov_cmd(
    checkov: Path, out: Path, dirs: list[Path], frameworks: list[str], extra: list[str]
) -> list[str]:
    cmd = [str(checkov)]
    for d in dirs:
        cmd += ["-d", str(d)]
    cmd += ["--framework", *frameworks, "--skip-download"]
    cmd += ["-o", "cli", "-o", "json", "-o", "sarif", "-o", "junitxml", "--output-file-path", str(out)]
    return cmd + extra


def _reports(path: Path) -> list[dict[str, Any]]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    docs = raw if isinstance(raw, list) else [raw]
    return [d for d in docs if isinstance(d, dict) and "results" in d]


def _collect(
    reports: list[dict[str, Any]], rules: list[Any], stack_of: dict[str, str], outcome: Outcome
) -> None:
    from mlplatform.arm import Suppression

    for report in reports:
        framework = str(report.get("check_type", "?"))
        results = report["results"]
        for _ in results.get("passed_checks", []):
            outcome.count(framework)
        for item in results.get("skipped_checks", []):
            outcome.suppressed.append(
                _finding(item, framework, str(item.get("check_result", {}).get("suppress_comment", "")))
            )
        for item in results.get("failed_checks", []):
            finding = _finding(item, framework)
            stack = stack_of.get(Path(finding.file).name)
            match: Suppression | None = next(
                (
                    s
                    for s in rules
                    if framework == "arm"
                    and stack is not None
                    and s.check == finding.check_id
                    and s.applies(stack, finding.resource)
                ),
                None,
            )
            if match is not None:
                finding.reason = f"{match.reason} (expires {match.expires})"
                outcome.suppressed.append(finding)
            else:
                outcome.failed.append(finding)


def _finding(item: dict[str, Any], framework: str, reason: str = "") -> Finding:
    return Finding(
        check_id=str(item.get("check_id")),
        name=str(item.get("check_name", "")),
        resource=str(item.get("resource", "")),
        file=str(item.get("file_path", "")),
        lines=list(item.get("file_line_range") or [0, 0]),
        framework=framework,
        reason=reason,
    )


def _merge_sarif(parts: list[Path], suppressed: list[Finding], out: Path) -> None:
    runs: list[Any] = []
    for part in parts:
        if part.is_file():
            runs += json.loads(part.read_text(encoding="utf-8")).get("runs", [])
    late = [f for f in suppressed if f.framework == "arm" and f.check_id.startswith("CKV2_")]
    for run in runs:
        for result in run.get("results", []):
            for loc in result.get("locations", []):
                physical = loc.get("physicalLocation", {})
                uri = str(physical.get("artifactLocation", {}).get("uri", ""))
                start = physical.get("region", {}).get("startLine")
                for f in late:
                    # SARIF names no resource; the file and the resource's first line identify it.
                    if (
                        result.get("ruleId") == f.check_id
                        and uri.endswith(Path(f.file).name)
                        and start == f.lines[0]
                    ):
                        result["suppressions"] = [{"kind": "external", "justification": f.reason}]
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": runs,
    }
    out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


def _merge_junit(parts: list[Path], suppressed: list[Finding], out: Path) -> None:
    root = ET.Element("testsuites")
    late = [f for f in suppressed if f.framework == "arm" and f.check_id.startswith("CKV2_")]
    for part in parts:
        if not part.is_file():
            continue
        tree = ET.parse(part)
        suites = [tree.getroot()] if tree.getroot().tag == "testsuite" else list(tree.getroot())
        for suite in suites:
            for case in suite.iter("testcase"):
                failure = case.find("failure")
                text = case.get("name", "") + " " + case.get("classname", "")
                for f in late:
                    if failure is not None and f.check_id in text and f.resource in text:
                        case.remove(failure)
                        ET.SubElement(case, "skipped", {"message": f.reason})
                        suite.set("failures", str(max(0, int(suite.get("failures", "1")) - 1)))
                        suite.set("skipped", str(int(suite.get("skipped", "0")) + 1))
                        break
            root.append(suite)
    ET.ElementTree(root).write(out, encoding="unicode", xml_declaration=True)


def format_summary(outcome: Outcome, seconds: float, expired_lines: list[str]) -> str:
    # The secrets framework reports nothing when it finds nothing; show that it ran.
    frameworks = sorted(
        set(outcome.passed) | {f.framework for f in outcome.failed + outcome.suppressed} | {"secrets"}
    )
    lines = [f"mlops scan (checkov {CHECKOV_VERSION}, offline) in {seconds:.1f}s"]
    for fw in frameworks:
        failed = sum(1 for f in outcome.failed if f.framework == fw)
        skipped = sum(1 for f in outcome.suppressed if f.framework == fw)
        lines.append(
            f"  {fw:<16} passed {outcome.passed.get(fw, 0):>4}  failed {failed:>3}  suppressed {skipped:>3}"
        )
    total_passed = sum(outcome.passed.values())
    lines.append(
        f"  {'total':<16} passed {total_passed:>4}  failed {len(outcome.failed):>3}  "
        f"suppressed {len(outcome.suppressed):>3}"
    )
    if outcome.suppressed:
        lines.append("suppressed (policies/suppressions.yaml, or inline skip comments in test fixtures):")
        for f in sorted(outcome.suppressed, key=lambda x: (x.file, x.check_id, x.resource)):
            lines.append(f"  {f.check_id} {f.resource} [{f.file}]: {f.reason}")
    for line in expired_lines:
        lines.append(f"FAILED suppression: {line}")
    if outcome.failed:
        lines.append("FAILED checks:")
        for f in sorted(outcome.failed, key=lambda x: (x.file, x.check_id, x.resource)):
            lines.append(f"  {f.check_id} {f.name} -- {f.resource} [{f.file}:{f.lines[0]}]")
    ok = not outcome.failed and not expired_lines
    lines.append("RESULT: " + ("PASS" if ok else "FAIL"))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from mlplatform import arm

    checkov: Path = args.checkov
    if not checkov.exists():
        print(f"error: checkov not found at {checkov}; run `make checkov-venv`", file=sys.stderr)
        return 2
    started = time.perf_counter()
    out: Path = args.out
    root: Path = args.root.resolve()
    out.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    try:
        rules = arm.load_suppressions(root / "policies" / "suppressions.yaml")
    except arm.SuppressionError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for s in arm.expired(rules):
        problems.append(f"{s.check} on {s.resource} expired {s.expires}: review it or fix the finding")
    active = [s for s in rules if s not in arm.expired(rules)]
    arm_dir = out / "arm"
    arm_dir.mkdir(exist_ok=True)
    secrets_extra: list[str] = []
    for pattern in SECRET_SKIPS:
        secrets_extra += ["--skip-path", pattern]
    secrets = _start(_checkov_cmd(checkov, out / "secrets", [root], ["secrets"], secrets_extra), root)
    stack_of = _render_stacks(args.stacks, root, arm_dir)
    if stack_of is None:
        secrets.kill()
        secrets.wait()
        return 1
    iac_dirs = [arm_dir] + [p for p in (root / "environments", root / ".github" / "workflows") if p.is_dir()]
    iac = _start(
        _checkov_cmd(
            checkov,
            out / "iac",
            iac_dirs,
            ["arm", "yaml", "github_actions"],
            ["--external-checks-dir", str(CHECKS_DIR)],
        ),
        root,
    )
    outcome = Outcome()
    for proc, folder in ((iac, "iac"), (secrets, "secrets")):
        _, stderr = proc.communicate()
        report = out / folder / "results_json.json"
        # checkov exits 1 when checks fail; anything else, or no report, means the scan itself broke.
        if proc.returncode not in (0, 1) or not report.is_file():
            print(f"error: checkov ({folder}) exited {proc.returncode}:\n{stderr[-2000:]}", file=sys.stderr)
            return 2
        _collect(_reports(report), active, stack_of, outcome)
    _write_reports(out, outcome)
    summary = format_summary(outcome, time.perf_counter() - started, problems)
    (out / "summary.txt").write_text(summary + "\n", encoding="utf-8")
    print(summary)
    return 1 if outcome.failed or problems else 0


def _render_stacks(stacks: list[str], root: Path, arm_dir: Path) -> dict[str, str] | None:
    """ARM template file name -> stack, or None (after printing why) when a render failed."""
    # Each render runs the whole program under mocks (several seconds); run the stacks side by side.
    renders = {
        stack: _start(
            [
                sys.executable,
                "-m",
                "mlops.scan",
                "--render",
                stack,
                str(arm_dir / f"{stack}.json"),
                str(root / f"Pulumi.{stack}.yaml"),
                str(root / "policies" / "suppressions.yaml"),
            ],
            root,
        )
        for stack in stacks
    }
    stack_of: dict[str, str] = {}
    failed_render = False
    for stack, proc in renders.items():
        _, stderr = proc.communicate()
        if proc.returncode != 0:
            print(f"error: rendering stack {stack} failed:\n{stderr.strip()}", file=sys.stderr)
            failed_render = True
        stack_of[f"{stack}.json"] = stack
    return None if failed_render else stack_of


def _write_reports(out: Path, outcome: Outcome) -> None:
    """One SARIF and one JUnit file over both checkov runs, with our suppressions applied."""
    _merge_sarif(
        [out / f / "results_sarif.sarif" for f in ("iac", "secrets")],
        outcome.suppressed,
        out / "results.sarif",
    )
    _merge_junit(
        [out / f / "results_junitxml.xml" for f in ("iac", "secrets")],
        outcome.suppressed,
        out / "results.xml",
    )


def _start(cmd: list[str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _render_one(stack: str, out: Path, stack_file: Path, suppressions: Path) -> int:
    """Child-process entry: render one stack to an ARM template with the active suppressions."""
    from mlplatform import arm, render
    from mlplatform.config import ConfigError

    try:
        rules = arm.load_suppressions(suppressions)
        active = [s for s in rules if s not in arm.expired(rules)]
        arm.write(arm.to_template(render.render(stack, stack_file), active), out)
    except (ConfigError, arm.SuppressionError) as err:
        print(f"stack {stack}: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 6 or sys.argv[1] != "--render":
        sys.exit("usage: python -m mlops.scan --render STACK OUT STACK_FILE SUPPRESSIONS")
    sys.exit(_render_one(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]), Path(sys.argv[5])))
