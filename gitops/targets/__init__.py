"""Target registry: ``target:`` in environment.yaml (or ``--target``) picks a factory here.

A new target plugs in by adding a module that defines ``create(manifest, **options) -> Target``
and listing it in ``_FACTORIES``.
"""

from __future__ import annotations

import importlib
from typing import Any

from gitops.errors import GitopsError, NotImplementedTargetError
from gitops.manifest import Manifest
from gitops.targets.base import Target

# kind -> module exposing create(manifest, **options). Imported lazily: azure-ai-ml is slow to import.
_FACTORIES: dict[str, str] = {
    "azureml": "gitops.targets.azureml.target",
    "local": "gitops.targets.local.target",
}

KINDS = tuple(_FACTORIES)


def create_target(manifest: Manifest, kind: str | None = None, **options: Any) -> Target:
    kind = kind or manifest.target
    if kind not in _FACTORIES:
        raise GitopsError(f"unknown target {kind!r}; choose one of: {', '.join(KINDS)}")
    module_name = _FACTORIES[kind]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module_name.startswith(exc.name):
            raise NotImplementedTargetError(
                f"target {kind!r} is not implemented yet ({module_name} is missing); use target: azureml"
            ) from None
        raise
    factory = getattr(module, "create", None)
    if factory is None:
        raise NotImplementedTargetError(f"target {kind!r}: {module_name} has no create(manifest, **options)")
    target: Target = factory(manifest, **options)
    return target
