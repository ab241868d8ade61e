"""Errors raised by the local engine; all carry a message meant for the user."""

from __future__ import annotations

from gitops.errors import GitopsError


class LocalTargetError(GitopsError):
    """Invalid request for the local target (bad spec, unknown deployment, unsupported feature)."""


class DeploymentFailedError(LocalTargetError):
    """A deployment did not become ready; the message includes the tail of its log."""

    def __init__(
        self,
        endpoint: str,
        deployment: str,
        reason: str,
        log_tail: str,
        *,
        cause: str | None = None,
        log_path: str | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.deployment = deployment
        self.reason = reason
        self.log_tail = log_tail
        self.cause = cause
        self.log_path = log_path
        # One line: the cause (the exception the server log ends with) and where the whole log is;
        # the tail stays on the exception for callers that want it.
        where = f" (log: {log_path})" if log_path else ""
        super().__init__(f"deployment {endpoint}/{deployment} failed: {failure_text(reason, cause)}{where}")


def failure_text(reason: str, cause: str | None) -> str:
    """``reason`` with its cause, as one line."""
    return f"{reason}: {cause}" if cause else reason
