"""The local engine: apply endpoints and deployments to this machine and keep track of them.

Each environment has its own directory ``<state_dir>/<env>/`` holding ``state.db`` (SQLite),
``logs/``, ``data_collection/`` and ``models/`` (model folders arranged the way Azure mounts them).
Deployments run Microsoft's inference server in their own process group on 127.0.0.1; each
endpoint has a router process (see :mod:`gitops.targets.local.router`).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitops.model.traffic import TrafficRules, check_traffic
from gitops.targets.local import process
from gitops.targets.local.auth import issue_token, new_key
from gitops.targets.local.errors import DeploymentFailedError, LocalTargetError, failure_text
from gitops.targets.local.process import ProcessRef
from gitops.targets.local.registry import ModelRegistry
from gitops.targets.local.secrets import DEFAULT_SECRETS_FILE, LocalSecrets
from gitops.targets.local.spec import DeploymentSpec, EndpointSpec, Probe, deployment_spec, endpoint_spec
from gitops.targets.local.state import FAILED, SUCCEEDED, DeploymentRow, EndpointRow, KeyRow, StateStore

ROUTER_START_TIMEOUT = 15.0


@dataclass
class EndpointResult:
    name: str
    action: str  # created | updated | unchanged | restarted
    scoring_uri: str
    not_applicable: list[str] = field(default_factory=list)


@dataclass
class DeploymentResult:
    endpoint: str
    name: str
    action: str  # created | updated | unchanged | restarted | failed
    status: str
    port: int | None = None
    ready_seconds: float | None = None
    message: str = ""
    not_applicable: list[str] = field(default_factory=list)


@dataclass
class StatusReport:
    env: str
    endpoints: list[dict[str, Any]]
    drift: list[str]

    @property
    def healthy(self) -> bool:
        return not self.drift


@dataclass
class _Pending:
    spec: DeploymentSpec
    previous: DeploymentRow | None
    ref: ProcessRef
    port: int
    log_path: Path
    started: float
    action: str
    outcome: tuple[bool, str] = (False, "not waited")


def _start_action(spec: DeploymentSpec, prev: DeploymentRow | None) -> str:
    """Why a deployment's server is (re)started: new, changed spec, or same spec but not serving."""
    if prev is None:
        return "created"
    if prev.spec_hash != spec.spec_hash():
        return "updated"
    return "restarted"


class LocalEngine:
    """Applies azure-ai-ml online endpoint/deployment entities to this machine."""

    def __init__(
        self,
        state_dir: Path,
        env: str,
        *,
        model_registry: Path | None = None,
        out: Callable[[str], None] | None = None,
        secrets: LocalSecrets | None = None,
    ) -> None:
        self.env = env
        self.secrets = secrets if secrets is not None else LocalSecrets(state_dir / DEFAULT_SECRETS_FILE)
        self.root = (state_dir / env).resolve()
        self.store = StateStore(self.root / "state.db")
        self.logs = self.root / "logs"
        self.data_dir = self.root / "data_collection"
        self.models_dir = self.root / "models"
        self.registry = ModelRegistry(model_registry.resolve()) if model_registry else None
        self.out = out or (lambda _msg: None)
        self._lock = threading.Lock()

    # ---------------------------------------------------------------------------- endpoints
    def ensure_endpoint(self, endpoint: Any) -> EndpointResult:
        """Create the endpoint's router (or bring it back); traffic is applied by set_traffic()."""
        spec = endpoint_spec(endpoint)
        row = self.store.endpoint(spec.name)
        if row is None:
            port = process.free_port()
            self.store.put_keys(KeyRow(spec.name, new_key(), new_key(), new_key()))
            row = EndpointRow(
                name=spec.name,
                auth_mode=spec.auth_mode,
                port=port,
                router_pid=None,
                router_start=None,
                traffic={},
                mirror={},
                generation=1,
                spec_hash=spec.settings_hash(),
                spec=spec.to_json(),
            )
            self.store.upsert_endpoint(row)
            self._start_router(row)
            return EndpointResult(spec.name, "created", self.scoring_uri(spec.name), spec.not_applicable)
        action = "unchanged"
        if row.spec_hash != spec.settings_hash():
            row.auth_mode = spec.auth_mode
            row.spec_hash = spec.settings_hash()
            row.spec = spec.to_json()
            self.store.upsert_endpoint(row)
            action = "updated"
        elif row.spec != spec.to_json():
            # Metadata only (tags, description): nothing for the router to reload.
            row.spec = spec.to_json()
            self.store.upsert_endpoint(row)
        if not process.is_alive(row.router_pid, row.router_start):
            self._start_router(row)
            action = "restarted" if action == "unchanged" else action
        elif action == "updated":
            self._signal_router(row.name)
        return EndpointResult(spec.name, action, self.scoring_uri(spec.name), spec.not_applicable)

    def scoring_uri(self, endpoint: str) -> str:
        row = self._endpoint_row(endpoint)
        return f"http://127.0.0.1:{row.port}/score"

    def _endpoint_row(self, name: str) -> EndpointRow:
        row = self.store.endpoint(name)
        if row is None:
            raise LocalTargetError(f"endpoint {name} does not exist in local environment {self.env}")
        return row

    def _start_router(self, row: EndpointRow) -> None:
        if row.router_pid:
            process.stop_group(row.router_pid, row.router_start)
            self.store.remove_process(row.router_pid, row.router_start or "")
        if not process.port_is_free(row.port):
            old = row.port
            row.port = process.free_port()
            self.out(f"endpoint {row.name}: port {old} is taken, the router moves to {row.port}")
        env = dict(os.environ)
        # The router must import this very package even when it is not installed.
        pkg_parent = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join([pkg_parent, *filter(None, [env.get("PYTHONPATH")])])
        argv = [
            sys.executable,
            "-m",
            "gitops.targets.local.router",
            "--db",
            str(self.store.path),
            "--endpoint",
            row.name,
            "--port",
            str(row.port),
            "--data-dir",
            str(self.data_dir),
        ]
        ref = process.spawn(argv, env=env, cwd=self.root, log_path=self.logs / row.name / "router.log")
        self.store.add_process(ref.pid, ref.start, row.name, "", role="router", port=row.port)
        row.router_pid, row.router_start = ref.pid, ref.start
        self.store.upsert_endpoint(row)
        self._wait_router(row.name, row.generation)

    def _signal_router(self, endpoint: str) -> None:
        generation = self.store.bump_generation(endpoint)
        row = self._endpoint_row(endpoint)
        if not process.is_alive(row.router_pid, row.router_start):
            self._start_router(row)
            return
        assert row.router_pid is not None
        os.kill(row.router_pid, signal.SIGHUP)
        self._wait_router(endpoint, generation)

    def _wait_router(self, endpoint: str, generation: int) -> None:
        row = self._endpoint_row(endpoint)
        deadline = time.monotonic() + ROUTER_START_TIMEOUT
        while time.monotonic() < deadline:
            if not process.is_alive(row.router_pid, row.router_start):
                break
            try:
                status, body = process.http_get(row.port, "/-/local/health", 1.0)
                if status == 200 and _json_int(body, "generation") >= generation:
                    return
            except OSError:
                pass  # not listening yet; retry until the deadline
            time.sleep(0.05)
        tail = process.log_tail(self.logs / endpoint / "router.log", 20)
        raise LocalTargetError(
            f"the router of endpoint {endpoint} did not come up on port {row.port}:\n{tail}"
        )

    # -------------------------------------------------------------------------- deployments
    def ensure_deployment(self, deployment: Any) -> DeploymentResult:
        return self.ensure_deployments([deployment])[0]

    def ensure_deployments(
        self,
        deployments: Iterable[Any],
        *,
        raise_on_failure: bool = True,
        timeout_s: float | None = None,
    ) -> list[DeploymentResult]:
        """Start every changed deployment, wait for all of them together, then switch them live.

        A deployment that fails to become ready never receives traffic: a new one is marked Failed,
        an updated one keeps serving its previous version.
        """
        specs = [deployment_spec(d, self.registry, self.secrets) for d in deployments]
        results: dict[tuple[str, str], DeploymentResult] = {}
        pending: list[_Pending] = []
        try:
            for spec in specs:
                self._endpoint_row(spec.endpoint)
                prev = self.store.deployment(spec.endpoint, spec.name)
                alive = prev is not None and process.is_alive(prev.pid, prev.pid_start)
                unchanged = self._keep_running(spec, prev) if alive else None
                if unchanged is not None:
                    results[(spec.endpoint, spec.name)] = unchanged
                else:
                    pending.append(self._start_deployment(spec, prev, _start_action(spec, prev)))
            self._wait_all(pending, timeout_s)
        except BaseException:
            # Never leave a half-started server behind.
            for p in pending:
                self._stop(p.ref)
            raise
        failures: list[DeploymentFailedError] = []
        for p in pending:
            res, err = self._finish(p)
            results[(p.spec.endpoint, p.spec.name)] = res
            if err is not None:
                failures.append(err)
        if failures and raise_on_failure:
            raise failures[0]
        return [results[(s.endpoint, s.name)] for s in specs]

    def _keep_running(self, spec: DeploymentSpec, prev: DeploymentRow | None) -> DeploymentResult | None:
        """The result for a live, succeeded deployment whose served spec is unchanged, else None
        (it must be started). Only metadata (tags, description) may differ: it is recorded."""
        if prev is None or prev.status != SUCCEEDED or prev.spec_hash != spec.spec_hash():
            return None
        if prev.spec != spec.to_json():
            prev.spec = spec.to_json()
            self.store.upsert_deployment(prev)
        return DeploymentResult(
            spec.endpoint,
            spec.name,
            "unchanged",
            SUCCEEDED,
            prev.port,
            prev.ready_seconds,
            "",
            spec.not_applicable,
        )

    def _wait_all(self, pending: list[_Pending], timeout_s: float | None) -> None:
        """Wait for every started server at once, so N deployments take the time of the slowest."""
        threads = [threading.Thread(target=self._wait, args=(p, timeout_s), daemon=True) for p in pending]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def _start_deployment(
        self, spec: DeploymentSpec, previous: DeploymentRow | None, action: str
    ) -> _Pending:
        port = process.free_port()
        stamp = time.strftime("%Y%m%dT%H%M%S")
        log_path = self.logs / spec.endpoint / spec.name / f"{stamp}-{port}.log"
        model_dir = self._model_dir(spec)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AZUREML_", "AML_", "GUNICORN_"))}
        # Secret references get their local values here, in the child's environment only.
        env.update(
            self.secrets.resolve(f"deployment {spec.endpoint}/{spec.name}", spec.environment_variables)
        )
        env.update(
            {
                "AZUREML_MODEL_DIR": str(model_dir),
                "AML_APP_ROOT": spec.code_dir,
                "SCORING_TIMEOUT_MS": str(spec.request_timeout_ms),
                # gunicorn >= 25.1 shares one control socket per user; parallel servers would clobber it.
                "GUNICORN_CMD_ARGS": "--no-control-socket",
                "PYTHONUNBUFFERED": "1",
            }
        )
        argv = process.infsrv_argv(spec.entry_script, str(model_dir), port, spec.instance_count)
        self.out(
            f"deployment {spec.endpoint}/{spec.name}: starting inference server on 127.0.0.1:{port} "
            f"({spec.instance_count} worker(s))"
        )
        ref = process.spawn(argv, env=env, cwd=Path(spec.code_dir), log_path=log_path)
        self.store.add_process(
            ref.pid, ref.start, spec.endpoint, spec.name, role="inference-server", port=port
        )
        if previous is None:
            self.store.upsert_deployment(
                DeploymentRow(
                    spec.endpoint,
                    spec.name,
                    "Creating",
                    port,
                    ref.pid,
                    ref.start,
                    spec.spec_hash(),
                    spec.to_json(),
                    str(log_path),
                )
            )
        return _Pending(spec, previous, ref, port, log_path, time.monotonic(), action)

    def _wait(self, p: _Pending, timeout_s: float | None) -> None:
        last_note = [0.0]

        def note(elapsed: float) -> None:
            if elapsed - last_note[0] >= 10:
                last_note[0] = elapsed
                self.out(
                    f"deployment {p.spec.endpoint}/{p.spec.name}: waiting for readiness ({elapsed:.0f} s)"
                )

        p.outcome = process.wait_ready(p.ref, p.port, p.spec.readiness, on_wait=note, max_seconds=timeout_s)

    def _finish(self, p: _Pending) -> tuple[DeploymentResult, DeploymentFailedError | None]:
        ok, reason = p.outcome
        spec = p.spec
        elapsed = time.monotonic() - p.started
        if ok:
            with self._lock:
                self.store.upsert_deployment(
                    DeploymentRow(
                        spec.endpoint,
                        spec.name,
                        SUCCEEDED,
                        p.port,
                        p.ref.pid,
                        p.ref.start,
                        spec.spec_hash(),
                        spec.to_json(),
                        str(p.log_path),
                        "",
                        round(elapsed, 2),
                    )
                )
                self._signal_router(spec.endpoint)
            prev = p.previous
            if prev is not None and prev.pid and prev.pid != p.ref.pid:
                self._stop(ProcessRef(prev.pid, prev.pid_start or ""))
            self.out(f"deployment {spec.endpoint}/{spec.name}: ready in {elapsed:.1f} s")
            return DeploymentResult(
                spec.endpoint,
                spec.name,
                p.action,
                SUCCEEDED,
                p.port,
                round(elapsed, 2),
                "",
                spec.not_applicable,
            ), None
        self._stop(p.ref)
        tail = process.log_tail(p.log_path)
        cause = process.log_cause(p.log_path)
        err = DeploymentFailedError(
            spec.endpoint, spec.name, reason, tail, cause=cause, log_path=str(p.log_path)
        )
        reason = failure_text(reason, cause)
        prev = p.previous
        if prev is not None and prev.status == SUCCEEDED and process.is_alive(prev.pid, prev.pid_start):
            # Like a failed rolling update: the previous version keeps serving unchanged.
            prev.message = f"update failed ({reason}; log: {p.log_path}); still serving the previous version"
            self.store.upsert_deployment(prev)
            message = prev.message
        else:
            self.store.upsert_deployment(
                DeploymentRow(
                    spec.endpoint,
                    spec.name,
                    FAILED,
                    None,
                    None,
                    None,
                    spec.spec_hash(),
                    spec.to_json(),
                    str(p.log_path),
                    reason,
                )
            )
            with self._lock:
                self._signal_router(spec.endpoint)
            message = reason
        self.out(f"deployment {spec.endpoint}/{spec.name}: FAILED: {reason}")
        return DeploymentResult(
            spec.endpoint, spec.name, "failed", FAILED, None, None, message, spec.not_applicable
        ), err

    def _model_dir(self, spec: DeploymentSpec) -> Path:
        """The folder passed as AZUREML_MODEL_DIR, laid out as Azure mounts the model."""
        if spec.model_ref is not None and spec.model_path is not None:
            return Path(spec.model_path)
        d = self.models_dir / spec.endpoint / spec.name
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
        if spec.model_path is not None:
            src = Path(spec.model_path)
            (d / src.name).symlink_to(src, target_is_directory=src.is_dir())
        return d

    def _stop(self, ref: ProcessRef) -> None:
        process.stop_group(ref.pid, ref.start)
        self.store.remove_process(ref.pid, ref.start)

    # ------------------------------------------------------------------------------ traffic
    def set_traffic(
        self, endpoint: str, traffic: dict[str, int], mirror: dict[str, int] | None = None
    ) -> bool:
        """Validate and apply the live split and mirror percentages; True if anything changed."""
        row = self._endpoint_row(endpoint)
        mirror = {k: int(v) for k, v in (mirror or {}).items() if int(v) > 0}
        traffic = {k: int(v) for k, v in traffic.items()}
        deps = {d.name: d for d in self.store.deployments(endpoint)}
        # Azure's rules, shared with desired validation; an endpoint may be idle (all 0) before
        # its deployments are deleted.
        rules = TrafficRules(declared_in=f"on local endpoint {endpoint}", may_be_idle=True)
        problems = check_traffic(traffic, mirror, list(deps), rules)
        if problems:
            raise LocalTargetError(f"endpoint {endpoint}: {problems[0].message}")
        status = {name.lower(): d.status for name, d in deps.items()}
        for name, weight in traffic.items():
            if weight > 0 and status[name.lower()] != SUCCEEDED:
                raise LocalTargetError(
                    f"endpoint {endpoint}: cannot send {weight}% traffic to deployment {name}, "
                    f"whose state is {status[name.lower()]}"
                )
        for name in mirror:
            if status[name.lower()] != SUCCEEDED:
                raise LocalTargetError(
                    f"endpoint {endpoint}: mirror deployment {name} is not ready "
                    f"(its state is {status[name.lower()]})"
                )
        if (
            row.traffic == traffic
            and row.mirror == mirror
            and process.is_alive(row.router_pid, row.router_start)
        ):
            return False
        row.traffic, row.mirror = traffic, mirror
        self.store.upsert_endpoint(row)
        with self._lock:
            self._signal_router(endpoint)
        return True

    # ----------------------------------------------------------------------------- deletion
    def delete_deployment(self, endpoint: str, name: str) -> None:
        row = self._endpoint_row(endpoint)
        if row.traffic.get(name, 0) > 0 or row.mirror.get(name, 0) > 0:
            raise LocalTargetError(
                f"deployment {endpoint}/{name} still receives traffic; "
                "set its traffic to 0 before deleting it"
            )
        dep = self.store.deployment(endpoint, name)
        if dep is None:
            raise LocalTargetError(f"deployment {endpoint}/{name} does not exist")
        for pr in self.store.processes(endpoint):
            if pr.deployment == name:
                self._stop(ProcessRef(pr.pid, pr.start))
        if dep.pid:
            self._stop(ProcessRef(dep.pid, dep.pid_start or ""))
        self.store.delete_deployment(endpoint, name)
        row.traffic.pop(name, None)
        row.mirror.pop(name, None)
        self.store.upsert_endpoint(row)
        with self._lock:
            self._signal_router(endpoint)

    def delete_endpoint(self, name: str) -> None:
        self._endpoint_row(name)
        self._stop_all(name)
        self.store.delete_endpoint(name)

    def down(self) -> list[str]:
        """Stop every process of this environment and forget its endpoints; returns what was stopped."""
        stopped = self._stop_all(None)
        for ep in self.store.endpoints():
            self.store.delete_endpoint(ep.name)
        return stopped

    def _stop_all(self, endpoint: str | None) -> list[str]:
        stopped: list[str] = []
        refs: dict[tuple[int, str], str] = {}
        for pr in self.store.processes(endpoint):
            refs[(pr.pid, pr.start)] = (
                f"{pr.role} {pr.endpoint}{'/' + pr.deployment if pr.deployment else ''} (pid {pr.pid})"
            )
        for d in self.store.deployments(endpoint):
            if d.pid:
                refs.setdefault(
                    (d.pid, d.pid_start or ""), f"inference-server {d.endpoint}/{d.name} (pid {d.pid})"
                )
        for ep in self.store.endpoints():
            if (endpoint is None or ep.name == endpoint) and ep.router_pid:
                refs.setdefault(
                    (ep.router_pid, ep.router_start or ""), f"router {ep.name} (pid {ep.router_pid})"
                )
        # Routers first, so nothing is routed to a server that is going away.
        for (pid, start), label in sorted(refs.items(), key=lambda kv: not kv[1].startswith("router")):
            if process.is_alive(pid, start) or process.group_members(pid):
                stopped.append(label)
            self._stop(ProcessRef(pid, start))
        return stopped

    # ------------------------------------------------------------------------- inspection
    def keys(self, endpoint: str) -> tuple[str, str]:
        self._endpoint_row(endpoint)
        k = self.store.keys(endpoint)
        if k is None:
            raise LocalTargetError(f"endpoint {endpoint} has no keys")
        return k.primary_key, k.secondary_key

    def token(self, endpoint: str) -> tuple[str, int]:
        row = self._endpoint_row(endpoint)
        if row.auth_mode != "aml_token":
            raise LocalTargetError(
                f"endpoint {endpoint} uses auth_mode {row.auth_mode}; tokens are for aml_token endpoints"
            )
        k = self.store.keys(endpoint)
        assert k is not None
        return issue_token(endpoint, k.token_secret)

    def regenerate_key(self, endpoint: str, which: str = "primary") -> None:
        k = self.store.keys(endpoint)
        if k is None:
            raise LocalTargetError(f"endpoint {endpoint} does not exist")
        if which == "primary":
            k.primary_key = new_key()
        elif which == "secondary":
            k.secondary_key = new_key()
        else:
            raise LocalTargetError("key type must be primary or secondary")
        self.store.put_keys(k)
        with self._lock:
            self._signal_router(endpoint)

    def read_state(self) -> list[dict[str, Any]]:
        """Endpoints with their deployments as recorded, plus whether each process is alive now."""
        out = []
        for ep in self.store.endpoints():
            deps = []
            for d in self.store.deployments(ep.name):
                deps.append(
                    {
                        "name": d.name,
                        "status": d.status,
                        "port": d.port,
                        "pid": d.pid,
                        "alive": process.is_alive(d.pid, d.pid_start),
                        "spec_hash": d.spec_hash,
                        "spec": d.spec,
                        "log": d.log_path,
                        "message": d.message,
                        "ready_seconds": d.ready_seconds,
                    }
                )
            out.append(
                {
                    "name": ep.name,
                    "auth_mode": ep.auth_mode,
                    "scoring_uri": f"http://127.0.0.1:{ep.port}/score",
                    "port": ep.port,
                    "router_pid": ep.router_pid,
                    "router_alive": process.is_alive(ep.router_pid, ep.router_start),
                    "traffic": ep.traffic,
                    "mirror_traffic": ep.mirror,
                    "generation": ep.generation,
                    "spec": ep.spec,
                    "deployments": deps,
                }
            )
        return out

    def status(self) -> StatusReport:
        """Re-check every recorded process and probe; anything that differs from the record is drift."""
        state = self.read_state()
        drift: list[str] = []
        for ep in state:
            name = ep["name"]
            if not ep["router_alive"]:
                drift.append(f"endpoint {name}: router (pid {ep['router_pid']}) is not running")
            else:
                try:
                    code, body = process.http_get(ep["port"], "/-/local/health", 2.0)
                    live_gen = _json_int(body, "generation") if code == 200 else -1
                except OSError as exc:
                    live_gen = -1
                    drift.append(f"endpoint {name}: router does not answer on port {ep['port']}: {exc}")
                else:
                    if live_gen != ep["generation"]:
                        drift.append(
                            f"endpoint {name}: router serves configuration {live_gen}, "
                            f"recorded {ep['generation']}"
                        )
            for d in ep["deployments"]:
                where = f"deployment {name}/{d['name']}"
                d["live"] = False
                if d["status"] == FAILED:
                    continue
                if not d["alive"]:
                    drift.append(
                        f"{where}: inference server (pid {d['pid']}) is not running, recorded {d['status']}"
                    )
                    continue
                liveness = d["spec"].get("liveness") or {}
                ok = process.probe_once(
                    int(d["port"]),
                    Probe(0, 0, float(liveness.get("timeout", 2)), 1, 1),
                )
                d["live"] = ok
                if not ok:
                    drift.append(f"{where}: liveness probe GET / on port {d['port']} failed")
        recorded = {(e["router_pid"]) for e in state} | {d["pid"] for e in state for d in e["deployments"]}
        for pr in self.store.processes():
            if pr.pid not in recorded and process.is_alive(pr.pid, pr.start):
                drift.append(
                    f"{pr.role} pid {pr.pid} ({pr.endpoint}/{pr.deployment}) "
                    "is running but not recorded as serving"
                )
        return StatusReport(self.env, state, drift)

    def router_stats(self, endpoint: str) -> dict[str, Any]:
        row = self._endpoint_row(endpoint)
        code, body = process.http_get(row.port, "/-/local/stats", 2.0)
        if code != 200:
            raise LocalTargetError(f"router of {endpoint} answered {code} for its stats")
        result: dict[str, Any] = json.loads(body)
        return result


def _json_int(body: bytes, key: str) -> int:
    try:
        return int(json.loads(body).get(key, -1))
    except (ValueError, AttributeError, TypeError):
        return -1


__all__ = ["DeploymentResult", "EndpointResult", "EndpointSpec", "LocalEngine", "StatusReport"]
