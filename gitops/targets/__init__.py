"""Target registry: ``target:`` in environment.yaml (or ``--target``) picks a plugin here.

A target is a self-contained package under ``gitops/targets/<kind>/`` whose module (listed in
``PLUGINS``) defines ``create(manifest, **options) -> Target`` and, when the target brings its
own ``mlops`` commands, ``register_commands(subparsers)``. Nothing else names a target
implementation: the core asks the :class:`~gitops.targets.base.TargetHandle` that
:func:`create_target` returns what the target can do.

This module imports no target, no azure-ai-ml and no jsonschema when it is imported: the local
target's router processes import ``gitops.targets.local.*`` and pay for whatever this imports.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

from gitops.errors import GitopsError, NotImplementedTargetError

if TYPE_CHECKING:
    from gitops.manifest import Manifest
    from gitops.targets.base import TargetHandle


@dataclass(frozen=True)
class Plugin:
    module: str  # exposes create(manifest, **options)
    # Names of the mlops commands the module's register_commands(subparsers) adds; () for none.
    commands: tuple[str, ...] = ()


PLUGINS: dict[str, Plugin] = {
    "azureml": Plugin("gitops.targets.azureml.target"),
    "local": Plugin("gitops.targets.local.target", commands=("down", "get-credentials", "models")),
}

KINDS = tuple(PLUGINS)


def _plugin(kind: str) -> tuple[Plugin, ModuleType]:
    plugin = PLUGINS.get(kind)
    if plugin is None:
        raise GitopsError(f"unknown target {kind!r}; choose one of: {', '.join(KINDS)}")
    try:
        return plugin, importlib.import_module(plugin.module)
    except ModuleNotFoundError as exc:
        if exc.name is not None and plugin.module.startswith(exc.name):
            raise NotImplementedTargetError(
                f"target {kind!r} is not implemented yet ({plugin.module} is missing); use target: azureml"
            ) from None
        raise


def create_target(manifest: Manifest, kind: str | None = None, **options: Any) -> TargetHandle:
    """Create the environment's target and inspect, once, which optional protocols it implements."""
    from gitops.targets.base import TargetHandle

    kind = kind or manifest.target
    plugin, module = _plugin(kind)
    factory = getattr(module, "create", None)
    if factory is None:
        raise NotImplementedTargetError(
            f"target {kind!r}: {plugin.module} has no create(manifest, **options)"
        )
    return TargetHandle.of(factory(manifest, **options))


def command_registrar(kind: str) -> Callable[[Any], None]:
    """The target's ``register_commands(subparsers)``, which adds ``PLUGINS[kind].commands``."""
    plugin, module = _plugin(kind)
    if not plugin.commands:
        return _no_commands
    register: Callable[[Any], None] | None = getattr(module, "register_commands", None)
    if register is None:
        raise NotImplementedTargetError(
            f"target {kind!r} lists commands {', '.join(plugin.commands)} but {plugin.module} "
            "has no register_commands(subparsers)"
        )
    return register


def _no_commands(subparsers: Any) -> None:
    """A target without commands of its own adds nothing."""
