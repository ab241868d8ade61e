"""Per-environment apply lock.

An ``fcntl.flock`` on a file under ``$MLOPS_LOCK_DIR`` (default ``~/.cache/mlops/locks``): the
kernel releases it when the holder dies, so a crashed apply never leaves a stale lock. It
serialises applies that run on one machine (a CI runner, an operator's laptop). Applies from
different machines must be serialised by the CI system (one concurrency group per environment);
the README says so.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gitops.errors import LockHeldError


def lock_dir() -> Path:
    return Path(os.environ.get("MLOPS_LOCK_DIR") or Path.home() / ".cache" / "mlops" / "locks")


@contextmanager
def file_lock(key: str, env: str) -> Iterator[None]:
    folder = lock_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (re.sub(r"[^A-Za-z0-9_.-]+", "_", key) + ".lock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            raise LockHeldError(
                f"environment {env!r} is being applied by another run ({holder}); wait for it to finish and "
                "run `mlops apply` again"
            ) from None
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _read_holder(fd: int) -> str:
    raw = os.pread(fd, 4096, 0)
    try:
        info = json.loads(raw)
        return f"pid {info['pid']} on {info['host']} since {info['since']}"
    except (ValueError, KeyError, TypeError):
        return "holder unknown"
