"""Rollout time for tests: a clock that moves when the test has seen what a step needs.

A rollout step is "N seconds of traffic, evaluated every interval". Run on the wall clock, a busy
machine can fit too few canary requests into those seconds and the gates fail for a reason that has
nothing to do with the code. With a :class:`StepClock` injected into the RolloutRunner, each of the
runner's ``sleep(s)`` calls blocks (in real time, bounded) until a condition holds -- typically "the
router counted N more requests for the canary" -- and then moves the clock by exactly ``s``. A slow
machine makes a test slower, never emptier; and a step of any declared length costs only as many
waits as it has evaluations.

Used in process (``gitops.commands.RUNNER_OPTIONS``) and by ``apply_with_step_clock.py`` for an
apply that runs in a subprocess so that it can be killed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any


class ConditionNotMet(AssertionError):
    """The condition a step waits for did not hold within the patience: the test fails, loudly."""


class StepClock:
    def __init__(
        self,
        ready: Callable[[], Callable[[], bool]] | None = None,
        *,
        start: float | None = None,
        patience_s: float = 60.0,
        poll_s: float = 0.05,
    ) -> None:
        # ``ready`` is called at the start of every sleep and returns the condition for that sleep,
        # so "N more requests" is counted from the moment the runner began waiting.
        self._ready = ready
        self._now = time.time() if start is None else start
        self._patience_s = patience_s
        self._poll_s = poll_s
        self._lock = threading.Lock()
        self.sleeps: list[float] = []  # what the runner asked for, in order
        # After this many sleeps every further one blocks for good: a process to be killed mid-step.
        self.hold_after: int | None = None

    def clock(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        while self.hold_after is not None and len(self.sleeps) >= self.hold_after:
            time.sleep(self._poll_s)
        if self._ready is not None:
            condition = self._ready()
            deadline = time.monotonic() + self._patience_s
            while not condition():
                if time.monotonic() > deadline:
                    raise ConditionNotMet(
                        f"StepClock: the condition for a {seconds:g}s rollout wait did not hold within "
                        f"{self._patience_s:g}s of real time (is load being sent?)"
                    )
                time.sleep(self._poll_s)
        with self._lock:
            self.sleeps.append(seconds)
            self._now += seconds

    @property
    def elapsed(self) -> float:
        """Rollout time the runner waited through so far."""
        return sum(self.sleeps)

    def options(self) -> dict[str, Any]:
        """Keyword arguments for the RolloutRunner (``gitops.commands.RUNNER_OPTIONS``)."""
        return {"sleep": self.sleep, "clock": self.clock}


def more_requests(count: Callable[[], int], n: int) -> Callable[[], Callable[[], bool]]:
    """A StepClock condition: ``count()`` grew by at least ``n`` since the sleep began."""

    def arm() -> Callable[[], bool]:
        start = count()
        return lambda: count() >= start + n

    return arm


def router_requests(engine: Any, endpoint: str, deployment: str) -> Callable[[], int]:
    """What the local router counted for one deployment (live and mirrored requests)."""

    def count() -> int:
        stats = engine.router_stats(endpoint)
        return int((stats.get("deployments", {}).get(deployment) or {}).get("requests", 0))

    return count


def wait_for(condition: Callable[[], bool], what: str, patience_s: float = 90.0) -> None:
    """Bounded wait on a condition in a test; real time only bounds it, nothing is timed."""
    deadline = time.monotonic() + patience_s
    while not condition():
        if time.monotonic() > deadline:
            raise ConditionNotMet(f"gave up waiting for {what} after {patience_s:g}s")
        time.sleep(0.1)
