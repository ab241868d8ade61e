"""What evaluating a monitor produces: one value that the report, the actions and the CLI all read.

The types live apart from :mod:`gitops.monitoring.evaluate` so that the renderers (report, actions)
depend on the shape of a result, not on how it is computed; evaluation never imports a renderer.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class FeatureResult:
    feature: str
    kind: str  # numerical | categorical
    metrics: dict[str, float]
    thresholds: dict[str, float]
    breaches: list[str]
    # For the HTML chart: bin labels and proportions on each side.
    chart: dict[str, Any] | None = None
    note: str = ""


@dataclass
class SignalResult:
    name: str
    type: str
    status: str  # ok | breached | not_evaluated
    alert_enabled: bool
    reason: str = ""
    reference: str = ""
    production: str = ""
    reference_rows: int = 0
    production_rows: int = 0
    window: dict[str, str | None] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    features: list[FeatureResult] = field(default_factory=list)

    @property
    def breached(self) -> bool:
        return self.status == "breached"


@dataclass
class MonitorResult:
    monitor: str
    env: str
    file: str
    endpoint: str | None
    deployment: str | None
    window: dict[str, str | None]
    generated_at: str
    alert_emails: list[str]
    signals: list[SignalResult]
    report_dir: str = ""

    @property
    def breached(self) -> bool:
        return any(s.breached for s in self.signals)

    def breached_signals(self) -> list[SignalResult]:
        return [s for s in self.signals if s.breached]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = asdict(self)
        out["breached"] = self.breached
        for s in out["signals"]:
            s["breached"] = s["status"] == "breached"
        cleaned: dict[str, Any] = _finite(out)
        return cleaned


def _finite(obj: Any) -> Any:
    """JSON has no NaN/inf; they become null (the report explains missing values)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    return obj
