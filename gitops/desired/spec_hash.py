"""The fingerprint of what git declares for one resource: its YAML plus the local files it uploads.

Stored as a tag on what is applied, so that a changed model folder or scoring script is a change
even when the YAML is not. It hashes what apply uploads: each path resolved (symlinks followed,
as azure-ai-ml's upload follows them), and never anything outside the repository
(:func:`gitops.desired.rules.paths.boundaries`): a path or a link that leaves it is reported by
the paths rule and left out here, so hashing never reads a file the repository does not hold.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

from gitops.desired.rules.paths import boundaries, deployment_references, resolve
from gitops.yamlmarks import YamlDoc


def _inside(path: Path, roots: tuple[Path, ...]) -> bool:
    return any(path.is_relative_to(r) for r in roots)


def _files(root: Path, roots: tuple[Path, ...]) -> Iterator[tuple[Path, Path]]:
    """(name as uploaded, real file) under ``root``, links followed while they stay inside."""
    if root.is_file():
        yield root, root
        return
    visited: set[Path] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        real_dir = Path(dirpath).resolve()
        if real_dir in visited or not _inside(real_dir, roots):
            dirnames[:] = []  # a link loop, or a link out of the repository
            continue
        visited.add(real_dir)
        for name in filenames:
            path = Path(dirpath) / name
            try:
                real = path.resolve(strict=True)
            except (OSError, RuntimeError):
                continue  # broken link or loop: reported by the paths rule
            if real.is_file() and _inside(real, roots):
                yield path, real


def spec_hash(doc: YamlDoc, local_paths: list[Path]) -> str:
    """Hash of what git declares (YAML content plus any local files it uploads)."""
    h = hashlib.sha256(json.dumps(doc.data, sort_keys=True, default=str).encode())
    roots = boundaries(doc.path)
    for root in local_paths:
        for name, real in sorted(_files(root, roots)):
            h.update(str(name.relative_to(root.parent)).encode())
            h.update(real.read_bytes())
    return h.hexdigest()[:16]


def local_paths(doc: YamlDoc) -> list[Path]:
    """The local files and folders a deployment uploads (model, code, conda file, build context)
    that exist inside the repository, resolved."""
    if not isinstance(doc.data, dict):
        return []
    roots = boundaries(doc.path)
    found = []
    for ref in deployment_references(doc):
        real, _ = resolve(doc.path.parent, ref.value)
        if real is not None and _inside(real, roots):
            found.append(real)
    return found
