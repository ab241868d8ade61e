"""The case folders are environments, not test packages: never walk them while collecting.

Some of them hold symlink loops and links to /etc on purpose; collection must not follow those.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent


def pytest_ignore_collect(collection_path: Path) -> bool | None:
    if collection_path.parent == HERE and (collection_path.is_dir() or collection_path.is_symlink()):
        return True
    return None
