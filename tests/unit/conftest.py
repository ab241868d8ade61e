"""Unit tests of the reconciler's core rooms, on in-memory fakes (no HTTPS, no processes)."""

from __future__ import annotations

import sys
from pathlib import Path

# With --import-mode=importlib, test modules import their helpers from this folder by name.
sys.path.insert(0, str(Path(__file__).parent))
