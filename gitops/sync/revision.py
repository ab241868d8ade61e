"""The git revision an apply stamps on what it changes (the ``git-revision`` tag).

A dirty tree is marked ``-dirty`` so a resource is never credited to a commit that did not hold
its YAML; without git (a tarball, a CI cache) the revision is ``unknown`` rather than an error.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

UNKNOWN_REVISION = "unknown"


def _git(path: Path, *argv: str) -> str:
    out = subprocess.run(
        ["git", "-C", str(path), *argv],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    return out.stdout.strip()


def git_revision(path: Path) -> str:
    try:
        rev = _git(path, "rev-parse", "--short=12", "HEAD")
        if not rev:
            return UNKNOWN_REVISION
        dirty = _git(path, "status", "--porcelain", "--", ".")
    except (OSError, subprocess.SubprocessError):
        return UNKNOWN_REVISION
    return rev + ("-dirty" if dirty else "")
