"""The fingerprint of what git declares for one resource: its YAML plus the local files it uploads.

Stored as a tag on what is applied, so that a changed model folder or scoring script is a change
even when the YAML is not.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from gitops.yamlmarks import YamlDoc


def spec_hash(doc: YamlDoc, local_paths: list[Path]) -> str:
    """Hash of what git declares (YAML content plus any local files it uploads)."""
    h = hashlib.sha256(json.dumps(doc.data, sort_keys=True, default=str).encode())
    for root in local_paths:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for f in files:
            h.update(str(f.relative_to(root.parent)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def _str_at(mapping: object, *keys: str) -> str | None:
    value = mapping
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, str) else None


def local_paths(doc: YamlDoc) -> list[Path]:
    """The local files and folders a deployment uploads (model, code, conda file, build context)."""
    base = doc.path.parent
    data = doc.data if isinstance(doc.data, dict) else {}
    code = _str_at(data, "code_configuration", "code")
    candidates = [
        _str_at(data, "model", "path"),
        code if code is not None and not code.startswith("azureml:") else None,
        _str_at(data, "environment", "conda_file"),
        _str_at(data, "environment", "build", "path"),
    ]
    return [base / c for c in candidates if c is not None and (base / c).exists()]
