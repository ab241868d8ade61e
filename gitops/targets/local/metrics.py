"""The local target's metrics provider: its router's own counters (``GET /-/local/stats``).

The router keeps cumulative counters per deployment; a window is the difference between the
snapshot taken when a rollout step began and the one taken now.
"""

from __future__ import annotations

import threading
from typing import Any

from gitops.errors import GitopsError
from gitops.rollout.gates import Window, percentile_from_buckets
from gitops.rollout.providers import MetricsUnavailable
from gitops.targets.local.engine import LocalEngine


def window_from_stats(
    before: dict[str, Any] | None, after: dict[str, Any] | None, bounds: list[float]
) -> Window:
    """Subtract two cumulative router snapshots of one deployment."""
    after = after or {}
    before = before or {}

    def get(d: dict[str, Any], *keys: str) -> int:
        v: Any = d
        for k in keys:
            v = v.get(k, 0) if isinstance(v, dict) else 0
        return int(v or 0)

    requests = get(after, "requests") - get(before, "requests")
    errors = (get(after, "status", "5xx") - get(before, "status", "5xx")) + (
        get(after, "model_errors") - get(before, "model_errors")
    )
    # A request can be both (timeout: 408 and a model error); count it once.
    errors = min(errors, requests)
    nb = len(bounds) + 1
    a_b = list(after.get("latency_buckets") or [0] * nb)
    b_b = list(before.get("latency_buckets") or [0] * nb)
    buckets = [x - y for x, y in zip(a_b, b_b, strict=False)]
    return Window(
        requests=requests,
        errors=errors,
        p95_ms=percentile_from_buckets(bounds, buckets, 0.95),
        p99_ms=percentile_from_buckets(bounds, buckets, 0.99),
    )


class LocalProvider:
    name = "local"

    def __init__(self, engine: LocalEngine) -> None:
        self.engine = engine
        self._base: dict[tuple[str, float], dict[str, Any]] = {}
        self._lock = threading.Lock()

    def _stats(self, endpoint: str) -> dict[str, Any]:
        try:
            stats: dict[str, Any] = self.engine.router_stats(endpoint)
        except (OSError, GitopsError) as exc:
            raise MetricsUnavailable(f"router of {endpoint} did not give its counters: {exc}") from None
        return stats

    def begin(self, endpoint: str, window_start: float) -> None:
        stats = self._stats(endpoint)
        with self._lock:
            self._base[(endpoint, window_start)] = stats

    def windows(self, endpoint: str, deployments: list[str], window_start: float) -> dict[str, Window]:
        with self._lock:
            base = self._base.get((endpoint, window_start))
        if base is None:
            raise MetricsUnavailable(f"no starting snapshot for {endpoint}; begin() was not called")
        now = self._stats(endpoint)
        bounds = [float(b) for b in now.get("latency_buckets_ms") or []]
        # A restarted router starts its counters at zero again: compare with an empty snapshot then.
        if now.get("deployments", {}) and any(
            (now["deployments"].get(d) or {}).get("requests", 0)
            < (base.get("deployments", {}).get(d) or {}).get("requests", 0)
            for d in deployments
        ):
            base = {"deployments": {}}
        return {
            d: window_from_stats(
                (base.get("deployments") or {}).get(d), (now.get("deployments") or {}).get(d), bounds
            )
            for d in deployments
        }
