"""Errors raised by the local engine; all carry a message meant for the user."""

from __future__ import annotations

from gitops.errors import GitopsError


class LocalTargetError(GitopsError):
    """Invalid request for the local target (bad spec, unknown deployment, unsupported feature)."""


class DeploymentFailedError(LocalTargetError):
    """A deployment did not become ready; the message includes the tail of its log."""

    def __init__(self, endpoint: str, deployment: str, reason: str, log_tail: str) -> None:
        self.endpoint = endpoint
        self.deployment = deployment
        self.reason = reason
        self.log_tail = log_tail
        super().__init__(
            f"deployment {endpoint}/{deployment} failed: {reason}\n--- last lines of its log ---\n{log_tail}"
        )
