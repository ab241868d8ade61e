"""User-facing errors.

Everything a user can fix by editing files is reported as ``file:line: message`` and makes the CLI
exit 1 without a traceback; :class:`InputErrors` carries all of them at once so one run shows every
problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Diagnostic:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class GitopsError(Exception):
    """An error with a message meant for the user (no traceback is shown)."""


class InputErrors(GitopsError):
    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = sorted(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class StalePlanError(GitopsError):
    pass


class LockHeldError(GitopsError):
    pass


class NotImplementedTargetError(GitopsError):
    pass


def rel(path: Path | str) -> str:
    """Path as shown in messages: relative to the working directory when possible."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError, RuntimeError):  # outside the cwd, or a symlink loop (resolve raises)
        return str(p)
