"""The one interface the rollout runner reads metrics through: a window per deployment.

Each target brings its own implementation (``gitops.targets.<kind>.metrics``, handed out by the
target's ``metrics_provider()``); the runner and the gates know only this protocol.
"""

from __future__ import annotations

from typing import Protocol

from gitops.errors import GitopsError
from gitops.rollout.gates import Window


class MetricsProvider(Protocol):
    name: str

    def begin(self, endpoint: str, window_start: float) -> None:
        """Called when a step (or a resumed step) starts; the window runs from here."""
        ...

    def windows(self, endpoint: str, deployments: list[str], window_start: float) -> dict[str, Window]:
        """Per deployment, what it served since ``window_start`` (epoch seconds)."""
        ...


class MetricsUnavailable(GitopsError):
    """The provider could not read metrics; the runner counts this as a failed evaluation."""
