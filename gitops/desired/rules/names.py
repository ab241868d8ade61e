"""Names: Azure's naming rule, and names that must agree with the files declaring them (the folder
is the endpoint, the file is the deployment), so that what git shows is what gets applied."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from gitops.errors import Diagnostic
from gitops.yamlmarks import YamlDoc

NAME_RE = re.compile(r"^[a-zA-Z][-a-zA-Z0-9]{1,30}[a-zA-Z0-9]$")


def valid_name(doc: YamlDoc, name: Any, kind: str, key: str = "name") -> list[Diagnostic]:
    if not isinstance(name, str) or not NAME_RE.match(name):
        return [
            doc.diag(
                f"{kind} name {name!r} is invalid: use 3-32 letters, digits or '-', starting with a letter "
                "and not ending with '-'",
                key,
            )
        ]
    return []


def endpoint_name_matches_folder(doc: YamlDoc, name: Any, folder: Path) -> list[Diagnostic]:
    if isinstance(name, str) and name != folder.name:
        return [
            doc.diag(
                f"endpoint name {name!r} differs from its folder {folder.name!r}; make them equal", "name"
            )
        ]
    return []


def endpoint_declared_once(doc: YamlDoc, name: Any, seen: Mapping[str, YamlDoc]) -> list[Diagnostic]:
    if isinstance(name, str) and name in seen:
        other = seen[name]
        return [
            doc.diag(
                f"endpoint name {name!r} is already declared in {other.file}:{other.line('name')}", "name"
            )
        ]
    return []


def deployment_name_matches_file(doc: YamlDoc, name: Any, path: Path) -> list[Diagnostic]:
    if isinstance(name, str) and name != path.stem:
        return [
            doc.diag(
                f"deployment name {name!r} differs from its file name {path.name!r}; make them equal", "name"
            )
        ]
    return []


def deployment_in_its_endpoint(doc: YamlDoc, endpoint: str) -> list[Diagnostic]:
    declared = doc.data.get("endpoint_name")
    if declared != endpoint:
        return [
            doc.diag(
                f"endpoint_name {declared!r} does not match the endpoint folder it is in ({endpoint!r}); "
                f"set `endpoint_name: {endpoint}`",
                "endpoint_name",
            )
        ]
    return []


def deployment_declared_once(
    doc: YamlDoc, name: str, endpoint: str, known: Collection[str]
) -> list[Diagnostic]:
    # Azure compares deployment names case-insensitively.
    if name.lower() in {d.lower() for d in known}:
        return [doc.diag(f"deployment {name!r} is declared twice for endpoint {endpoint!r}", "name")]
    return []


def monitor_declared_once(doc: YamlDoc, name: str, seen: Mapping[str, YamlDoc]) -> list[Diagnostic]:
    if name in seen:
        return [doc.diag(f"monitor {name!r} is declared twice (also in {seen[name].file})", "name")]
    return []
