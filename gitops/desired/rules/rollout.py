"""An endpoint's rollout strategy: its rollout.yml merged over the environment's ``rollout:``
defaults, checked and turned into a :class:`~gitops.rollout.spec.RolloutSpec`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gitops.errors import Diagnostic
from gitops.manifest import Manifest
from gitops.rollout.spec import RolloutSpec, build_spec, merge_raw
from gitops.yamlmarks import YamlDoc

# The local target answers in seconds; Azure Monitor aggregates metrics per minute.
_LOCAL_INTERVAL_S = 1.0
_AZURE_INTERVAL_S = 60.0


def _defaults(manifest: Manifest) -> dict[str, Any] | None:
    raw = manifest.raw.get("rollout")
    return raw if isinstance(raw, dict) else None


def _sources(manifest: Manifest, doc: YamlDoc | None, has_defaults: bool) -> list[str]:
    paths = ([manifest.path] if has_defaults else []) + ([doc.path] if doc else [])
    return [str(p) for p in paths]


def rollout_spec(
    doc: YamlDoc | None, doc_diags: list[Diagnostic], folder: Path, manifest: Manifest
) -> tuple[RolloutSpec | None, list[Diagnostic]]:
    """``doc`` is the endpoint's parsed rollout.yml (None: it has none) and ``doc_diags`` its own
    findings; the result is None when neither it nor the environment declares a rollout."""
    defaults = _defaults(manifest)
    if doc_diags or (doc is None and not defaults):
        return None, doc_diags
    own = doc.data if doc is not None else {}
    raw = merge_raw(defaults, own)
    if not raw.get("steps") and raw.get("enabled", True):
        # Environment defaults without steps and no rollout.yml: traffic changes in one step.
        if doc is None:
            return None, []
        return None, [doc.diag("a rollout needs `steps` (here or in environment.yaml `rollout:`)")]
    base_dir = folder if doc is not None and "smoke_test" in own else manifest.root
    sources = _sources(manifest, doc, bool(defaults))
    interval = _LOCAL_INTERVAL_S if manifest.target == "local" else _AZURE_INTERVAL_S
    try:
        return build_spec(raw, base_dir, " + ".join(sources), interval), []
    except ValueError as exc:
        return None, [Diagnostic(sources[-1], 1, str(exc))]
