"""Local paths a file names (a model folder, scoring code, a conda file, a Docker build context,
a monitor's reference data) resolve inside the repository, exist, and are what they must be.

apply uploads these paths; ``code: ../../../../etc`` would upload that folder, and a symlink in the
repository pointing at ``~/.ssh`` would upload its target (azure-ai-ml follows links when it uploads:
``_utils/_asset_utils.py`` walks with ``os.walk(followlinks=True)``). So every path resolves
relative to the file that names it, symlinks followed, and must land inside the boundary:

- the git work tree holding the environment (the nearest folder with ``.git``);
- an environment in no git work tree (a scratch copy) may reach the folder holding its
  ``environments/`` folder, and the git work tree mlops runs in (the current directory's), so that
  a copy pointing back at a checkout's samples still validates.

A missing path is an error here, at validate time, rather than at apply (issue 13, item 9).
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitops.errors import Diagnostic
from gitops.yamlmarks import YamlDoc

# Values that are not local paths: asset references and storage URIs (reference-yaml-core-syntax.md).
_REMOTE_PREFIXES = ("azureml:", "http://", "https://", "wasbs://", "abfss://", "adl://", "s3://", "gs://")
# Walking an uploaded folder for links that leave the boundary stops here: a model folder with more
# files than this is still uploaded, but only this many entries are checked.
MAX_ENTRIES_CHECKED = 20_000


@dataclass(frozen=True)
class Reference:
    keys: tuple[str | int, ...]  # where the path is written, for file:line
    value: str
    kind: str  # "folder", "file" or "any"


def git_root(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


def boundaries(file: Path) -> tuple[Path, ...]:
    """The folders the paths of ``file`` may resolve into (see the module docstring)."""
    here = file.resolve().parent
    root = git_root(here)
    if root is not None:
        return (root,)
    found = [next((p.parent for p in (here, *here.parents) if p.name == "environments"), here)]
    cwd_root = git_root(Path.cwd().resolve())
    return (*found, cwd_root) if cwd_root is not None else tuple(found)


def _local(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip()) and not value.startswith(_REMOTE_PREFIXES)


def _at(data: Any, *keys: str) -> Any:
    for key in keys:
        data = data.get(key) if isinstance(data, Mapping) else None
    return data


def _refs(data: Any, specs: tuple[tuple[tuple[str, ...], str], ...]) -> list[Reference]:
    return [Reference(keys, _at(data, *keys), kind) for keys, kind in specs if _local(_at(data, *keys))]


DEPLOYMENT_PATHS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("model", "path"), "any"),
    (("code_configuration", "code"), "folder"),
    (("code_path",), "folder"),
    (("environment", "conda_file"), "file"),
    (("environment", "build", "path"), "folder"),
)
# Model and environment asset files (model.yml, environment.yml).
ASSET_PATHS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("path",), "any"),
    (("conda_file",), "file"),
    (("build", "path"), "folder"),
)


def deployment_references(doc: YamlDoc) -> list[Reference]:
    return _refs(doc.data, DEPLOYMENT_PATHS)


def monitor_references(doc: YamlDoc) -> list[Reference]:
    """The local data paths of a monitor's signals (reference and production input data)."""
    signals = _at(doc.data, "create_monitor", "monitoring_signals")
    if not isinstance(signals, Mapping):
        return []
    refs = []
    for name, signal in signals.items():
        for data_key in ("reference_data", "production_data"):
            items = _at(signal, data_key)
            listed = isinstance(items, list)
            for i, item in enumerate(items if listed else [items]):
                keys: tuple[str | int, ...] = ("create_monitor", "monitoring_signals", str(name), data_key)
                path = _at(item, "input_data", "path")
                if _local(path):
                    keys = (*keys, i, "input_data", "path") if listed else (*keys, "input_data", "path")
                    refs.append(Reference(keys, path, "any"))
    return refs


def _loop(exc: OSError | RuntimeError) -> bool:
    return isinstance(exc, RuntimeError) or exc.errno == errno.ELOOP


def resolve(base: Path, value: str) -> tuple[Path | None, str | None]:
    """The real location ``value`` names from ``base`` and, when it has none, why."""
    target = base / os.path.expanduser(value) if value.startswith("~") else base / value
    try:
        return target.resolve(strict=True), None
    except (OSError, RuntimeError) as exc:
        if _loop(exc):
            return None, "is a symlink loop (a link that points back at itself); fix or remove the link"
        if isinstance(exc, FileNotFoundError):
            return None, "does not exist; fix the path (relative to this file) or add it"
        return None, f"cannot be read ({getattr(exc, 'strerror', None) or exc})"


def _inside(path: Path, roots: tuple[Path, ...]) -> bool:
    return any(path == r or path.is_relative_to(r) for r in roots)


def _outside_links(folder: Path, roots: tuple[Path, ...]) -> Iterator[tuple[Path, str]]:
    """Links under an uploaded folder whose targets leave the boundary (or loop)."""
    seen = 0
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in (*dirnames, *filenames):
            seen += 1
            if seen > MAX_ENTRIES_CHECKED:
                return
            entry = Path(dirpath) / name
            if not entry.is_symlink():
                continue
            try:
                real = entry.resolve(strict=True)
            except (OSError, RuntimeError) as exc:
                yield entry, "is a symlink loop" if _loop(exc) else "is a broken symlink"
                continue
            if not _inside(real, roots):
                yield entry, f"links outside the repository, to {real}"


def _kind_problem(real: Path, kind: str) -> str | None:
    if kind == "folder" and not real.is_dir():
        return "is not a folder; it must name a folder"
    if kind == "file" and not real.is_file():
        return "is not a file; it must name a file"
    return None


def check_reference(doc: YamlDoc, ref: Reference, roots: tuple[Path, ...]) -> list[Diagnostic]:
    where = ".".join(str(k) for k in ref.keys)
    real, why = resolve(doc.path.parent, ref.value)
    if real is None:
        return [doc.diag(f"{where} {ref.value!r} {why}", *ref.keys)]
    if not _inside(real, roots):
        return [
            doc.diag(
                f"{where} {ref.value!r} resolves to {real}, outside the repository ({roots[0]}); apply would "
                "upload it: keep models, code and conda files inside the repository",
                *ref.keys,
            )
        ]
    problem = _kind_problem(real, ref.kind)
    if problem:
        return [doc.diag(f"{where} {ref.value!r} {problem}", *ref.keys)]
    if real.is_dir():
        return [
            doc.diag(f"{where} {ref.value!r}: {link} {what}", *ref.keys)
            for link, what in _outside_links(real, roots)
        ]
    return []


def referenced_paths(doc: YamlDoc, refs: list[Reference] | None = None) -> list[Diagnostic]:
    """Every local path ``doc`` names (a deployment's by default) resolves inside the boundary,
    exists, and is a folder or a file as its key requires."""
    refs = deployment_references(doc) if refs is None else refs
    if not refs:
        return []
    roots = boundaries(doc.path)
    return [d for ref in refs for d in check_reference(doc, ref, roots)]


def monitor_paths(doc: YamlDoc) -> list[Diagnostic]:
    return referenced_paths(doc, monitor_references(doc))


def asset_paths(doc: YamlDoc) -> list[Diagnostic]:
    """For model.yml / environment.yml asset files."""
    return referenced_paths(doc, _refs(doc.data, ASSET_PATHS))
