"""The rollout strategy: loading, merging with environment defaults, and expansion into steps."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import safeload
from gitops import schemas
from gitops.errors import Diagnostic
from gitops.manifest import load_rollout_schema, schema_diagnostics, schema_validator
from gitops.yamlmarks import YamlDoc, YamlSyntaxError, load_yaml

ROLLOUT_FILES = ("rollout.yml", "rollout.yaml")
_DURATION = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)$")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def format_duration(seconds: float) -> str:
    """The largest whole unit parse_duration reads back: 900 -> "15m", 7200 -> "2h", 2.5 -> "2.5s"."""
    if seconds and seconds == int(seconds):
        for unit, size in (("h", 3600), ("m", 60)):
            if int(seconds) % size == 0:
                return f"{int(seconds) // size}{unit}"
    return f"{seconds:g}s"


def parse_duration(text: str) -> float:
    m = _DURATION.match(str(text).strip())
    if not m:
        raise ValueError(f"not a duration: {text!r} (use e.g. 500ms, 5s, 2m, 1h)")
    return float(m.group(1)) * _UNIT[m.group(2)]


@dataclass(frozen=True)
class Gate:
    max: float | None = None
    relative: float | None = None  # max_increase for error ratio, max_ratio for latency


@dataclass(frozen=True)
class Analysis:
    provider: str | None = None
    interval_s: float = 60.0
    min_requests: int = 20
    failure_limit: int = 2
    on_inconclusive: str = "fail"
    error_ratio: Gate | None = Gate(max=0.05)
    latency_p95_ms: Gate | None = None
    latency_p99_ms: Gate | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Analysis:
        gates = {
            k: Gate(**d[k]) if d.get(k) else None for k in ("error_ratio", "latency_p95_ms", "latency_p99_ms")
        }
        return cls(
            provider=d.get("provider"),
            interval_s=float(d.get("interval_s", 60.0)),
            min_requests=int(d.get("min_requests", 20)),
            failure_limit=int(d.get("failure_limit", 2)),
            on_inconclusive=str(d.get("on_inconclusive", "fail")),
            error_ratio=gates["error_ratio"],
            latency_p95_ms=gates["latency_p95_ms"],
            latency_p99_ms=gates["latency_p99_ms"],
        )


@dataclass(frozen=True)
class SmokeTest:
    request_file: str
    expect_status: int = 200
    expect_keys: tuple[str, ...] = ()
    # Read with the rest of the desired state, so that planning reads no files.
    request_body: str = ""


@dataclass(frozen=True)
class RolloutSpec:
    steps: tuple[tuple[str, int, float], ...]  # (mirror|weight, percent, seconds)
    analysis: Analysis
    smoke_test: SmokeTest | None = None
    enabled: bool = True
    source: str = ""  # files it came from, for messages


@dataclass
class Step:
    """One stage of a rollout as planned: the traffic and mirror maps it sets and how long it holds."""

    name: str  # "mirror 10%", "weight 50%", "final"
    traffic: dict[str, int]
    mirror: dict[str, int]
    duration_s: float
    analysed: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Step:
        return cls(**d)


@dataclass
class RolloutPlan:
    """What a `rollout` plan action carries: everything the runner needs, nothing read from git again."""

    id: str
    canary: str
    baseline: list[str]
    canary_spec_hash: str
    previous_traffic: dict[str, int]
    previous_mirror: dict[str, int]
    steps: list[Step]
    analysis: Analysis
    smoke_request: str | None = None  # request body (text) of the smoke test
    smoke_expect_status: int = 200
    smoke_expect_keys: list[str] = field(default_factory=list)
    smoke_source: str = ""
    resume_step: int = 0
    resume_elapsed_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["analysis"] = self.analysis.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RolloutPlan:
        d = dict(d)
        d["steps"] = [Step.from_dict(s) for s in d["steps"]]
        d["analysis"] = Analysis.from_dict(d["analysis"])
        return cls(**d)


def _gate(raw: Any, relative_key: str) -> Gate | None:
    if not raw:
        return None
    return Gate(max=raw.get("max"), relative=raw.get(relative_key))


def merge_raw(defaults: dict[str, Any] | None, own: dict[str, Any] | None) -> dict[str, Any]:
    """Endpoint keys win over environment defaults; `analysis` is merged gate by gate."""
    out = dict(defaults or {})
    for k, v in (own or {}).items():
        if k == "analysis" and isinstance(v, dict):
            out["analysis"] = {**(out.get("analysis") or {}), **v}
        elif k != "$schema":
            out[k] = v
    out.pop("$schema", None)
    return out


def build_spec(raw: dict[str, Any], base_dir: Path, source: str, default_interval_s: float) -> RolloutSpec:
    a = raw.get("analysis") or {}
    interval = parse_duration(a["interval"]) if a.get("interval") else default_interval_s
    has_any_gate = any(a.get(k) for k in ("error_ratio", "latency_p95_ms", "latency_p99_ms"))
    analysis = Analysis(
        provider=a.get("provider"),
        interval_s=interval,
        min_requests=int(a.get("min_requests", 20)),
        failure_limit=int(a.get("failure_limit", 2)),
        on_inconclusive=str(a.get("on_inconclusive", "fail")),
        # Without any gate declared, a rollout still guards against errors.
        error_ratio=_gate(a.get("error_ratio"), "max_increase") if has_any_gate else Gate(max=0.05),
        latency_p95_ms=_gate(a.get("latency_p95_ms"), "max_ratio"),
        latency_p99_ms=_gate(a.get("latency_p99_ms"), "max_ratio"),
    )
    steps = tuple(
        (
            "mirror" if "mirror" in s else "weight",
            int(s.get("mirror", s.get("weight", 0))),
            parse_duration(s["duration"]),
        )
        for s in raw.get("steps") or ()
    )
    smoke = None
    st = raw.get("smoke_test")
    if st:
        req = Path(st["request"])
        request_file = req if req.is_absolute() else (base_dir / req).resolve()
        try:
            # Sent as is, so read, not parsed: the same size cap and encoding rules as any input.
            body = safeload.decode_text(safeload.read_capped(request_file), str(request_file))
        except OSError as exc:
            raise ValueError(f"smoke test request {request_file}: {exc}") from None
        except safeload.LoadError as exc:
            raise ValueError(f"smoke test request {exc}") from None
        smoke = SmokeTest(
            request_file=str(request_file),
            expect_status=int(st.get("expect_status", 200)),
            expect_keys=tuple(st.get("expect_keys") or ()),
            request_body=body,
        )
    return RolloutSpec(
        steps=steps,
        analysis=analysis,
        smoke_test=smoke,
        enabled=bool(raw.get("enabled", True)),
        source=source,
    )


def check_rollout_doc(doc: YamlDoc) -> list[Diagnostic]:
    """Schema errors plus what the schema cannot say (smoke request file exists), file:line."""
    if not isinstance(doc.data, dict):
        return [doc.diag("a rollout strategy must be a YAML mapping")]
    diags = schema_diagnostics(doc, schema_validator(load_rollout_schema()), schemas.source(schemas.ROLLOUT))
    return diags + check_rollout_values(doc, doc.data, ())


def check_rollout_values(doc: YamlDoc, data: dict[str, Any], prefix: tuple[str, ...]) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    st = data.get("smoke_test")
    if isinstance(st, dict) and isinstance(st.get("request"), str):
        req = Path(st["request"])
        path = req if req.is_absolute() else doc.path.parent / req
        if not path.is_file():
            diags.append(
                doc.diag(
                    f"smoke_test.request: file {req} not found (relative to {doc.file})",
                    *prefix,
                    "smoke_test",
                    "request",
                )
            )
    steps = data.get("steps")
    if isinstance(steps, list):
        weights = [
            int(s["weight"]) for s in steps if isinstance(s, dict) and isinstance(s.get("weight"), int)
        ]
        if weights != sorted(weights):
            diags.append(doc.diag(f"steps: weights must not decrease (got {weights})", *prefix, "steps"))
    return diags


def load_rollout_doc(path: Path) -> tuple[YamlDoc | None, list[Diagnostic]]:
    """One endpoint's rollout.yml, parsed once, with its schema and value findings."""
    try:
        doc = load_yaml(path)
    except YamlSyntaxError as exc:
        return None, [exc.diagnostic]
    return doc, check_rollout_doc(doc)


def load_endpoint_rollout(ep_dir: Path) -> tuple[YamlDoc | None, list[Diagnostic]]:
    path = next((ep_dir / n for n in ROLLOUT_FILES if (ep_dir / n).is_file()), None)
    return load_rollout_doc(path) if path is not None else (None, [])


def rollout_id(canary: str, canary_spec_hash: str, traffic: dict[str, int], mirror: dict[str, int]) -> str:
    """Identifies one attempt at reaching a traffic target with one revision of the canary; a failed
    rollout is retried only when this changes (or with --retry-rollout)."""
    blob = json.dumps([canary, canary_spec_hash, traffic, mirror], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def _split_rest(shares: dict[str, int], remainder: int) -> dict[str, int]:
    """Divide `remainder` percent among the baseline deployments in proportion to their shares."""
    total = sum(shares.values())
    if remainder <= 0 or total <= 0:
        return {}
    names = sorted(shares, key=lambda n: (-shares[n], n))
    out = {n: remainder * shares[n] // total for n in names}
    out[names[0]] += remainder - sum(out.values())
    return {k: v for k, v in out.items() if v}


def expand_steps(
    spec: RolloutSpec,
    canary: str,
    have_traffic: dict[str, int],
    want_traffic: dict[str, int],
    want_mirror: dict[str, int],
) -> list[Step]:
    """The concrete traffic maps of every step, ending with exactly what endpoint.yml declares."""
    final_weight = want_traffic.get(canary, 0)
    baseline = {k: v for k, v in have_traffic.items() if k != canary and v}
    steps: list[Step] = []
    for kind, pct, secs in spec.steps:
        if kind == "mirror":
            if have_traffic.get(canary, 0) > 0:
                continue  # already serving live traffic: mirroring it would be a step back
            steps.append(Step(f"mirror {pct}%", dict(baseline), {canary: pct}, secs))
        else:
            if pct >= final_weight or pct <= have_traffic.get(canary, 0):
                continue
            traffic = {canary: pct, **_split_rest(baseline, 100 - pct)}
            steps.append(Step(f"weight {pct}%", traffic, {}, secs))
    # The final step is analysed only if the canary's last step was; after it nothing is left to roll back to.
    steps.append(Step(f"final ({canary} {final_weight}%)", dict(want_traffic), dict(want_mirror), 0.0, False))
    return steps
