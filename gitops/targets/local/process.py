"""Start, probe and stop the local processes (inference servers and routers).

Every process is started in its own session, hence its own process group, so that stopping it also
stops the gunicorn workers it forked. Processes outlive the CLI that started them; their pid plus
the kernel's start time of that pid are recorded so a recycled pid is never mistaken for ours.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from gitops.targets.local.spec import Probe

# Microsoft's `azmlinfsrv` entry point hard-codes host 0.0.0.0; this runs the very same entry point
# (argument parsing, environment set-up, gunicorn launch) with the host constant set to loopback.
INFSRV_BOOTSTRAP = (
    "from azureml_inference_server_http import amlserver as s; s.DEFAULT_HOST = '127.0.0.1'; s.run()"
)

# Popen handles of processes started by this Python process, so they can be reaped (a zombie
# still answers kill(pid, 0)).
_children: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True)
class ProcessRef:
    pid: int
    start: str  # /proc start time of the pid, "" where /proc does not exist


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _proc_start(pid: int) -> str | None:
    """The pid's start time in clock ticks since boot, or None if it does not exist / is a zombie."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses; split after its closing paren.
    fields = raw[raw.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X"):
        return None
    return fields[19]


def _has_proc() -> bool:
    return Path("/proc/self/stat").exists()


def spawn(argv: list[str], *, env: Mapping[str, str], cwd: Path, log_path: Path) -> ProcessRef:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _children[proc.pid] = proc
    return ProcessRef(proc.pid, _proc_start(proc.pid) or "")


def is_alive(pid: int | None, start: str | None) -> bool:
    if not pid:
        return False
    child = _children.get(pid)
    if child is not None and child.poll() is not None:
        return False
    if _has_proc():
        current = _proc_start(pid)
        return current is not None and (not start or current == start)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def exit_code(pid: int) -> int | None:
    child = _children.get(pid)
    return child.poll() if child is not None else None


def group_members(pgid: int) -> list[int]:
    """Live pids whose process group is ``pgid`` (Linux /proc; elsewhere just the leader if alive)."""
    if not _has_proc():
        return [pgid] if is_alive(pgid, None) else []
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        if fields[0] not in ("Z", "X") and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def stop_group(pid: int | None, start: str | None, *, grace: float = 5.0) -> None:
    """SIGTERM the process group led by ``pid``, then SIGKILL whatever is left after ``grace`` s."""
    if not pid:
        return
    # Only signal the group if its leader is still the process we started: a recycled pid's group
    # belongs to someone else. Orphaned workers of a dead leader keep the group id, so they are
    # found through the group.
    if start and _has_proc():
        leader_start = _proc_start(pid)
        if leader_start is not None and leader_start != start:
            return
    _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        _reap(pid)
        if not group_members(pid):
            break
        time.sleep(0.05)
    else:
        _signal_group(pid, signal.SIGKILL)
        kill_deadline = time.monotonic() + 5
        while group_members(pid) and time.monotonic() < kill_deadline:
            _reap(pid)
            time.sleep(0.05)
    _reap(pid)
    _children.pop(pid, None)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return


def _reap(pid: int) -> None:
    child = _children.get(pid)
    if child is not None:
        child.poll()


def log_tail(path: Path | str | None, lines: int = 40) -> str:
    if not path or not Path(path).is_file():
        return "(no log)"
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - 64_000))
        text = fh.read().decode("utf-8", "replace")
    return "\n".join(text.splitlines()[-lines:])


_CHAINED = ("The above exception was the direct cause", "During handling of the above exception")
_EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning))(?::\s*(.*))?$")
_CAUSE_MAX = 300


def _traceback_chains(lines: list[str]) -> list[list[str]]:
    """The exception lines of each traceback in ``lines``, chained ones grouped together.

    Python prints a chain of exceptions root cause first, joined by one of the ``_CHAINED``
    sentences; the line after a traceback's indented frames is its exception line.
    """
    chains: list[list[str]] = []
    in_traceback = chained = False
    for line in lines:
        if line.rstrip().endswith("Traceback (most recent call last):"):
            if not chained or not chains:
                chains.append([])
            in_traceback, chained = True, False
        elif any(s in line for s in _CHAINED):
            chained = True
        elif in_traceback and line.strip() and not line[:1].isspace():
            chains[-1].append(line.strip())
            in_traceback = False
    return [c for c in chains if c]


def log_cause(path: Path | str | None) -> str | None:
    """The one line that says why a server failed: the root exception of the last traceback in its
    log (``FileNotFoundError: ...``, ``ModuleNotFoundError: No module named 'mlflow'``), not the
    server's wrapper exception; without a traceback, the last line that names an exception."""
    text = log_tail(path, 400)
    lines = text.splitlines()
    chains = _traceback_chains(lines)
    if chains:
        cause = chains[-1][0]
    else:
        named = [ln.strip() for ln in lines if _EXCEPTION_LINE.match(ln.strip().split(" - ")[-1])]
        if not named:
            return None
        cause = named[-1].split(" - ")[-1]
    return cause if len(cause) <= _CAUSE_MAX else cause[: _CAUSE_MAX - 3] + "..."


def http_get(port: int, path: str, timeout: float) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def probe_once(port: int, probe: Probe) -> bool:
    # The inference server's only health route is GET / ("Healthy"); it blocks until init() is done.
    try:
        status, _ = http_get(port, "/", probe.timeout)
    except (OSError, http.client.HTTPException):
        return False
    return status == 200


def wait_ready(
    ref: ProcessRef,
    port: int,
    probe: Probe,
    *,
    poll: float = 0.25,
    on_wait: Callable[[float], None] | None = None,
    max_seconds: float | None = None,
) -> tuple[bool, str]:
    """Probe like Azure's readiness probe until success_threshold passes or the budget runs out.

    Azure waits ``initial_delay`` before the first probe and probes every ``period``; locally the
    probes start at once and repeat every ``poll`` seconds (a failed probe costs nothing here), but
    the overall budget ``initial_delay + period * failure_threshold`` and the per-probe ``timeout``
    are Azure's. A process that exits is a failure straight away.
    """
    started = time.monotonic()
    budget = probe.budget_seconds if max_seconds is None else min(max_seconds, probe.budget_seconds)
    deadline = started + budget
    successes = 0
    while True:
        if not is_alive(ref.pid, ref.start):
            code = exit_code(ref.pid)
            return (
                False,
                f"the inference server exited{'' if code is None else f' with code {code}'} during start-up",
            )
        if probe_once(port, probe):
            successes += 1
            if successes >= probe.success_threshold:
                return True, ""
        else:
            successes = 0
        now = time.monotonic()
        if on_wait is not None:
            on_wait(now - started)
        if now >= deadline:
            return False, (
                f"not ready after {budget:.0f} s (readiness probe budget: initial_delay "
                f"{probe.initial_delay:g} + period {probe.period:g} x "
                f"failure_threshold {probe.failure_threshold}"
                f"{'' if max_seconds is None else f'; deployment timeout {max_seconds:.0f} s'})"
            )
        time.sleep(poll)


def infsrv_argv(entry_script: str, model_dir: str, port: int, workers: int) -> list[str]:
    return [
        sys.executable,
        "-c",
        INFSRV_BOOTSTRAP,
        "--entry_script",
        entry_script,
        "--model_dir",
        model_dir,
        "--port",
        str(port),
        "--worker_count",
        str(workers),
    ]


def rss_kib(pgid: int) -> int:
    """Resident memory of every process in the group, in KiB (Linux only; 0 elsewhere)."""
    total = 0
    for pid in group_members(pgid):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total
