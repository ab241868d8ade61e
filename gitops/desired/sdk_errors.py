"""azure-ai-ml load errors, turned into one ``file:line`` finding per field.

The SDK reports schema errors as a marshmallow error dict embedded in an exception message, by
field path only; the YAML document knows the line of each path.
"""

from __future__ import annotations

import json
from typing import Any

from gitops.errors import Diagnostic
from gitops.yamlmarks import YamlDoc


def _flatten_marshmallow(errors: Any, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], str]]:
    out: list[tuple[tuple[str, ...], str]] = []
    if isinstance(errors, dict):
        for key, val in errors.items():
            # marshmallow nests dict-valued field errors under "value"/"key"; the key is the YAML path.
            if key in ("value", "key") and prefix:
                out.extend(_flatten_marshmallow(val, prefix))
            else:
                out.extend(_flatten_marshmallow(val, (*prefix, str(key))))
    elif isinstance(errors, list):
        for item in errors:
            out.extend(_flatten_marshmallow(item, prefix))
    else:
        out.append((prefix, str(errors)))
    return out


def _error_text(exc: Exception) -> str:
    # load_schedule fails with a message-less NotImplementedError while formatting a schema
    # error; the marshmallow error with the field details is chained to it.
    cause: BaseException | None = exc
    while cause is not None and "{" not in str(cause):
        cause = cause.__cause__ or cause.__context__
    return str(cause if cause is not None else exc)


def _error_details(text: str) -> Any:
    start = text.find("{")
    if start < 0:
        return None
    try:
        details, _ = json.JSONDecoder().raw_decode(text[start:])
    except json.JSONDecodeError:
        return None
    return details


def sdk_error_diagnostics(doc: YamlDoc, exc: Exception, what: str) -> list[Diagnostic]:
    """Turn an azure-ai-ml/marshmallow load error into one Diagnostic per field."""
    text = _error_text(exc)
    details = _error_details(text)
    if isinstance(details, dict) and details:
        diags = []
        for path, msg in _flatten_marshmallow(details):
            hint = ""
            if msg == "Unknown field.":
                hint = f" (not part of the Azure ML {what} YAML schema; remove it or fix its spelling)"
            diags.append(doc.diag(f"`{'.'.join(path)}`: {msg}{hint}", *path))
        return diags
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return [doc.diag(f"invalid {what}: {first}")]
