"""The environment manifest (environments/<env>/environment.yaml), checked against its JSON Schema
(package data in :mod:`gitops.schemas`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

from gitops import schemas
from gitops.errors import Diagnostic, InputErrors
from gitops.model.policy_rules import pinning_required
from gitops.yamlmarks import YamlDoc, YamlSyntaxError, load_yaml

MANIFEST_NAMES = ("environment.yaml", "environment.yml")


@dataclass(frozen=True)
class ApplySettings:
    concurrency: int = 4
    deployment_timeout_minutes: int = 60
    operation_timeout_minutes: int = 30
    max_attempts: int = 5
    backoff_seconds: float = 2.0


@dataclass(frozen=True)
class Manifest:
    env: str
    root: Path
    path: Path
    target: str
    subscription_id: str | None
    resource_group: str | None
    workspace: str | None
    prune: bool
    require_pinned_versions: bool
    apply: ApplySettings
    tags: dict[str, str] = field(default_factory=dict)
    local: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)


def load_schema() -> dict[str, Any]:
    return schemas.load(schemas.ENVIRONMENT)


def load_rollout_schema() -> dict[str, Any]:
    return schemas.load(schemas.ROLLOUT)


def schema_validator(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    """A validator that resolves `rollout.schema.json` from the package data, never the network."""
    from referencing import Registry, Resource

    rollout = load_rollout_schema()
    registry: Registry[Any] = Registry().with_resource(rollout["$id"], Resource.from_contents(rollout))
    return jsonschema.Draft202012Validator(schema, registry=registry)


def find_manifest(env_dir: Path) -> Path:
    for name in MANIFEST_NAMES:
        if (env_dir / name).is_file():
            return env_dir / name
    raise InputErrors(
        [
            Diagnostic(
                str(env_dir),
                0,
                f"no environment.yaml in {env_dir}; create one (see {schemas.source(schemas.ENVIRONMENT)})",
            )
        ]
    )


def load_manifest(env_dir: Path) -> Manifest:
    manifest, diags = load_manifest_lenient(env_dir)
    if diags:
        raise InputErrors(diags)
    return manifest


def load_manifest_lenient(env_dir: Path) -> tuple[Manifest, list[Diagnostic]]:
    """The manifest plus its problems; with problems, a best-effort manifest so that the rest of
    the environment can still be checked and every error reported in one run."""
    path = find_manifest(env_dir)
    try:
        doc = load_yaml(path)
    except YamlSyntaxError as exc:
        return _build(env_dir, path, {}), [exc.diagnostic]
    diags = validate_manifest_doc(doc)
    data = doc.data if isinstance(doc.data, dict) else {}
    if diags:
        return _build(
            env_dir,
            path,
            {
                k: v
                for k, v in data.items()
                if k in ("target", "require_pinned_versions") and isinstance(v, str | bool)
            },
        ), diags
    return _build(env_dir, path, data), []


def _build(env_dir: Path, path: Path, data: dict[str, Any]) -> Manifest:
    a = data.get("apply") or {}
    return Manifest(
        env=env_dir.name,
        root=env_dir,
        path=path,
        target=str(data.get("target", "azureml")),
        subscription_id=data.get("subscription_id"),
        resource_group=data.get("resource_group"),
        workspace=data.get("workspace"),
        prune=bool(data.get("prune", False)),
        # Explicit in the manifest, else production pins (the checkov check decides the same way).
        require_pinned_versions=pinning_required(env_dir.name, data),
        apply=ApplySettings(
            concurrency=int(a.get("concurrency", 4)),
            deployment_timeout_minutes=int(a.get("deployment_timeout_minutes", 60)),
            operation_timeout_minutes=int(a.get("operation_timeout_minutes", 30)),
            max_attempts=int(a.get("max_attempts", 5)),
            backoff_seconds=float(a.get("backoff_seconds", 2.0)),
        ),
        tags=dict(data.get("tags") or {}),
        local=dict(data.get("local") or {}),
        raw=data,
    )


def validate_manifest_doc(doc: YamlDoc) -> list[Diagnostic]:
    if not isinstance(doc.data, dict):
        return [doc.diag("the manifest must be a mapping with at least `target:`")]
    return schema_diagnostics(doc, schema_validator(load_schema()), schemas.source(schemas.ENVIRONMENT))


def schema_diagnostics(
    doc: YamlDoc, validator: jsonschema.Draft202012Validator, schema_name: str
) -> list[Diagnostic]:
    diags = []
    for err in validator.iter_errors(doc.data):
        where = [str(p) if not isinstance(p, int) else p for p in err.absolute_path]
        if err.validator == "additionalProperties":
            extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
            for key in extra:
                allowed = ", ".join(sorted(err.schema.get("properties", {})))
                diags.append(doc.diag(f"unknown key `{key}`; allowed keys here: {allowed}", *where, key))
            continue
        if err.validator == "required":
            hint = "needed for this target; " if schema_name.endswith("environment.schema.json") else ""
            msg = f"{err.message} ({hint}see {schema_name})"
        else:
            loc = ".".join(str(p) for p in where) or "manifest"
            msg = f"`{loc}`: {err.message}"
        diags.append(doc.diag(msg, *where))
    return diags
