"""Tags mlops writes to track ownership; a user setting one in YAML would fake or break ownership."""

from __future__ import annotations

from gitops.errors import Diagnostic
from gitops.model.tags import RESERVED_TAGS
from gitops.yamlmarks import YamlDoc


def reserved_tags(doc: YamlDoc) -> list[Diagnostic]:
    tags = doc.data.get("tags") if isinstance(doc.data, dict) else None
    if not isinstance(tags, dict):
        return []
    return [
        doc.diag(f"tag `{t}` is set by mlops (ownership tracking); remove it from the YAML", "tags", t)
        for t in tags
        if t in RESERVED_TAGS
    ]
