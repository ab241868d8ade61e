"""azure-ai-ml load errors, turned into one ``file:line`` finding per field.

The SDK reports schema errors as a marshmallow error dict embedded in an exception message, by
field path only; the YAML document knows the line of each path.
"""

from __future__ import annotations

import json
import re
from typing import Any

from gitops.errors import Diagnostic
from gitops.yamlmarks import YamlDoc

Entry = tuple[tuple[str, ...], str]  # (YAML path, message)

# marshmallow's message when a union branch's `type` does not match (azure-ai-ml's StringTransformedEnum
# reports "Value 'x' passed is not in set ['a']"); a branch that says so is not the one the user meant.
_NOT_IN_SET = re.compile(r"^Value (.+?) passed is not in set \[(.*)\]$", re.DOTALL)
# azure-ai-ml's UnionField wraps a branch's unexpected exception as "<exception> from <source line>
# <^^^ markers>" (azure/ai/ml/_schema/core/fields.py, UnionField._deserialize): the exception alone is the cause.
_SOURCE_EXCERPT = re.compile(r"^(.*?) from .*\^+\s*$", re.DOTALL)
# The reference branch of an asset field (model, environment, code) explains the reference forms in a
# paragraph that starts like this, whatever the user wrote; it says only "this is not a reference".
_REFERENCE_HELP = re.compile(r"^In order to specify an existing (\w+?)s?,")
# Messages a union branch gives when the value simply has another shape; they are the cause only
# when no branch says anything more specific.
_SHAPE = ("Invalid input type.", "Not a valid string.", "Not a valid list.", "Not a valid mapping type.")


def _clean(message: str) -> str:
    m = _SOURCE_EXCERPT.match(message)
    text = m.group(1) if m else message
    return " ".join(text.split())


def _dedupe(entries: list[Entry]) -> list[Entry]:
    return list(dict.fromkeys(entries))


def _flatten_marshmallow(errors: Any, prefix: tuple[str, ...] = ()) -> list[Entry]:
    """One entry per field: nested dicts give the path, union branches are folded (:func:`_fold_union`)."""
    out: list[Entry] = []
    if isinstance(errors, dict):
        for key, val in errors.items():
            # marshmallow nests dict-valued field errors under "value"/"key" and schema-level ones
            # under "_schema"; the YAML path is the field's.
            if key in ("value", "key", "_schema") and prefix:
                out.extend(_flatten_marshmallow(val, prefix))
            else:
                out.extend(_flatten_marshmallow(val, (*prefix, str(key))))
    elif isinstance(errors, list):
        branches = [item for item in errors if isinstance(item, dict | list)]
        out.extend((prefix, _clean(str(item))) for item in errors if not isinstance(item, dict | list))
        if len(branches) == 1:
            out.extend(_flatten_marshmallow(branches[0], prefix))
        elif branches:
            out.extend(_fold_union([_flatten_marshmallow(b, prefix) for b in branches], prefix))
    else:
        out.append((prefix, _clean(str(errors))))
    return _dedupe(out)


def _type_rejection(branch: list[Entry], prefix: tuple[str, ...]) -> re.Match[str] | None:
    for path, msg in branch:
        if path == (*prefix, "type") and (m := _NOT_IN_SET.match(msg)):
            return m
    return None


def _fold_union(branches: list[list[Entry]], prefix: tuple[str, ...]) -> list[Entry]:
    """A union field's errors, one per branch, as what the user needs to fix.

    Branches told apart by ``type`` (monitor signals): the branch whose type matched is the one
    meant, and only its errors count; when no branch took the type, the type is the one error.
    Other unions (a reference string or an inline asset): :func:`_fold_shapes`.
    """
    rejections = [_type_rejection(b, prefix) for b in branches]
    meant = [b for b, r in zip(branches, rejections, strict=True) if r is None]
    if not meant:
        value = next(r.group(1) for r in rejections if r is not None)
        allowed = sorted({v.strip(" '\"") for r in rejections if r for v in r.group(2).split(",")})
        return [((*prefix, "type"), f"{value} is not one of: {', '.join(allowed)}")]
    if len(meant) < len(branches):
        return _dedupe([e for b in meant for e in b])
    return _fold_shapes([e for b in branches for e in b], prefix)


def _fold_shapes(entries: list[Entry], prefix: tuple[str, ...]) -> list[Entry]:
    """One message for the field: a specific reason wins over the branches' "wrong shape" notes;
    errors inside the value (the branch that took its shape) win over those notes too."""
    at_field = [m for p, m in entries if p == prefix]
    deeper = [(p, m) for p, m in entries if p != prefix]
    reference = next((r for m in at_field if (r := _REFERENCE_HELP.match(m))), None)
    specific = [
        m for m in at_field if m not in _SHAPE and not _REFERENCE_HELP.match(m) and not _NOT_IN_SET.match(m)
    ]
    if specific:
        return [(prefix, "; ".join(dict.fromkeys(specific)))]
    if deeper:
        return _dedupe(deeper)
    if reference is not None:
        kind = reference.group(1)
        return [
            (
                prefix,
                f"not a {kind} reference nor an inline {kind}: reference a registered {kind} as "
                f"azureml:<name>:<version> (or azureml:<name>@latest), or describe it inline",
            )
        ]
    return [(prefix, " or ".join(dict.fromkeys(at_field)))]


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
            # marshmallow names list items by index ("0"); the YAML document indexes them by int.
            keys = [int(k) if k.isdigit() else k for k in path]
            diags.append(doc.diag(f"`{'.'.join(path)}`: {msg}{hint}", *keys))
        return diags
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return [doc.diag(f"invalid {what}: {first}")]
