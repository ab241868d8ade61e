"""The rollout record (:class:`gitops.rollout.record.RolloutRecord`) in the local target's SQLite state.

The state DB has no size limits worth a layout: the record is kept whole as JSON
(:meth:`RolloutRecord.to_json`) in the ``rollouts`` table. What this codec adds is the rule every
store follows: a record that is there but cannot be read back is an error naming the endpoint,
never a silent None (the plan would forget that a canary was rolled back and retry it).
"""

from __future__ import annotations

from gitops.rollout.record import RolloutRecord, RolloutRecordUnreadable
from gitops.targets.local.state import StateStore


def read(store: StateStore, endpoint: str) -> RolloutRecord | None:
    try:
        plain = store.rollout(endpoint)
        return None if plain is None else RolloutRecord.from_json(plain)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise RolloutRecordUnreadable(
            f"{store.path}: rollout record of endpoint {endpoint} cannot be read ({exc!r}). Without it "
            "the plan cannot tell whether the last rollout was rolled back (it would retry that canary) "
            "or interrupted (it would restart it). To forget the rollout and start it afresh, delete "
            f"its row: sqlite3 {store.path} \"DELETE FROM rollouts WHERE endpoint='{endpoint}'\"."
        ) from None


def write(store: StateStore, endpoint: str, record: RolloutRecord | None) -> None:
    store.put_rollout(endpoint, None if record is None else record.to_json())
