"""Fail when a function is longer than the limit (ruff has no rule for lines per function).

A long function is where rules hide from a newcomer: the reconciler keeps each one short enough
to read at once. McCabe complexity is ruff's C90 (pyproject.toml); this is the other half.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path


def long_functions(root: Path, limit: int) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > limit:
                    found.append(f"{path}:{node.lineno}: {node.name} is {length} lines (limit {limit})")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("roots", nargs="+", type=Path)
    parser.add_argument("--max-lines", type=int, default=80)
    args = parser.parse_args()
    found = [line for root in args.roots for line in long_functions(root, args.max_lines)]
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
