"""The JSON Schemas of our own file formats (environment.yaml, rollout.yml, monitor actions),
shipped as package data and read with importlib.resources, so that an installed ``mlops`` checks
files without the repository around it. Editors find the same files through the
``yaml-language-server`` comment at the top of each environment.yaml.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

ENVIRONMENT = "environment.schema.json"
ROLLOUT = "rollout.schema.json"
ACTIONS = "actions.schema.json"
# How diagnostics name a schema: where it is in the repository (and in the installed package).
SOURCE_DIR = "gitops/schemas"


def load(name: str) -> dict[str, Any]:
    """One of the shipped schemas, parsed."""
    text = resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def source(name: str) -> str:
    return f"{SOURCE_DIR}/{name}"
