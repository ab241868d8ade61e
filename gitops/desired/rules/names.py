"""Names: Azure's naming rule, and names that must agree with the files declaring them (the folder
is the endpoint, the file is the deployment), so that what git shows is what gets applied.

Azure compares resource names without regard to case (Azure Resource Manager: "resource names are
case-insensitive unless noted", learn.microsoft.com azure-resource-manager/management/resource-name-rules),
so ``Shop`` and ``shop`` are one endpoint there: two files declaring them would overwrite each other
on apply. Every "declared once" rule here compares folded names and names the other file.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from gitops.errors import Diagnostic
from gitops.yamlmarks import YamlDoc

# Azure's rule for endpoint and deployment names alike (MicrosoftDocs/azure-ai-docs
# how-to-manage-quotas.md: begin with a letter, 3-32 characters, letters, numbers and single dashes;
# azure-ai-ml constants/_endpoint.py NAME_REGEX_PATTERN ^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$ with
# MIN/MAX_NAME_LENGTH 3/32).
NAME_RE = re.compile(r"^[a-zA-Z][-a-zA-Z0-9]{1,30}[a-zA-Z0-9]$")


def _same_name(name: str, known: Collection[str]) -> str | None:
    folded = name.casefold()
    return next((k for k in known if k.casefold() == folded), None)


def _where(value: Any) -> str:
    """`` (file:line)`` of an earlier declaration: a YamlDoc, or a loaded resource holding one."""
    doc = getattr(value, "doc", value)
    return f" in {doc.file}:{doc.line('name')}" if isinstance(doc, YamlDoc) else ""


def valid_name(doc: YamlDoc, name: Any, kind: str, key: str = "name") -> list[Diagnostic]:
    if not isinstance(name, str) or not NAME_RE.match(name):
        return [
            doc.diag(
                f"{kind} name {name!r} is invalid: Azure requires 3-32 letters, digits or '-', starting with "
                "a letter and not ending with '-'",
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
    other = _same_name(name, seen) if isinstance(name, str) else None
    if other is None:
        return []
    if other == name:
        return [doc.diag(f"endpoint name {name!r} is already declared{_where(seen[other])}", "name")]
    return [
        doc.diag(
            f"endpoint name {name!r} is endpoint {other!r} already declared{_where(seen[other])}: Azure names "
            "are case-insensitive; rename one",
            "name",
        )
    ]


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
    doc: YamlDoc, name: str, endpoint: str, known: Mapping[str, Any] | Collection[str]
) -> list[Diagnostic]:
    """``known``: the endpoint's deployments so far, by name (values holding their YamlDoc name
    the other file)."""
    other = _same_name(name, known)
    if other is None:
        return []
    where = _where(known[other]) if isinstance(known, Mapping) else ""
    case = "" if other == name else f" (as {other!r}: Azure names are case-insensitive)"
    return [doc.diag(f"deployment {name!r} is declared twice for endpoint {endpoint!r}{case}{where}", "name")]


def monitor_declared_once(doc: YamlDoc, name: str, seen: Mapping[str, YamlDoc]) -> list[Diagnostic]:
    other = _same_name(name, seen)
    if other is None:
        return []
    case = "" if other == name else f"as {other!r}: Azure names are case-insensitive, "
    return [doc.diag(f"monitor {name!r} is declared twice ({case}also in {seen[other].file})", "name")]
