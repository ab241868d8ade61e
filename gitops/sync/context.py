"""What an apply knows while it runs: both sides of the plan, the target, and its options.

Handlers read it and never write it; the executor builds one per apply.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from gitops.desired import DesiredEndpoint, DesiredState
from gitops.manifest import ApplySettings
from gitops.model.tags import TAG_REVISION, TAG_SPEC_HASH, ownership_tags
from gitops.sync.revision import UNKNOWN_REVISION
from gitops.targets.base import ActualState, Target


def _stderr_line(msg: str) -> None:
    # sys.__stderr__: progress bars and the SDK may have swapped sys.stderr/stdout meanwhile.
    print(msg, file=sys.__stderr__, flush=True)


@dataclass(frozen=True)
class SyncOptions:
    revision: str = UNKNOWN_REVISION  # stamped as the git-revision tag on everything written
    skip_analysis: bool = False  # --skip-analysis: rollouts go to their final traffic at once
    log: Callable[[str], None] = _stderr_line  # rollout progress, for people
    # Passed to the rollout runner: tests inject a fake clock instead of waiting out canary steps.
    sleep: Callable[[float], None] = field(default=time.sleep)
    clock: Callable[[], float] = field(default=time.time)


@dataclass(frozen=True)
class SyncContext:
    desired: DesiredState
    actual: ActualState
    target: Target
    options: SyncOptions = field(default_factory=SyncOptions)

    @property
    def settings(self) -> ApplySettings:
        return self.desired.manifest.apply

    def tags(self, user: Mapping[str, str] | None, spec_hash: str | None = None) -> dict[str, str]:
        """The user's tags plus ownership and provenance: what marks a resource as this environment's."""
        tags = {**(user or {}), **ownership_tags(self.desired.env, self.desired.manifest.tags)}
        tags[TAG_REVISION] = self.options.revision
        if spec_hash:
            tags[TAG_SPEC_HASH] = spec_hash
        return tags

    def endpoint(self, name: str | None) -> DesiredEndpoint:
        return self.desired.endpoints[name or ""]
