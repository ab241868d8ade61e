"""The platform reads its configuration in one place: components get Args, never the config."""

from __future__ import annotations

import ast
from pathlib import Path

import mlplatform

PACKAGE = Path(mlplatform.__file__).parent
# config.py builds PlatformConfig, stack.py maps it to Args, program.py passes it through.
MAY_SEE_CONFIG = {"config.py", "stack.py", "program.py"}


def test_only_the_mapping_reads_the_stack_config() -> None:
    for path in sorted(PACKAGE.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
        names |= {
            alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for alias in node.names
        }
        if path.name not in MAY_SEE_CONFIG:
            assert "PlatformConfig" not in names, f"{path.name} sees the stack config; give it an Args field"
            assert "from_pulumi" not in names, path.name


def test_the_composition_reads_no_setting_itself() -> None:
    tree = ast.parse((PACKAGE / "program.py").read_text(encoding="utf-8"))
    reads = [
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "cfg"
    ]
    assert reads == [], "program.py reads settings; decide them in stack.py"
