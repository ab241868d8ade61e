"""A local fake of the Azure ML ARM API, served over HTTPS, for driving the real ``MLClient``.

It behaves like the service where the reconciler depends on it: long-running operations through
``Azure-AsyncOperation`` (with ``Retry-After-Ms`` so polls are fast), server-side normalisation
(PascalCase enums, ``systemData``, zero-filled lower-cased traffic, defaults and read-only fields),
traffic that may only name existing, healthy deployments, deletion of a deployment that still gets
traffic refused, failure injection (429 with Retry-After, 500, operations that end ``Failed``),
adjustable latency and a request log.
"""

from __future__ import annotations

import copy
import datetime as dt
import ipaddress
import json
import re
import ssl
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

LOCATION = "eastus"
_WS = r"/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/Microsoft\.MachineLearningServices/workspaces/(?P<ws>[^/]+)"


def make_certs(folder: Path) -> tuple[Path, Path, Path]:
    """Throwaway CA plus a leaf certificate for 127.0.0.1/localhost; returns (ca, cert, key) paths."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mlops fake ARM test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_path, cert_path, key_path = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(
        leaf.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM)
    )
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return ca_path, cert_path, key_path


@dataclass
class Fault:
    method: str  # "*" or an HTTP verb
    pattern: str  # regex searched in the path
    status: int
    remaining: int
    every: int = 1  # fail every n-th matching request
    retry_after_ms: int | None = None
    seen: int = 0


@dataclass
class Operation:
    id: str
    done_at: float
    on_done: Any  # callable returning None (success) or an error dict
    status: str = "InProgress"
    error: dict[str, Any] | None = None


@dataclass
class LoggedRequest:
    method: str
    path: str
    status: int
    api_version: str
    at: float
    body: Any = None


def _now_iso() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _pascal(v: Any) -> Any:
    return v[:1].upper() + v[1:] if isinstance(v, str) and v else v


class FakeArm:
    def __init__(self, op_seconds: float = 0.0, latency: float = 0.0, poll_ms: int = 10):
        self.lock = threading.RLock()
        self.endpoints: dict[str, dict[str, Any]] = {}
        self.deployments: dict[tuple[str, str], dict[str, Any]] = {}
        self.schedules: dict[str, dict[str, Any]] = {}
        self.data: dict[tuple[str, str], dict[str, Any]] = {}
        # Model and environment versions: (plural, name, version) -> resource.
        self.assets: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.ops: dict[str, Operation] = {}
        self.faults: list[Fault] = []
        self.failing_deployments: set[str] = set()  # "endpoint/deployment" whose create/update ends Failed
        self.log: list[LoggedRequest] = []
        self.op_seconds = op_seconds
        self.deployment_op_seconds: float | None = None
        self.latency = latency
        self.poll_ms = poll_ms
        self._dir = tempfile.TemporaryDirectory(prefix="fake-arm-")
        self.ca_path, cert, key = make_certs(Path(self._dir.name))
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(cert, key)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _handle(self) -> None:
                fake._serve(self)

            do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = do_HEAD = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.url = f"https://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._dir.cleanup()

    # -- helpers for tests ------------------------------------------------------------------

    def inject(
        self,
        status: int,
        count: int,
        method: str = "*",
        pattern: str = ".*",
        every: int = 1,
        retry_after_ms: int | None = None,
    ) -> Fault:
        fault = Fault(method, pattern, status, count, every, retry_after_ms)
        with self.lock:
            self.faults.append(fault)
        return fault

    def counts(self, since: int = 0) -> Counter[str]:
        with self.lock:
            return Counter(r.method for r in self.log[since:] if "mfeOperationsStatus" not in r.path)

    def writes(self, since: int = 0) -> list[LoggedRequest]:
        with self.lock:
            return [r for r in self.log[since:] if r.method in ("PUT", "POST", "DELETE", "PATCH")]

    def traffic(self, endpoint: str) -> dict[str, int]:
        with self.lock:
            return {k: v for k, v in self.endpoints[endpoint]["properties"].get("traffic", {}).items() if v}

    # -- HTTP --------------------------------------------------------------------------------

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        if self.latency:
            time.sleep(self.latency)
        parsed = urlparse(h.path)
        path = parsed.path
        query = parse_qs(parsed.query)
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        status, payload, headers = self._fault(h.command, path)
        if status == 0:
            try:
                status, payload, headers = self._route(h.command, path, query, body)
            except Exception as exc:  # noqa: BLE001 - a fake bug must surface as a 500, not hang the client
                status, payload, headers = 500, {"error": {"code": "FakeBug", "message": repr(exc)}}, {}
        with self.lock:
            self.log.append(
                LoggedRequest(
                    h.command, path, status, (query.get("api-version") or [""])[0], time.time(), body
                )
            )
        data = b"" if payload is None else json.dumps(payload).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.send_header("x-ms-request-id", str(uuid.uuid4()))
        for k, v in headers.items():
            h.send_header(k, v)
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(data)

    def _fault(self, method: str, path: str) -> tuple[int, Any, dict[str, str]]:
        with self.lock:
            for f in self.faults:
                if (
                    f.remaining <= 0
                    or (f.method != "*" and f.method != method)
                    or not re.search(f.pattern, path)
                ):
                    continue
                f.seen += 1
                if f.seen % f.every:
                    continue
                f.remaining -= 1
                headers: dict[str, str] = {}
                if f.retry_after_ms is not None:
                    headers["Retry-After"] = str(max(1, f.retry_after_ms // 1000))
                    headers["retry-after-ms"] = str(f.retry_after_ms)
                code = {429: "TooManyRequests", 403: "AuthorizationFailed"}.get(
                    f.status, "InternalServerError"
                )
                return f.status, {"error": {"code": code, "message": f"injected {f.status}"}}, headers
        return 0, None, {}

    def _advance(self) -> None:
        now = time.monotonic()
        for op in list(self.ops.values()):
            if op.status == "InProgress" and op.done_at <= now:
                err = op.on_done()
                op.status, op.error = ("Failed", err) if err else ("Succeeded", None)

    def _lro(
        self, sub: str, on_done: Any, seconds: float, status: int, payload: Any
    ) -> tuple[int, Any, dict[str, str]]:
        op = Operation(id=str(uuid.uuid4()), done_at=time.monotonic() + seconds, on_done=on_done)
        self.ops[op.id] = op
        url = f"{self.url}/subscriptions/{sub}/providers/Microsoft.MachineLearningServices/locations/{LOCATION}/mfeOperationsStatus/{op.id}"
        headers = {
            "Azure-AsyncOperation": url,
            "Retry-After-Ms": str(self.poll_ms),
            "x-ms-async-operation-timeout": "PT1H",
        }
        if status == 202:
            headers["Location"] = url
        return status, payload, headers

    @staticmethod
    def _err(status: int, code: str, message: str) -> tuple[int, Any, dict[str, str]]:
        return status, {"error": {"code": code, "message": message}}, {}

    def _system(self, existing: dict[str, Any] | None) -> dict[str, Any]:
        created = (existing or {}).get("systemData", {}).get("createdAt") or _now_iso()
        return {
            "createdAt": created,
            "createdBy": "someone@example.com",
            "createdByType": "User",
            "lastModifiedAt": _now_iso(),
            "lastModifiedBy": "mlops@example.com",
            "lastModifiedByType": "Application",
        }

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        with self.lock:
            self._advance()
            m = re.fullmatch(
                r"/subscriptions/[^/]+/providers/Microsoft\.MachineLearningServices/locations/[^/]+/mfeOperationsStatus/([^/]+)",
                path,
            )
            if m:
                op = self.ops.get(m.group(1))
                if op is None:
                    return self._err(404, "NotFound", "operation not found")
                payload: dict[str, Any] = {"status": op.status}
                if op.error:
                    payload["error"] = op.error
                return (
                    200,
                    payload,
                    ({"Retry-After-Ms": str(self.poll_ms)} if op.status == "InProgress" else {}),
                )
            m = re.fullmatch(_WS + r"(?P<rest>.*)", path)
            if not m:
                return self._err(404, "NotFound", f"no route for {path}")
            sub, ws, rest = m.group("sub"), m.group("ws"), m.group("rest")
            base = path[: len(path) - len(rest)]
            if rest == "":
                return 200, self._workspace(base, ws), {}
            if rest == "/onlineEndpoints":
                return 200, {"value": [self._endpoint_view(n) for n in sorted(self.endpoints)]}, {}
            m2 = re.fullmatch(r"/onlineEndpoints/([^/]+)", rest)
            if m2:
                return self._endpoint(method, sub, base, m2.group(1), body)
            m2 = re.fullmatch(r"/onlineEndpoints/([^/]+)/deployments", rest)
            if m2:
                ep = m2.group(1)
                if ep not in self.endpoints:
                    return self._err(404, "EndpointNotFound", f"endpoint {ep} not found")
                return (
                    200,
                    {
                        "value": [
                            copy.deepcopy(v) for (e, _), v in sorted(self.deployments.items()) if e == ep
                        ]
                    },
                    {},
                )
            m2 = re.fullmatch(r"/onlineEndpoints/([^/]+)/deployments/([^/]+)", rest)
            if m2:
                return self._deployment(method, sub, base, m2.group(1), m2.group(2), body)
            if rest == "/schedules":
                return 200, {"value": [copy.deepcopy(v) for _, v in sorted(self.schedules.items())]}, {}
            m2 = re.fullmatch(r"/schedules/([^/]+)", rest)
            if m2:
                return self._schedule(method, sub, base, m2.group(1), body)
            m2 = re.fullmatch(r"/(models|environments)/([^/]+)/versions/([^/]+)", rest)
            if m2:
                return self._asset(method, base, m2.group(1), m2.group(2), m2.group(3), body)
            m2 = re.fullmatch(r"/data/([^/]+)/versions/([^/]+)", rest)
            if m2:
                return self._data(method, base, m2.group(1), m2.group(2), body)
            return self._err(404, "NotFound", f"no route for {rest}")

    def _workspace(self, base: str, ws: str) -> dict[str, Any]:
        return {
            "id": base,
            "name": ws,
            "type": "Microsoft.MachineLearningServices/workspaces",
            "location": LOCATION,
            "kind": "Default",
            "identity": {"type": "SystemAssigned"},
            "sku": {"name": "Basic", "tier": "Basic"},
            "properties": {
                "friendlyName": ws,
                "provisioningState": "Succeeded",
                "workspaceId": str(uuid.uuid4()),
            },
            "systemData": self._system(None),
        }

    # endpoints

    def _endpoint_view(self, name: str) -> dict[str, Any]:
        ep = copy.deepcopy(self.endpoints[name])
        props = ep["properties"]
        traffic = {k.lower(): v for k, v in props.get("traffic", {}).items()}
        for (e, d), _ in self.deployments.items():
            if e == name and d.lower() not in traffic and d.lower() not in props.get("mirrorTraffic", {}):
                traffic[d.lower()] = 0  # the service zero-fills
        props["traffic"] = traffic
        return ep

    def _endpoint(
        self, method: str, sub: str, base: str, name: str, body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        url_id = f"{base}/onlineEndpoints/{name}"
        existing = self.endpoints.get(name)
        if method == "GET":
            if existing is None:
                return self._err(404, "NotFound", f"endpoint {name} not found")
            return 200, self._endpoint_view(name), {}
        if method == "DELETE":
            if existing is None:
                return self._err(404, "NotFound", f"endpoint {name} not found")
            existing["properties"]["provisioningState"] = "Deleting"

            def done() -> None:
                self.endpoints.pop(name, None)
                for key in [k for k in self.deployments if k[0] == name]:
                    self.deployments.pop(key)

            return self._lro(sub, done, self.op_seconds, 202, None)
        if method != "PUT" or not isinstance(body, dict):
            return self._err(400, "BadRequest", "unsupported")
        props = dict(body.get("properties") or {})
        traffic = {k.lower(): int(v) for k, v in (props.get("traffic") or {}).items()}
        mirror = {k.lower(): int(v) for k, v in (props.get("mirrorTraffic") or {}).items()}
        deps = {d.lower(): v for (e, d), v in self.deployments.items() if e == name}
        for k, v in {**traffic, **mirror}.items():
            if v and (k not in deps or deps[k]["properties"]["provisioningState"] != "Succeeded"):
                return self._err(
                    400,
                    "BadArgument",
                    f"Traffic can only be set to deployments that exist and succeeded: {k}",
                )
        live = sum(traffic.values())
        if live not in (0, 100):
            return self._err(400, "BadArgument", f"Traffic must sum to 100 (got {live})")
        if len([v for v in mirror.values() if v]) > 1 or any(v > 50 for v in mirror.values()):
            return self._err(400, "BadArgument", "Mirror traffic: one deployment, at most 50%")
        if any(mirror.get(k) and traffic.get(k) for k in mirror):
            return self._err(400, "BadArgument", "A deployment cannot take live and mirror traffic")
        props["traffic"] = {k: v for k, v in traffic.items() if v}
        props["mirrorTraffic"] = {k: v for k, v in mirror.items() if v}
        props["authMode"] = {"key": "Key", "amltoken": "AMLToken", "aadtoken": "AADToken"}.get(
            str(props.get("authMode", "Key")).lower(), "Key"
        )
        props["publicNetworkAccess"] = _pascal(props.get("publicNetworkAccess") or "Enabled")
        props.pop("scoringUri", None)
        props["scoringUri"] = f"https://{name}.{LOCATION}.inference.ml.azure.com/score"
        props["swaggerUri"] = f"https://{name}.{LOCATION}.inference.ml.azure.com/swagger.json"
        props["provisioningState"] = "Creating" if existing is None else "Updating"
        identity = body.get("identity") or {"type": "SystemAssigned"}
        identity = {
            **identity,
            "type": _pascal(identity.get("type", "SystemAssigned")),
            "principalId": str(uuid.uuid4()),
            "tenantId": str(uuid.uuid4()),
        }
        resource = {
            "id": url_id,
            "name": name,
            "type": "Microsoft.MachineLearningServices/workspaces/onlineEndpoints",
            "location": body.get("location", LOCATION),
            "kind": body.get("kind") or "Managed",
            "tags": body.get("tags") or {},
            "identity": identity,
            "properties": props,
            "systemData": self._system(existing),
        }
        self.endpoints[name] = resource

        def done() -> None:
            if name in self.endpoints:
                self.endpoints[name]["properties"]["provisioningState"] = "Succeeded"

        return self._lro(sub, done, self.op_seconds, 200 if existing else 201, copy.deepcopy(resource))

    # deployments

    def _deployment(
        self, method: str, sub: str, base: str, ep: str, name: str, body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        key = (ep, name)
        existing = self.deployments.get(key)
        if method == "GET":
            if existing is None:
                return self._err(404, "NotFound", f"deployment {ep}/{name} not found")
            return 200, copy.deepcopy(existing), {}
        if ep not in self.endpoints:
            return self._err(404, "EndpointNotFound", f"endpoint {ep} not found")
        if method == "DELETE":
            if existing is None:
                return self._err(404, "NotFound", f"deployment {ep}/{name} not found")
            props = self.endpoints[ep]["properties"]
            if props.get("traffic", {}).get(name.lower()) or props.get("mirrorTraffic", {}).get(name.lower()):
                return self._err(
                    400,
                    "BadArgument",
                    f"deployment {name} still receives traffic; set its traffic to 0 first",
                )
            existing["properties"]["provisioningState"] = "Deleting"
            return self._lro(
                sub, lambda: self.deployments.pop(key, None) and None, self.op_seconds, 202, None
            )
        if method != "PUT" or not isinstance(body, dict):
            return self._err(400, "BadRequest", "unsupported")
        if existing is None and len([k for k in self.deployments if k[0] == ep]) >= 20:
            return self._err(400, "BadArgument", "an endpoint can have at most 20 deployments")
        props = copy.deepcopy(body.get("properties") or {})
        if existing is not None:
            old = existing["properties"]
            for immutable in ("instanceType",):
                if str(old.get(immutable, "")).lower() != str(props.get(immutable, "")).lower():
                    return self._err(
                        400, "BadArgument", f"{immutable} cannot be updated; create a new deployment"
                    )
        props.setdefault("scaleSettings", {"scaleType": "Default"})
        props.setdefault("requestSettings", {"requestTimeout": "PT5S", "maxConcurrentRequestsPerInstance": 1})
        for probe in ("livenessProbe", "readinessProbe"):
            props.setdefault(
                probe,
                {
                    "failureThreshold": 30,
                    "successThreshold": 1,
                    "timeout": "PT2S",
                    "period": "PT10S",
                    "initialDelay": "PT10S",
                },
            )
        props["egressPublicNetworkAccess"] = _pascal(props.get("egressPublicNetworkAccess") or "Enabled")
        dc = props.get("dataCollector")
        if isinstance(dc, dict):
            for coll in (dc.get("collections") or {}).values():
                if isinstance(coll, dict) and "dataCollectionMode" in coll:
                    coll["dataCollectionMode"] = _pascal(coll["dataCollectionMode"])
        props["endpointComputeType"] = "Managed"
        props["provisioningState"] = "Creating" if existing is None else "Updating"
        resource = {
            "id": f"{base}/onlineEndpoints/{ep}/deployments/{name}",
            "name": name,
            "type": "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments",
            "location": body.get("location", LOCATION),
            "kind": "Managed",
            "tags": body.get("tags") or {},
            "sku": body.get("sku") or {"name": "Default", "capacity": 1},
            "properties": props,
            "systemData": self._system(existing),
        }
        self.deployments[key] = resource
        fail = f"{ep}/{name}" in self.failing_deployments

        def done() -> dict[str, Any] | None:
            current = self.deployments.get(key)
            if current is None:
                return None
            if fail:
                current["properties"]["provisioningState"] = "Failed"
                return {
                    "code": "DeploymentFailed",
                    "message": f"{ep}/{name}: container crashed during readiness probe (injected)",
                }
            current["properties"]["provisioningState"] = "Succeeded"
            return None

        seconds = self.deployment_op_seconds if self.deployment_op_seconds is not None else self.op_seconds
        return self._lro(sub, done, seconds, 200 if existing else 201, copy.deepcopy(resource))

    # schedules and data

    def _schedule(
        self, method: str, sub: str, base: str, name: str, body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        existing = self.schedules.get(name)
        if method == "GET":
            if existing is None:
                return self._err(404, "NotFound", f"schedule {name} not found")
            return 200, copy.deepcopy(existing), {}
        if method == "DELETE":
            if existing is None:
                return self._err(404, "NotFound", f"schedule {name} not found")
            return self._lro(sub, lambda: self.schedules.pop(name, None) and None, self.op_seconds, 202, None)
        if method != "PUT" or not isinstance(body, dict):
            return self._err(400, "BadRequest", "unsupported")
        props = copy.deepcopy(body.get("properties") or {})
        props.setdefault("isEnabled", True)
        props["provisioningState"] = "Succeeded"
        resource = {
            "id": f"{base}/schedules/{name}",
            "name": name,
            "type": "Microsoft.MachineLearningServices/workspaces/schedules",
            "properties": props,
            "systemData": self._system(existing),
        }
        self.schedules[name] = resource
        return self._lro(
            sub, lambda: None, self.op_seconds, 200 if existing else 201, copy.deepcopy(resource)
        )

    def _data(
        self, method: str, base: str, name: str, version: str, body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        key = (name, version)
        if method == "GET":
            if key not in self.data:
                return self._err(404, "NotFound", f"data {name}:{version} not found")
            return 200, copy.deepcopy(self.data[key]), {}
        if method == "PUT" and isinstance(body, dict):
            resource = {
                "id": f"{base}/data/{name}/versions/{version}",
                "name": version,
                "type": "Microsoft.MachineLearningServices/workspaces/data/versions",
                "properties": {**(body.get("properties") or {})},
                "systemData": self._system(self.data.get(key)),
            }
            created = key not in self.data
            self.data[key] = resource
            return (201 if created else 200), copy.deepcopy(resource), {}
        return self._err(400, "BadRequest", "unsupported")

    def _asset(
        self, method: str, base: str, plural: str, name: str, version: str, body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        """``ml.models`` / ``ml.environments`` get and create_or_update: a synchronous PUT of
        the version (workspace asset versions are not LROs: the SDK's _restclient
        model_versions / environment_versions create_or_update return the resource)."""
        key = (plural, name, version)
        if method == "GET":
            if key not in self.assets:
                return self._err(404, "UserError", f"{plural[:-1]} {name}:{version} not found")
            return 200, copy.deepcopy(self.assets[key]), {}
        if method == "PUT" and isinstance(body, dict):
            old = self.assets.get(key)
            props = {**(body.get("properties") or {})}
            if plural == "models":
                props.setdefault("flavors", {})  # the service returns an empty map, never null
            kind = "models" if plural == "models" else "environments"
            resource = {
                "id": f"{base}/{kind}/{name}/versions/{version}",
                "name": version,
                "type": f"Microsoft.MachineLearningServices/workspaces/{kind}/versions",
                "properties": props,
                "systemData": self._system(old),
            }
            self.assets[key] = resource
            return (201 if old is None else 200), copy.deepcopy(resource), {}
        return self._err(400, "BadRequest", "unsupported")


class FakeCredential:
    """Token credential for the fake: never talks to Entra ID."""

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken("fake-token", int(time.time()) + 3600)

    def get_token_info(self, *scopes: str, options: Any = None) -> Any:
        from azure.core.credentials import AccessTokenInfo

        return AccessTokenInfo("fake-token", int(time.time()) + 3600)


_cloud_counter = 0
_cloud_lock = threading.Lock()


def client_options(fake: FakeArm) -> dict[str, Any]:
    """Keyword arguments for gitops.targets.azureml.target.create() that point MLClient at the fake."""
    global _cloud_counter
    with _cloud_lock:
        _cloud_counter += 1
        # azure-ai-ml keeps registered clouds in a module-global table and ignores re-registration,
        # so every fake gets a cloud name of its own.
        cloud = f"FakeCloud{fake.port}x{_cloud_counter}"
    return {
        "credential": FakeCredential(),
        "client_kwargs": {
            "cloud": cloud,
            "cloud_metadata": {
                "azure_portal": "https://portal.invalid/",
                "resource_manager": f"{fake.url}/",
                "active_directory": "https://login.invalid/",
                "aml_resource_id": "https://ml.invalid/",
                "storage_endpoint": "core.invalid",
                "registry_discovery_endpoint": f"{fake.url}/",
            },
            "connection_verify": str(fake.ca_path),
            "polling_interval": 0.05,
            "retry_backoff_factor": 0.01,
        },
        "sleep": lambda s: time.sleep(min(s, 0.05)),
    }
