"""What `mlops apply` tells people (ApplyHuman) and machines (ApplyJSON).

Both write their running commentary (the plan, progress, rollout steps, refusals) on stderr, so
that with ``--output json`` stdout carries exactly one JSON document: the outcome. The command
picks a view once (:func:`gitops.views.apply_view`) and calls it at each step; it never looks at
the output format itself.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from gitops.model.vocab import ActionKind
from gitops.plan import Action, Plan
from gitops.sync import ActionResult, ResultStatus, SyncObserver
from gitops.views.plan import plan_text


class ApplyOutcome(StrEnum):
    """The ``status`` of apply's JSON document."""

    APPLIED = "applied"
    FAILED = "failed"
    IN_SYNC = "in_sync"
    DIVERGED = "diverged"


_MARK = {
    ResultStatus.OK: "[green]ok[/]",
    ResultStatus.FAILED: "[red]FAILED[/]",
    ResultStatus.SKIPPED: "[yellow]skipped[/]",
}


class _Quiet:
    def action_started(self, action: Action) -> None:
        return None

    def action_finished(self, result: ActionResult) -> None:
        return None


class _ProgressObserver:
    """A progress bar on a terminal; one line per finished action otherwise (CI logs)."""

    def __init__(self, err: Console, progress: Progress, task: TaskID) -> None:
        self.err = err
        self.progress = progress
        self.task = task

    def action_started(self, action: Action) -> None:
        self.progress.update(self.task, description=f"{action.kind} {action.resource}")

    def action_finished(self, result: ActionResult) -> None:
        self.progress.advance(self.task)
        if not self.err.is_terminal:
            action = result.action
            self.err.print(f"  {result.status!s:<7} {action.kind} {action.resource}", highlight=False)


class _ApplyView:
    """What both views say the same way: refusals, the confirmation, rollout progress."""

    def __init__(self, err: Console | None = None) -> None:
        self.err = err or Console(stderr=True, highlight=False, soft_wrap=True)

    def blocked(self, plan: Plan) -> None:
        sys.stderr.write(plan_text(plan))

    def confirm(self, plan: Plan) -> bool:
        """Ask on the terminal; the caller refuses to run unattended without --auto-approve."""
        answer = input(f"Apply these {len(plan.actions)} change(s) to {plan.env}? Type 'yes': ")
        if answer.strip() == "yes":
            return True
        self.err.print("Cancelled; nothing was changed.")
        return False

    def log(self, message: str) -> None:
        self.err.print(message, markup=False, highlight=False)


class ApplyHuman(_ApplyView):
    def diverged(self, plan: Plan) -> None:
        for d in plan.diverged:
            self.err.print(f"DIVERGED: {d}", markup=False)

    def in_sync(self, plan: Plan) -> None:
        self.err.print(f"No changes. Environment {escape(plan.env)} matches git.")

    def proposed(self, plan: Plan) -> None:
        self.err.print(escape(plan_text(plan)), end="")

    @contextmanager
    def progress(self, plan: Plan) -> Iterator[SyncObserver]:
        progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=self.err,
            disable=not self.err.is_terminal,
        )
        task = progress.add_task(f"apply {plan.env}", total=len(plan.actions))
        with progress:
            yield _ProgressObserver(self.err, progress, task)

    def results(self, plan: Plan, results: Sequence[ActionResult], skip_analysis: bool) -> None:
        for r in results:
            # Successes were listed as they happened; a rollout's summary (gate values) is kept.
            if r.ok and r.action.kind != ActionKind.ROLLOUT:
                continue
            line = f"{r.action.kind} {r.action.resource} {r.message}"
            self.err.print(f"{_MARK[r.status]} {escape(line)}", markup=True)
        succeeded = sum(1 for r in results if r.ok)
        self.err.print(f"{succeeded}/{len(results)} action(s) succeeded.")


class ApplyJSON(_ApplyView):
    def diverged(self, plan: Plan) -> None:
        # A rolled-back rollout: retrying the same revision would fail the same way.
        print(json.dumps({"env": plan.env, "status": ApplyOutcome.DIVERGED, "diverged": plan.diverged}))

    def in_sync(self, plan: Plan) -> None:
        print(json.dumps({"env": plan.env, "status": ApplyOutcome.IN_SYNC, "results": []}))

    def proposed(self, plan: Plan) -> None:
        return None

    @contextmanager
    def progress(self, plan: Plan) -> Iterator[SyncObserver]:
        yield _Quiet()

    def results(self, plan: Plan, results: Sequence[ActionResult], skip_analysis: bool) -> None:
        failed = any(not r.ok for r in results)
        doc = {
            "env": plan.env,
            "status": ApplyOutcome.FAILED if failed else ApplyOutcome.APPLIED,
            "skip_analysis": skip_analysis,
            "results": [r.to_dict() for r in results],
        }
        print(json.dumps(doc, indent=2))


ApplyView = ApplyHuman | ApplyJSON
