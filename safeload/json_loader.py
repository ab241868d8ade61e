"""JSON read as input (a saved plan given to ``apply --plan``): the same cap, encoding and
duplicate-key rules as YAML, with the decoder's line and column."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from safeload.errors import LoadError
from safeload.limits import DEFAULT_LIMITS, Limits
from safeload.text import check_size, decode_text, read_capped


def load_json_file(path: Path, limits: Limits = DEFAULT_LIMITS, *, name: str | None = None) -> Any:
    file = name or str(path)
    return load_json_bytes(read_capped(path, limits, name=file), file, limits)


def load_json_bytes(data: bytes, file: str, limits: Limits = DEFAULT_LIMITS) -> Any:
    check_size(len(data), file, limits)
    text = decode_text(data, file)
    try:
        return json.loads(text, object_pairs_hook=lambda pairs: _unique(pairs, file, text))
    except json.JSONDecodeError as exc:
        raise LoadError(file, exc.lineno, exc.colno, f"invalid JSON: {exc.msg}") from None
    except RecursionError:
        # The C decoder stops at the interpreter's recursion limit, far deeper than any real file.
        raise LoadError(file, 1, 0, "nested too deeply to be read; flatten the document") from None


def _unique(pairs: list[tuple[str, Any]], file: str, text: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _duplicate(key, file, text)
        out[key] = value
    return out


def _duplicate(key: str, file: str, text: str) -> LoadError:
    # json reports no positions for keys; the key's spelling in the text finds them.
    spelled = re.compile(re.escape(json.dumps(key)) + r"\s*:")
    lines = [text.count("\n", 0, m.start()) + 1 for m in spelled.finditer(text)]
    first, second = (*lines, 1, 1)[:2]
    return LoadError(
        file,
        second,
        0,
        f"duplicate key {key!r} (first at line {first}): JSON readers keep only one; keep one of them",
    )
