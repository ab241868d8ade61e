"""One hardened loader for every YAML and JSON file the project reads.

Input files come from pull requests: bad merges, editors saving Latin-1, a gzip file renamed to
``.yml``, hostile alias bombs. Each of those must end as one ``file:line:column: message`` and never
as a traceback, a hang or a silently different document (PyYAML keeps the last of two duplicate
keys). This package sits at the repository root, beside ``gitops`` and ``mlops``, because the
Pulumi program (``mlplatform``) reads stack files too and may not import the reconciler; it
imports only the standard library and PyYAML.
"""

from safeload.errors import LoadError
from safeload.json_loader import load_json_bytes, load_json_file
from safeload.limits import DEFAULT_LIMITS, Limits
from safeload.text import decode_text, read_capped
from safeload.yaml_loader import Loaded, PathKey, load_yaml_bytes, load_yaml_file, uses_libyaml

__all__ = [
    "DEFAULT_LIMITS",
    "Limits",
    "LoadError",
    "Loaded",
    "PathKey",
    "decode_text",
    "load_json_bytes",
    "load_json_file",
    "load_yaml_bytes",
    "load_yaml_file",
    "read_capped",
    "uses_libyaml",
]
