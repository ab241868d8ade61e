"""Mutations of valid environments never crash, hang or pass `mlops validate` when known to be invalid.

Why property-based: the corpus holds the defects we thought of; these tests make up the ones we did
not (a flipped byte anywhere, a file cut anywhere, any key doubled, any value swapped for another
type, nesting and aliases of any size) and hold the validator to the same promise: exit 0 or 1,
every line ``file:line[:col]: message`` or the summary, never a traceback. A mutation that is
invalid by construction (a duplicated key, an alias bomb, a value nested thousands deep) must never
come back ``ok``.

Bounded: derandomized with no example database (the same examples in CI every run), a deadline
per example, and an address-space ceiling while the tests run so that a regression into an alias
bomb fails here with MemoryError instead of exhausting the machine.
"""

from __future__ import annotations

import contextlib
import io
import re
import resource
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from mlops.cli import main

REPO = Path(__file__).resolve().parents[2]
SOURCES = {
    "dev": REPO / "environments" / "dev",
    "prod": REPO / "environments" / "prod",
    "valid-base": REPO / "tests" / "bad_inputs" / "valid-base",
}
DIAG_RE = re.compile(r"^\S[^:]*:\d+(?::\d+)?: \S")
SUMMARY_RE = re.compile(r"^\d+ error\(s\); nothing was changed\.$")
# A mapping entry on its own line (`key: value` or `key:` opening a block), not a list item or comment.
KEY_LINE = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z_$][\w$-]*):(?P<rest>.*)$")

MUTATION = settings(
    derandomize=True,
    database=None,
    deadline=10_000,  # ms per example: validate takes ~0.1 s; a hang shows up as a deadline failure
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    # No explain phase: its line tracing makes azure-ai-ml's inspect.stack() calls minutes long.
    phases=(Phase.explicit, Phase.generate, Phase.shrink),
)


def _read(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


TREES = {name: _read(path) for name, path in SOURCES.items()}
FILES = sorted((env, rel) for env, tree in TREES.items() for rel in tree)


@pytest.fixture(scope="module", autouse=True)
def memory_ceiling() -> Iterator[None]:
    """At most 1.5 GB more address space than the process has now, restored afterwards."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    status = Path("/proc/self/status").read_text()
    vm_kb = int(re.search(r"VmSize:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
    resource.setrlimit(resource.RLIMIT_AS, (vm_kb * 1024 + 1_500 * 1024 * 1024, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def validate(env: str, rel: str, data: bytes) -> tuple[int, list[str]]:
    """Validate ``env`` with ``rel`` replaced by ``data``; (exit code, output lines). Raising is a crash."""
    scratch = Path(tempfile.mkdtemp(prefix="mutation-"))
    try:
        folder = scratch / env
        for name, content in TREES[env].items():
            p = folder / name
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data if name == rel else content)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["validate", "--environments", str(scratch), "--env", env])
        return code, [ln for ln in (out.getvalue() + err.getvalue()).splitlines() if ln.strip()]
    finally:
        shutil.rmtree(scratch)


def check_report(code: int, lines: list[str]) -> None:
    assert code in (0, 1), lines
    if code == 0:
        assert lines, "exit 0 without the ok line"
        assert all(ln.startswith("ok  ") for ln in lines), lines
        return
    assert any(DIAG_RE.match(ln) for ln in lines), lines
    bad = [ln for ln in lines if not (DIAG_RE.match(ln) or SUMMARY_RE.match(ln))]
    assert bad == [], bad


def assert_refused(code: int, lines: list[str], rel: str) -> None:
    check_report(code, lines)
    assert code == 1, f"known-invalid mutation of {rel} passed: {lines}"


def key_lines(data: bytes) -> list[int]:
    text = data.decode("utf-8")
    return [i for i, ln in enumerate(text.split("\n")) if KEY_LINE.match(ln)]


@st.composite
def a_file(draw: st.DrawFn) -> tuple[str, str, bytes]:
    env, rel = draw(st.sampled_from(FILES))
    return env, rel, TREES[env][rel]


def test_sources_are_valid() -> None:
    for env in TREES:
        first = next(iter(TREES[env]))
        code, lines = validate(env, first, TREES[env][first])
        assert code == 0, lines


@settings(MUTATION, max_examples=60)
@given(f=a_file(), data=st.data())
def test_byte_flip(f: tuple[str, str, bytes], data: st.DataObject) -> None:
    env, rel, content = f
    pos = data.draw(st.integers(0, len(content) - 1), label="offset")
    xor = data.draw(st.integers(1, 255), label="xor")
    mutated = content[:pos] + bytes([content[pos] ^ xor]) + content[pos + 1 :]
    check_report(*validate(env, rel, mutated))


@settings(MUTATION, max_examples=40)
@given(f=a_file(), data=st.data())
def test_truncation(f: tuple[str, str, bytes], data: st.DataObject) -> None:
    env, rel, content = f
    cut = data.draw(st.integers(0, len(content) - 1), label="cut")
    check_report(*validate(env, rel, content[:cut]))


@settings(MUTATION, max_examples=40)
@given(f=a_file(), data=st.data())
def test_key_duplication(f: tuple[str, str, bytes], data: st.DataObject) -> None:
    env, rel, content = f
    lines = content.decode("utf-8").split("\n")
    i = data.draw(st.sampled_from(key_lines(content)), label="line")
    mutated = "\n".join([*lines[: i + 1], lines[i], *lines[i + 1 :]]).encode()
    code, out = validate(env, rel, mutated)
    assert_refused(code, out, rel)
    assert any("duplicate" in ln.lower() for ln in out), out


TYPE_SWAPS = (
    "[1, 2]",
    "{a: 1}",
    "null",
    "true",
    "-1",
    "2.5",
    "0",
    '""',
    "x" * 300,
    "'{{ value }}'",
    "*undefined",
)


@settings(MUTATION, max_examples=40)
@given(f=a_file(), data=st.data())
def test_type_swap(f: tuple[str, str, bytes], data: st.DataObject) -> None:
    env, rel, content = f
    lines = content.decode("utf-8").split("\n")
    i = data.draw(st.sampled_from(key_lines(content)), label="line")
    m = KEY_LINE.match(lines[i])
    assert m is not None
    lines[i] = f"{m['indent']}{m['key']}: {data.draw(st.sampled_from(TYPE_SWAPS), label='value')}"
    check_report(*validate(env, rel, "\n".join(lines).encode()))


@settings(MUTATION, max_examples=20)
@given(f=a_file(), depth=st.integers(200, 20_000), flow=st.booleans())
def test_deep_nesting(f: tuple[str, str, bytes], depth: int, flow: bool) -> None:
    env, rel, content = f
    nest = "[" * depth + "]" * depth if flow else "\n" + "- " * depth + "x"
    value = f"x-deep: {nest}\n"
    # An unknown top-level key nested that deep is invalid in every file of an environment.
    assert_refused(*validate(env, rel, content + b"\n" + value.encode()), rel)


@settings(MUTATION, max_examples=30)
@given(f=a_file(), width=st.integers(2, 12), depth=st.integers(2, 14), self_ref=st.booleans())
def test_alias_games(f: tuple[str, str, bytes], width: int, depth: int, self_ref: bool) -> None:
    env, rel, content = f
    if self_ref:
        bomb = "x-self: &s\n  again: *s\n"
    else:
        rows = ["x-lol0: &l0 [lol]"] + [
            f"x-lol{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]" for i in range(1, depth + 1)
        ]
        bomb = "\n".join(rows) + "\n"
    # Unknown top-level keys, however the aliases expand: never `ok`, never a hang or MemoryError.
    assert_refused(*validate(env, rel, content + b"\n" + bomb.encode()), rel)


if __name__ == "__main__":  # pragma: no cover - a convenience for running one file by hand
    sys.exit(pytest.main([__file__, "-q", "--hypothesis-show-statistics"]))
