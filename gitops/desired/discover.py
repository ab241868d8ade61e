"""Which files make up an environment's desired state, and what each of them is.

Every ``.yml`` / ``.yaml`` under ``environments/<env>/`` (except the manifest and what its
``exclude:`` patterns name) is parsed once and classified by content (:mod:`classify`), so that
official Azure ML files work in the layouts users already have: today's
``endpoints/<ep>/endpoint.yml`` + ``deployments/*.yml`` + ``monitors/*.yml``, and the examples'
``endpoint.yml`` beside ``blue-deployment.yml``. Deployments are then given to their endpoint
(``endpoint_name``, else inferred from the folder) and rollout strategies to the endpoint beside
them. Layout problems (a symlink leaving the environment, a loop, a file where a folder belongs, two
files declaring one resource, an endpoint nobody can infer) are reported here, each at its own file.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gitops.desired.classify import Classified, Kind, classify, hint_for, placeholder
from gitops.errors import Diagnostic, InputErrors, rel
from gitops.manifest import MANIFEST_NAMES, Manifest
from gitops.yamlmarks import YamlDoc, YamlSyntaxError, load_yaml

YAML_SUFFIXES = (".yml", ".yaml")
ENDPOINT_FILES = ("endpoint.yml", "endpoint.yaml")
# Today's layout names these folders; a regular file under one of these names is an accident.
_FOLDERS_AT_ROOT = ("endpoints", "monitors", "monitor-actions")
RESOURCE_KINDS = (Kind.ENDPOINT, Kind.DEPLOYMENT, Kind.MONITOR, Kind.MODEL, Kind.ENVIRONMENT)


@dataclass(frozen=True)
class FoundFile:
    path: Path
    kind: Kind | None  # None: excluded, unreadable or unparseable
    why: str
    doc: YamlDoc | None = None


@dataclass(frozen=True)
class EndpointFiles:
    folder: Path  # the folder of the endpoint's file
    endpoint: Path
    rollout: Path | None
    deployments: tuple[Path, ...]  # every deployment file whose endpoint this is, sorted
    endpoint_doc: YamlDoc
    deployment_docs: tuple[YamlDoc, ...]
    name_is_folder: bool = False  # today's layout (a deployments/ folder beside it): name == folder


@dataclass(frozen=True)
class EnvironmentFiles:
    root: Path
    endpoints: tuple[EndpointFiles, ...]
    monitors: tuple[Path, ...]
    files: tuple[FoundFile, ...] = ()  # every YAML file seen, in path order
    diagnostics: tuple[Diagnostic, ...] = ()
    docs: dict[Path, YamlDoc] = field(default_factory=dict)

    def doc(self, path: Path) -> YamlDoc:
        return self.docs[path]

    def of_kind(self, kind: Kind) -> list[YamlDoc]:
        return [f.doc for f in self.files if f.kind is kind and f.doc is not None]

    @property
    def model_docs(self) -> list[YamlDoc]:
        return self.of_kind(Kind.MODEL)

    @property
    def environment_docs(self) -> list[YamlDoc]:
        return self.of_kind(Kind.ENVIRONMENT)

    @property
    def skipped(self) -> list[FoundFile]:
        """Files that declare nothing this tool applies, each with why (for ``validate -v``)."""
        return [f for f in self.files if f.kind in (None, Kind.NOT_MANAGED, Kind.IGNORED)]

    def nothing_found(self) -> list[Diagnostic]:
        """YAML files but no resource among them: a silent "0 endpoints, ok" would hide a layout
        this tool did not understand."""
        if not self.files or any(f.kind in RESOURCE_KINDS for f in self.files) or self.diagnostics:
            return []
        return [
            Diagnostic(
                rel(self.root),
                0,
                f"no Azure ML resources found in {rel(self.root)}: {len(self.files)} YAML file(s), none is "
                "an endpoint, deployment, monitor, model or environment (run `mlops validate -v` to see "
                "what each one was taken for)",
            )
        ]


def exclude_patterns(manifest: Manifest) -> tuple[str, ...]:
    """``exclude:`` of environment.yaml (schema-checked: a list of strings)."""
    patterns = manifest.raw.get("exclude") or ()
    return tuple(str(p) for p in patterns) if isinstance(patterns, list) else ()


# --------------------------------------------------------------------------------------- walking
def _excluded(rel_path: str, patterns: Sequence[str]) -> str | None:
    """The first pattern matching the path or one of its folders (fnmatch: `*` also matches `/`)."""
    parts = rel_path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        pat = pattern.rstrip("/")
        if any(fnmatch.fnmatchcase(p, pat) for p in prefixes):
            return pattern
    return None


@dataclass
class _Walk:
    root: Path
    real_root: Path
    exclude: Sequence[str]
    files: list[FoundFile] = field(default_factory=list)
    yaml: list[Path] = field(default_factory=list)
    diags: list[Diagnostic] = field(default_factory=list)
    seen_dirs: set[Path] = field(default_factory=set)

    def refuse(self, path: Path, message: str) -> None:
        self.diags.append(Diagnostic(rel(path), 1, message))

    def resolved(self, entry: Path) -> Path | None:
        """Where a symlink leads, if it stays inside the environment; else None and why."""
        try:
            target = entry.resolve(strict=True)
        except (RuntimeError, OSError):
            try:
                entry.stat()
            except FileNotFoundError:
                self.refuse(entry, f"symlink to {entry.readlink()}, which does not exist; fix or remove it")
                return None
            except OSError:
                pass
            self.refuse(entry, "symlink loop: following it never reaches a file; remove the link")
            return None
        if not target.is_relative_to(self.real_root):
            self.refuse(
                entry,
                f"symlink points outside the environment, to {target}; an environment's YAML must live "
                "in its own folder (copy the file in, or list the link under `exclude:`)",
            )
            return None
        return target

    def folder(self, folder: Path) -> None:
        real = folder.resolve()
        if real in self.seen_dirs:
            self.refuse(folder, f"symlink loop: this folder is {rel(real)} again; remove the link")
            return
        self.seen_dirs.add(real)
        try:
            entries = sorted(folder.iterdir())
        except OSError as exc:
            self.refuse(folder, f"cannot list this folder: {exc.strerror or exc}")
            return
        for entry in entries:
            self.entry(entry)

    def entry(self, entry: Path) -> None:
        rel_path = entry.relative_to(self.root).as_posix()
        if entry.name.startswith("."):
            return  # .git, .state, editor files: never part of the desired state
        pattern = _excluded(rel_path, self.exclude)
        if pattern is not None:
            if entry.is_dir() or entry.suffix.lower() in YAML_SUFFIXES:
                self.files.append(FoundFile(entry, None, f"excluded by `exclude: {pattern}`"))
            return
        if entry.is_symlink() and self.resolved(entry) is None:
            return
        if entry.is_dir():
            self.folder(entry)
        elif entry.is_file():
            self.file(entry, rel_path)

    def file(self, entry: Path, rel_path: str) -> None:
        parts = rel_path.split("/")
        if (len(parts) == 1 and entry.name in _FOLDERS_AT_ROOT) or (
            len(parts) == 3 and parts[0] == "endpoints" and entry.name == "deployments"
        ):
            self.refuse(
                entry,
                f"`{entry.name}` is a regular file where a folder `{entry.name}/` is expected "
                "(one YAML file per resource inside it); make it a folder or remove it",
            )
        elif entry.suffix.lower() in YAML_SUFFIXES and not (len(parts) == 1 and entry.name in MANIFEST_NAMES):
            self.yaml.append(entry)


# ----------------------------------------------------------------------------------- classifying
def _classify_all(walk: _Walk) -> None:
    for path in walk.yaml:
        try:
            doc = load_yaml(path)
        except YamlSyntaxError as exc:
            walk.diags.append(exc.diagnostic)
            walk.files.append(FoundFile(path, None, "not valid YAML"))
            continue
        found: Classified = classify(doc, hint_for(path, walk.root))
        walk.diags.extend(found.diagnostics)
        walk.files.append(FoundFile(path, found.kind, found.why, doc))
    walk.files.sort(key=lambda f: f.path)


def _name(doc: YamlDoc) -> str | None:
    name = doc.data.get("name") if isinstance(doc.data, dict) else None
    return name if isinstance(name, str) else None


def _endpoint_index(files: Iterable[FoundFile]) -> tuple[dict[str, FoundFile], dict[str, str]]:
    """Endpoint files by path, and the first file of each lower-cased name (Azure compares names
    case-insensitively; a second file declaring the name is the loader's to report, naming both)."""
    by_key: dict[str, FoundFile] = {}
    by_name: dict[str, str] = {}
    for f in files:
        assert f.doc is not None
        key = str(f.path)
        by_key[key] = f
        name = _name(f.doc)
        if name is not None:
            by_name.setdefault(name.lower(), key)
    return by_key, by_name


@dataclass
class _Owners:
    """Gives each deployment file its endpoint: ``endpoint_name``, else inferred from its folder."""

    endpoints: dict[str, FoundFile]  # by path
    names: dict[str, str]  # lower-cased endpoint name -> its first file's key in ``endpoints``
    diags: list[Diagnostic]

    def in_folder(self, folder: Path) -> list[str]:
        return [k for k, f in self.endpoints.items() if f.path.parent == folder]

    def today(self, path: Path) -> str | None:
        """The endpoint of ``endpoints/<ep>/deployments/<file>``, when ``<ep>`` holds one."""
        if path.parent.name != "deployments":
            return None
        here = self.in_folder(path.parent.parent)
        return here[0] if len(here) == 1 else None

    def owner(self, path: Path, doc: YamlDoc) -> str | None:
        declared = doc.data.get("endpoint_name") if isinstance(doc.data, dict) else None
        today = self.today(path)
        if declared is not None:
            return self._declared(doc, declared, today)
        here = self.in_folder(path.parent)
        if len(here) == 1:
            return here[0]
        if today is not None:
            return today
        folder = (path.parent.parent if path.parent.name == "deployments" else path.parent).name.lower()
        if folder in self.names and not here:
            return self.names[folder]
        self.diags.append(self._cannot_infer(doc, here))
        return None

    def _declared(self, doc: YamlDoc, declared: object, today: str | None) -> str | None:
        wrong = placeholder(doc, "endpoint_name")
        if wrong:
            self.diags.extend(wrong)
            return None
        if today is not None:  # today's layout: the folder's endpoint (the loader checks they agree)
            return today
        if isinstance(declared, str) and declared.lower() in self.names:
            return self.names[declared.lower()]
        known = ", ".join(sorted(self._names())) or "none"
        self.diags.append(
            doc.diag(
                f"endpoint_name {declared!r} names no endpoint declared in this environment "
                f"(declared: {known}); add its endpoint file or fix the name",
                "endpoint_name",
            )
        )
        return None

    def _doc(self, key: str) -> YamlDoc:
        doc = self.endpoints[key].doc
        assert doc is not None
        return doc

    def _names(self) -> list[str]:
        return [_name(self._doc(k)) or k for k in self.names.values()]

    def _cannot_infer(self, doc: YamlDoc, here: list[str]) -> Diagnostic:
        if here:
            files = ", ".join(sorted(self._doc(k).path.name for k in here))
            reason = f"{len(here)} endpoint files beside it: {files}"
            candidates = [_name(self._doc(k)) or k for k in here]
        else:
            reason = "no endpoint file beside it"
            candidates = self._names()
        return doc.diag(
            f"deployment {_name(doc)!r} has no endpoint_name and its endpoint cannot be inferred ({reason}); "
            f"set `endpoint_name:` to one of: {', '.join(sorted(candidates)) or '(no endpoint declared)'}",
            "name",
        )


def _assign_deployments(files: Iterable[FoundFile], owners: _Owners) -> dict[str, list[Path]]:
    by_endpoint: dict[str, list[Path]] = {k: [] for k in owners.endpoints}
    for f in files:
        assert f.doc is not None
        endpoint = owners.owner(f.path, f.doc)
        if endpoint is not None:
            by_endpoint[endpoint].append(f.path)
    return by_endpoint


def _assign_rollouts(files: Iterable[FoundFile], owners: _Owners) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for f in files:
        here = owners.in_folder(f.path.parent)
        if len(here) == 1:
            out[here[0]] = f.path
            continue
        what = (
            "no endpoint file beside it: it would apply to nothing; move it beside its endpoint's file"
            if not here
            else f"{len(here)} endpoint files beside it; put each endpoint with a strategy in its own folder"
        )
        owners.diags.append(Diagnostic(rel(f.path), 1, f"rollout strategy with {what}"))
    return out


def _kubernetes_beside_managed(files: list[FoundFile], owners: _Owners) -> None:
    """A Kubernetes endpoint or deployment among managed ones was meant to be deployed: refuse it
    rather than list it as "not managed"."""
    managed_dirs = {f.path.parent for f in files if f.kind in (Kind.ENDPOINT, Kind.DEPLOYMENT)}
    for f in files:
        if f.kind is not Kind.NOT_MANAGED or "Kubernetes online" not in f.why or f.doc is None:
            continue
        named = f.doc.data.get("endpoint_name")
        # Nothing managed at all: the Kubernetes files are what the user meant to deploy.
        meant = not managed_dirs or f.path.parent in managed_dirs
        if meant or (isinstance(named, str) and named.lower() in owners.names):
            owners.diags.append(
                f.doc.diag(
                    f"{f.why.split(':')[0]}: this tool reconciles managed online endpoints "
                    "and deployments only; deploy it with `az ml online-deployment create` / "
                    "`az ml online-endpoint create`, or move it out of the environment or list it under "
                    "`exclude:` in environment.yaml",
                    "$schema" if "$schema" in f.doc.data else "name",
                )
            )


def discover(env_dir: Path, exclude: Sequence[str] = ()) -> EnvironmentFiles:
    """Every YAML file of the environment, classified, with endpoints and their files assembled."""
    walk = _Walk(env_dir, env_dir.resolve(), exclude)
    if env_dir.is_dir():
        walk.folder(env_dir)
    _classify_all(walk)
    files = walk.files
    owners = _Owners(*_endpoint_index(f for f in files if f.kind is Kind.ENDPOINT), walk.diags)
    deployments = _assign_deployments((f for f in files if f.kind is Kind.DEPLOYMENT), owners)
    rollouts = _assign_rollouts((f for f in files if f.kind is Kind.ROLLOUT), owners)
    _kubernetes_beside_managed(files, owners)
    docs = {f.path: f.doc for f in files if f.doc is not None}
    endpoints = [
        EndpointFiles(
            folder=f.path.parent,
            endpoint=f.path,
            rollout=rollouts.get(key),
            deployments=tuple(sorted(deployments[key])),
            endpoint_doc=docs[f.path],
            deployment_docs=tuple(docs[p] for p in sorted(deployments[key])),
            name_is_folder=f.path.name in ENDPOINT_FILES and (f.path.parent / "deployments").is_dir(),
        )
        for key, f in sorted(owners.endpoints.items(), key=lambda kv: kv[1].path)
    ]
    return EnvironmentFiles(
        root=env_dir,
        endpoints=tuple(endpoints),
        monitors=tuple(f.path for f in files if f.kind is Kind.MONITOR),
        files=tuple(files),
        diagnostics=tuple(walk.diags),
        docs=docs,
    )


def describe_files(env_dir: Path, files: EnvironmentFiles | None = None) -> list[FoundFile]:
    """Every YAML file of the environment and what it was taken for (``validate -v``): from a
    loaded state's discovery, or a fresh walk when loading failed."""
    if files is None:
        from gitops.manifest import load_manifest_lenient

        try:
            manifest, _ = load_manifest_lenient(env_dir)
        except InputErrors:
            return []  # no manifest: that error is already reported
        files = discover(env_dir, exclude_patterns(manifest))
    return list(files.files)


def skip_label(f: FoundFile) -> str:
    """The kind shown for a file: what it declares, or `skipped` (its ``why`` says why)."""
    return "skipped" if f.kind in (None, Kind.NOT_MANAGED, Kind.IGNORED) else str(f.kind)
