"""Apply a plan: the executor orders and isolates, one handler per action kind does the work.

``from gitops.sync import Executor`` is the room's front door; see :mod:`gitops.sync.executor`.
"""

from __future__ import annotations

from gitops.sync.context import SyncContext, SyncOptions
from gitops.sync.executor import Executor, SyncObserver
from gitops.sync.handlers import HANDLERS, handler_for
from gitops.sync.result import ActionResult, ResultStatus
from gitops.sync.revision import git_revision
from gitops.sync.sdkio import sdk_stdout_silenced

__all__ = [
    "HANDLERS",
    "ActionResult",
    "Executor",
    "ResultStatus",
    "SyncContext",
    "SyncObserver",
    "SyncOptions",
    "git_revision",
    "handler_for",
    "sdk_stdout_silenced",
]
