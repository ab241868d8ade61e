"""The ``local`` target: :class:`gitops.targets.base.Target` on top of :class:`LocalEngine`.

Settings come from the manifest's ``local:`` object (paths relative to the repository root):

``state_dir``       where state, logs and collected data live (default ``.state``)
``model_registry``  folder that ``azureml:<name>:<version>`` model references resolve from
                    (default ``<state_dir>/model-registry``)

Any environment can be rehearsed here with ``--target local``; fields that only mean something
on Azure are reported on stderr as not applicable, once per apply.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitops.errors import NotImplementedTargetError
from gitops.lock import file_lock
from gitops.manifest import Manifest
from gitops.rollout.record import RolloutRecord
from gitops.targets.base import (
    CAP_ASSETS,
    CAP_MIRROR_TRAFFIC,
    CAP_MONITORS,
    ActualAsset,
    ActualDeployment,
    ActualEndpoint,
    ActualMonitor,
    ActualState,
    DeploymentFailed,
)
from gitops.targets.local import rollout_store
from gitops.targets.local.assets import LocalAssets
from gitops.targets.local.errors import DeploymentFailedError, LocalTargetError
from gitops.targets.local.settings import engine_for
from gitops.targets.local.spec import without_nulls
from gitops.targets.local.state import SUCCEEDED

if TYPE_CHECKING:
    from gitops.rollout.providers import MetricsProvider


def _stderr(msg: str) -> None:
    print(f"local: {msg}", file=sys.stderr, flush=True)


def _traffic(t: dict[str, Any] | None) -> dict[str, int]:
    return {str(k).lower(): int(v) for k, v in (t or {}).items() if v and int(v) != 0}


class LocalTarget:
    kind = "local"
    # Monitors are recorded, not scheduled: `mlops monitor run --env E` evaluates their signals on
    # the data the routers collected, when asked (a cron job or CI can call it on the trigger).
    capabilities = frozenset({CAP_MIRROR_TRAFFIC, CAP_MONITORS, CAP_ASSETS})

    def __init__(
        self,
        manifest: Manifest,
        state_dir: Path | str | None = None,
        out: Callable[[str], None] | None = None,
    ) -> None:
        self.manifest = manifest
        self.out = out or _stderr
        self.engine = engine_for(manifest, state_dir, out=self.out)
        self._noted: set[str] = set()

    def describe(self) -> str:
        return f"local target, state in {self.engine.root}"

    def lock(self, env: str) -> AbstractContextManager[None]:
        return file_lock(f"local-{self.engine.root}", env)

    def _note(self, notes: list[str]) -> None:
        for n in notes:
            if n not in self._noted:
                self._noted.add(n)
                self.out(f"note: {n}")

    # ---------------------------------------------------------------------------------- reads
    def read_state(self) -> ActualState:
        from azure.ai.ml.entities import ManagedOnlineDeployment, ManagedOnlineEndpoint

        state = ActualState()
        report = self.engine.status()
        for line in report.drift:
            self.out(f"drift: {line}")
        for ep in report.endpoints:
            spec = ep["spec"]
            source = dict(spec.get("source") or {"name": ep["name"], "auth_mode": ep["auth_mode"]})
            source["traffic"] = dict(ep["traffic"])
            source["mirror_traffic"] = dict(ep["mirror_traffic"])
            entity = self._reload(ManagedOnlineEndpoint, source, f"endpoint {ep['name']}")
            actual = ActualEndpoint(
                name=ep["name"],
                entity=entity,
                traffic=_traffic(ep["traffic"]),
                mirror_traffic=_traffic(ep["mirror_traffic"]),
                # A dead router is reported as Failed so that plan/apply bring it back.
                provisioning_state=SUCCEEDED if ep["router_alive"] else "Failed",
                tags=dict(spec.get("tags") or {}),
                rollout=rollout_store.read(self.engine.store, ep["name"]),
                scoring_uri=ep["scoring_uri"],
            )
            for d in ep["deployments"]:
                dsrc = d["spec"].get("source") or {"name": d["name"], "endpoint_name": ep["name"]}
                dentity = self._reload(
                    ManagedOnlineDeployment, dict(dsrc), f"deployment {ep['name']}/{d['name']}"
                )
                dentity.endpoint_name = ep["name"]
                serving = d["status"] == SUCCEEDED and d["alive"]
                actual.deployments[d["name"]] = ActualDeployment(
                    name=d["name"],
                    endpoint_name=ep["name"],
                    entity=dentity,
                    provisioning_state=SUCCEEDED if serving else "Failed",
                    tags=dict(d["spec"].get("tags") or {}),
                    message=d["message"],
                    log_path=d["log"],
                )
            state.endpoints[ep["name"]] = actual
        for name, record in self.engine.store.monitors().items():
            state.monitors[name] = _monitor_from_record(name, record)
        return state

    def _reload(self, cls: Any, source: dict[str, Any], what: str) -> Any:
        """The entity stored for ``what``, loaded back with the SDK's own schema.

        Records written before nulls were dropped (gitops.targets.local.spec.without_nulls) are
        cleaned the same way here, so they read back too; a record that still does not load is
        a clear error naming the way out, never a marshmallow traceback.
        """
        from azure.ai.ml.exceptions import MlException
        from marshmallow import ValidationError

        try:
            return cls._load(data=without_nulls(source))
        except (ValidationError, MlException, ValueError, TypeError, KeyError) as exc:
            # marshmallow's messages are the field errors alone, without the SDK's paragraphs.
            detail = exc.messages if isinstance(exc, ValidationError) else str(exc).strip().split("\n")[0]
            cause = json.dumps(detail)[:300] if isinstance(detail, dict | list) else str(detail)[:300]
            raise LocalTargetError(
                f"local state {self.engine.store.path}: the stored {what} cannot be read back "
                f"({type(exc).__name__}: {cause}); `mlops down --env {self.manifest.env}` stops and "
                "forgets this environment's local state, then apply again"
            ) from None

    # --------------------------------------------------------------------------------- writes
    def create_or_update_endpoint(self, endpoint: Any) -> None:
        result = self.engine.ensure_endpoint(endpoint)
        self._note(result.not_applicable)
        self.engine.set_traffic(
            endpoint.name, dict(endpoint.traffic or {}), dict(endpoint.mirror_traffic or {})
        )
        if result.action == "created":
            self.out(f"endpoint {endpoint.name}: scoring URI {result.scoring_uri}")

    def create_or_update_deployment(self, deployment: Any, timeout_s: float) -> None:
        try:
            (result,) = self.engine.ensure_deployments([deployment], timeout_s=timeout_s)
        except DeploymentFailedError as exc:
            raise DeploymentFailed(str(exc)) from None
        self._note(result.not_applicable)

    def set_traffic(
        self, endpoint_name: str, traffic: dict[str, int], mirror_traffic: dict[str, int]
    ) -> None:
        self.engine.set_traffic(endpoint_name, traffic, mirror_traffic)

    def delete_deployment(self, endpoint_name: str, name: str) -> None:
        if self.engine.store.deployment(endpoint_name, name) is None:
            return
        self.engine.delete_deployment(endpoint_name, name)

    def delete_endpoint(self, name: str) -> None:
        if self.engine.store.endpoint(name) is None:
            return
        self.engine.delete_endpoint(name)

    # ------------------------------------------------------------------------------ rollouts
    def write_rollout(self, endpoint_name: str, record: RolloutRecord | None) -> None:
        rollout_store.write(self.engine.store, endpoint_name, record)

    def smoke_request(self, endpoint_name: str, deployment: str, body: bytes) -> tuple[int, bytes]:
        import urllib.error
        import urllib.request

        row = self.engine.store.endpoint(endpoint_name)
        if row is None:
            raise LocalTargetError(f"endpoint {endpoint_name} does not exist")
        key = (
            self.engine.keys(endpoint_name)[0]
            if row.auth_mode == "key"
            else self.engine.token(endpoint_name)[0]
        )
        req = urllib.request.Request(
            self.engine.scoring_uri(endpoint_name),
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {key}",
                "azureml-model-deployment": deployment,
            },
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return int(resp.status), bytes(resp.read())
        except urllib.error.HTTPError as err:
            return int(err.code), bytes(err.read())

    def metrics_provider(self, provider: str | None) -> MetricsProvider:
        from gitops.targets.local.metrics import LocalProvider

        if provider not in (None, "local"):
            raise NotImplementedTargetError(
                f"the local target reads its own router's metrics; analysis.provider {provider!r} is for Azure"
            )
        return LocalProvider(self.engine)

    # ------------------------------------------------------------------------ collected data
    def collected_data_dir(self) -> Path:
        """Where this environment's routers write collected inputs/outputs."""
        return self.engine.data_dir

    def create_or_update_monitor(self, monitor: Any) -> None:
        # The schedule as azure-ai-ml serialises it (what Azure would store), made JSON-plain.
        record = {
            "schedule": json.loads(json.dumps(monitor._to_dict(), default=str)),
            "origin": str(Path(str(monitor._base_path or ".")).resolve()),
            "tags": dict(monitor.tags or {}),
        }
        self.engine.store.put_monitor(monitor.name, record)
        self.out(
            f"monitor {monitor.name}: recorded; evaluate it with `mlops monitor run --env {self.manifest.env}`"
        )

    # --------------------------------------------------------------------------------- assets
    def _assets(self) -> LocalAssets:
        return LocalAssets(self.engine.registry, self.engine.root / "environments", self.out)

    def read_assets(self, wanted: list[tuple[str, str, str]]) -> dict[str, ActualAsset]:
        return self._assets().read(wanted)

    def register_asset(self, kind: str, entity: Any) -> None:
        self._assets().register(kind, entity)

    def delete_monitor(self, name: str) -> None:
        self.engine.store.put_monitor(name, None)


def _monitor_from_record(name: str, record: dict[str, Any]) -> ActualMonitor:
    import io
    import re

    import yaml
    from azure.ai.ml.entities import MonitorSchedule
    from azure.ai.ml.entities._load_functions import load_schedule

    entity = load_schedule(io.StringIO(yaml.safe_dump(record["schedule"])), relative_origin=record["origin"])
    if not isinstance(entity, MonitorSchedule):
        # Only create_or_update_monitor writes these records, and it is given monitor schedules.
        raise LocalTargetError(f"local state: monitor {name} is recorded as a {type(entity).__name__}")
    entity.tags = dict(record.get("tags") or {})
    target = getattr(entity.create_monitor, "monitoring_target", None)
    ref = str(getattr(target, "endpoint_deployment_id", "") or "")
    m = re.match(r"^azureml:([^:/]+):([^:/]+)$", ref) or re.search(
        r"onlineEndpoints/([^/]+)/deployments/([^/]+)", ref, re.IGNORECASE
    )
    return ActualMonitor(
        name=name,
        entity=entity,
        enabled=True,
        tags=dict(entity.tags),
        endpoint_name=m.group(1) if m else None,
        deployment_name=m.group(2) if m else None,
    )


def create(manifest: Manifest, **options: Any) -> LocalTarget:
    return LocalTarget(manifest, **options)


def register_commands(subparsers: Any) -> None:
    """``mlops down | get-credentials | models`` (gitops.targets.PLUGINS lists them)."""
    from gitops.targets.local.commands import register

    register(subparsers)
