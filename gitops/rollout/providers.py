"""Metric providers behind one interface: a window of requests, errors and latency per deployment.

``local``   the local router's own counters (``GET /-/local/stats``), windowed by subtracting the
            snapshot taken when the step began.
``azureml`` Azure Monitor platform metrics of the online endpoint, split by the ``deployment``
            dimension, read from the regional Azure Monitor metrics data plane with the
            azure-monitor-querymetrics ``MetricsClient`` and ``DefaultAzureCredential``.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Sequence
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

# Azure ML online endpoint platform metrics.
METRIC_NAMESPACE = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints"
REQUESTS_METRIC = "RequestsPerMinute"
LATENCY_METRICS = {"p95": "RequestLatency_P95", "p99": "RequestLatency_P99"}
REQUESTS_FILTER = "deployment eq '*' and statusCode eq '*' and modelStatusCode eq '*'"
LATENCY_FILTER = "deployment eq '*'"
# The metrics data plane is regional: it only answers for resources in its own region.
DEFAULT_METRICS_ENDPOINT = "https://{location}.metrics.monitor.azure.com"
DEFAULT_AUDIENCE = "https://metrics.monitor.azure.com"
# With a $filter the service returns only the top 10 series unless told otherwise; a split by
# deployment x statusCode x modelStatusCode easily exceeds that and the window would undercount.
MAX_SERIES = 1000


def _dims(series: Any) -> dict[str, str]:
    return {str(k).lower(): str(v or "") for k, v in (getattr(series, "metadata_values", None) or {}).items()}


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
    requests: Sequence[Any], latency: Sequence[Any], deployments: list[str]
) -> dict[str, Window]:
    """Turn the client's ``Metric`` results (requests split by deployment and status; latency
    percentiles split by deployment) into windows. Pure, so it is unit-tested on built results."""
    wanted = {d.lower(): d for d in deployments}
    counts = {d: [0, 0] for d in deployments}
    for metric in requests:
        if str(metric.name).lower() != REQUESTS_METRIC.lower():
            continue
        for series in metric.timeseries or []:
            dims = _dims(series)
            dep = wanted.get(dims.get("deployment", "").lower())
            if dep is None:
                continue
            total = int(sum(float(p.total or 0) for p in series.data or []))
            counts[dep][0] += total
            if is_error(dims.get("statuscode", ""), dims.get("modelstatuscode", "")):
                counts[dep][1] += total
    lat: dict[str, dict[str, float]] = {d: {} for d in deployments}
    names = {v.lower(): k for k, v in LATENCY_METRICS.items()}
    for metric in latency:
        key = names.get(str(metric.name).lower())
        if key is None:
            continue
        for series in metric.timeseries or []:
            dep = wanted.get(_dims(series).get("deployment", "").lower())
            vals = [float(p.average) for p in series.data or [] if p.average is not None]
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
    """Reads the online endpoint's platform metrics with azure-monitor-querymetrics' ``MetricsClient``.

    ``metrics_endpoint`` may contain ``{location}``; it is then filled with the online endpoint's
    Azure region, which ``locate(endpoint_name)`` returns (the target reads it from Azure ML).
    """

    name = "azureml"

    def __init__(
        self,
        subscription_id: str,
        resource_group: str,
        workspace: str,
        credential: Any = None,
        locate: Callable[[str], str] | None = None,
        metrics_endpoint: str = DEFAULT_METRICS_ENDPOINT,
        audience: str = DEFAULT_AUDIENCE,
        connection_verify: Any = True,
        clock: Callable[[], float] | None = None,
    ) -> None:
        import time

        if credential is None:
            from azure.identity import DefaultAzureCredential

            credential = DefaultAzureCredential(exclude_interactive_browser_credential=True)
        self.credential = credential
        self.resource_prefix = (
            f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}"
            f"/providers/Microsoft.MachineLearningServices/workspaces/{workspace}/onlineEndpoints/"
        )
        self.locate = locate
        self.metrics_endpoint = metrics_endpoint.rstrip("/")
        self.audience = audience
        self.connection_verify = connection_verify
        self.clock = clock or time.time
        self._clients: dict[str, Any] = {}
        self._endpoint_of: dict[str, str] = {}
        self._lock = threading.Lock()

    def begin(self, endpoint: str, window_start: float) -> None:
        return None

    def _client(self, endpoint: str) -> Any:
        from azure.monitor.querymetrics import MetricsClient

        with self._lock:
            url = self._endpoint_of.get(endpoint)
        if url is None:
            if "{location}" in self.metrics_endpoint:
                if self.locate is None:
                    raise MetricsUnavailable(
                        f"metrics endpoint {self.metrics_endpoint} needs the region of {endpoint}, "
                        "and no way to look it up was given"
                    )
                from azure.core.exceptions import AzureError

                try:
                    location = self.locate(endpoint)
                except (OSError, GitopsError, AzureError) as exc:
                    raise MetricsUnavailable(f"region of endpoint {endpoint}: {exc}") from None
                # ARM may answer "West Europe"; the metrics host wants "westeurope".
                location = "".join(str(location).split()).lower()
                if not location:
                    raise MetricsUnavailable(f"Azure ML gave no location for endpoint {endpoint}")
                url = self.metrics_endpoint.replace("{location}", location)
            else:
                url = self.metrics_endpoint
        with self._lock:
            self._endpoint_of[endpoint] = url
            client = self._clients.get(url)
            if client is None:
                client = MetricsClient(
                    url,
                    self.credential,
                    audience=self.audience,
                    connection_verify=self.connection_verify,
                    retry_total=3,
                    retry_backoff_factor=0.5,
                )
                self._clients[url] = client
        return client

    def _query(
        self, endpoint: str, metrics: list[str], aggregation: str, flt: str, start: float
    ) -> list[Any]:
        from azure.core.exceptions import AzureError

        client = self._client(endpoint)
        resource_id = f"{self.resource_prefix}{endpoint}"
        # The service wants at least one whole grain; a window that just began asks for one minute.
        end = max(self.clock(), start + 60)
        try:
            results = client.query_resources(
                resource_ids=[resource_id],
                metric_namespace=METRIC_NAMESPACE,
                metric_names=metrics,
                timespan=(dt.datetime.fromtimestamp(start, dt.UTC), dt.datetime.fromtimestamp(end, dt.UTC)),
                granularity=dt.timedelta(minutes=1),
                aggregations=[aggregation],
                filter=flt,
                max_results=MAX_SERIES,
            )
        except AzureError as exc:
            raise MetricsUnavailable(
                f"Azure Monitor metrics {','.join(metrics)} of {endpoint}: {exc}"
            ) from None
        if len(results) != 1:
            raise MetricsUnavailable(
                f"Azure Monitor answered {len(results)} results for the one resource {resource_id}"
            )
        return list(results[0].metrics)

    def windows(self, endpoint: str, deployments: list[str], window_start: float) -> dict[str, Window]:
        requests = self._query(endpoint, [REQUESTS_METRIC], "Total", REQUESTS_FILTER, window_start)
        latency = self._query(
            endpoint, list(LATENCY_METRICS.values()), "Average", LATENCY_FILTER, window_start
        )
        return windows_from_metrics(requests, latency, deployments)
