"""A fake of the regional Azure Monitor metrics data plane (the batch API) over HTTPS.

What it serves, as the real ``MetricsClient`` of azure-monitor-querymetrics calls it:

``POST [/<region>]/subscriptions/<sub>/metrics:getBatch`` with the query parameters ``api-version``,
``starttime``, ``endtime``, ``interval``, ``metricnamespace``, ``metricnames`` (comma separated),
``aggregation``, ``top`` and ``filter``, and the JSON body ``{"resourceids": [...]}``.

The answer is ``{"values": [...]}`` with one entry per resource id (``starttime``, ``endtime``,
``interval``, ``namespace``, ``resourceregion``, ``resourceid`` and ``value``: one entry per metric
name with ``name: {value, localizedValue}``, ``unit``, ``errorCode`` and ``timeseries``). Series are
split by the dimensions the filter names with ``eq '*'`` (``metadatavalues``) and summed over the
others; each carries per-minute ``data`` points holding the requested aggregation only. Like the
service, at most ``top`` series (10 when not given) come back per metric.

The optional ``/<region>`` path prefix stands in for the regional host name, so a test can see which
region the client was pointed at without DNS.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import ssl
import tempfile
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from fake_arm import make_certs

NAMESPACE = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints"
_PATH = re.compile(r"(?:/(?P<region>[a-z0-9]+))?/subscriptions/(?P<sub>[^/]+)/metrics:getBatch")
_RESOURCE = re.compile(
    r"/subscriptions/(?P<sub>[^/]+)/resourceGroups/[^/]+/providers/Microsoft\.MachineLearningServices"
    r"/workspaces/[^/]+/onlineEndpoints/(?P<ep>[^/]+)",
    re.IGNORECASE,
)
_CLAUSE = re.compile(r"\s*(?P<dim>\w+)\s+eq\s+'(?P<val>[^']*)'\s*")
# Which dimensions each metric has (the service rejects a filter on any other).
DIMENSIONS = {
    "RequestsPerMinute": ("deployment", "statusCode", "modelStatusCode"),
    "RequestLatency_P95": ("deployment",),
    "RequestLatency_P99": ("deployment",),
}
UNITS = {
    "RequestsPerMinute": "Count",
    "RequestLatency_P95": "MilliSeconds",
    "RequestLatency_P99": "MilliSeconds",
}
DEFAULT_TOP = 10


@dataclass
class Series:
    # (statusCode, modelStatusCode) -> requests per minute, for each minute of the window
    requests: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    p95_ms: list[float] = field(default_factory=list)
    p99_ms: list[float] = field(default_factory=list)


class BadRequest(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _parse_filter(flt: str) -> dict[str, str]:
    """``a eq '*' and b eq 'x'`` -> {a: *, b: x}; the fake only needs conjunctions."""
    if not flt.strip():
        return {}
    out = {}
    for clause in re.split(r"\s+and\s+", flt.strip()):
        m = _CLAUSE.fullmatch(clause)
        if not m:
            raise BadRequest(400, "BadRequest", f"cannot parse filter clause {clause!r}")
        out[m.group("dim")] = m.group("val")
    return out


class FakeMetrics:
    def __init__(self, region: str = "eastus") -> None:
        self.region = region
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

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _reply(self, status: int, payload: Any) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    payload = fake.answer(self.path, dict(self.headers), body)
                except BadRequest as exc:
                    self._reply(exc.status, {"error": {"code": exc.code, "message": exc.message}})
                    return
                self._reply(200, payload)

            def do_GET(self) -> None:
                # The batch API is POST only; a GET means the client is not the one we think.
                self._reply(405, {"error": {"code": "MethodNotAllowed", "message": self.path}})

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

    def answer(self, raw_path: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        parsed = urlparse(raw_path)
        q = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        try:
            doc = json.loads(body or b"null")
        except ValueError:
            doc = None
        with self.lock:
            self.log.append({"path": unquote(parsed.path), "query": q, "body": doc, "headers": headers})
        auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        if not auth.startswith("Bearer "):
            raise BadRequest(401, "AuthenticationFailed", "no bearer token")
        m = _PATH.fullmatch(unquote(parsed.path))
        if not m:
            raise BadRequest(404, "NotFound", parsed.path)
        if m.group("region") not in (None, self.region):
            raise BadRequest(400, "BadRequest", f"resources of {self.region} asked at {m.group('region')}")
        for required in ("api-version", "starttime", "endtime", "metricnamespace", "metricnames"):
            if not q.get(required):
                raise BadRequest(400, "BadRequest", f"{required} is required")
        if q["metricnamespace"].lower() != NAMESPACE.lower():
            raise BadRequest(400, "BadRequest", f"unknown namespace {q['metricnamespace']}")
        ids = doc.get("resourceids") if isinstance(doc, dict) else None
        if not isinstance(ids, list) or not ids:
            raise BadRequest(400, "BadRequest", 'body must be {"resourceids": [...]}')
        aggregation = (q.get("aggregation") or "Average").lower()
        top = int(q.get("top") or DEFAULT_TOP)
        flt = _parse_filter(q.get("filter", ""))
        names = q["metricnames"].split(",")
        values = []
        for rid in ids:
            r = _RESOURCE.fullmatch(str(rid))
            if not r or r.group("sub").lower() != m.group("sub").lower():
                raise BadRequest(400, "BadRequest", f"{rid} is not an online endpoint of this subscription")
            values.append(self._resource(str(rid), r.group("ep"), names, aggregation, top, flt, q))
        return {"values": values}

    def _resource(
        self,
        rid: str,
        ep: str,
        names: list[str],
        aggregation: str,
        top: int,
        flt: dict[str, str],
        q: dict[str, str],
    ) -> dict[str, Any]:
        start = dt.datetime.fromisoformat(q["starttime"].replace("Z", "+00:00"))
        with self.lock:
            mine = {d: s for (e, d), s in self.series.items() if e == ep}
        metrics = []
        for name in names:
            dims = DIMENSIONS.get(name)
            if dims is None:
                raise BadRequest(400, "BadRequest", f"unknown metric {name}")
            lowered = {d.lower(): d for d in dims}
            for dim in flt:
                if dim.lower() not in lowered:
                    raise BadRequest(400, "BadRequest", f"metric {name} has no dimension {dim}")
            split = [lowered[d.lower()] for d, v in flt.items() if v == "*"]
            fixed = {lowered[d.lower()]: v for d, v in flt.items() if v != "*"}
            # Every raw record of this metric: its full dimension values and its per-minute points.
            records: list[tuple[dict[str, str], list[float]]] = []
            for dep, s in sorted(mine.items()):
                if name == "RequestsPerMinute":
                    for (code, model_code), points in sorted(s.requests.items()):
                        records.append(
                            ({"deployment": dep, "statusCode": code, "modelStatusCode": model_code}, points)
                        )
                else:
                    points = s.p95_ms if name.endswith("95") else s.p99_ms
                    if points:
                        records.append(({"deployment": dep}, points))
            groups: dict[tuple[str, ...], list[list[float]]] = {}
            for values, points in records:
                if any(values[d] != v for d, v in fixed.items()):
                    continue
                groups.setdefault(tuple(values[d] for d in split), []).append(points)
            timeseries = []
            for key, members in sorted(groups.items())[:top]:
                width = max(len(p) for p in members)
                data = []
                for i in range(width):
                    vals = [p[i] for p in members if i < len(p)]
                    value = sum(vals) if aggregation == "total" else sum(vals) / len(vals)
                    stamp = (start + dt.timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
                    data.append({"timeStamp": stamp, aggregation: value})
                md = [
                    {"name": {"value": d, "localizedValue": d}, "value": v}
                    for d, v in zip(split, key, strict=True)
                ]
                timeseries.append({"metadatavalues": md, "data": data})
            metrics.append(
                {
                    "id": f"{rid}/providers/Microsoft.Insights/metrics/{name}",
                    "type": "Microsoft.Insights/metrics",
                    "name": {"value": name, "localizedValue": name},
                    "displayDescription": "",
                    "unit": UNITS[name],
                    "timeseries": timeseries,
                    "errorCode": "Success",
                }
            )
        return {
            "starttime": q["starttime"],
            "endtime": q["endtime"],
            "interval": q.get("interval", "PT1M"),
            "namespace": NAMESPACE,
            "resourceregion": self.region,
            "resourceid": rid,
            "value": metrics,
        }
