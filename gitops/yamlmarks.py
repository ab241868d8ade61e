"""YAML loading that remembers where every key and value came from.

azure-ai-ml's loaders report errors by field path only; this maps a path such as
``("traffic", "blue")`` back to the line of the file so messages can say ``file:line``. The
reading itself (size cap, encoding, duplicate keys, alias budget, libyaml) is ``safeload``'s,
shared with the Pulumi program; this adapter turns its errors into gitops diagnostics.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gitops.errors import Diagnostic, rel
from safeload import DEFAULT_LIMITS, Limits, LoadError, PathKey, load_yaml_file

__all__ = ["PathKey", "YamlDoc", "YamlSyntaxError", "diagnostic", "load_yaml"]


class YamlDoc:
    def __init__(self, path: Path, data: Any, lines: dict[PathKey, int]):
        self.path = path
        self.data = data
        self._lines = lines

    @property
    def file(self) -> str:
        return rel(self.path)

    def line(self, *keys: str | int) -> int:
        """Line of the deepest known prefix of ``keys`` (1-based); 1 if nothing matches."""
        k: PathKey = tuple(keys)
        while k:
            if k in self._lines:
                return self._lines[k]
            k = k[:-1]
        return 1

    def diag(self, message: str, *keys: str | int) -> Diagnostic:
        return Diagnostic(self.file, self.line(*keys), message)


def diagnostic(exc: LoadError) -> Diagnostic:
    """safeload's error as a gitops diagnostic (the column, where it matters, is in the message)."""
    return Diagnostic(exc.file, exc.line, exc.message)


def load_yaml(path: Path, limits: Limits = DEFAULT_LIMITS) -> YamlDoc:
    """Parse one YAML document once; every refusal becomes a Diagnostic at the offending line."""
    try:
        loaded = load_yaml_file(path, limits, name=rel(path))
    except LoadError as exc:
        raise YamlSyntaxError(diagnostic(exc)) from None
    return YamlDoc(path, loaded.data, loaded.lines)


class YamlSyntaxError(Exception):
    def __init__(self, diagnostic: Diagnostic):
        self.diagnostic = diagnostic
        super().__init__(str(diagnostic))
