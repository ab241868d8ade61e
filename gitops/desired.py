"""Load and check the desired state of one environment from git.

Endpoints, deployments and monitors are the official Azure ML CLI v2 YAML, loaded with
azure-ai-ml's own loaders; our checks add what Azure would only reject at apply time (or never),
and every finding carries ``file:line``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitops.errors import Diagnostic, InputErrors
from gitops.manifest import Manifest, load_manifest_lenient
from gitops.yamlmarks import YamlDoc, YamlSyntaxError, load_yaml

NAME_RE = re.compile(r"^[a-zA-Z][-a-zA-Z0-9]{1,30}[a-zA-Z0-9]$")
MAX_DEPLOYMENTS_PER_ENDPOINT = 20
MAX_MIRROR_PERCENT = 50
# Tags this tool owns; users may not set them in YAML.
TAG_MANAGED_BY = "managed-by"
TAG_ENVIRONMENT = "environment"
TAG_REVISION = "git-revision"
TAG_SPEC_HASH = "mlops-spec-hash"
MANAGED_BY_VALUE = "mlops-gitops"
# Endpoint tags holding the progress record of a progressive rollout (azureml target).
ROLLOUT_TAG_PREFIX = "mlops-rollout"
RESERVED_TAGS = (TAG_MANAGED_BY, TAG_ENVIRONMENT, TAG_REVISION, TAG_SPEC_HASH)
YAML_SUFFIXES = (".yml", ".yaml")


@dataclass
class DesiredDeployment:
    name: str
    endpoint_name: str
    entity: Any  # azure.ai.ml.entities.OnlineDeployment
    doc: YamlDoc
    spec_hash: str


@dataclass
class DesiredEndpoint:
    name: str
    entity: Any  # azure.ai.ml.entities.OnlineEndpoint
    doc: YamlDoc
    traffic: dict[str, int]
    mirror_traffic: dict[str, int]
    deployments: dict[str, DesiredDeployment] = field(default_factory=dict)
    rollout: Any = None  # gitops.rollout.spec.RolloutSpec, or None: traffic changes in one step


@dataclass
class DesiredMonitor:
    name: str
    entity: Any  # azure.ai.ml.entities.MonitorSchedule
    doc: YamlDoc
    endpoint_name: str | None
    deployment_name: str | None
    spec_hash: str


@dataclass
class DesiredState:
    manifest: Manifest
    endpoints: dict[str, DesiredEndpoint] = field(default_factory=dict)
    monitors: dict[str, DesiredMonitor] = field(default_factory=dict)

    @property
    def env(self) -> str:
        return self.manifest.env


def _quiet_sdk() -> None:
    # azure-ai-ml logs "experimental class" notices on load; they are noise in validate output.
    for name in ("azure.ai.ml", "azure.ai.ml._utils._experimental"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _yaml_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in YAML_SUFFIXES)


def _flatten_marshmallow(errors: Any, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], str]]:
    out: list[tuple[tuple[str, ...], str]] = []
    if isinstance(errors, dict):
        for key, val in errors.items():
            # marshmallow nests dict-valued field errors under "value"/"key"; the key is the YAML path.
            if key in ("value", "key") and prefix:
                out.extend(_flatten_marshmallow(val, prefix))
            else:
                out.extend(_flatten_marshmallow(val, (*prefix, str(key))))
    elif isinstance(errors, list):
        for item in errors:
            out.extend(_flatten_marshmallow(item, prefix))
    else:
        out.append((prefix, str(errors)))
    return out


def sdk_error_diagnostics(doc: YamlDoc, exc: Exception, what: str) -> list[Diagnostic]:
    """Turn an azure-ai-ml/marshmallow load error into one Diagnostic per field."""
    # load_schedule fails with a message-less NotImplementedError while formatting a schema
    # error; the marshmallow error with the field details is chained to it.
    cause: BaseException | None = exc
    while cause is not None and "{" not in str(cause):
        cause = cause.__cause__ or cause.__context__
    text = str(cause if cause is not None else exc)
    start = text.find("{")
    details: Any = None
    if start >= 0:
        try:
            details, _ = json.JSONDecoder().raw_decode(text[start:])
        except json.JSONDecodeError:
            details = None
    if isinstance(details, dict) and details:
        diags = []
        for path, msg in _flatten_marshmallow(details):
            dotted = ".".join(path)
            hint = ""
            if msg == "Unknown field.":
                hint = f" (not part of the Azure ML {what} YAML schema; remove it or fix its spelling)"
            diags.append(doc.diag(f"`{dotted}`: {msg}{hint}", *path))
        return diags
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return [doc.diag(f"invalid {what}: {first}")]


def spec_hash(doc: YamlDoc, local_paths: list[Path]) -> str:
    """Hash of what git declares (YAML content plus any local files it uploads)."""
    h = hashlib.sha256(json.dumps(doc.data, sort_keys=True, default=str).encode())
    for root in local_paths:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for f in files:
            h.update(str(f.relative_to(root.parent)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def _local_paths(doc: YamlDoc) -> list[Path]:
    base = doc.path.parent
    data = doc.data if isinstance(doc.data, dict) else {}
    out: list[Path] = []
    model = data.get("model")
    if isinstance(model, dict) and isinstance(model.get("path"), str):
        out.append(base / model["path"])
    code = (data.get("code_configuration") or {}).get("code") if isinstance(data, dict) else None
    if isinstance(code, str) and not code.startswith("azureml:"):
        out.append(base / code)
    env = data.get("environment")
    if isinstance(env, dict):
        for key in ("conda_file",):
            if isinstance(env.get(key), str):
                out.append(base / env[key])
        build = env.get("build")
        if isinstance(build, dict) and isinstance(build.get("path"), str):
            out.append(base / build["path"])
    return [p for p in out if p.exists()]


def _check_name(doc: YamlDoc, name: Any, kind: str, key: str = "name") -> list[Diagnostic]:
    if not isinstance(name, str) or not NAME_RE.match(name):
        return [
            doc.diag(
                f"{kind} name {name!r} is invalid: use 3-32 letters, digits or '-', starting with a letter "
                "and not ending with '-'",
                key,
            )
        ]
    return []


def _check_reserved_tags(doc: YamlDoc) -> list[Diagnostic]:
    tags = doc.data.get("tags") if isinstance(doc.data, dict) else None
    if not isinstance(tags, dict):
        return []
    return [
        doc.diag(f"tag `{t}` is set by mlops (ownership tracking); remove it from the YAML", "tags", t)
        for t in tags
        if t in RESERVED_TAGS
    ]


_PINNED_REF = re.compile(
    r"^azureml:(//registries/[^/]+/(models|environments|codes)/[^/]+/versions/[^/]+|[^:@/]+:[^:@/]+)$"
)


def _pin_diag(doc: YamlDoc, value: Any, what: str, *keys: str) -> list[Diagnostic]:
    """require_pinned_versions: a reference must name an exact version."""
    if isinstance(value, str):
        if value.startswith("azureml:") and "@" in value:
            return [
                doc.diag(
                    f"{what} {value!r} floats ({value.split('@', 1)[1]}); pin a version: azureml:<name>:<version>",
                    *keys,
                )
            ]
        if (
            value.startswith("azureml:")
            and not _PINNED_REF.match(value)
            and not value.startswith("azureml:/")
        ):
            return [doc.diag(f"{what} {value!r} has no version; pin one: azureml:<name>:<version>", *keys)]
        return []
    if isinstance(value, dict) and what == "environment":
        image = value.get("image")
        if isinstance(image, str) and "@sha256:" not in image:
            tag = image.rsplit("/", 1)[-1].partition(":")[2]
            if not tag or tag == "latest":
                return [
                    doc.diag(
                        f"environment image {image!r} is not pinned; use an explicit tag or @sha256 digest",
                        *keys,
                        "image",
                    )
                ]
    return []


def load_desired(env_dir: Path, manifest: Manifest | None = None) -> DesiredState:
    """Load every file of the environment; raise InputErrors with all problems found."""
    from azure.ai.ml import load_online_deployment, load_online_endpoint
    from azure.ai.ml.entities._load_functions import load_schedule

    _quiet_sdk()

    diags: list[Diagnostic] = []
    if manifest is None:
        manifest, diags = load_manifest_lenient(env_dir)
    state = DesiredState(manifest=manifest)

    def parse(path: Path) -> YamlDoc | None:
        try:
            doc = load_yaml(path)
        except YamlSyntaxError as exc:
            diags.append(exc.diagnostic)
            return None
        if not isinstance(doc.data, dict):
            diags.append(doc.diag("expected a YAML mapping"))
            return None
        return doc

    endpoints_dir = env_dir / "endpoints"
    seen_endpoint_files: dict[str, YamlDoc] = {}
    for ep_dir in sorted(p for p in endpoints_dir.iterdir() if p.is_dir()) if endpoints_dir.is_dir() else []:
        ep_files = [ep_dir / n for n in ("endpoint.yml", "endpoint.yaml") if (ep_dir / n).is_file()]
        if not ep_files:
            diags.append(
                Diagnostic(
                    str(ep_dir), 0, "endpoint folder without endpoint.yml; add one or remove the folder"
                )
            )
            continue
        doc = parse(ep_files[0])
        if doc is None:
            continue
        name = doc.data.get("name")
        diags += _check_name(doc, name, "endpoint")
        diags += _check_reserved_tags(doc)
        if isinstance(name, str) and name != ep_dir.name:
            diags.append(
                doc.diag(
                    f"endpoint name {name!r} differs from its folder {ep_dir.name!r}; make them equal", "name"
                )
            )
        if isinstance(name, str) and name in seen_endpoint_files:
            other = seen_endpoint_files[name]
            diags.append(
                doc.diag(
                    f"endpoint name {name!r} is already declared in {other.file}:{other.line('name')}", "name"
                )
            )
            continue
        if doc.data.get("compute") or doc.data.get("kind") == "kubernetes":
            diags.append(doc.diag("only managed online endpoints are supported; remove `compute`", "compute"))
            continue
        entity = None
        try:
            entity = load_online_endpoint(str(doc.path))
        except Exception as exc:  # noqa: BLE001 - every loader failure is user input to report
            diags += sdk_error_diagnostics(doc, exc, "online endpoint")
        if not isinstance(name, str):
            continue
        seen_endpoint_files[name] = doc
        # From the raw YAML so that traffic is still checked when the SDK rejected another field.
        traffic = _int_map(doc.data.get("traffic"))
        mirror = _int_map(doc.data.get("mirror_traffic"))
        ep = DesiredEndpoint(name=name, entity=entity, doc=doc, traffic=traffic, mirror_traffic=mirror)
        state.endpoints[name] = ep
        ep.rollout, rdiags = _rollout_spec(ep_dir, manifest)
        diags += rdiags

        for dep_path in _yaml_files(ep_dir / "deployments"):
            ddoc = parse(dep_path)
            if ddoc is None:
                continue
            dname = ddoc.data.get("name")
            diags += _check_name(ddoc, dname, "deployment")
            diags += _check_reserved_tags(ddoc)
            if isinstance(dname, str) and dname != dep_path.stem:
                diags.append(
                    ddoc.diag(
                        f"deployment name {dname!r} differs from its file name {dep_path.name!r}; make them equal",
                        "name",
                    )
                )
            if ddoc.data.get("endpoint_name") != name:
                diags.append(
                    ddoc.diag(
                        f"endpoint_name {ddoc.data.get('endpoint_name')!r} does not match the endpoint folder it is in ({name!r}); "
                        f"set `endpoint_name: {name}`",
                        "endpoint_name",
                    )
                )
            if ddoc.data.get("type", "managed") != "managed":
                diags.append(
                    ddoc.diag(
                        "only managed online deployments are supported; remove `type` or set `type: managed`",
                        "type",
                    )
                )
                continue
            diags += _check_secrets(ddoc)
            if manifest.require_pinned_versions:
                for key in ("model", "environment"):
                    diags += _pin_diag(ddoc, ddoc.data.get(key), key, key)
                code = (ddoc.data.get("code_configuration") or {}).get("code")
                if isinstance(code, str) and code.startswith("azureml:"):
                    diags += _pin_diag(ddoc, code, "code", "code_configuration", "code")
            dep_entity = None
            try:
                dep_entity = load_online_deployment(str(ddoc.path))
            except Exception as exc:  # noqa: BLE001 - every loader failure is user input to report
                diags += sdk_error_diagnostics(ddoc, exc, "managed online deployment")
            if not isinstance(dname, str):
                continue
            if dname.lower() in {d.lower() for d in ep.deployments}:
                diags.append(
                    ddoc.diag(f"deployment {dname!r} is declared twice for endpoint {name!r}", "name")
                )
                continue
            ep.deployments[dname] = DesiredDeployment(
                name=dname,
                endpoint_name=name,
                entity=dep_entity,
                doc=ddoc,
                spec_hash=spec_hash(ddoc, _local_paths(ddoc)),
            )
        diags += _check_traffic(ep)

    for mon_path in _yaml_files(env_dir / "monitors"):
        mdoc = parse(mon_path)
        if mdoc is None:
            continue
        diags += _check_reserved_tags(mdoc)
        if "create_monitor" not in mdoc.data:
            diags.append(
                mdoc.diag(
                    "a monitor file must be a schedule with `create_monitor:` (Azure ML model monitor YAML)"
                )
            )
            continue
        try:
            mon = load_schedule(str(mdoc.path))
        except Exception as exc:  # noqa: BLE001 - every loader failure is user input to report
            diags += sdk_error_diagnostics(mdoc, exc, "monitor schedule")
            continue
        mname = mon.name
        if not mname:
            diags.append(mdoc.diag("a monitor needs a `name`"))
            continue
        if mname in state.monitors:
            diags.append(
                mdoc.diag(
                    f"monitor {mname!r} is declared twice (also in {state.monitors[mname].doc.file})", "name"
                )
            )
            continue
        ep_name, dep_name, mdiags = _check_monitor(mdoc, mon, state)
        diags += mdiags
        state.monitors[mname] = DesiredMonitor(
            name=mname,
            entity=mon,
            doc=mdoc,
            endpoint_name=ep_name,
            deployment_name=dep_name,
            spec_hash=spec_hash(mdoc, []),
        )

    if diags:
        raise InputErrors(diags)
    return state


def _rollout_spec(ep_dir: Path, manifest: Manifest) -> tuple[Any, list[Diagnostic]]:
    """The endpoint's rollout.yml merged over the environment's `rollout:` defaults (None: neither)."""
    from gitops.rollout.spec import build_spec, load_endpoint_rollout, merge_raw

    doc, diags = load_endpoint_rollout(ep_dir)
    defaults = manifest.raw.get("rollout") if isinstance(manifest.raw.get("rollout"), dict) else None
    if diags or (doc is None and not defaults):
        return None, diags
    own = doc.data if doc is not None else {}
    raw = merge_raw(defaults, own)
    if not raw.get("steps") and raw.get("enabled", True):
        where = doc.diag("a rollout needs `steps` (here or in environment.yaml `rollout:`)") if doc else None
        return None, [where] if where else []
    base_dir = ep_dir if doc is not None and "smoke_test" in own else manifest.root
    sources = [str(p) for p in ([manifest.path] if defaults else []) + ([doc.path] if doc else [])]
    interval = 1.0 if manifest.target == "local" else 60.0
    try:
        return build_spec(raw, base_dir, " + ".join(sources), interval), []
    except ValueError as exc:
        return None, [Diagnostic(sources[-1], 1, str(exc))]


_SECRET_NAME = re.compile(
    r"SECRET|PASSWORD|PASSWD|TOKEN|CONNECTION_?STRING|API_?KEY|ACCESS_?KEY|ACCOUNT_?KEY|(^|_)SAS($|_)", re.I
)


def _check_secrets(doc: YamlDoc) -> list[Diagnostic]:
    env = doc.data.get("environment_variables")
    if not isinstance(env, dict):
        return []
    return [
        doc.diag(
            f"environment variable {name} looks like a secret committed to git; read it at runtime with the "
            "deployment's managed identity (e.g. from Key Vault) instead",
            "environment_variables",
            name,
        )
        for name, value in env.items()
        if _SECRET_NAME.search(str(name)) and value not in (None, "")
    ]


def _int_map(value: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        return {}
    out = {}
    for k, v in value.items():
        try:
            out[str(k)] = int(v)
        except (TypeError, ValueError):
            continue  # wrong types are reported by the SDK schema check
    return out


def _check_traffic(ep: DesiredEndpoint) -> list[Diagnostic]:
    doc = ep.doc
    diags: list[Diagnostic] = []
    declared = {d.lower(): d for d in ep.deployments}
    if len(ep.deployments) > MAX_DEPLOYMENTS_PER_ENDPOINT:
        diags.append(
            doc.diag(
                f"endpoint {ep.name!r} declares {len(ep.deployments)} deployments; Azure allows at most "
                f"{MAX_DEPLOYMENTS_PER_ENDPOINT} per endpoint",
                "name",
            )
        )
    for key in ("traffic", "mirror_traffic"):
        for dep in ep.traffic if key == "traffic" else ep.mirror_traffic:
            if dep.lower() not in declared:
                known = ", ".join(sorted(ep.deployments)) or "none"
                diags.append(
                    doc.diag(
                        f"{key} names deployment {dep!r}, which is not declared under "
                        f"endpoints/{ep.name}/deployments/ (declared: {known})",
                        key,
                        dep,
                    )
                )
    live = {k: v for k, v in ep.traffic.items() if v}
    total = sum(live.values())
    if ep.deployments and total != 100:
        diags.append(
            doc.diag(
                f"live traffic sums to {total}%, it must sum to 100% when the endpoint has deployments",
                "traffic",
            )
        )
    if not ep.deployments and total:
        diags.append(
            doc.diag("traffic is set but the endpoint has no deployments; remove `traffic`", "traffic")
        )
    mirror = {k: v for k, v in ep.mirror_traffic.items() if v}
    if len(mirror) > 1:
        diags.append(doc.diag("mirror_traffic may name only one deployment", "mirror_traffic"))
    for dep, pct in mirror.items():
        if pct > MAX_MIRROR_PERCENT or pct < 0:
            diags.append(
                doc.diag(
                    f"mirror_traffic to {dep!r} is {pct}%; Azure allows 0-{MAX_MIRROR_PERCENT}%",
                    "mirror_traffic",
                    dep,
                )
            )
        if live.get(dep):
            diags.append(
                doc.diag(
                    f"deployment {dep!r} receives live traffic ({live[dep]}%) and mirror traffic; a deployment can be live "
                    "or mirrored, not both",
                    "mirror_traffic",
                    dep,
                )
            )
    for dep, pct in ep.traffic.items():
        if pct < 0 or pct > 100:
            diags.append(doc.diag(f"traffic to {dep!r} is {pct}%; use 0-100", "traffic", dep))
    return diags


def _check_monitor(
    doc: YamlDoc, mon: Any, state: DesiredState
) -> tuple[str | None, str | None, list[Diagnostic]]:
    target = getattr(getattr(mon, "create_monitor", None), "monitoring_target", None)
    ref = getattr(target, "endpoint_deployment_id", None)
    keys = ("create_monitor", "monitoring_target", "endpoint_deployment_id")
    if not ref:
        return None, None, []
    m = re.match(r"^azureml:([^:/]+):([^:/]+)$", ref)
    if not m:
        return (
            None,
            None,
            [
                doc.diag(
                    f"endpoint_deployment_id {ref!r} must be azureml:<endpoint>:<deployment> of a declared deployment",
                    *keys,
                )
            ],
        )
    ep_name, dep_name = m.group(1), m.group(2)
    ep = state.endpoints.get(ep_name)
    if ep is None:
        return (
            ep_name,
            dep_name,
            [
                doc.diag(
                    f"monitor targets endpoint {ep_name!r}, which is not declared in this environment", *keys
                )
            ],
        )
    dep = ep.deployments.get(dep_name)
    if dep is None:
        return (
            ep_name,
            dep_name,
            [
                doc.diag(
                    f"monitor targets deployment {dep_name!r}, which is not declared under endpoint {ep_name!r}",
                    *keys,
                )
            ],
        )
    collector = dep.doc.data.get("data_collector")
    collections = collector.get("collections") if isinstance(collector, dict) else None
    collections = collections if isinstance(collections, dict) else {}
    missing = [
        c
        for c in ("model_inputs", "model_outputs")
        if not isinstance(collections.get(c), dict)
        or str(collections[c].get("enabled", "")).lower() != "true"
    ]
    if missing:
        return (
            ep_name,
            dep_name,
            [
                doc.diag(
                    f"monitor needs deployment {ep_name}/{dep_name} to collect {' and '.join(missing)}; add "
                    f"data_collector.collections.<name>.enabled: 'true' in {dep.doc.file}",
                    *keys,
                )
            ],
        )
    return ep_name, dep_name, []
