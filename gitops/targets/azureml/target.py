"""The Azure ML workspace target: the real azure-ai-ml ``MLClient`` with ``DefaultAzureCredential``.

azure-ai-ml is imported inside functions: importing it costs seconds, and ``mlops validate --help``
must not pay that.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from gitops.errors import GitopsError
from gitops.lock import file_lock
from gitops.manifest import Manifest
from gitops.model.tags import TAG_SPEC_HASH
from gitops.rollout.record import RolloutRecord
from gitops.targets.azureml import rollout_store
from gitops.targets.base import (
    CAP_ASSETS,
    CAP_CUSTOM_CONTAINER,
    CAP_GENERATED_SCORING,
    CAP_GPU,
    CAP_MIRROR_TRAFFIC,
    CAP_MONITORS,
    ActualAsset,
    ActualDeployment,
    ActualEndpoint,
    ActualMonitor,
    ActualState,
    DeploymentFailed,
    OperationTimeout,
)

if TYPE_CHECKING:
    from gitops.rollout.providers import MetricsProvider

log = logging.getLogger(__name__)
T = TypeVar("T")

# 409: Azure ML answers Conflict while another operation runs on the same endpoint.
RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
_DEPLOYMENT_ID = re.compile(r"onlineEndpoints/([^/]+)/deployments/([^/]+)", re.IGNORECASE)


def norm_traffic(traffic: dict[str, Any] | None) -> dict[str, int]:
    """Azure zero-fills and lower-cases traffic maps; compare without zero entries, lower-cased."""
    return {str(k).lower(): int(v) for k, v in (traffic or {}).items() if v and int(v) != 0}


def state_str(value: Any) -> str:
    """Provisioning states come back as str-enums or plain strings; compare their values."""
    if value is None:
        return "Succeeded"
    return str(getattr(value, "value", value))


def _retry_after_seconds(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    for name, scale in (("retry-after-ms", 0.001), ("x-ms-retry-after-ms", 0.001), ("Retry-After", 1.0)):
        value = headers.get(name)
        if value:
            try:
                return float(value) * scale
            except ValueError:
                continue
    return None


def is_transient(exc: Exception) -> bool:
    from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

    if isinstance(exc, ServiceRequestError | ServiceResponseError):
        return True
    if isinstance(exc, HttpResponseError):
        return exc.status_code in RETRYABLE_STATUS
    return False


class AzureMLTarget:
    kind = "azureml"
    capabilities = frozenset(
        {CAP_MIRROR_TRAFFIC, CAP_MONITORS, CAP_GENERATED_SCORING, CAP_CUSTOM_CONTAINER, CAP_GPU, CAP_ASSETS}
    )

    def __init__(
        self,
        manifest: Manifest,
        credential: Any = None,
        client_kwargs: dict[str, Any] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        metrics_options: dict[str, Any] | None = None,
    ):
        from azure.ai.ml import MLClient

        if credential is None:
            from azure.identity import DefaultAzureCredential

            # Works with GitHub OIDC (AZURE_FEDERATED_TOKEN_FILE), managed identity and `az login`.
            credential = DefaultAzureCredential(exclude_interactive_browser_credential=True)
        self.manifest = manifest
        self.credential = credential
        self.metrics_options = dict(metrics_options or {})
        settings = manifest.apply
        self.max_attempts = settings.max_attempts
        self.backoff = settings.backoff_seconds
        self.op_timeout = settings.operation_timeout_minutes * 60.0
        self._sleep = sleep
        kwargs: dict[str, Any] = {
            # The HTTP pipeline retries each request (honouring Retry-After); _call() retries whole
            # operations on top of that when a fault survives the pipeline.
            "retry_total": 3,
            "retry_backoff_factor": max(0.05, settings.backoff_seconds / 2),
            "retry_backoff_max": 60,
            "enable_telemetry": False,
        }
        kwargs.update(client_kwargs or {})
        self.ml = MLClient(
            credential,
            manifest.subscription_id,
            manifest.resource_group,
            manifest.workspace,
            **kwargs,
        )

    def describe(self) -> str:
        m = self.manifest
        return f"azureml workspace {m.workspace} (resource group {m.resource_group}, subscription {m.subscription_id})"

    def lock(self, env: str) -> AbstractContextManager[None]:
        m = self.manifest
        return file_lock(f"azureml-{m.subscription_id}-{m.resource_group}-{m.workspace}-{env}", env)

    # -- retries -----------------------------------------------------------------------------

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        delay = self.backoff
        for attempt in range(1, self.max_attempts + 1):
            try:
                return fn()
            except Exception as exc:
                if not is_transient(exc) or attempt == self.max_attempts:
                    raise
                wait = _retry_after_seconds(exc)
                wait = delay if wait is None else wait
                log.warning(
                    "%s: transient error (%s), retry %d/%d in %.1fs",
                    what,
                    exc,
                    attempt,
                    self.max_attempts - 1,
                    wait,
                )
                self._sleep(wait)
                delay = min(delay * 2, 120.0)
        raise AssertionError("unreachable")

    def _wait(self, poller: Any, timeout_s: float, what: str) -> Any:
        result = poller.result(timeout=timeout_s)
        if not poller.done():
            raise OperationTimeout(
                f"{what} still running after {timeout_s:.0f}s; run `mlops apply` again to resume"
            )
        return result

    # -- reads ---------------------------------------------------------------------------------

    def read_state(self) -> ActualState:
        from azure.ai.ml.entities import MonitorSchedule
        from azure.ai.ml.entities._deployment.online_deployment import OnlineDeployment  # noqa: F401

        state = ActualState()
        endpoints = self._call("list endpoints", lambda: list(self.ml.online_endpoints.list()))

        def list_deployments(name: str) -> list[Any]:
            return self._call(
                f"list deployments of {name}", lambda: list(self.ml.online_deployments.list(name))
            )

        with ThreadPoolExecutor(max_workers=16) as pool:
            dep_lists = list(pool.map(list_deployments, [e.name for e in endpoints]))
        for ep, deps in zip(endpoints, dep_lists, strict=True):
            actual = ActualEndpoint(
                name=ep.name,
                entity=ep,
                traffic=norm_traffic(ep.traffic),
                mirror_traffic=norm_traffic(ep.mirror_traffic),
                provisioning_state=state_str(ep.provisioning_state),
                tags=dict(ep.tags or {}),
                rollout=rollout_store.decode(ep.name, dict(ep.tags or {})),
            )
            for d in deps:
                d.endpoint_name = ep.name
                actual.deployments[d.name] = ActualDeployment(
                    name=d.name,
                    endpoint_name=ep.name,
                    entity=d,
                    provisioning_state=state_str(d.provisioning_state),
                    tags=dict(d.tags or {}),
                )
            state.endpoints[ep.name] = actual

        from azure.ai.ml._restclient.arm_ml_service.models import ScheduleListViewType

        schedules = self._call(
            "list schedules", lambda: list(self.ml.schedules.list(list_view_type=ScheduleListViewType.ALL))
        )
        for s in schedules:
            if not isinstance(s, MonitorSchedule) or not s.name:
                continue
            target = getattr(s.create_monitor, "monitoring_target", None)
            ref = str(getattr(target, "endpoint_deployment_id", "") or "")
            m = _DEPLOYMENT_ID.search(ref) or re.match(r"^azureml:([^:/]+):([^:/]+)$", ref)
            state.monitors[s.name] = ActualMonitor(
                name=s.name,
                entity=s,
                enabled=bool(s.is_enabled) if s.is_enabled is not None else True,
                tags=dict(s.tags or {}),
                endpoint_name=m.group(1) if m else None,
                deployment_name=m.group(2) if m else None,
            )
        return state

    # -- writes --------------------------------------------------------------------------------

    def create_or_update_endpoint(self, endpoint: Any) -> None:
        def op() -> None:
            self._wait(
                self.ml.online_endpoints.begin_create_or_update(endpoint),
                self.op_timeout,
                f"endpoint {endpoint.name}",
            )

        self._call(f"endpoint {endpoint.name}", op)

    def create_or_update_deployment(self, deployment: Any, timeout_s: float) -> None:
        from azure.core.exceptions import HttpResponseError

        what = f"deployment {deployment.endpoint_name}/{deployment.name}"

        def op() -> None:
            poller = self.ml.online_deployments.begin_create_or_update(deployment)
            try:
                result = self._wait(poller, timeout_s, what)
            except HttpResponseError as exc:
                if is_transient(exc):
                    raise
                raise DeploymentFailed(f"{what} failed: {exc.message}") from None
            state = state_str(getattr(result, "provisioning_state", None))
            if state.lower() != "succeeded":
                raise DeploymentFailed(f"{what} ended in state {state}")

        self._call(what, op)

    def set_traffic(
        self, endpoint_name: str, traffic: dict[str, int], mirror_traffic: dict[str, int]
    ) -> None:
        def op() -> None:
            ep = self.ml.online_endpoints.get(endpoint_name)
            ep.traffic = dict(traffic)
            ep.mirror_traffic = dict(mirror_traffic)
            self._wait(
                self.ml.online_endpoints.begin_create_or_update(ep),
                self.op_timeout,
                f"traffic of {endpoint_name}",
            )

        self._call(f"traffic of {endpoint_name}", op)

    def delete_deployment(self, endpoint_name: str, name: str) -> None:
        self._call(
            f"delete deployment {endpoint_name}/{name}",
            lambda: self._delete(
                lambda: self.ml.online_deployments.begin_delete(name, endpoint_name),
                f"{endpoint_name}/{name}",
            ),
        )

    def delete_endpoint(self, name: str) -> None:
        self._call(
            f"delete endpoint {name}",
            lambda: self._delete(lambda: self.ml.online_endpoints.begin_delete(name), name),
        )

    def _delete(self, begin: Callable[[], Any], what: str) -> None:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            self._wait(begin(), self.op_timeout, f"delete {what}")
        except ResourceNotFoundError:
            # Already gone (e.g. an interrupted earlier apply got there first): that is the goal.
            return

    # -- assets --------------------------------------------------------------------------------

    def _asset_ops(self, kind: str) -> Any:
        return self.ml.models if kind == "model" else self.ml.environments

    def read_assets(self, wanted: list[tuple[str, str, str]]) -> dict[str, ActualAsset]:
        """One GET per declared version (``ml.models.get`` / ``ml.environments.get``, i.e.
        ``GET .../models/<name>/versions/<version>``): never a list of the workspace's assets."""
        from azure.core.exceptions import ResourceNotFoundError

        def read(item: tuple[str, str, str]) -> ActualAsset | None:
            kind, name, version = item
            try:
                entity = self._call(
                    f"{kind} {name}:{version}", lambda: self._asset_ops(kind).get(name=name, version=version)
                )
            except ResourceNotFoundError:
                return None
            tag = (entity.tags or {}).get(TAG_SPEC_HASH)
            return ActualAsset(kind, name, version, str(tag) if tag else None, entity)

        with ThreadPoolExecutor(max_workers=8) as pool:
            found = [a for a in pool.map(read, wanted) if a is not None]
        return {a.key: a for a in found}

    def register_asset(self, kind: str, entity: Any) -> None:
        """``create_or_update`` uploads local paths to the workspace's default datastore first
        (azure-ai-ml operations/_model_operations.py, _environment_operations.py)."""
        self._call(
            f"register {kind} {entity.name}:{entity.version}",
            lambda: self._asset_ops(kind).create_or_update(entity),
        )

    # -- rollouts ------------------------------------------------------------------------------

    def write_rollout(self, endpoint_name: str, record: RolloutRecord | None) -> None:
        def op() -> None:
            ep = self.ml.online_endpoints.get(endpoint_name)
            ep.tags = rollout_store.merge_into(endpoint_name, dict(ep.tags or {}), record)
            self._wait(
                self.ml.online_endpoints.begin_create_or_update(ep),
                self.op_timeout,
                f"rollout progress of {endpoint_name}",
            )

        self._call(f"rollout progress of {endpoint_name}", op)

    def smoke_request(self, endpoint_name: str, deployment: str, body: bytes) -> tuple[int, bytes]:
        import tempfile

        from azure.core.exceptions import HttpResponseError

        with tempfile.NamedTemporaryFile("wb", suffix=".json") as fh:
            fh.write(body)
            fh.flush()
            try:
                # invoke() sends the azureml-model-deployment header, reaching a 0 % deployment.
                answer = self.ml.online_endpoints.invoke(
                    endpoint_name=endpoint_name, request_file=fh.name, deployment_name=deployment
                )
            except HttpResponseError as exc:
                text = exc.response.text() if exc.response is not None else str(exc)
                return int(exc.status_code or 0), text.encode()
        return 200, str(answer).encode()

    def metrics_provider(self, provider: str | None) -> MetricsProvider:
        from gitops.targets.azureml.metrics import AzureMonitorProvider

        if provider not in (None, "azureml"):
            raise GitopsError(f"analysis.provider {provider!r} cannot read metrics of an Azure ML workspace")
        m = self.manifest

        def locate(endpoint_name: str) -> str:
            # The metrics data plane is regional; the endpoint's own region is the one that answers.
            ep = self._call(
                f"location of {endpoint_name}", lambda: self.ml.online_endpoints.get(endpoint_name)
            )
            return str(ep.location or "")

        return AzureMonitorProvider(
            str(m.subscription_id),
            str(m.resource_group),
            str(m.workspace),
            credential=self.credential,
            locate=locate,
            **self.metrics_options,
        )

    # -- collected data ------------------------------------------------------------------------

    def collected_data_dir(self) -> Path:
        """Azure's data collector writes to the workspace's blob store, not to this machine."""
        raise GitopsError(
            f"environment {self.manifest.env} targets azureml: its collected data is in the workspace's "
            f"blob store (azureml://subscriptions/{self.manifest.subscription_id}/resourcegroups/"
            f"{self.manifest.resource_group}/workspaces/{self.manifest.workspace}/datastores/workspaceblobstore"
            "/paths/modelDataCollector/); download that folder and pass --data-dir"
        )

    def create_or_update_monitor(self, monitor: Any) -> None:
        self._call(
            f"monitor {monitor.name}",
            lambda: self._wait(
                self.ml.schedules.begin_create_or_update(monitor), self.op_timeout, f"monitor {monitor.name}"
            ),
        )

    def delete_monitor(self, name: str) -> None:
        self._call(
            f"delete monitor {name}", lambda: self._delete(lambda: self.ml.schedules.begin_delete(name), name)
        )


def create(manifest: Manifest, **options: Any) -> AzureMLTarget:
    missing = [k for k in ("subscription_id", "resource_group", "workspace") if not getattr(manifest, k)]
    if missing:
        raise GitopsError(f"{manifest.path}: target azureml needs {', '.join(missing)}")
    return AzureMLTarget(manifest, **options)
