"""Load the desired state of one environment: discover its files, parse each once, load it with
azure-ai-ml's own loader, and run the rules; every problem found is reported at once.

A file that cannot be loaded is reported and skipped, never the whole run: one ``validate``
shows every problem of the environment.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gitops.desired.assets import asset_references, load_assets
from gitops.desired.classify import placeholder
from gitops.desired.discover import EndpointFiles, EnvironmentFiles, discover, exclude_patterns
from gitops.desired.rules.exposure import private_deployment, private_endpoint
from gitops.desired.rules.managed import managed_deployment, managed_endpoint
from gitops.desired.rules.monitors import is_monitor_schedule, monitor_target, schedule_ranges
from gitops.desired.rules.names import (
    deployment_declared_once,
    deployment_in_its_endpoint,
    endpoint_declared_once,
    endpoint_name_matches_folder,
    monitor_declared_once,
    valid_name,
)
from gitops.desired.rules.paths import monitor_paths, referenced_paths
from gitops.desired.rules.pinning import pinned_versions
from gitops.desired.rules.rollout import rollout_spec
from gitops.desired.rules.secrets import committed_secrets
from gitops.desired.rules.tags import reserved_tags
from gitops.desired.rules.traffic import declared_map, endpoint_traffic
from gitops.desired.rules.values import deployment_values
from gitops.desired.sdk_errors import sdk_error_diagnostics
from gitops.desired.spec_hash import local_paths, spec_hash
from gitops.desired.types import DesiredDeployment, DesiredEndpoint, DesiredMonitor, DesiredState
from gitops.errors import Diagnostic, InputErrors
from gitops.manifest import Manifest, load_manifest_lenient
from gitops.rollout.spec import load_rollout_doc
from gitops.yamlmarks import YamlDoc, YamlSyntaxError, load_yaml


def _quiet_sdk() -> None:
    # azure-ai-ml logs "experimental class" notices on load; they are noise in validate output.
    for name in ("azure.ai.ml", "azure.ai.ml._utils._experimental"):
        logging.getLogger(name).setLevel(logging.ERROR)


def parse_mapping(path: Path) -> tuple[YamlDoc | None, list[Diagnostic]]:
    """The file's YAML document, or None and why (syntax error, or not a mapping)."""
    try:
        doc = load_yaml(path)
    except YamlSyntaxError as exc:
        return None, [exc.diagnostic]
    return as_mapping(doc)


def as_mapping(doc: YamlDoc) -> tuple[YamlDoc | None, list[Diagnostic]]:
    """Discovery parsed every file once; a resource file must be a mapping."""
    if not isinstance(doc.data, dict):
        return None, [doc.diag("expected a YAML mapping")]
    return doc, []


def _name_diags(doc: YamlDoc, kind: str) -> list[Diagnostic]:
    # A `<NAME>` placeholder is one cause: say that instead of "invalid name".
    return placeholder(doc, "name") or valid_name(doc, doc.data.get("name"), kind)


def _sdk_load(loader: Callable[[str], Any], doc: YamlDoc, what: str) -> tuple[Any, list[Diagnostic]]:
    try:
        return loader(str(doc.path)), []
    except Exception as exc:  # noqa: BLE001 - every loader failure is user input to report
        return None, sdk_error_diagnostics(doc, exc, what)


def load_deployment(found: YamlDoc, ep: DesiredEndpoint, manifest: Manifest) -> list[Diagnostic]:
    """Load one deployment file of ``ep`` (discovery found it its endpoint) into ``ep.deployments``."""
    from azure.ai.ml import load_online_deployment

    doc, diags = as_mapping(found)
    if doc is None:
        return diags
    name = doc.data.get("name")
    diags += _name_diags(doc, "deployment") + reserved_tags(doc)
    if placeholder(doc, "name"):
        return diags  # the SDK would repeat it as "does not match expected pattern"
    in_folder = found.path.parent.name == "deployments" and found.path.parent.parent == ep.doc.path.parent
    if in_folder and "endpoint_name" in doc.data:  # today's layout: absent, it is the folder's
        diags += deployment_in_its_endpoint(doc, ep.name)
    unmanaged = managed_deployment(doc)
    if unmanaged:
        return diags + unmanaged
    diags += committed_secrets(doc) + private_deployment(doc, manifest)
    diags += deployment_values(doc) + referenced_paths(doc)
    if manifest.require_pinned_versions:
        diags += pinned_versions(doc)
    # No endpoint_name in the file: the endpoint discovery inferred, as the CLI's --endpoint-name would.
    override = [] if "endpoint_name" in doc.data else [{"endpoint_name": ep.name}]
    loader = functools.partial(load_online_deployment, params_override=override)
    entity, sdk_diags = _sdk_load(loader, doc, "managed online deployment")
    diags += sdk_diags
    if not isinstance(name, str):
        return diags
    twice = deployment_declared_once(doc, name, ep.name, ep.deployments)
    if twice:
        return diags + twice
    ep.deployments[name] = DesiredDeployment(
        name=name, endpoint_name=ep.name, entity=entity, doc=doc, spec_hash=spec_hash(doc, local_paths(doc))
    )
    return diags


def _endpoint_doc(files: EndpointFiles, seen: dict[str, YamlDoc]) -> tuple[YamlDoc | None, list[Diagnostic]]:
    """The endpoint file, if it is one this tool reconciles; its file-level problems either way."""
    doc, diags = as_mapping(files.endpoint_doc)
    if doc is None:
        return None, diags
    name = doc.data.get("name")
    diags += _name_diags(doc, "endpoint") + reserved_tags(doc)
    if placeholder(doc, "name"):
        return None, diags  # the SDK would repeat it as "does not match expected pattern"
    if files.name_is_folder:  # today's layout: the folder is the endpoint's name
        diags += endpoint_name_matches_folder(doc, name, files.folder)
    refused = endpoint_declared_once(doc, name, seen) or managed_endpoint(doc)
    return (None if refused else doc), diags + refused


def load_endpoint(files: EndpointFiles, state: DesiredState, seen: dict[str, YamlDoc]) -> list[Diagnostic]:
    """Load one endpoint folder (endpoint, rollout strategy, deployments) into ``state``."""
    from azure.ai.ml import load_online_endpoint

    doc, diags = _endpoint_doc(files, seen)
    if doc is None:
        return diags
    entity, sdk_diags = _sdk_load(load_online_endpoint, doc, "online endpoint")
    diags += sdk_diags + private_endpoint(doc, state.manifest)
    name = doc.data.get("name")
    if not isinstance(name, str):
        return diags
    seen[name] = doc
    # From the raw YAML so that traffic is still checked when the SDK rejected another field.
    ep = DesiredEndpoint(
        name=name,
        entity=entity,
        doc=doc,
        traffic=declared_map(doc, "traffic"),
        mirror_traffic=declared_map(doc, "mirror_traffic"),
    )
    state.endpoints[name] = ep
    rollout_doc, rollout_diags = load_rollout_doc(files.rollout) if files.rollout else (None, [])
    ep.rollout, rollout_diags = rollout_spec(rollout_doc, rollout_diags, files.folder, state.manifest)
    diags += rollout_diags
    for deployment in files.deployment_docs:
        diags += load_deployment(deployment, ep, state.manifest)
    return diags + endpoint_traffic(ep)


def load_monitor(found: YamlDoc, state: DesiredState) -> list[Diagnostic]:
    """Load one monitor schedule into ``state.monitors`` (after the endpoints it targets)."""
    from azure.ai.ml.entities._load_functions import load_schedule

    doc, diags = as_mapping(found)
    if doc is None:
        return diags
    diags += reserved_tags(doc)
    refused = is_monitor_schedule(doc)
    if refused:
        return diags + refused
    diags += schedule_ranges(doc) + monitor_paths(doc)
    mon, sdk_diags = _sdk_load(load_schedule, doc, "monitor schedule")
    if sdk_diags:
        return diags + sdk_diags
    if not mon.name:
        return [*diags, doc.diag("a monitor needs a `name`")]
    twice = monitor_declared_once(doc, mon.name, {n: m.doc for n, m in state.monitors.items()})
    if twice:
        return diags + twice
    ep_name, dep_name, target_diags = monitor_target(doc, mon, state)
    state.monitors[mon.name] = DesiredMonitor(
        name=mon.name,
        entity=mon,
        doc=doc,
        endpoint_name=ep_name,
        deployment_name=dep_name,
        spec_hash=spec_hash(doc, []),
    )
    return diags + target_diags


def load_desired(env_dir: Path, manifest: Manifest | None = None) -> DesiredState:
    """Load every file of the environment; raise InputErrors with all problems found."""
    _quiet_sdk()
    diags: list[Diagnostic] = []
    if manifest is None:
        manifest, diags = load_manifest_lenient(env_dir)
    files = discover(env_dir, exclude_patterns(manifest))
    state = DesiredState(manifest=manifest, files=files)
    diags += [*files.diagnostics, *files.nothing_found()]
    seen: dict[str, YamlDoc] = {}
    for endpoint in files.endpoints:
        diags += load_endpoint(endpoint, state, seen)
    for path in files.monitors:
        diags += load_monitor(files.doc(path), state)
    diags += _load_assets(env_dir, files, state)
    if diags:
        raise InputErrors(diags)
    return state


def _load_assets(env_dir: Path, files: EnvironmentFiles, state: DesiredState) -> list[Diagnostic]:
    """model.yml / environment.yml anywhere in the environment, and the deployments' references to them."""
    # Discovery classified every file once (gitops.desired.classify): the asset files are among them.
    state.assets, diags = load_assets(files.model_docs, files.environment_docs, state.manifest)
    return diags + asset_references(state)
