"""The rollout record (:class:`gitops.rollout.record.RolloutRecord`) as Azure ML endpoint tags.

An endpoint's tags are the only place the azureml target can keep state next to the endpoint, and
they are small: Microsoft documents at most 50 tag name/value pairs per resource and tag values of
at most 256 characters
(https://learn.microsoft.com/azure/azure-resource-manager/management/tag-resources#limitations;
constants in :mod:`gitops.model.tags`). A record with long names (32-character endpoint and
deployment names, a ``-dirty`` revision) does not fit one value, so it is stored as:

- ``mlops-rollout``: a header, ``v2 n=<chunks> sha256=<12 hex>``;
- ``mlops-rollout-0`` .. ``-<n-1>``: one compact JSON object (short keys), cut into 256-character
  chunks;
- ``mlops-rollout-gates``, ``mlops-rollout-evidence``: the two free-text fields, readable in the
  portal as they are; cut with a visible marker when longer than one tag value (they are for
  people; nothing the plan decides on is ever cut).

The checksum covers the chunks and both texts, so a missing or edited tag is detected. Reading
never guesses: a record that cannot be read back raises :class:`RolloutRecordUnreadable`, because
the plan would otherwise lose a rolled-back canary's "diverged" protection and retry it. Writing
refuses (before the rollout moves any traffic) a record that cannot fit in the tags the user's own
tags leave free.

Every tag starts with ``ROLLOUT_TAG_PREFIX``: normalize ignores these tags when comparing with git,
and apply carries them over when it updates the endpoint.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from gitops.model.tags import MAX_TAG_VALUE_LENGTH, MAX_TAGS_PER_RESOURCE, ROLLOUT_TAG_PREFIX, is_rollout_tag
from gitops.rollout.record import (
    SMOKE_STEP,
    RolloutRecord,
    RolloutRecordTooLarge,
    RolloutRecordUnreadable,
    RolloutStatus,
)

HEADER_TAG = ROLLOUT_TAG_PREFIX
GATES_TAG = f"{ROLLOUT_TAG_PREFIX}-gates"
EVIDENCE_TAG = f"{ROLLOUT_TAG_PREFIX}-evidence"
FORMAT = "v2"
CUT_MARKER = "…"

# RolloutRecord field -> key in the chunked JSON. Short because every 256 characters cost a tag.
FIELD_KEYS: dict[str, str] = {
    "id": "i",
    "canary": "c",
    "status": "s",
    "canary_spec_hash": "h",
    "baseline": "b",
    "revision": "r",
    "started": "t",
    "finished": "f",
    "previous_traffic": "pt",
    "previous_mirror": "pm",
    "steps": "ss",
    "step": "n",
    "step_name": "sn",
    "step_started": "st",
    "step_duration": "sd",
    "skip_analysis": "x",
}
FREE_TEXT_TAGS = {"gates": GATES_TAG, "evidence": EVIDENCE_TAG}
_KEY_FIELDS = {v: k for k, v in FIELD_KEYS.items()}
_HEADER = re.compile(r"v2 n=(\d+) sha256=([0-9a-f]{12})")
# The longest float JSON writes (sign, 17 digits, point, exponent): the worst case of a timestamp.
_WIDEST_FLOAT = -1.2345678901234567e300
# What the first (v1) format called its tags besides the header.
_V1_PREVIOUS, _V1_STEPS = f"{ROLLOUT_TAG_PREFIX}-previous", f"{ROLLOUT_TAG_PREFIX}-steps"


def chunk_tag(index: int) -> str:
    return f"{ROLLOUT_TAG_PREFIX}-{index}"


def clip(text: str, limit: int = MAX_TAG_VALUE_LENGTH) -> str:
    """``text`` as one tag value: cut visibly when it is too long."""
    if len(text) <= limit:
        return text
    return text[: limit - len(CUT_MARKER)] + CUT_MARKER


def as_stored(record: RolloutRecord) -> RolloutRecord:
    """The record as the tags keep it: the free-text fields clipped, everything else exact."""
    return record.replace(**{f: clip(getattr(record, f)) for f in FREE_TEXT_TAGS})


def encode(record: RolloutRecord) -> dict[str, str]:
    """The tags that hold ``record`` (header, chunks, and the non-empty free texts)."""
    plain = record.to_json()
    body = json.dumps(
        {FIELD_KEYS[k]: v for k, v in plain.items() if k not in FREE_TEXT_TAGS}, separators=(",", ":")
    )
    texts = {tag: clip(getattr(record, f)) for f, tag in FREE_TEXT_TAGS.items()}
    chunks = [body[i : i + MAX_TAG_VALUE_LENGTH] for i in range(0, len(body), MAX_TAG_VALUE_LENGTH)]
    tags = {HEADER_TAG: f"{FORMAT} n={len(chunks)} sha256={_digest(body, texts)}"}
    tags.update({chunk_tag(i): c for i, c in enumerate(chunks)})
    tags.update({tag: text for tag, text in texts.items() if text})
    return tags


def tags_needed(record: RolloutRecord) -> int:
    """Tags this rollout may need at its largest: every later write of the same rollout only
    changes the step, timestamps, status and free texts, so size it with their widest values."""
    step_names = [record.step_name, "smoke test", *record.steps]
    widest = record.replace(
        status=max(RolloutStatus, key=lambda s: len(s.value)),
        step=max((SMOKE_STEP, len(record.steps) - 1), key=lambda n: len(str(n))),
        step_name=max(step_names, key=len),
        step_started=_WIDEST_FLOAT,
        step_duration=_WIDEST_FLOAT,
        finished=_WIDEST_FLOAT,
        gates="g" * MAX_TAG_VALUE_LENGTH,
        evidence="e" * MAX_TAG_VALUE_LENGTH,
    )
    return len(encode(widest))


def merge_into(endpoint: str, tags: Mapping[str, str], record: RolloutRecord | None) -> dict[str, str]:
    """The endpoint's tags with its rollout tags replaced by ``record``'s (removed for None).

    Raises :class:`RolloutRecordTooLarge` when the record does not fit beside the other tags."""
    kept = {k: v for k, v in tags.items() if not is_rollout_tag(k)}
    if record is None:
        return kept
    free = MAX_TAGS_PER_RESOURCE - len(kept)
    needed = tags_needed(record)
    if needed > free:
        raise RolloutRecordTooLarge(
            f"endpoint {endpoint}: the rollout record of {record.canary} needs up to {needed} tags "
            f"({HEADER_TAG}, {chunk_tag(0)}.., {GATES_TAG}, {EVIDENCE_TAG}) but the endpoint already "
            f"has {len(kept)} other tags and Azure allows {MAX_TAGS_PER_RESOURCE} per resource. "
            f"Remove at least {needed - free} tag(s) from the environment's or endpoint.yml's tags "
            "and apply again; no traffic was moved."
        )
    return {**kept, **encode(record)}


def decode(endpoint: str, tags: Mapping[str, str]) -> RolloutRecord | None:
    """The record kept in ``tags``; None when there is none. Raises
    :class:`RolloutRecordUnreadable` when there is one that cannot be read back exactly."""
    header = tags.get(HEADER_TAG)
    if header is None:
        stray = sorted(k for k in tags if is_rollout_tag(k))
        if stray:
            raise unreadable(endpoint, HEADER_TAG, f"it is missing while {', '.join(stray)} exist")
        return None
    if header.startswith("{"):
        return _decode_v1(endpoint, tags)
    m = _HEADER.fullmatch(header)
    if m is None:
        raise unreadable(endpoint, HEADER_TAG, f"{header!r} is not `{FORMAT} n=<chunks> sha256=<digest>`")
    count, digest = int(m.group(1)), m.group(2)
    missing = [chunk_tag(i) for i in range(count) if chunk_tag(i) not in tags]
    if missing:
        raise unreadable(endpoint, missing[0], f"the header names {count} chunk(s) and this one is missing")
    body = "".join(tags[chunk_tag(i)] for i in range(count))
    texts = {tag: tags.get(tag, "") for tag in FREE_TEXT_TAGS.values()}
    if _digest(body, texts) != digest:
        raise unreadable(endpoint, HEADER_TAG, "its checksum does not match the chunks: a tag was edited")
    try:
        short = json.loads(body)
        plain = {_KEY_FIELDS[k]: v for k, v in short.items()}
        plain.update({f: texts[tag] for f, tag in FREE_TEXT_TAGS.items()})
        return RolloutRecord.from_json(plain)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise unreadable(endpoint, chunk_tag(0), f"the record inside is malformed ({exc!r})") from None


def unreadable(endpoint: str, tag: str, why: str) -> RolloutRecordUnreadable:
    return RolloutRecordUnreadable(
        f"endpoint {endpoint}: tag {tag}: the rollout progress record cannot be read: {why}. Without it "
        "the plan cannot tell whether the last rollout was rolled back (it would retry that canary) or "
        f"interrupted (it would restart it). Restore the endpoint's {ROLLOUT_TAG_PREFIX}* tags if they "
        f"were edited by hand; or delete every tag starting with {ROLLOUT_TAG_PREFIX} to forget the "
        "rollout: the next apply then starts it afresh, even for a canary that was rolled back."
    )


def _digest(body: str, texts: Mapping[str, str]) -> str:
    blob = "\x1f".join([body, *(texts.get(tag, "") for tag in FREE_TEXT_TAGS.values())])
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def _decode_v1(endpoint: str, tags: Mapping[str, str]) -> RolloutRecord:
    """The first format: one JSON core tag cut at 256 characters, which made long records unreadable.
    Endpoints rolled out by earlier versions still carry it; read it when it is whole."""
    try:
        plain: dict[str, Any] = json.loads(tags[HEADER_TAG])
        previous = json.loads(tags.get(_V1_PREVIOUS) or "{}")
        plain["previous_traffic"] = previous.get("t") or {}
        plain["previous_mirror"] = previous.get("m") or {}
        plain["steps"] = [s for s in (tags.get(_V1_STEPS) or "").split("|") if s]
        plain["gates"] = tags.get(GATES_TAG, "")
        plain["evidence"] = tags.get(EVIDENCE_TAG, "")
        return RolloutRecord.from_json(plain)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise unreadable(
            endpoint,
            HEADER_TAG,
            f"it was written by an earlier version that cut records longer than {MAX_TAG_VALUE_LENGTH} "
            f"characters ({exc!r})",
        ) from None
