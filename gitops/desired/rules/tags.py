"""Tags in the YAML: the keys mlops writes to track ownership (a user setting one would fake or
break ownership), the old ownership pair an earlier version wrote, and Azure's tag limits. Users'
own tags (``environment``, ``owner``, ``project``) are theirs."""

from __future__ import annotations

from gitops.errors import Diagnostic
from gitops.model.tags import (
    LEGACY_TAG_MANAGED_BY,
    MANAGED_BY_VALUE,
    MAX_TAG_VALUE_LENGTH,
    MAX_TAGS_PER_RESOURCE,
    RESERVED_TAGS,
    tag_name_problem,
)
from gitops.yamlmarks import YamlDoc


def _tag_diag(doc: YamlDoc, name: object, value: object) -> Diagnostic | None:
    t = str(name)
    if t in RESERVED_TAGS:
        return doc.diag(f"tag `{t}` is set by mlops (ownership tracking); remove it from the YAML", "tags", t)
    if t == LEGACY_TAG_MANAGED_BY and str(value) == MANAGED_BY_VALUE:
        return doc.diag(
            f"tag `{t}: {MANAGED_BY_VALUE}` is how earlier versions of mlops marked ownership; remove it "
            "(mlops writes its own ownership tags)",
            "tags",
            t,
        )
    problem = tag_name_problem(t)
    if problem:
        return doc.diag(f"tag name `{t}` {problem}", "tags", t)
    if len(str(value)) > MAX_TAG_VALUE_LENGTH:
        return doc.diag(
            f"tag `{t}` has a value of {len(str(value))} characters; Azure allows at most {MAX_TAG_VALUE_LENGTH}",
            "tags",
            t,
        )
    return None


def reserved_tags(doc: YamlDoc) -> list[Diagnostic]:
    tags = doc.data.get("tags") if isinstance(doc.data, dict) else None
    if not isinstance(tags, dict):
        return []
    out = [d for d in (_tag_diag(doc, k, v) for k, v in tags.items()) if d is not None]
    # mlops adds its own (ownership, revision, spec hash) to what the YAML declares.
    room = MAX_TAGS_PER_RESOURCE - len(RESERVED_TAGS)
    if len(tags) > room:
        out.append(
            doc.diag(
                f"{len(tags)} tags declared; Azure allows {MAX_TAGS_PER_RESOURCE} per resource and mlops "
                f"adds {len(RESERVED_TAGS)} of its own, so at most {room} may be declared",
                "tags",
            )
        )
    return out
