"""``require_pinned_versions``: every model, environment and code reference names an exact version,
so that the same commit always deploys the same bits (``@latest`` or a bare name float)."""

from __future__ import annotations

import re
from typing import Any

from gitops.errors import Diagnostic
from gitops.yamlmarks import YamlDoc

_PINNED_REF = re.compile(
    r"^azureml:(//registries/[^/]+/(models|environments|codes)/[^/]+/versions/[^/]+|[^:@/]+:[^:@/]+)$"
)


def _pinned_ref(doc: YamlDoc, value: str, what: str, keys: tuple[str, ...]) -> list[Diagnostic]:
    if value.startswith("azureml:") and "@" in value:
        label = value.split("@", 1)[1]
        return [
            doc.diag(f"{what} {value!r} floats ({label}); pin a version: azureml:<name>:<version>", *keys)
        ]
    if value.startswith("azureml:") and not _PINNED_REF.match(value) and not value.startswith("azureml:/"):
        return [doc.diag(f"{what} {value!r} has no version; pin one: azureml:<name>:<version>", *keys)]
    return []


def _pinned_image(doc: YamlDoc, env: dict[str, Any], keys: tuple[str, ...]) -> list[Diagnostic]:
    image = env.get("image")
    if not isinstance(image, str) or "@sha256:" in image:
        return []
    tag = image.rsplit("/", 1)[-1].partition(":")[2]
    if tag and tag != "latest":
        return []
    return [
        doc.diag(
            f"environment image {image!r} is not pinned; use an explicit tag or @sha256 digest",
            *keys,
            "image",
        )
    ]


def pin_diag(doc: YamlDoc, value: Any, what: str, *keys: str) -> list[Diagnostic]:
    """A reference (or an inline environment's image) must name an exact version."""
    if isinstance(value, str):
        return _pinned_ref(doc, value, what, keys)
    if isinstance(value, dict) and what == "environment":
        return _pinned_image(doc, value, keys)
    return []


def pinned_versions(doc: YamlDoc) -> list[Diagnostic]:
    """The deployment's model, environment and (registered) code are pinned."""
    diags = [d for key in ("model", "environment") for d in pin_diag(doc, doc.data.get(key), key, key)]
    conf = doc.data.get("code_configuration")
    code = conf.get("code") if isinstance(conf, dict) else None
    if isinstance(code, str) and code.startswith("azureml:"):
        diags += pin_diag(doc, code, "code", "code_configuration", "code")
    return diags
