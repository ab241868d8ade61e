"""A fake of the Azure Monitor metrics API (``{resource}/providers/Microsoft.Insights/metrics``) over HTTPS.

Tests inject per-deployment series; answers have the service's shape: ``value`` holds one entry per
metric name with ``timeseries`` split by the dimensions named in ``$filter`` (``metadatavalues``), each
with per-minute ``data`` points carrying the requested aggregation.
"""

from __future__ import annotations

import json
import re
import ssl
import tempfile
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from fake_arm import make_certs

_PATH = re.compile(
    r"/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.MachineLearningServices/workspaces/[^/]+"
    r"/onlineEndpoints/(?P<ep>[^/]+)/providers/Microsoft\.Insights/metrics"
)


@dataclass
class Series:
    # (statusCode, modelStatusCode) -> requests per minute, for each minute of the window
    requests: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    p95_ms: list[float] = field(default_factory=list)
    p99_ms: list[float] = field(default_factory=list)


class FakeMetrics:
    def __init__(self) -> None:
        self.series: dict[tuple[str, str], Series] = {}
        self.log: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self._dir = tempfile.TemporaryDirectory(prefix="fake-metrics-")
        self.ca_path, cert, key = make_certs(Path(self._dir.name))
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(cert, key)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
                return

            def do_GET(self) -> None:
                status, payload = fake.answer(self.path, self.headers.get("Authorization", ""))
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._dir.cleanup()

    def set(self, endpoint: str, deployment: str, series: Series) -> None:
        with self.lock:
            self.series[(endpoint, deployment)] = series

    def answer(self, path: str, auth: str) -> tuple[int, Any]:
        parsed = urlparse(path)
        q = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        with self.lock:
            self.log.append({"path": parsed.path, **q})
        if not auth.startswith("Bearer "):
            return 401, {"error": {"code": "AuthenticationFailed", "message": "no bearer token"}}
        m = _PATH.fullmatch(parsed.path)
        if not m:
            return 404, {"error": {"code": "ResourceNotFound", "message": parsed.path}}
        if "api-version" not in q or "timespan" not in q:
            return 400, {"error": {"code": "BadRequest", "message": "api-version and timespan are required"}}
        ep = m.group("ep")
        names = q.get("metricnames", "").split(",")
        flt = q.get("$filter", "")
        value = []
        with self.lock:
            mine = {d: s for (e, d), s in self.series.items() if e == ep}
        for name in names:
            timeseries = []
            for dep, s in sorted(mine.items()):
                dims = [{"name": {"value": "deployment", "localizedValue": "deployment"}, "value": dep}]
                if name == "RequestsPerMinute":
                    if "statusCode" not in flt:
                        return 400, {
                            "error": {"code": "BadRequest", "message": "test expects a status split"}
                        }
                    for (code, model_code), points in sorted(s.requests.items()):
                        md = [
                            *dims,
                            {"name": {"value": "statusCode", "localizedValue": "statusCode"}, "value": code},
                            {
                                "name": {"value": "modelStatusCode", "localizedValue": "modelStatusCode"},
                                "value": model_code,
                            },
                        ]
                        data = [
                            {"timeStamp": f"2026-01-01T00:{i:02d}:00Z", "total": v}
                            for i, v in enumerate(points)
                        ]
                        timeseries.append({"metadatavalues": md, "data": data})
                elif name in ("RequestLatency_P95", "RequestLatency_P99"):
                    points = s.p95_ms if name.endswith("95") else s.p99_ms
                    data = [
                        {"timeStamp": f"2026-01-01T00:{i:02d}:00Z", "average": v}
                        for i, v in enumerate(points)
                    ]
                    timeseries.append({"metadatavalues": dims, "data": data})
            value.append(
                {
                    "id": f"{parsed.path}/{name}",
                    "type": "Microsoft.Insights/metrics",
                    "name": {"value": name, "localizedValue": name},
                    "unit": "Count" if name == "RequestsPerMinute" else "Milliseconds",
                    "timeseries": timeseries,
                    "errorCode": "Success",
                }
            )
        return 200, {
            "cost": 0,
            "timespan": q["timespan"],
            "interval": q.get("interval", "PT1M"),
            "value": value,
            "namespace": "Microsoft.MachineLearningServices/workspaces/onlineEndpoints",
            "resourceregion": "eastus",
        }
