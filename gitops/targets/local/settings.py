"""The manifest's ``local:`` settings as paths, and the engine they describe.

Its own module so that the target (gitops.targets.local.target) and the target's commands
(gitops.targets.local.commands) both use it without importing each other.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gitops.manifest import Manifest
from gitops.targets.local.engine import LocalEngine
from gitops.targets.local.secrets import DEFAULT_SECRETS_FILE, LocalSecrets

DEFAULT_STATE_DIR = ".state"


def repo_root(manifest: Manifest) -> Path:
    """environments/<env>/environment.yaml -> the repository root."""
    return manifest.root.resolve().parent.parent


def local_paths(manifest: Manifest, state_dir: Path | str | None = None) -> tuple[Path, Path]:
    root = repo_root(manifest)
    settings = manifest.local or {}
    sd = Path(state_dir) if state_dir is not None else Path(settings.get("state_dir") or DEFAULT_STATE_DIR)
    sd = sd if sd.is_absolute() else root / sd
    reg = settings.get("model_registry")
    registry = (Path(reg) if Path(reg).is_absolute() else root / reg) if reg else sd / "model-registry"
    return sd, registry


def secrets_file(manifest: Manifest, state_dir: Path | str | None = None) -> Path:
    """``local.secrets_file`` (relative to the repository root), else ``<state_dir>/secrets.env``:
    where the local target finds the values of Key Vault references (never committed)."""
    configured = (manifest.local or {}).get("secrets_file")
    if configured:
        path = Path(configured)
        return path if path.is_absolute() else repo_root(manifest) / path
    sd, _ = local_paths(manifest, state_dir)
    return sd / DEFAULT_SECRETS_FILE


def collected_data_dir(manifest: Manifest, state_dir: Path | str | None = None) -> Path:
    """Where the routers of this environment write collected inputs/outputs."""
    sd, _ = local_paths(manifest, state_dir)
    return (sd / manifest.env / "data_collection").resolve()


def engine_for(
    manifest: Manifest, state_dir: Path | str | None = None, out: Callable[[str], None] | None = None
) -> LocalEngine:
    sd, registry = local_paths(manifest, state_dir)
    secrets = LocalSecrets(secrets_file(manifest, state_dir))
    return LocalEngine(sd, manifest.env, model_registry=registry, out=out, secrets=secrets)
