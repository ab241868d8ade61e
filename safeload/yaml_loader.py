"""YAML: parsed once (libyaml when present), with the line of every key and value.

PyYAML's own composer recurses (a self-referencing alias ends in ``RecursionError``), expands
aliases without limit (a 1 KB "billion laughs" file grows to gigabytes) and lets a later duplicate
key replace an earlier one. So the node tree is composed here, from the parser's events, without
recursion: every alias is charged the number of nodes it expands to, nesting is counted with
aliases expanded, an alias to a node still being composed is refused, and each mapping's keys are
compared once it is complete. The tree is then built into Python data by PyYAML's safe
constructor, as before.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from safeload.errors import LoadError
from safeload.limits import DEFAULT_LIMITS, Limits
from safeload.text import check_size, decode_text, read_capped

PathKey = tuple[str | int, ...]

# libyaml's scanner and parser are C; the pure-Python ones (about 10x slower) only when PyYAML
# was built without it. Both give the same events and marks.
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE = "tag:yaml.org,2002:merge"
_PLACEHOLDER = re.compile(r"\{\{[^{}\n]*\}\}")


def uses_libyaml() -> bool:
    return _LOADER is not yaml.SafeLoader


@dataclass
class Loaded:
    """One YAML document: its data and the 1-based line of each key path (first occurrence)."""

    file: str
    data: Any
    lines: dict[PathKey, int]

    def line(self, *keys: str | int) -> int | None:
        """Line of the deepest known prefix of ``keys``; None if not even the first key is known."""
        k: PathKey = tuple(keys)
        while k:
            if k in self.lines:
                return self.lines[k]
            k = k[:-1]
        return None


def load_yaml_file(path: Path, limits: Limits = DEFAULT_LIMITS, *, name: str | None = None) -> Loaded:
    """Read and parse one file; every refusal is a LoadError (an unreadable file stays OSError).

    ``name`` is the file as messages show it (default: the path as given)."""
    file = name or str(path)
    return load_yaml_bytes(read_capped(path, limits, name=file), file, limits)


def load_yaml_bytes(data: bytes, file: str, limits: Limits = DEFAULT_LIMITS) -> Loaded:
    check_size(len(data), file, limits)
    text = decode_text(data, file)
    loader = _LOADER(text)
    try:
        node = _Composer(loader, file, limits, text).compose()
        lines: dict[PathKey, int] = {}
        if node is not None:
            # Walked before constructing: the constructor flattens merge keys in the tree in place.
            _walk(node, (), lines)
        value = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, file, text) from None
    except yaml.YAMLError as exc:
        raise LoadError(file, 1, 0, f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()
    return Loaded(file, value, lines)


def _syntax_error(exc: yaml.MarkedYAMLError, file: str, text: str) -> LoadError:
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 0)
    message = f"invalid YAML: {exc.problem or exc}"
    if exc.context and exc.problem:
        at = f" (line {exc.context_mark.line + 1})" if exc.context_mark else ""
        message = f"invalid YAML: {exc.context}{at}, {exc.problem}"
    hint = _placeholder_hint(text, line)
    return LoadError(file, line, column, message + hint)


def _placeholder_hint(text: str, line: int) -> str:
    # `name: {{ENDPOINT_NAME}}` is a flow mapping whose key is a mapping to YAML: the parser's
    # "unhashable key" or "expected <block end>" says nothing about the real mistake.
    lines = text.splitlines()
    source = lines[line - 1] if 0 < line <= len(lines) else ""
    found = _PLACEHOLDER.search(source)
    if not found:
        return ""
    return (
        f"; this looks like a template placeholder ({found.group()}); "
        "render the template before committing, or write the value"
    )


@dataclass
class _Open:
    node: SequenceNode | MappingNode
    anchor: str | None
    size: int = 1
    height: int = 1
    key: Node | None = None
    key_size: int = field(default=0)


class _Composer:
    """Events to nodes, iteratively, with the alias budget, the depth limit and duplicate keys."""

    # PyYAML's loader methods and marks are untyped (and libyaml's marks are their own class).
    def __init__(self, loader: Any, file: str, limits: Limits, text: str):
        self.loader = loader
        self.file = file
        self.limits = limits
        self.text = text
        self.stack: list[_Open] = []
        self.done: dict[str, tuple[Node, int, int]] = {}
        self.open: dict[str, Node] = {}
        self.produced = 0
        self.root: Node | None = None

    def compose(self) -> Node | None:
        ld = self.loader
        ld.get_event()  # stream start
        if ld.check_event(yaml.StreamEndEvent):
            ld.get_event()
            return None
        doc = ld.get_event()
        handlers: dict[type, Callable[[Any], None]] = {
            yaml.AliasEvent: self._alias,
            yaml.ScalarEvent: self._scalar,
            yaml.SequenceStartEvent: self._start,
            yaml.MappingStartEvent: self._start,
            yaml.SequenceEndEvent: self._end,
            yaml.MappingEndEvent: self._end,
        }
        while self.root is None:
            event = ld.get_event()
            handlers[type(event)](event)
        ld.get_event()  # document end
        if not ld.check_event(yaml.StreamEndEvent):
            raise ComposerError(
                "expected a single document in the stream",
                doc.start_mark,
                "but found another document",
                ld.get_event().start_mark,
            )
        ld.get_event()
        return self.root

    def _error(self, node_or_mark: Any, message: str) -> LoadError:
        mark = getattr(node_or_mark, "start_mark", node_or_mark)
        return LoadError(self.file, mark.line + 1, mark.column + 1, message, nodes=self.produced)

    def _charge(self, nodes: int, mark: Any) -> None:
        self.produced += nodes
        if self.produced > self.limits.max_nodes:
            raise self._error(
                mark,
                f"the document expands to more than {self.limits.max_nodes} nodes "
                "(aliases repeat what they point to; this is how a 'billion laughs' file exhausts "
                "memory); write the values out or use fewer aliases",
            )

    def _check_depth(self, height: int, mark: Any) -> None:
        if len(self.stack) + height > self.limits.max_depth:
            raise self._error(
                mark,
                f"nested deeper than {self.limits.max_depth} levels (aliases expanded); flatten the document",
            )

    def _register(self, anchor: str | None, mark: Any) -> None:
        if anchor is None:
            return
        first = self.done.get(anchor, (self.open.get(anchor),))[0]
        if first is not None:
            raise ComposerError(
                f"found duplicate anchor {anchor!r}; first occurrence",
                first.start_mark,
                "second occurrence",
                mark,
            )

    def _alias(self, event: Any) -> None:
        if event.anchor in self.open:
            anchor_line = self.open[event.anchor].start_mark.line + 1
            raise self._error(
                event.start_mark,
                f"alias *{event.anchor} refers to its own anchor &{event.anchor} (line {anchor_line}): "
                "the value would contain itself forever; write the value out",
            )
        if event.anchor not in self.done:
            raise ComposerError(None, None, f"found undefined alias {event.anchor!r}", event.start_mark)
        node, size, height = self.done[event.anchor]
        self._check_depth(height, event.start_mark)
        self._charge(size, event.start_mark)
        self._attach(node, size, height)

    def _scalar(self, event: Any) -> None:
        self._register(event.anchor, event.start_mark)
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.loader.resolve(ScalarNode, event.value, event.implicit)
        node = ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style)
        self._charge(1, event.start_mark)
        if event.anchor is not None:
            self.done[event.anchor] = (node, 1, 0)
        self._attach(node, 1, 0)

    def _start(self, event: Any) -> None:
        self._register(event.anchor, event.start_mark)
        self._check_depth(1, event.start_mark)
        is_seq = isinstance(event, yaml.SequenceStartEvent)
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.loader.resolve(SequenceNode if is_seq else MappingNode, None, event.implicit)
        mark: Any = event.start_mark
        node: SequenceNode | MappingNode = (
            SequenceNode(tag, [], mark, None, flow_style=event.flow_style)
            if is_seq
            else MappingNode(tag, [], mark, None, flow_style=event.flow_style)
        )
        self._charge(1, event.start_mark)
        if event.anchor is not None:
            self.open[event.anchor] = node
        self.stack.append(_Open(node, event.anchor))

    def _end(self, event: Any) -> None:
        entry = self.stack.pop()
        entry.node.end_mark = event.end_mark
        if isinstance(entry.node, MappingNode):
            self._check_keys(entry.node)
        if entry.anchor is not None:
            del self.open[entry.anchor]
            self.done[entry.anchor] = (entry.node, entry.size, entry.height)
        self._attach(entry.node, entry.size, entry.height)

    def _attach(self, node: Node, size: int, height: int) -> None:
        if not self.stack:
            self.root = node
            return
        parent = self.stack[-1]
        parent.size += size
        parent.height = max(parent.height, height + 1)
        if isinstance(parent.node, SequenceNode):
            parent.node.value.append(node)
        elif parent.key is None:
            parent.key = node
        else:
            parent.node.value.append((parent.key, node))
            parent.key = None

    def _check_keys(self, node: MappingNode) -> None:
        seen: dict[Any, Node] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, ScalarNode):
                raise self._key_not_scalar(key_node)
            if key_node.tag == _MERGE:
                continue
            key = self._key_identity(key_node)
            first = seen.setdefault(key, key_node)
            if first is not key_node:
                raise self._error(
                    key_node,
                    f"duplicate key {key_node.value!r} (first at line {first.start_mark.line + 1}): "
                    "YAML would silently keep only the last one; keep one of them",
                )

    def _key_identity(self, key_node: ScalarNode) -> Any:
        # Keys are compared as the values they become: `1` and `01` are the same int key.
        # (the same equality the constructed dict will use).
        if key_node.tag == "tag:yaml.org,2002:str":
            return key_node.value
        value = self.loader.construct_object(key_node)
        try:
            hash(value)
        except TypeError:
            return (key_node.tag, key_node.value)
        return value

    def _key_not_scalar(self, key_node: Node) -> LoadError:
        line = key_node.start_mark.line + 1
        hint = _placeholder_hint(self.text, line)
        if hint:
            return self._error(key_node, "a mapping key cannot be a mapping" + hint)
        kind = "mapping" if isinstance(key_node, MappingNode) else "sequence"
        return self._error(
            key_node, f"a mapping key must be a plain value, not a {kind}; quote it or fix the indentation"
        )


def _walk(node: Node, prefix: PathKey, lines: dict[PathKey, int]) -> None:
    # The same paths and lines as before the loader existed (tests compare with yaml.compose).
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            path = (*prefix, key_node.value)
            lines.setdefault(path, key_node.start_mark.line + 1)
            _walk(value_node, path, lines)
    elif isinstance(node, SequenceNode):
        for i, item in enumerate(node.value):
            path = (*prefix, i)
            lines.setdefault(path, item.start_mark.line + 1)
            _walk(item, path, lines)
