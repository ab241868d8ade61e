"""Reading the bad-input corpus and judging one `mlops validate` run of a case against its expect.yaml.

Shared by the corpus test and by measure.py, so that the numbers measured are those of the runs the
test judges. Each case folder is an environment; ``expect.yaml`` beside its environment.yaml says
which file and line the message must name and which words it must contain (``a|b``: either word).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
BASE_NAME = "valid-base"

# `file:line[:col]: message`; the file part may hold spaces but not start with one.
DIAG_RE = re.compile(r"^(?P<file>\S[^:]*):(?P<line>\d+)(?::(?P<col>\d+))?: (?P<message>\S.*)$")
SUMMARY_RE = re.compile(r"^\d+ error\(s\); nothing was changed\.$")


@dataclass(frozen=True)
class Expect:
    name: str
    defect: str
    feature: str
    valid: bool
    file: str | None
    line: int | None
    words: tuple[str, ...]
    grow: dict[str, Any] | None
    also: tuple[str, ...] = ()  # either of two clashing files may carry the message
    max_errors: int | None = None


def cases() -> list[Expect]:
    out = []
    for folder in sorted(HERE.iterdir()):
        spec_file = folder / "expect.yaml"
        if folder.is_symlink() or not spec_file.is_file():
            continue
        spec = yaml.safe_load(spec_file.read_text(encoding="utf-8"))
        out.append(
            Expect(
                name=folder.name,
                defect=spec["defect"],
                feature=spec.get("feature", ""),
                valid=bool(spec.get("valid", False)),
                file=spec.get("file"),
                line=spec.get("line"),
                words=tuple(spec.get("words", ())),
                grow=spec.get("grow"),
                also=tuple(spec.get("also", ())),
                max_errors=spec.get("max_errors"),
            )
        )
    return out


def tree_hash(folder: Path) -> str:
    """Names, kinds, link targets and bytes of everything under ``folder`` (links not followed)."""
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            p = Path(dirpath) / name
            h.update(str(p.relative_to(folder)).encode() + b"\0")
            if p.is_symlink():
                h.update(b"L" + os.readlink(p).encode())
            elif p.is_file():
                h.update(b"F" + p.read_bytes())
            else:
                h.update(b"D")
    return h.hexdigest()


def materialise(case: Expect, scratch: Path) -> Path:
    """The environments folder to validate the case in: the corpus itself, or a padded copy (size cap)."""
    if not case.grow:
        return HERE
    dest = scratch / case.name
    shutil.copytree(HERE / case.name, dest, symlinks=True)
    target = dest / case.grow["file"]
    data = target.read_bytes()
    # Padding is a comment block: the file stays valid YAML, only its size is wrong.
    filler = b"# padding to exceed the input size limit " + b"x" * 60 + b"\n"
    need = int(case.grow["to_bytes"]) - len(data)
    target.write_bytes(data + filler * (need // len(filler) + 1))
    return scratch


def problems(case: Expect, code: int, stdout: str, stderr: str) -> list[str]:
    """What is wrong with this run of the case (empty: the run is as expected)."""
    found: list[str] = []
    if "Traceback" in stdout + stderr:
        found.append("a Python traceback was printed")
    if case.valid:
        if code != 0:
            found.append(f"exit {code}, expected 0 (a valid case)")
        return found
    if code != 1:
        found.append(f"exit {code}, expected 1")
    lines = [ln for ln in (stdout + stderr).splitlines() if ln.strip()]
    diags = []
    for ln in lines:
        m = DIAG_RE.match(ln)
        if m:
            diags.append(m)
        elif not SUMMARY_RE.match(ln):
            found.append(f"line not of the form file:line: message: {ln[:200]!r}")
    if case.max_errors is not None and len(diags) > case.max_errors:
        found.append(f"{len(diags)} messages for one cause (at most {case.max_errors})")
    if not any(_names_the_defect(case, m) for m in diags):
        found.append(
            f"no message names {case.file}:{case.line if case.line is not None else '*'} "
            f"with words {list(case.words)}"
        )
    return found


def _names_the_defect(case: Expect, m: re.Match[str]) -> bool:
    file = m["file"].replace(os.sep, "/").rstrip("/")
    wanted = [f"{case.name}/{f}".rstrip("/") for f in (case.file, *case.also)]
    if not any(file == w or file.endswith("/" + w) for w in wanted):
        return False
    if case.line is not None and int(m["line"]) != case.line:
        return False
    message = m["message"].lower()
    return all(any(alt.lower() in message for alt in word.split("|")) for word in case.words)
