"""The Azure ML target's metrics provider: Azure Monitor platform metrics of the online endpoint.

Split by the ``deployment`` dimension and read from the regional Azure Monitor metrics data plane
with the azure-monitor-querymetrics ``MetricsClient`` and ``DefaultAzureCredential``.
azure-monitor-querymetrics and azure-core are imported inside functions (they are slow to import).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Sequence
from typing import Any

from gitops.errors import GitopsError
from gitops.rollout.gates import Window
from gitops.rollout.providers import MetricsUnavailable

# Azure ML online endpoint platform metrics.
METRIC_NAMESPACE = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints"
REQUESTS_METRIC = "RequestsPerMinute"
LATENCY_METRICS = {"p95": "RequestLatency_P95", "p99": "RequestLatency_P99"}
REQUESTS_FILTER = "deployment eq '*' and statusCode eq '*' and modelStatusCode eq '*'"
LATENCY_FILTER = "deployment eq '*'"
# The metrics data plane is regional: it only answers for resources in its own region.
DEFAULT_METRICS_ENDPOINT = "https://{location}.metrics.monitor.azure.com"
# The public cloud's token audience: the target, like MLClient here, works in the public cloud.
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
                lat[dep][key] = max([*vals, lat[dep].get(key, 0.0)])
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
        *,
        credential: Any = None,
        locate: Callable[[str], str] | None = None,
        metrics_endpoint: str = DEFAULT_METRICS_ENDPOINT,
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
                    audience=DEFAULT_AUDIENCE,
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
