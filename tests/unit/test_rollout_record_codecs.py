"""The rollout record's two codecs at their limits: Azure endpoint tags (50 tags per resource, 256
characters per value) and the local SQLite state.

Names go up to Azure's maximum (32 characters for endpoints and deployments), revisions end
``-dirty``, every status and the smoke step appear, free texts are far longer than a tag. Every
case round-trips exactly (only gates/evidence may be cut, visibly); whatever cannot be stored or
read back is a loud error naming the endpoint and the tag.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from gitops.errors import GitopsError
from gitops.model.tags import MAX_TAG_VALUE_LENGTH, MAX_TAGS_PER_RESOURCE, ROLLOUT_TAG_PREFIX
from gitops.rollout.record import (
    SMOKE_STEP,
    RolloutRecord,
    RolloutRecordTooLarge,
    RolloutRecordUnreadable,
    RolloutStatus,
)
from gitops.targets.azureml import rollout_store as tags_codec
from gitops.targets.local import rollout_store as local_codec
from gitops.targets.local.state import StateStore

EP32 = "credit-default-scoring-prod-euw1"
CANARY32 = "credit-default-green-2025-06-v12"
BASELINE32 = (
    "credit-default-blue-2025-05-v011",
    "credit-default-teal-2025-04-v010",
    "cd-shadow-2025-03-gradient-boost",
)
DIRTY = "0123456789ab-dirty"
STEPS = ("mirror 10%", "weight 10%", "weight 50%", "final")
T0 = 1_767_225_600.123456
LONG_TEXT = 'error_ratio 0.087 > 0.02; "latency_p95_ms" 480 > 200\nmetrics: ' + "x" * 900


def test_names_are_at_azures_limits() -> None:
    assert len(EP32) == len(CANARY32) == 32
    assert all(len(b) == 32 for b in BASELINE32)


def _record(**changes: object) -> RolloutRecord:
    base = RolloutRecord(
        id="3f2a9c0d1e4b",
        canary=CANARY32,
        status=RolloutStatus.RUNNING,
        canary_spec_hash="a1b2c3d4e5f60718",
        baseline=BASELINE32,
        revision=DIRTY,
        started=T0,
        previous_traffic={BASELINE32[0]: 60, BASELINE32[1]: 30, BASELINE32[2]: 10},
        previous_mirror={BASELINE32[2]: 20},
        steps=STEPS,
        step=1,
        step_name=STEPS[1],
        step_started=T0 + 900.5,
        step_duration=900.0,
        gates="pass: canary 250 req, baseline 250 req",
    )
    return base.replace(**changes)


def _finished(status: RolloutStatus, **changes: object) -> RolloutRecord:
    return _record(status=status, finished=T0 + 4000.25, **changes)


CASES: dict[str, RolloutRecord] = {
    "short names, clean revision": RolloutRecord(
        id="0a1b2c3d4e5f",
        canary="green",
        status=RolloutStatus.RUNNING,
        baseline=("blue",),
        revision="0123456789ab",
        previous_traffic={"blue": 100},
        steps=("weight 50%", "final"),
    ),
    "brief's example: 21-char canary, dirty revision": _record(
        canary="credit-default-green2", baseline=("blue",), previous_traffic={"blue": 100}, previous_mirror={}
    ),
    "32-char names, smoke test": _record(step=SMOKE_STEP, step_name="smoke test", gates=""),
    "32-char names, first step": _record(step=0, step_name=STEPS[0]),
    "32-char names, last step": _record(step=len(STEPS) - 1, step_name=STEPS[-1]),
    "failed in the smoke test": _finished(
        RolloutStatus.FAILED, step=SMOKE_STEP, step_name="smoke test", evidence="smoke test: status 500"
    ),
    "failed mid-step": _finished(RolloutStatus.FAILED, evidence="2 consecutive failed evaluation(s)"),
    "succeeded": _finished(RolloutStatus.SUCCEEDED, step=len(STEPS) - 1, step_name=STEPS[-1]),
    "analysis skipped": _finished(RolloutStatus.SUCCEEDED, skip_analysis=True, gates=""),
    "long free texts": _finished(RolloutStatus.FAILED, gates=LONG_TEXT, evidence=LONG_TEXT),
    "non-ASCII free text": _finished(
        RolloutStatus.FAILED, evidence="latency \u2265 2\u00d7 baseline \u2014 rolled back"
    ),
    "many steps": _record(
        steps=tuple(f"weight {i}%" for i in range(1, 100)), step=98, step_name="weight 99%"
    ),
}


@pytest.mark.parametrize("record", CASES.values(), ids=CASES.keys())
def test_tags_round_trip(record: RolloutRecord) -> None:
    tags = tags_codec.encode(record)
    assert all(k.startswith(ROLLOUT_TAG_PREFIX) for k in tags)
    assert all(len(v) <= MAX_TAG_VALUE_LENGTH for v in tags.values())
    assert len(tags) <= tags_codec.tags_needed(record) <= MAX_TAGS_PER_RESOURCE
    back = tags_codec.decode(EP32, tags)
    assert back == tags_codec.as_stored(record)
    # Only the free texts are ever cut; the fields the plan decides on are exact.
    assert back is not None
    for f in dataclasses.fields(RolloutRecord):
        if f.name not in tags_codec.FREE_TEXT_TAGS:
            assert getattr(back, f.name) == getattr(record, f.name), f.name


@pytest.mark.parametrize("record", CASES.values(), ids=CASES.keys())
def test_tags_round_trip_beside_user_tags(record: RolloutRecord) -> None:
    user = {
        f"team-tag-{i:02d}": "v" * 256 for i in range(MAX_TAGS_PER_RESOURCE - tags_codec.tags_needed(record))
    }
    tags = tags_codec.merge_into(EP32, user, record)
    assert len(tags) <= MAX_TAGS_PER_RESOURCE
    assert {k: v for k, v in tags.items() if not k.startswith(ROLLOUT_TAG_PREFIX)} == user
    assert tags_codec.decode(EP32, tags) == tags_codec.as_stored(record)


def test_free_texts_are_cut_visibly_and_only_them() -> None:
    record = CASES["long free texts"]
    tags = tags_codec.encode(record)
    for tag in (tags_codec.GATES_TAG, tags_codec.EVIDENCE_TAG):
        assert len(tags[tag]) == MAX_TAG_VALUE_LENGTH
        assert tags[tag].endswith(tags_codec.CUT_MARKER)
        assert LONG_TEXT.startswith(tags[tag][: -len(tags_codec.CUT_MARKER)])
    short = CASES["failed mid-step"]
    assert tags_codec.as_stored(short) == short


@pytest.mark.parametrize(
    ("status", "step"), [(s, n) for s in RolloutStatus for n in (SMOKE_STEP, 0, len(STEPS) - 1)]
)
def test_every_status_and_step_round_trips_in_both_stores(
    status: RolloutStatus, step: int, tmp_path: Path
) -> None:
    record = _record(status=status, step=step, step_name="smoke test" if step == SMOKE_STEP else STEPS[step])
    assert tags_codec.decode(EP32, tags_codec.encode(record)) == record
    store = StateStore(tmp_path / "state.db")
    local_codec.write(store, EP32, record)
    assert local_codec.read(store, EP32) == record


def test_the_first_write_reserves_room_for_every_later_one() -> None:
    """The runner's first write is checked against the largest record of that rollout, so a later
    write (longer step name, failure evidence, finish time) never fails after traffic moved."""
    first = _record(step=SMOKE_STEP, step_name="", gates="", step_started=T0, step_duration=0.0)
    later = [
        _finished(RolloutStatus.FAILED, gates=LONG_TEXT, evidence=LONG_TEXT, step_name=max(STEPS, key=len)),
        _finished(RolloutStatus.SUCCEEDED, step=len(STEPS) - 1, step_name=STEPS[-1], gates=LONG_TEXT),
        _record(step_started=-1.2345678901234567e300, step_duration=123456789.123456789),
    ]
    assert all(len(tags_codec.encode(r)) <= tags_codec.tags_needed(first) for r in later)


def test_every_record_field_has_a_place_in_the_tags() -> None:
    fields = {f.name for f in dataclasses.fields(RolloutRecord)}
    assert set(tags_codec.FIELD_KEYS) | set(tags_codec.FREE_TEXT_TAGS) == fields
    assert len(set(tags_codec.FIELD_KEYS.values())) == len(tags_codec.FIELD_KEYS)


# ---------------------------------------------------------------------------- loud errors


@pytest.mark.parametrize("record", [CASES["32-char names, first step"], CASES["short names, clean revision"]])
def test_user_tags_leaving_too_little_room_is_a_loud_error(record: RolloutRecord) -> None:
    needed = tags_codec.tags_needed(record)
    user = {f"team-tag-{i:02d}": "v" for i in range(MAX_TAGS_PER_RESOURCE - needed + 1)}
    with pytest.raises(RolloutRecordTooLarge) as err:
        tags_codec.merge_into(EP32, user, record)
    message = str(err.value)
    assert isinstance(err.value, GitopsError)
    assert f"endpoint {EP32}" in message
    assert ROLLOUT_TAG_PREFIX in message
    assert f"needs up to {needed} tags" in message
    assert "Remove at least 1 tag(s)" in message
    assert "no traffic was moved" in message


def test_rollout_tags_of_before_are_replaced_and_removed() -> None:
    user = {"owner": "risk-team", "managed-by": "mlops-gitops"}
    long_record = CASES["32-char names, last step"]
    written = tags_codec.merge_into(EP32, user, long_record)
    legacy = {f"{ROLLOUT_TAG_PREFIX}-previous": "{}", f"{ROLLOUT_TAG_PREFIX}-steps": "final"}
    short = CASES["short names, clean revision"]
    rewritten = tags_codec.merge_into(EP32, {**written, **legacy}, short)
    assert rewritten == {**user, **tags_codec.encode(short)}  # no stale chunk or legacy tag left
    assert tags_codec.merge_into(EP32, rewritten, None) == user
    assert tags_codec.decode(EP32, user) is None


def _tampered_chunk(tags: dict[str, str]) -> None:
    chunk = tags_codec.chunk_tag(1)
    tags[chunk] = tags[chunk].replace("credit", "debit", 1)


def _missing_chunk(tags: dict[str, str]) -> None:
    del tags[tags_codec.chunk_tag(2)]


def _edited_evidence(tags: dict[str, str]) -> None:
    tags[tags_codec.EVIDENCE_TAG] = "fine, retry it"


def _missing_header(tags: dict[str, str]) -> None:
    del tags[tags_codec.HEADER_TAG]


def _garbled_header(tags: dict[str, str]) -> None:
    tags[tags_codec.HEADER_TAG] = "v2 n=three"


def _fewer_chunks_in_header(tags: dict[str, str]) -> None:
    header = tags[tags_codec.HEADER_TAG]
    tags[tags_codec.HEADER_TAG] = header.replace(" n=", " n=1", 1)


TAMPERING = {
    "edited chunk": (_tampered_chunk, "checksum"),
    "missing chunk": (_missing_chunk, tags_codec.chunk_tag(2)),
    "edited evidence": (_edited_evidence, "checksum"),
    "missing header": (_missing_header, tags_codec.HEADER_TAG),
    "garbled header": (_garbled_header, tags_codec.HEADER_TAG),
    "header names chunks that are not there": (_fewer_chunks_in_header, "missing"),
}


@pytest.mark.parametrize(("tamper", "expect"), TAMPERING.values(), ids=TAMPERING.keys())
def test_a_damaged_record_is_a_loud_error(tamper: object, expect: str) -> None:
    record = CASES["failed mid-step"]
    tags = {"owner": "risk-team", **tags_codec.encode(record)}
    assert int(tags[tags_codec.HEADER_TAG].split()[1][2:]) >= 3  # long names: several chunks
    assert callable(tamper)
    tamper(tags)
    with pytest.raises(RolloutRecordUnreadable) as err:
        tags_codec.decode(EP32, tags)
    message = str(err.value)
    assert message.startswith(f"endpoint {EP32}: tag {ROLLOUT_TAG_PREFIX}")
    assert expect in message, message
    assert "rolled back" in message
    assert f"delete every tag starting with {ROLLOUT_TAG_PREFIX}" in message


def _v1_tags(record: RolloutRecord) -> dict[str, str]:
    """What the first tag layout wrote (a JSON core cut at 256 characters, a few side tags)."""
    keys = "id canary canary_spec_hash status step step_name step_started step_duration started revision"
    keys += " skip_analysis"
    plain = record.to_json()
    core = json.dumps({k: plain[k] for k in keys.split()}, separators=(",", ":"))
    previous = {"t": record.previous_traffic, "m": record.previous_mirror}
    return {
        ROLLOUT_TAG_PREFIX: core[:256],
        f"{ROLLOUT_TAG_PREFIX}-previous": json.dumps(previous, separators=(",", ":"))[:256],
        f"{ROLLOUT_TAG_PREFIX}-steps": "|".join(record.steps)[:256],
        f"{ROLLOUT_TAG_PREFIX}-gates": record.gates[:256],
        f"{ROLLOUT_TAG_PREFIX}-evidence": record.evidence[:256],
    }


def test_records_of_the_first_layout_are_read_when_whole() -> None:
    record = CASES["short names, clean revision"].replace(status=RolloutStatus.FAILED, evidence="5xx")
    # That layout kept no baseline and no finish time: nothing the plan reads.
    assert tags_codec.decode("credit-default", _v1_tags(record)) == record.replace(baseline=())


def test_records_the_first_layout_cut_are_a_loud_error_not_a_lost_rollback() -> None:
    """The bug this codec fixes: a 21-character canary with a -dirty revision did not fit."""
    record = CASES["brief's example: 21-char canary, dirty revision"].replace(status=RolloutStatus.FAILED)
    with pytest.raises(RolloutRecordUnreadable, match=r"earlier version that cut records longer than 256"):
        tags_codec.decode(EP32, _v1_tags(record))


# ---------------------------------------------------------------------------- local state


def test_local_store_keeps_the_whole_record(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.db")
    assert local_codec.read(store, EP32) is None
    for record in CASES.values():
        local_codec.write(store, EP32, record)
        assert local_codec.read(store, EP32) == record  # nothing is cut here, not even free texts
    local_codec.write(store, EP32, None)
    assert local_codec.read(store, EP32) is None


@pytest.mark.parametrize("row", [{"canary": "green"}, {"id": "x", "canary": "green", "status": "paused"}])
def test_local_unreadable_record_is_a_loud_error(tmp_path: Path, row: dict[str, str]) -> None:
    store = StateStore(tmp_path / "state.db")
    store.put_rollout(EP32, row)
    with pytest.raises(RolloutRecordUnreadable) as err:
        local_codec.read(store, EP32)
    assert f"rollout record of endpoint {EP32} cannot be read" in str(err.value)
    assert "DELETE FROM rollouts" in str(err.value)
