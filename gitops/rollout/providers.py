"""Metric providers behind one interface: a window of requests, errors and latency per deployment.

``local``   the local router's own counters (``GET /-/local/stats``), windowed by subtracting the
            snapshot taken when the step began.
``azureml`` Azure Monitor platform metrics of the online endpoint, split by the ``deployment``
            dimension, read from the Azure Resource Manager metrics API with ``DefaultAzureCredential``.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any, Protocol

from gitops.errors import GitopsError
from gitops.rollout.gates import Window, percentile_from_buckets


class MetricsProvider(Protocol):
    name: str

    def begin(self, endpoint: str, window_start: float) -> None:
        """Called when a step (or a resumed step) starts; the window runs from here."""
        ...

    def windows(self, endpoint: str, deployments: list[str], window_start: float) -> dict[str, Window]:
        """Per deployment, what it served since ``window_start`` (epoch seconds)."""
        ...


class MetricsUnavailable(GitopsError):
    """The provider could not read metrics; the runner counts this as a failed evaluation."""


# --------------------------------------------------------------------------------- local


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

    def __init__(self, engine: Any) -> None:
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


# -------------------------------------------------------------------------------- azureml

# Azure ML online endpoint platform metrics (namespace Microsoft.MachineLearningServices/workspaces/onlineEndpoints).
REQUESTS_METRIC = "RequestsPerMinute"
LATENCY_METRICS = {"p95": "RequestLatency_P95", "p99": "RequestLatency_P99"}
METRICS_API_VERSION = "2023-10-01"
ARM_SCOPE = "https://management.azure.com/.default"


def _iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _dims(series: dict[str, Any]) -> dict[str, str]:
    out = {}
    for md in series.get("metadatavalues") or []:
        name = (md.get("name") or {}).get("value", "")
        out[str(name).lower()] = str(md.get("value", ""))
    return out


def is_error(status_code: str, model_status_code: str) -> bool:
    """5xx answers, request timeouts, and 424s whose model answered 5xx (the model failed)."""
    try:
        code = int(status_code)
    except ValueError:
        return False
    if code >= 500 or code == 408:
        return True
    if code == 424:
        try:
            return int(model_status_code) >= 500
        except ValueError:
            return True
    return False


def windows_from_metrics(
    requests_payload: dict[str, Any], latency_payload: dict[str, Any], deployments: list[str]
) -> dict[str, Window]:
    """Parse the two metrics API answers into windows (pure; unit-tested on recorded payloads)."""
    wanted = {d.lower(): d for d in deployments}
    counts = {d: [0, 0] for d in deployments}
    for metric in requests_payload.get("value") or []:
        for series in metric.get("timeseries") or []:
            dims = _dims(series)
            dep = wanted.get(dims.get("deployment", "").lower())
            if dep is None:
                continue
            total = int(sum(float(p.get("total") or 0) for p in series.get("data") or []))
            counts[dep][0] += total
            if is_error(dims.get("statuscode", ""), dims.get("modelstatuscode", "")):
                counts[dep][1] += total
    lat: dict[str, dict[str, float]] = {d: {} for d in deployments}
    names = {v.lower(): k for k, v in LATENCY_METRICS.items()}
    for metric in latency_payload.get("value") or []:
        key = names.get(str((metric.get("name") or {}).get("value", "")).lower())
        if key is None:
            continue
        for series in metric.get("timeseries") or []:
            dep = wanted.get(_dims(series).get("deployment", "").lower())
            vals = [float(p["average"]) for p in series.get("data") or [] if p.get("average") is not None]
            if dep is not None and vals:
                # The worst minute of the window: a percentile cannot be averaged across minutes.
                lat[dep][key] = max(vals + [lat[dep].get(key, 0.0)])
    return {
        d: Window(
            requests=counts[d][0], errors=counts[d][1], p95_ms=lat[d].get("p95"), p99_ms=lat[d].get("p99")
        )
        for d in deployments
    }


class AzureMonitorProvider:
    name = "azureml"

    def __init__(
        self,
        subscription_id: str,
        resource_group: str,
        workspace: str,
        credential: Any = None,
        arm_url: str = "https://management.azure.com",
        connection_verify: Any = True,
        clock: Any = None,
    ) -> None:
        import time

        from azure.core import PipelineClient
        from azure.core.pipeline import policies

        if credential is None:
            from azure.identity import DefaultAzureCredential

            credential = DefaultAzureCredential(exclude_interactive_browser_credential=True)
        self.resource_prefix = (
            f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}"
            f"/providers/Microsoft.MachineLearningServices/workspaces/{workspace}/onlineEndpoints/"
        )
        self.arm_url = arm_url.rstrip("/")
        self.connection_verify = connection_verify
        self.clock = clock or time.time
        self.client: Any = PipelineClient(
            base_url=self.arm_url,
            policies=[
                policies.HeadersPolicy(),
                policies.UserAgentPolicy(sdk_moniker="mlops-rollout"),
                policies.RetryPolicy(retry_total=3, retry_backoff_factor=0.5),
                policies.BearerTokenCredentialPolicy(credential, ARM_SCOPE),
            ],
        )

    def begin(self, endpoint: str, window_start: float) -> None:
        return None

    def _query(self, endpoint: str, metrics: str, aggregation: str, flt: str, start: float) -> dict[str, Any]:
        from azure.core.exceptions import AzureError
        from azure.core.rest import HttpRequest

        end = max(self.clock(), start + 60)
        req = HttpRequest(
            "GET",
            f"{self.arm_url}{self.resource_prefix}{endpoint}/providers/Microsoft.Insights/metrics",
            params={
                "api-version": METRICS_API_VERSION,
                "metricnames": metrics,
                "aggregation": aggregation,
                "timespan": f"{_iso(start)}/{_iso(end)}",
                "interval": "PT1M",
                "$filter": flt,
                "metricnamespace": "Microsoft.MachineLearningServices/workspaces/onlineEndpoints",
            },
        )
        try:
            resp = self.client.send_request(req, connection_verify=self.connection_verify)
            if resp.status_code != 200:
                raise MetricsUnavailable(
                    f"Azure Monitor answered {resp.status_code} for {metrics} of {endpoint}: {resp.text()[:300]}"
                )
            payload: dict[str, Any] = resp.json()
        except AzureError as exc:
            raise MetricsUnavailable(f"Azure Monitor metrics of {endpoint}: {exc}") from None
        return payload

    def windows(self, endpoint: str, deployments: list[str], window_start: float) -> dict[str, Window]:
        requests = self._query(
            endpoint,
            REQUESTS_METRIC,
            "Total",
            "deployment eq '*' and statusCode eq '*' and modelStatusCode eq '*'",
            window_start,
        )
        latency = self._query(
            endpoint, ",".join(LATENCY_METRICS.values()), "Average", "deployment eq '*'", window_start
        )
        return windows_from_metrics(requests, latency, deployments)
