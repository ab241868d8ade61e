"""azure-ai-ml's pollers print progress dots to stdout from worker threads.

``--output json`` promises one JSON document on stdout, so while the SDK runs stdout is swapped
for a sink; what this tool itself prints goes through the views (stderr, or stdout after the run).
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager


class _Discard(io.TextIOBase):
    def write(self, s: str) -> int:
        return len(s)


@contextmanager
def sdk_stdout_silenced() -> Iterator[None]:
    saved = sys.stdout
    sys.stdout = _Discard()
    try:
        yield
    finally:
        sys.stdout = saved
