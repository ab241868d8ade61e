"""Wall time and peak memory of `mlops validate` on every corpus case, each in its own process.

Why a script and not a timed test: timings on a shared two-core machine are noise as assertions, but
the issue promises "under 2 s and 200 MB per case", and someone has to measure it. Each case runs as
``python -m mlops.cli validate`` in a fresh process under a memory ceiling and a timeout (a case that
regresses into an alias bomb must not take the machine down); the peak RSS is that process's own,
from ``os.wait4`` (the rusage of exactly that child, not the maximum over all children).

The interpreter start and the azure-ai-ml import are part of every number; the ``baseline`` row
(the valid base environment) shows how much of each case that is.

    .venv/bin/python tests/bad_inputs/measure.py [--only NAME ...] [--timeout 30] [--mem-mb 2048]
    .venv/bin/python tests/bad_inputs/measure.py --in-process   # validate's own cost, import excluded

``--in-process`` imports the app once and times each case's ``main()`` call, with the peak of
Python allocations during it (tracemalloc): on a loaded machine the per-process numbers are mostly
the interpreter and azure-ai-ml starting, and this shows what the validation itself costs.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from contextlib import redirect_stderr, redirect_stdout
from io import StringIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus

REPO = corpus.HERE.parents[1]


def run_case(
    env_root: Path, name: str, timeout: float, mem_mb: int
) -> tuple[int | None, float, int, str, str]:
    """(exit code or None on timeout, wall seconds, peak RSS in KiB, stdout, stderr)."""

    def limit() -> None:
        cap = mem_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    cmd = [sys.executable, "-m", "mlops.cli", "validate", "--environments", str(env_root), "--env", name]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=out, stderr=err, preexec_fn=limit)
        code: int | None = None
        rss = 0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                code = os.waitstatus_to_exitcode(status)
                rss = usage.ru_maxrss
                break
            if time.perf_counter() - start > timeout:
                proc.kill()
                _, _, usage = os.wait4(proc.pid, 0)
                rss = usage.ru_maxrss
                break
            time.sleep(0.02)
        wall = time.perf_counter() - start
        proc.returncode = code if code is not None else -9  # reaped above; keep Popen from waiting again
        out.seek(0)
        err.seek(0)
        return code, wall, rss, out.read().decode(errors="replace"), err.read().decode(errors="replace")


def in_process(cases: list[corpus.Expect], scratch: Path) -> list[tuple[str, int | None, float, int]]:
    """(name, exit code, seconds, peak traced KiB) of each case validated in this process."""
    from mlops.cli import main as cli

    rows = []
    tracemalloc.start()
    for case in [None, *cases]:
        name = case.name if case else corpus.BASE_NAME
        root = corpus.materialise(case, scratch) if case else corpus.HERE
        out, err = StringIO(), StringIO()
        tracemalloc.reset_peak()
        start = time.perf_counter()
        code: int | None = None
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = cli(["validate", "--environments", str(root), "--env", name])
            except Exception as exc:  # noqa: BLE001 - a crash is a result to print, not a reason to stop
                err.write(f"Traceback (crashed): {type(exc).__name__}: {exc}\n")
        wall = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1] // 1024
        ok = code is not None and (
            case is None or not corpus.problems(case, code, out.getvalue(), err.getvalue())
        )
        print(
            f"{name:44} exit={code} {wall:6.3f}s {peak / 1024:7.1f} MB traced  {'as expected' if ok else 'NOT as expected'}"
        )
        rows.append((name, code, wall, peak))
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", help="case names (default: all)")
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--mem-mb", type=int, default=2048, help="address-space ceiling per run")
    ap.add_argument("--in-process", action="store_true", help="one process; time and traced memory per case")
    args = ap.parse_args()
    cases = [c for c in corpus.cases() if not args.only or c.name in args.only]
    rows = []
    if args.in_process:
        with tempfile.TemporaryDirectory() as scratch:
            rows = in_process(cases, Path(scratch))[1:]
        slow = max(rows, key=lambda r: r[2])
        big = max(rows, key=lambda r: r[3])
        print(
            f"\n{len(rows)} cases; worst time {slow[2]:.3f} s ({slow[0]}), worst traced peak {big[3] / 1024:.1f} MB ({big[0]})"
        )
        return 0
    with tempfile.TemporaryDirectory() as scratch:
        code, wall, rss, _, _ = run_case(corpus.HERE, corpus.BASE_NAME, args.timeout, args.mem_mb)
        print(f"{'baseline (' + corpus.BASE_NAME + ')':44} exit={code} {wall:6.2f}s {rss / 1024:7.1f} MB")
        for case in cases:
            root = corpus.materialise(case, Path(scratch))
            code, wall, rss, out, err = run_case(root, case.name, args.timeout, args.mem_mb)
            verdict = (
                "TIMEOUT"
                if code is None
                else ("as expected" if not corpus.problems(case, code, out, err) else "NOT as expected")
            )
            rows.append((case.name, code, wall, rss))
            print(f"{case.name:44} exit={code} {wall:6.2f}s {rss / 1024:7.1f} MB  {verdict}", flush=True)
    if rows:
        slow = max(rows, key=lambda r: r[2])
        big = max(rows, key=lambda r: r[3])
        print(
            f"\n{len(rows)} cases; worst time {slow[2]:.2f} s ({slow[0]}), worst peak RSS {big[3] / 1024:.1f} MB ({big[0]})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
