"""A folder-based model registry standing in for the workspace's model registry.

Layout: ``<root>/<name>/<version>/<artifact>`` where ``<artifact>`` is the registered file or folder
under its original name, so ``AZUREML_MODEL_DIR=<root>/<name>/<version>`` gives the scoring script
the same layout as Azure (``$AZUREML_MODEL_DIR/<folder>/...``). Metadata lives beside the versions in
``<root>/<name>/.meta/<version>.json`` so it never shows up inside the model directory.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitops.targets.local.errors import LocalTargetError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


@dataclass(frozen=True)
class RegisteredModel:
    name: str
    version: str
    path: Path  # the directory to use as AZUREML_MODEL_DIR
    metadata: dict[str, Any]


class ModelRegistry:
    def __init__(self, root: Path) -> None:
        self.root = root

    def versions(self, name: str) -> list[str]:
        """Numbered versions in order, then named ones (model.yml versions such as ``h<hash>``)."""
        d = self.root / name
        if not d.is_dir():
            return []
        found = [p.name for p in d.iterdir() if p.is_dir() and _VERSION.match(p.name)]
        return sorted(found, key=lambda v: (not v.isdigit(), int(v) if v.isdigit() else 0, v))

    def _latest(self, name: str, versions: list[str]) -> str:
        # Azure's "latest" is the most recently created version; numbered ones are created in order.
        def created(v: str) -> float:
            meta = self.root / name / ".meta" / f"{v}.json"
            return meta.stat().st_mtime if meta.is_file() else 0.0

        return max(versions, key=lambda v: (created(v), v.isdigit() and int(v)))

    def resolve(self, ref: str) -> RegisteredModel:
        """Resolve ``name:version``, ``name@latest`` or ``name`` (= latest), without ``azureml:``."""
        if "@" in ref:
            name, label = ref.split("@", 1)
            if label != "latest":
                raise LocalTargetError(f"model {ref}: only the 'latest' label exists in the local registry")
            version = None
        elif ":" in ref:
            name, version = ref.split(":", 1)
        else:
            name, version = ref, None
        versions = self.versions(name)
        if not versions:
            raise LocalTargetError(
                f"model {name} is not in the local model registry {self.root}; "
                f"register it with `mlops models register --name {name} --path <folder>`"
            )
        if version is None:
            version = self._latest(name, versions)
        if version not in versions:
            raise LocalTargetError(
                f"model {name}:{version} is not in the local model registry {self.root} "
                f"(versions: {', '.join(versions)})"
            )
        meta_file = self.root / name / ".meta" / f"{version}.json"
        meta = json.loads(meta_file.read_text()) if meta_file.is_file() else {}
        return RegisteredModel(name, version, self.root / name / version, meta)

    def metadata(self, name: str, version: str) -> dict[str, Any] | None:
        """The registered version's metadata, or None when it is not registered."""
        if version not in self.versions(name):
            return None
        meta_file = self.root / name / ".meta" / f"{version}.json"
        data = json.loads(meta_file.read_text()) if meta_file.is_file() else {}
        return data if isinstance(data, dict) else {}

    def register(
        self,
        name: str,
        source: Path,
        *,
        description: str = "",
        tags: dict[str, str] | None = None,
        version: str | None = None,
    ) -> RegisteredModel:
        """Copy ``source`` (file or folder) in as ``version`` (default: the next number); versions
        are never overwritten, as on Azure ML."""
        if not _NAME.match(name):
            raise LocalTargetError(f"invalid model name {name!r}")
        if version is not None and not _VERSION.match(version):
            raise LocalTargetError(f"model {name}: invalid version {version!r}")
        src = source.resolve()
        if not src.exists():
            raise LocalTargetError(f"model path {source} does not exist")
        model_dir = self.root / name
        model_dir.mkdir(parents=True, exist_ok=True)
        existing = self.versions(name)
        if version is None:
            numbered = [int(v) for v in existing if v.isdigit()]
            version = str(max(numbered) + 1 if numbered else 1)
        elif version in existing:
            raise LocalTargetError(
                f"model {name}:{version} is already registered; versions are never overwritten"
            )
        # Copy into a temporary name first so a half-copied version is never resolvable.
        tmp = model_dir / f".tmp-{version}-{time.time_ns()}"
        tmp.mkdir()
        if src.is_dir():
            shutil.copytree(src, tmp / src.name)
        else:
            shutil.copy2(src, tmp / src.name)
        try:
            tmp.rename(model_dir / version)
        except OSError as exc:
            shutil.rmtree(tmp)
            raise LocalTargetError(f"model {name}: version {version} was registered concurrently") from exc
        meta = {
            "name": name,
            "version": version,
            "source": str(src),
            "artifact": src.name,
            "description": description,
            "tags": tags or {},
            "registered_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        (model_dir / ".meta").mkdir(exist_ok=True)
        (model_dir / ".meta" / f"{version}.json").write_text(json.dumps(meta, indent=2) + "\n")
        return RegisteredModel(name, version, model_dir / version, meta)
