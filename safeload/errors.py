"""The one error type of the loader: where (file, line, column) and what to do.

It is deliberately not ``gitops.errors.Diagnostic``: the platform cannot import gitops, so each
caller turns this into its own error shape.
"""

from __future__ import annotations


class LoadError(Exception):
    """A file that cannot be accepted; ``line`` and ``column`` are 1-based (0 column: unknown)."""

    def __init__(self, file: str, line: int, column: int, message: str, *, nodes: int = 0):
        self.file = file
        self.line = line
        self.column = column
        self.message = message
        # For the alias budget: how many nodes had been produced when loading stopped.
        self.nodes = nodes
        super().__init__(str(self))

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}:{self.column}" if self.column else f"{self.file}:{self.line}"

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"
