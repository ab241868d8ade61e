"""Bytes to text: the size cap, binary files, encodings and control characters.

Everything here runs before a parser sees the file, so that a wrong encoding or a stray NUL is
reported at its line and column instead of as a reader traceback without a file name.
"""

from __future__ import annotations

import re
from pathlib import Path

from safeload.errors import LoadError
from safeload.limits import DEFAULT_LIMITS, Limits

_BOM = b"\xef\xbb\xbf"
# Magic numbers of the binary formats most likely to be saved by accident under a text name.
_MAGIC = (
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"PK\x03\x04", "a zip archive"),
    (b"BZh", "bzip2-compressed data"),
    (b"\xfd7zXZ\x00", "xz-compressed data"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed data"),
    (b"\x89PNG", "a PNG image"),
    (b"%PDF-", "a PDF document"),
    (b"\x7fELF", "an executable"),
)
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# YAML's printable set (YAML 1.1 section 5.1, which PyYAML and libyaml enforce): tab, LF, CR,
# NEL and everything printable; JSON allows less, never more.
_NOT_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_NAMES = {0: "NUL", 0x1B: "ESC", 0x7F: "DEL", 0x08: "backspace"}


def read_capped(path: Path, limits: Limits = DEFAULT_LIMITS, *, name: str | None = None) -> bytes:
    """The file's bytes, refused by size before reading (OSError propagates to the caller)."""
    file = name or str(path)
    check_size(path.stat().st_size, file, limits)
    with path.open("rb") as fh:
        # The file may grow between stat and read: never read more than the cap allows.
        data = fh.read(limits.max_bytes + 1)
    check_size(len(data), file, limits)
    return data


def check_size(size: int, file: str, limits: Limits) -> None:
    if size <= limits.max_bytes:
        return
    note = f" ({limits.size_note})" if limits.size_note else ""
    raise LoadError(
        file,
        1,
        0,
        f"file is {_mb(size)}, over the {_mb(limits.max_bytes)} limit for input files{note}; "
        "split it or remove what is not needed",
    )


def _mb(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB" if n >= 100_000 else f"{n} bytes"


def decode_text(data: bytes, file: str) -> str:
    """UTF-8 text (a UTF-8 byte order mark is dropped) with only printable characters."""
    _refuse_binary(data, file)
    body = data[len(_BOM) :] if data.startswith(_BOM) else data
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _encoding_error(body, exc, file) from None
    bad = _NOT_PRINTABLE.search(text)
    if bad:
        line, column = _line_col(text, bad.start())
        code = ord(bad.group())
        name = _NAMES.get(code, "a control character")
        raise LoadError(
            file,
            line,
            column,
            f"{name} (U+{code:04X}) at column {column} is not allowed in a text file "
            "(of the control characters only tab, CR and LF are); remove it",
        )
    return text


def _refuse_binary(data: bytes, file: str) -> None:
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise LoadError(file, 1, 1, f"not a text file (it holds {what}); commit the YAML text itself")
    if data.startswith(_UTF16_BOMS):
        raise LoadError(file, 1, 1, "the file is UTF-16 encoded; save it as UTF-8")
    head = data[:1024]
    controls = sum(1 for b in head if b < 0x20 and b not in (0x09, 0x0A, 0x0D))
    # A text file with one stray control character is reported at that character (below); a file
    # that is mostly control bytes is binary, whatever its name says.
    if controls >= 8 and controls * 10 > len(head):
        raise LoadError(file, 1, 1, "not a text file (binary data); commit the YAML text itself")


def _encoding_error(body: bytes, exc: UnicodeDecodeError, file: str) -> LoadError:
    start = exc.start
    line = body.count(b"\n", 0, start) + 1
    line_start = body.rfind(b"\n", 0, start) + 1
    # Everything before the bad byte decoded, so the column counts characters, not bytes.
    column = len(body[line_start:start].decode("utf-8", errors="replace")) + 1
    byte = body[start]
    guess = " (it looks like Latin-1 or Windows-1252)" if _decodes_as_cp1252(body) else ""
    return LoadError(
        file,
        line,
        column,
        f"not valid UTF-8: byte 0x{byte:02x} at column {column} (byte offset {start}){guess}; "
        "save the file as UTF-8",
    )


def _decodes_as_cp1252(body: bytes) -> bool:
    try:
        body.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return True


def _line_col(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1
