"""The per-endpoint HTTP router: the local stand-in for an online endpoint's scoring URI.

Run as its own process (``python -m gitops.targets.local.router --db ... --endpoint ... --port ...``). It
reads the endpoint's configuration from the state database at start and again on SIGHUP; the
engine bumps ``generation`` and waits until ``GET /-/local/health`` reports it, so a change is live
when the engine returns.

Behaviour copied from Azure managed online endpoints:
- ``POST /score`` is routed by the live traffic split; the ``azureml-model-deployment`` request
  header targets one deployment (any provisioned deployment, including ones with 0 % traffic).
- Mirror traffic: the given percentage of split-routed requests is copied to the mirror deployment
  in the background and its answer discarded (header-targeted requests are not mirrored).
- ``auth_mode: key`` / ``aml_token``: ``Authorization: Bearer ...`` is required, else 401.
- No deployment with traffic: 404. The model answering non-200: 424 with the model's body and the
  ``ms-azureml-model-error-statuscode`` / ``-reason`` headers. Request timeout: 408. The model
  process unreachable: 502.
- Every answer names the deployment in the ``azureml-model-deployment`` response header.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from gitops.targets.local.auth import check_authorization
from gitops.targets.local.datacollect import CollectorWriter, decode_payload
from gitops.targets.local.state import SUCCEEDED, StateStore

NO_DEPLOYMENT_MESSAGE = (
    "No valid deployments to route to. Please check that the endpoint has at least one deployment "
    "with positive weight values or use a deployment specific header to route."
)
UNAUTHORIZED_MESSAGE = "Unauthorized: a valid key or token is required (Authorization: Bearer <key>)"
MIRROR_MAX_PENDING = 16
# Connections served at once; more wait in the pool's queue (keep-alive clients hold one each).
CONNECTION_THREADS = 64
# Headers of the inference server's answer that are passed on to the caller.
PASS_HEADERS = ("content-type", "x-ms-run-fn-exec-ms", "x-ms-run-function-failed", "x-ms-server-version")


@dataclass(frozen=True)
class Target:
    name: str
    port: int
    timeout_s: float
    collections: tuple[str, ...] = ()
    sampling_rate: float = 1.0


@dataclass(frozen=True)
class RouterConfig:
    endpoint: str
    generation: int
    auth_mode: str
    keys: tuple[str, str]
    token_secret: str
    targets: dict[str, Target]
    # Cumulative weights for the live split: [(upper bound, target name)], total = last bound.
    split: tuple[tuple[int, str], ...]
    mirror: tuple[tuple[str, int], ...]
    declared_traffic: dict[str, int] = field(default_factory=dict)

    def pick(self, rnd: float) -> Target | None:
        if not self.split:
            return None
        x = rnd * self.split[-1][0]
        for bound, name in self.split:
            if x < bound:
                return self.targets[name]
        return self.targets[self.split[-1][1]]


def load_config(store: StateStore, endpoint: str) -> RouterConfig:
    ep = store.endpoint(endpoint)
    if ep is None:
        raise LookupError(f"endpoint {endpoint} is not in the state database {store.path}")
    keys = store.keys(endpoint)
    targets: dict[str, Target] = {}
    for d in store.deployments(endpoint):
        if d.status != SUCCEEDED or d.port is None:
            continue
        dc = d.spec.get("data_collection") or {}
        targets[d.name] = Target(
            name=d.name,
            port=int(d.port),
            timeout_s=int(d.spec.get("request_timeout_ms", 5000)) / 1000.0,
            collections=tuple(dc.get("collections", ())),
            sampling_rate=float(dc.get("sampling_rate", 1.0)),
        )
    split: list[tuple[int, str]] = []
    total = 0
    for name, weight in sorted(ep.traffic.items()):
        # A deployment that is not serving never receives split traffic.
        if weight > 0 and name in targets:
            total += weight
            split.append((total, name))
    mirror = tuple((n, int(p)) for n, p in sorted(ep.mirror.items()) if p > 0 and n in targets)
    return RouterConfig(
        endpoint=endpoint,
        generation=ep.generation,
        auth_mode=ep.auth_mode,
        keys=(keys.primary_key, keys.secondary_key) if keys else ("", ""),
        token_secret=keys.token_secret if keys else "",
        targets=targets,
        split=tuple(split),
        mirror=mirror,
        declared_traffic=dict(ep.traffic),
    )


class Counters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.data: dict[str, dict[str, int]] = {}

    def add(self, deployment: str, kind: str, n: int = 1) -> None:
        with self._lock:
            per = self.data.setdefault(deployment, {})
            per[kind] = per.get(kind, 0) + n

    def snapshot(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {k: dict(v) for k, v in self.data.items()}


# Upper bounds (ms) of the latency histogram buckets; the last bucket is open-ended.
LATENCY_BUCKETS_MS = (
    1,
    2,
    5,
    10,
    20,
    30,
    50,
    75,
    100,
    150,
    200,
    300,
    500,
    750,
    1000,
    1500,
    2000,
    3000,
    5000,
    10000,
)


class RequestStats:
    """Per-deployment cumulative counters for canary analysis: requests that reached a deployment
    (live, header-routed or mirrored), answers by status class, model errors and a latency histogram.
    Readers take two snapshots and subtract them to get a window."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.data: dict[str, dict[str, Any]] = {}

    def record(self, deployment: str, status: int, latency_ms: float, model_error: bool) -> None:
        bucket = next(
            (i for i, b in enumerate(LATENCY_BUCKETS_MS) if latency_ms <= b), len(LATENCY_BUCKETS_MS)
        )
        with self._lock:
            per = self.data.get(deployment)
            if per is None:
                per = {
                    "requests": 0,
                    "status": {"2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0},
                    "model_errors": 0,
                    "latency_ms_sum": 0.0,
                    "latency_buckets": [0] * (len(LATENCY_BUCKETS_MS) + 1),
                }
                self.data[deployment] = per
            per["requests"] += 1
            cls = f"{min(max(status // 100, 2), 5)}xx"
            per["status"][cls] += 1
            if model_error:
                per["model_errors"] += 1
            per["latency_ms_sum"] += latency_ms
            per["latency_buckets"][bucket] += 1

    def snapshot(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {
                k: {**v, "status": dict(v["status"]), "latency_buckets": list(v["latency_buckets"])}
                for k, v in self.data.items()
            }


class RouterServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, port: int, store: StateStore, endpoint: str, data_root: Path) -> None:
        self.store = store
        self.endpoint = endpoint
        self.config = load_config(store, endpoint)
        self.counters = Counters()
        self.stats = RequestStats()
        self.collector = CollectorWriter(data_root)
        self.mirror_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="mirror")
        self.mirror_slots = threading.BoundedSemaphore(MIRROR_MAX_PENDING)
        self.reload_requested = threading.Event()
        self.conn_pool = ThreadPoolExecutor(max_workers=CONNECTION_THREADS, thread_name_prefix="conn")
        super().__init__(("127.0.0.1", port), RouterHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        # A fixed pool instead of a new thread per connection: clients that do not keep the
        # connection alive would otherwise pay a thread start on every request.
        self.conn_pool.submit(self._serve_connection, request, client_address)

    def _serve_connection(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:  # noqa: BLE001 - same contract as socketserver: report and drop the connection
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)

    def reload(self) -> None:
        try:
            self.config = load_config(self.store, self.endpoint)
        except Exception as exc:  # noqa: BLE001 - keep serving the previous config, but say why
            print(
                f"router {self.endpoint}: reload failed, keeping generation {self.config.generation}: {exc}",
                file=sys.stderr,
                flush=True,
            )

    def send_mirror(self, target: Target, body: bytes, headers: dict[str, str]) -> None:
        if not self.mirror_slots.acquire(blocking=False):
            self.counters.add(target.name, "mirror_dropped")
            return
        self.mirror_pool.submit(self._mirror, target, body, headers)

    def _mirror(self, target: Target, body: bytes, headers: dict[str, str]) -> None:
        started = time.monotonic()
        try:
            status, _, _ = forward(target, body, headers)
            self.counters.add(target.name, "mirror" if status == 200 else "mirror_errors")
            # Recorded as the caller would have seen it: a model's non-200 becomes a 424.
            self.stats.record(
                target.name, 200 if status == 200 else 424, _ms(started), model_error=status >= 500
            )
        except TimeoutError:
            self.counters.add(target.name, "mirror_errors")
            self.stats.record(target.name, 408, _ms(started), model_error=True)
        except (OSError, http.client.HTTPException):
            self.counters.add(target.name, "mirror_errors")
            self.stats.record(target.name, 502, _ms(started), model_error=False)
        finally:
            self.mirror_slots.release()


def _ms(started: float) -> float:
    return (time.monotonic() - started) * 1000.0


def forward(target: Target, body: bytes, headers: dict[str, str]) -> tuple[int, list[tuple[str, str]], bytes]:
    """POST /score to the inference server and return (status, headers, body).

    Written on a bare socket: gunicorn's sync workers close every connection anyway, and skipping
    http.client's header parsing halves the router's own CPU time per request.
    """
    head = [
        f"POST /score HTTP/1.1\r\nHost: 127.0.0.1:{target.port}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n"
    ]
    head += [f"{k}: {v}\r\n" for k, v in headers.items()]
    head.append("\r\n")
    with socket.create_connection(("127.0.0.1", target.port), timeout=target.timeout_s) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall("".join(head).encode("latin-1") + body)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return parse_response(b"".join(chunks))


def parse_response(raw: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    end = raw.find(b"\r\n\r\n")
    if end < 0:
        raise http.client.HTTPException("incomplete response from the inference server")
    lines = raw[:end].decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise http.client.HTTPException(f"bad status line from the inference server: {lines[0]!r}")
    headers = []
    length: int | None = None
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name, value = name.strip(), value.strip()
        headers.append((name, value))
        low = name.lower()
        if low == "content-length":
            length = int(value)
        elif low == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    body = raw[end + 4 :]
    if chunked:
        body = _dechunk(body)
    elif length is not None:
        if len(body) < length:
            raise http.client.HTTPException("the inference server closed the connection mid-response")
        body = body[:length]
    return int(parts[1]), headers, body


def _dechunk(data: bytes) -> bytes:
    out = bytearray()
    pos = 0
    while True:
        eol = data.find(b"\r\n", pos)
        if eol < 0:
            raise http.client.HTTPException("truncated chunked response")
        size = int(data[pos:eol].split(b";", 1)[0], 16)
        if size == 0:
            return bytes(out)
        out += data[eol + 2 : eol + 2 + size]
        pos = eol + 2 + size + 2


class RouterHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mlops-local-router"
    disable_nagle_algorithm = True
    server: RouterServer

    # ``format`` shadows the builtin because the base class names the parameter so.
    def log_message(self, format: str, *args: Any) -> None:
        # Per-request logging would dominate the router's own latency; errors are printed explicitly.
        return

    def _reply(self, status: int, body: bytes, headers: list[tuple[str, str]]) -> None:
        lines = [f"HTTP/1.1 {status} {http.client.responses.get(status, '')}"]
        lines += [f"{k}: {v}" for k, v in headers]
        lines.append(f"Content-Length: {len(body)}")
        if self.close_connection:
            lines.append("Connection: close")
        # One write for head and body avoids a Nagle/delayed-ACK stall on the client.
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)

    def _json(self, status: int, obj: Any, extra: list[tuple[str, str]] | None = None) -> None:
        self._reply(status, json.dumps(obj).encode(), [("Content-Type", "application/json"), *(extra or [])])

    def do_GET(self) -> None:
        cfg = self.server.config
        if self.path == "/-/local/health":
            self._json(200, {"endpoint": cfg.endpoint, "generation": cfg.generation, "pid": os.getpid()})
        elif self.path == "/-/local/stats":
            self._json(
                200,
                {
                    "generation": cfg.generation,
                    "counters": self.server.counters.snapshot(),
                    "deployments": self.server.stats.snapshot(),
                    "latency_buckets_ms": list(LATENCY_BUCKETS_MS),
                },
            )
        elif self.path == "/":
            self._json(200, {"endpoint": cfg.endpoint, "scoring_path": "/score"})
        else:
            self._json(404, {"message": f"route {self.path} not found"})

    def do_POST(self) -> None:
        cfg = self.server.config
        length = int(self.headers.get("Content-Length") or 0)
        # Read the body first, whatever the answer: keep-alive needs the request consumed.
        body = self.rfile.read(length) if length else b""
        if not self._accepted(cfg):
            return
        request_id = str(uuid.uuid4())
        client_id = self.headers.get("x-ms-client-request-id")
        ids = [("x-request-id", request_id)]
        if client_id:
            ids.append(("x-ms-client-request-id", client_id))
        wanted = self.headers.get("azureml-model-deployment")
        target = choose_deployment(cfg, wanted, random.random)
        if target is None:
            self._json(404, {"message": not_found_message(cfg, wanted)}, ids)
            return
        ctype = self.headers.get("Content-Type") or "application/json"
        up_headers = {"Content-Type": ctype, "x-request-id": request_id}
        if client_id:
            up_headers["x-ms-client-request-id"] = client_id
        if not wanted:
            self._send_mirrors(cfg, body, up_headers)
        collect = should_collect(target, random.random)
        if collect:
            self._collect_request(cfg.endpoint, target, request_id, body, ctype)
        answer = self._forward(target, body, up_headers, ids)
        if answer is None:
            return
        status, headers, data = answer
        passed = [(k, v) for k, v in headers if k.lower() in PASS_HEADERS]
        if status != 200:
            self._model_error(
                target, status, data, [*passed, ("azureml-model-deployment", target.name), *ids]
            )
            return
        self.server.counters.add(target.name, "live")
        if collect:
            self._collect_response(cfg.endpoint, target, request_id, data, headers)
        self._reply(200, data, [*passed, ("azureml-model-deployment", target.name), *ids])

    def _accepted(self, cfg: RouterConfig) -> bool:
        """Only ``/score`` is scored, and only for an authorised caller; anything else is answered here."""
        if self.path.split("?", 1)[0] != "/score":
            self._json(404, {"message": f"route {self.path} not found"})
            return False
        if not check_authorization(
            self.headers.get("Authorization"), cfg.auth_mode, cfg.endpoint, cfg.keys, cfg.token_secret
        ):
            self._json(401, {"message": UNAUTHORIZED_MESSAGE})
            return False
        return True

    def _send_mirrors(self, cfg: RouterConfig, body: bytes, up_headers: dict[str, str]) -> None:
        for name, pct in cfg.mirror:
            if should_mirror(pct, random.random()):
                self.server.send_mirror(cfg.targets[name], body, up_headers)

    def _collect_request(
        self, endpoint: str, target: Target, request_id: str, body: bytes, ctype: str
    ) -> None:
        collector = self.server.collector
        for coll in ("model_inputs", "request"):
            if coll in target.collections:
                payload = decode_payload(body, ctype)
                collector.collect(endpoint, target.name, coll, request_id, data=payload, content_type=ctype)

    def _collect_response(
        self, endpoint: str, target: Target, request_id: str, data: bytes, headers: list[tuple[str, str]]
    ) -> None:
        if "model_outputs" not in target.collections and "response" not in target.collections:
            return
        resp_type = next((v for k, v in headers if k.lower() == "content-type"), "application/json")
        out = decode_payload(data, resp_type)
        for coll in ("model_outputs", "response"):
            if coll in target.collections:
                self.server.collector.collect(
                    endpoint, target.name, coll, request_id, data=out, content_type=resp_type
                )

    def _forward(
        self, target: Target, body: bytes, up_headers: dict[str, str], ids: list[tuple[str, str]]
    ) -> tuple[int, list[tuple[str, str]], bytes] | None:
        """The model's answer, recorded in the stats; None when it never came (408/502 already sent)."""
        started = time.monotonic()
        try:
            answer = forward(target, body, up_headers)
        except TimeoutError:
            self.server.counters.add(target.name, "timeouts")
            self.server.stats.record(target.name, 408, _ms(started), model_error=True)
            message = (
                f"Request timed out after {target.timeout_s * 1000:.0f} ms "
                "(request_settings.request_timeout_ms)."
            )
            self._json(408, {"message": message}, [("azureml-model-deployment", target.name), *ids])
            return None
        except (OSError, http.client.HTTPException) as exc:
            self.server.counters.add(target.name, "unreachable")
            self.server.stats.record(target.name, 502, _ms(started), model_error=False)
            self._json(
                502,
                {"message": f"Deployment {target.name} is unreachable: {exc}"},
                [("azureml-model-deployment", target.name), *ids],
            )
            return None
        status = answer[0]
        # A model's 4xx is the caller's fault (bad input); 5xx means the model itself failed.
        self.server.stats.record(target.name, 200 if status == 200 else 424, _ms(started), status >= 500)
        return answer

    def _model_error(self, target: Target, status: int, data: bytes, headers: list[tuple[str, str]]) -> None:
        """Azure's answer when the model answers non-200: 424 with the model's body and status."""
        self.server.counters.add(target.name, "model_errors")
        reason = http.client.responses.get(status, "model error")
        self._reply(
            424,
            data,
            [
                *headers,
                ("ms-azureml-model-error-statuscode", str(status)),
                ("ms-azureml-model-error-reason", reason),
            ],
        )


def choose_deployment(cfg: RouterConfig, wanted: str | None, rnd: Callable[[], float]) -> Target | None:
    """The deployment that answers: the one the header names (any serving one, even at 0 %), else
    one drawn from the live split. ``rnd`` is only called for a split draw."""
    if wanted:
        return cfg.targets.get(wanted)
    return cfg.pick(rnd())


def not_found_message(cfg: RouterConfig, wanted: str | None) -> str:
    if wanted:
        return f"Deployment {wanted} not found or not ready on endpoint {cfg.endpoint}."
    return NO_DEPLOYMENT_MESSAGE


def should_mirror(percent: int, draw: float) -> bool:
    """Whether a split-routed request is copied to a mirror deployment taking ``percent`` %."""
    return draw * 100 < percent


def should_collect(target: Target, rnd: Callable[[], float]) -> bool:
    """Whether this request's payloads are collected: the deployment collects, and the sample
    (``sampling_rate``) takes it; ``rnd`` is only called when sampling below 100 %."""
    return bool(target.collections) and (target.sampling_rate >= 1.0 or rnd() < target.sampling_rate)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="local endpoint router (started by the local target)")
    ap.add_argument("--db", required=True, type=Path)
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--port", required=True, type=int)
    ap.add_argument("--data-dir", required=True, type=Path)
    args = ap.parse_args(argv)
    store = StateStore(args.db, readonly=True)
    try:
        server = RouterServer(args.port, store, args.endpoint, args.data_dir)
    except (OSError, LookupError) as exc:
        print(
            f"router {args.endpoint}: cannot start on 127.0.0.1:{args.port}: {exc}",
            file=sys.stderr,
            flush=True,
        )
        return 2

    def on_hup(signum: int, frame: Any) -> None:
        server.reload_requested.set()

    def on_term(signum: int, frame: Any) -> None:
        # shutdown() waits for serve_forever(), which runs in this (the signal-handling) thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    def reloader() -> None:
        while True:
            server.reload_requested.wait()
            server.reload_requested.clear()
            server.reload()

    signal.signal(signal.SIGHUP, on_hup)
    signal.signal(signal.SIGTERM, on_term)
    threading.Thread(target=reloader, name="reloader", daemon=True).start()
    print(
        f"router {args.endpoint} listening on http://127.0.0.1:{args.port}/score "
        f"(generation {server.config.generation})",
        flush=True,
    )
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        server.mirror_pool.shutdown(wait=False, cancel_futures=True)
        server.conn_pool.shutdown(wait=False, cancel_futures=True)
        server.collector.close()
        server.server_close()
    print(f"router {args.endpoint} stopped at {time.strftime('%Y-%m-%dT%H:%M:%S')}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
