"""What `mlops validate` found in each environment, for people.

Discovery classifies files by content, so a user needs to see what each file was taken for: the
summary names every kind counted (a "0 endpoint(s)" line is the first sign of a layout this tool
did not understand), and ``-v`` lists each YAML file with its kind or why it was skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class FileLine:
    kind: str  # "endpoint", "deployment", ... or "skipped"
    file: str
    why: str


@dataclass(frozen=True)
class EnvironmentSummary:
    env: str
    endpoints: int
    deployments: int
    monitors: int
    models: int
    environments: int


def summary_line(s: EnvironmentSummary) -> str:
    line = (
        f"ok  {s.env}: {s.endpoints} endpoint(s), {s.deployments} deployment(s), {s.monitors} monitor(s), "
        f"{s.models} model(s)"
    )
    return line + (f", {s.environments} environment(s)" if s.environments else "")


def file_lines(env: str, files: Sequence[FileLine]) -> list[str]:
    """One line per YAML file: its kind, or `skipped` and why."""
    width = max((len(f.kind) for f in files), default=0)
    return [f"{env}: {len(files)} YAML file(s)"] + [
        f"  {f.kind:<{width}}  {f.file}" + (f": {f.why}" if f.kind == "skipped" else "") for f in files
    ]
