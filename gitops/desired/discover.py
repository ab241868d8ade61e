"""Which files make up an environment's desired state, before any of them is read.

Kept apart from loading so that the layout (one folder per endpoint holding ``endpoint.yml``,
an optional ``rollout.yml`` and ``deployments/*.yml``; ``monitors/*.yml``) is written down in one
place and can change without touching how a file is loaded or checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gitops.rollout.spec import ROLLOUT_FILES

YAML_SUFFIXES = (".yml", ".yaml")
ENDPOINT_FILES = ("endpoint.yml", "endpoint.yaml")


@dataclass(frozen=True)
class EndpointFiles:
    folder: Path  # its name is the endpoint's name
    endpoint: Path | None  # None: a folder without endpoint.yml (reported)
    rollout: Path | None
    deployments: tuple[Path, ...]  # each file's stem is the deployment's name


@dataclass(frozen=True)
class EnvironmentFiles:
    root: Path
    endpoints: tuple[EndpointFiles, ...]
    monitors: tuple[Path, ...]


def yaml_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in YAML_SUFFIXES)


def _first_file(folder: Path, names: tuple[str, ...]) -> Path | None:
    return next((folder / n for n in names if (folder / n).is_file()), None)


def endpoint_files(folder: Path) -> EndpointFiles:
    return EndpointFiles(
        folder=folder,
        endpoint=_first_file(folder, ENDPOINT_FILES),
        rollout=_first_file(folder, ROLLOUT_FILES),
        deployments=tuple(yaml_files(folder / "deployments")),
    )


def discover(env_dir: Path) -> EnvironmentFiles:
    endpoints_dir = env_dir / "endpoints"
    folders = sorted(p for p in endpoints_dir.iterdir() if p.is_dir()) if endpoints_dir.is_dir() else []
    return EnvironmentFiles(
        root=env_dir,
        endpoints=tuple(endpoint_files(f) for f in folders),
        monitors=tuple(yaml_files(env_dir / "monitors")),
    )
