"""YAML loading that remembers where every key and value came from.

azure-ai-ml's loaders report errors by field path only; this maps a path such as
``("traffic", "blue")`` back to the line of the file so messages can say ``file:line``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from gitops.errors import Diagnostic, rel

PathKey = tuple[str | int, ...]


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


def _walk(node: yaml.Node, prefix: PathKey, lines: dict[PathKey, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            path = (*prefix, key)
            lines.setdefault(path, key_node.start_mark.line + 1)
            _walk(value_node, path, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            path = (*prefix, i)
            lines.setdefault(path, item.start_mark.line + 1)
            _walk(item, path, lines)


def load_yaml(path: Path) -> YamlDoc:
    """Parse one YAML document; syntax errors become a Diagnostic with the parser's line."""
    text = path.read_text(encoding="utf-8")
    # One parse: the node tree gives the lines, the safe constructor builds the data from it
    # (walked first: constructing flattens merge keys in place).
    loader = yaml.SafeLoader(text)
    lines: dict[PathKey, int] = {}
    try:
        node = loader.get_single_node()
        if node is not None:
            _walk(node, (), lines)
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise YamlSyntaxError(Diagnostic(rel(path), line, f"invalid YAML: {exc.problem or exc}")) from None
    finally:
        loader.dispose()
    return YamlDoc(path, data, lines)


class YamlSyntaxError(Exception):
    def __init__(self, diagnostic: Diagnostic):
        self.diagnostic = diagnostic
        super().__init__(str(diagnostic))
