"""The traffic of one endpoint: live shares and mirror shares, as one value.

Azure lower-cases deployment names in traffic maps and zero-fills them; a :class:`Traffic` is
always normalised that way, so two equal splits compare equal whatever their source spelling.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Azure ML: mirror traffic to one deployment, at most 50 % of live requests
# (https://learn.microsoft.com/azure/machine-learning/how-to-safely-rollout-online-endpoints).
MAX_MIRROR_PERCENT = 50


def normalise_map(raw: Mapping[str, Any] | None) -> dict[str, int]:
    """Lower-cased names, integer shares, zero entries removed."""
    return {str(k).lower(): int(v) for k, v in (raw or {}).items() if v and int(v) != 0}


@dataclass(frozen=True)
class Traffic:
    live: dict[str, int] = field(default_factory=dict)
    mirror: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, live: Mapping[str, Any] | None, mirror: Mapping[str, Any] | None = None) -> Traffic:
        return cls(normalise_map(live), normalise_map(mirror))

    def serving(self) -> set[str]:
        """Deployments that receive requests (live or mirrored)."""
        return set(self.live) | set(self.mirror)

    def share(self, deployment: str) -> int:
        d = deployment.lower()
        return self.live.get(d, 0) or self.mirror.get(d, 0)
