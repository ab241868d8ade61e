"""Model and environment assets on this machine: models go into the local model registry (the
folder ``azureml:<name>:<version>`` references resolve from), environments are recorded only.

A local deployment runs in this machine's Python (the inference server of this venv), so an
environment's image, conda file or build context is never applied here; the record keeps its
version and content hash so that plans converge as on Azure, and apply says what was not applied.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gitops.model.tags import TAG_SPEC_HASH
from gitops.targets.base import ActualAsset
from gitops.targets.local.errors import LocalTargetError
from gitops.targets.local.registry import ModelRegistry


class LocalAssets:
    def __init__(
        self, registry: ModelRegistry | None, environments: Path, out: Callable[[str], None]
    ) -> None:
        self.registry = registry
        self.environments = environments  # <root>/<name>/<version>.json
        self.out = out

    def read(self, wanted: list[tuple[str, str, str]]) -> dict[str, ActualAsset]:
        found: dict[str, ActualAsset] = {}
        for kind, name, version in wanted:
            meta = self._metadata(kind, name, version)
            if meta is not None:
                tags = meta.get("tags") if isinstance(meta.get("tags"), dict) else {}
                hash_ = tags.get(TAG_SPEC_HASH) if isinstance(tags, dict) else None
                asset = ActualAsset(kind, name, version, str(hash_) if hash_ else None, meta)
                found[asset.key] = asset
        return found

    def _metadata(self, kind: str, name: str, version: str) -> dict[str, Any] | None:
        if kind == "model":
            return self.registry.metadata(name, version) if self.registry is not None else None
        record = self.environments / name / f"{version}.json"
        if not record.is_file():
            return None
        data = json.loads(record.read_text())
        return data if isinstance(data, dict) else {}

    def register(self, kind: str, entity: Any) -> None:
        if kind == "model":
            self._register_model(entity)
        elif kind == "environment":
            self._record_environment(entity)
        else:
            raise LocalTargetError(f"the local target cannot register a {kind} asset")

    def _register_model(self, model: Any) -> None:
        if self.registry is None:
            raise LocalTargetError("the local target has no model registry; set local.model_registry")
        path = Path(str(model.path))
        if not path.is_absolute():
            path = Path(str(model.base_path or ".")) / path
        self.registry.register(
            model.name,
            path,
            description=str(model.description or ""),
            tags={str(k): str(v) for k, v in (model.tags or {}).items()},
            version=str(model.version),
        )

    def _record_environment(self, env: Any) -> None:
        folder = self.environments / env.name
        folder.mkdir(parents=True, exist_ok=True)
        record = {
            "name": env.name,
            "version": str(env.version),
            "image": env.image,
            "tags": {str(k): str(v) for k, v in (env.tags or {}).items()},
            "python": sys.executable,
            "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        tmp = folder / f".{env.version}.json.tmp"
        tmp.write_text(json.dumps(record, indent=2) + "\n")
        tmp.replace(folder / f"{env.version}.json")
        self.out(
            f"note: environment {env.name}:{env.version} recorded only: local deployments run in "
            f"{sys.executable}; its image, conda_file and build are not applied here"
        )
