"""Model and environment assets git declares (``model.yml`` / ``environment.yml``, the official CLI v2
asset YAML), so that deployments can reference ``azureml:<name>:<version>`` of something git owns.

Identity is by content: the hash of the YAML and of the local files it uploads. A declared
``version`` must be registered with that hash (the planner blocks otherwise); without one, the
version *is* the hash, so re-planning unchanged files is a no-op. Production
(``require_pinned_versions``) needs declared versions: a reviewer must see the number change.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gitops.desired.sdk_errors import sdk_error_diagnostics
from gitops.desired.spec_hash import spec_hash
from gitops.desired.types import DesiredAsset, DesiredState
from gitops.errors import Diagnostic
from gitops.manifest import Manifest
from gitops.yamlmarks import YamlDoc

MODEL = "model"
ENVIRONMENT = "environment"
# Azure ML asset names: letters, digits, '-', '_' and '.', starting with a letter or digit, up to 255
# characters (azure-ai-ml _schema/core/fields.py ArmVersionedStr / the service's asset-name rule).
_ASSET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$")
# Versions are strings to the service; '@'/':' would break `azureml:<name>:<version>` references.
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_REF = re.compile(r"^azureml:(?P<name>[^:@/]+)(?::(?P<version>[^:@/]+))?$")


def _local_paths(kind: str, doc: YamlDoc) -> tuple[list[Path], list[Diagnostic]]:
    """The files the asset uploads, relative to its YAML file; a missing one is an error here,
    not at apply time (the SDK would only fail when it starts the upload)."""
    data = doc.data
    keys: list[tuple[str, ...]] = [("path",)] if kind == MODEL else [("conda_file",), ("build", "path")]
    found: list[Path] = []
    diags: list[Diagnostic] = []
    for key in keys:
        value: Any = data
        for k in key:
            value = value.get(k) if isinstance(value, dict) else None
        if not isinstance(value, str) or value.startswith(("azureml:", "http://", "https://")):
            continue
        path = doc.path.parent / value
        if path.exists():
            found.append(path)
        else:
            diags.append(doc.diag(f"{'.'.join(key)} {value!r} does not exist (relative to this file)", *key))
    return found, diags


def _declared_version(doc: YamlDoc, what: str) -> tuple[str | None, list[Diagnostic]]:
    raw = doc.data.get("version")
    if raw is None:
        return None, []
    version = str(raw).strip()
    if isinstance(raw, bool) or not _VERSION.match(version):
        return None, [
            doc.diag(f"{what} version {raw!r} is not a valid version (letters, digits, . _ -)", "version")
        ]
    return version, []


def _sdk_loader(kind: str) -> Callable[[str], Any]:
    from azure.ai.ml import load_environment, load_model

    return load_model if kind == MODEL else load_environment


def load_asset(kind: str, doc: YamlDoc, manifest: Manifest) -> tuple[DesiredAsset | None, list[Diagnostic]]:
    """One asset file: its checks, its SDK entity and its content-derived identity."""
    name = doc.data.get("name")
    if not isinstance(name, str) or not _ASSET_NAME.match(name):
        return None, [doc.diag(f"a {kind} needs a `name` (letters, digits, . _ -, up to 255)", "name")]
    version, diags = _declared_version(doc, f"{kind} {name}")
    if diags:
        return None, diags
    if version is None and manifest.require_pinned_versions:
        return None, [
            doc.diag(
                f"{kind} {name} declares no `version`; environment {manifest.env} requires pinned "
                "versions: add `version: <n>` and bump it whenever the files change",
                "name",
            )
        ]
    paths, diags = _local_paths(kind, doc)
    try:
        entity = _sdk_loader(kind)(str(doc.path))
    except Exception as exc:  # noqa: BLE001 - every loader failure is user input to report
        return None, diags + sdk_error_diagnostics(doc, exc, kind)
    if diags:
        return None, diags
    content = spec_hash(doc, paths)
    entity = copy.copy(entity)
    # Derived versions start with a letter so they never collide with the service's 1, 2, 3 ...
    entity.version = version or f"h{content}"
    asset = DesiredAsset(
        kind=kind,
        name=name,
        version=str(entity.version),
        version_declared=version is not None,
        content_hash=content,
        entity=entity,
        doc=doc,
        local_paths=paths,
    )
    return asset, []


def load_assets(
    model_docs: list[YamlDoc], environment_docs: list[YamlDoc], manifest: Manifest
) -> tuple[dict[str, DesiredAsset], list[Diagnostic]]:
    """Every declared asset keyed ``kind/name:version``; a name declared twice is an error (two
    files would fight over the same asset)."""
    assets: dict[str, DesiredAsset] = {}
    by_name: dict[tuple[str, str], YamlDoc] = {}
    diags: list[Diagnostic] = []
    for kind, docs in ((MODEL, model_docs), (ENVIRONMENT, environment_docs)):
        for doc in docs:
            asset, found = load_asset(kind, doc, manifest)
            diags += found
            if asset is None:
                continue
            first = by_name.get((kind, asset.name))
            if first is not None:
                diags.append(
                    doc.diag(
                        f"{kind} {asset.name} is already declared in {first.file}; keep one file", "name"
                    )
                )
                continue
            by_name[(kind, asset.name)] = doc
            assets[asset.key] = asset
    return assets, diags


def _reference_diag(doc: YamlDoc, kind: str, ref: str, declared: dict[str, DesiredAsset]) -> list[Diagnostic]:
    m = _REF.match(ref)
    if m is None:
        return []
    name, version = m.group("name"), m.group("version")
    mine = [a for a in declared.values() if a.kind == kind and a.name == name]
    if not mine or version is None or any(a.version == version for a in mine):
        return []  # an undeclared name is the service's to resolve
    have = mine[0]
    hint = f"version {have.version}" if have.version_declared else "no version (add `version:` to pin it)"
    return [
        doc.diag(
            f"{kind} {ref} is not what {have.doc.file} declares ({name} with {hint}); "
            f"reference azureml:{name}:{have.version}",
            kind,
        )
    ]


def asset_references(state: DesiredState) -> list[Diagnostic]:
    """Deployments that reference a declared asset must name the version git declares."""
    if not state.assets:
        return []
    diags: list[Diagnostic] = []
    for ep in state.endpoints.values():
        for dep in ep.deployments.values():
            for kind in (MODEL, ENVIRONMENT):
                ref = dep.doc.data.get(kind)
                if isinstance(ref, str):
                    diags += _reference_diag(dep.doc, kind, ref, state.assets)
    return diags
