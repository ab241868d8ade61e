"""The traffic of one endpoint: live shares and mirror shares, as one value, and the one set of
rules a traffic split must obey.

Azure lower-cases deployment names in traffic maps and zero-fills them; a :class:`Traffic` is
always normalised that way, so two equal splits compare equal whatever their source spelling.

The rules live here, once, because two rooms enforce them: desired validation (so that a bad
split is reported at ``file:line`` before anything is applied) and the local target (which
stands in for Azure and must refuse what Azure refuses). Each rule returns a
:class:`TrafficProblem` naming the key and deployment, so each caller can say where.

A map that git does not declare at all (no ``traffic`` key in endpoint.yml, as in every official
Azure ML example, where traffic is set later with ``--all-traffic``) is not managed: what the
endpoint serves stays as it is (:func:`wanted`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

# Azure ML: "Total traffic has to either be 0 or sum up to 100" (the `traffic` key of the online
# endpoint YAML schema, https://learn.microsoft.com/azure/machine-learning/reference-yaml-endpoint-online;
# the REST model types each share as an int32, azure/ai/ml/_restclient/.../models/_models.py).
LIVE_TOTALS = (0, 100)
# Azure ML: mirror traffic to one deployment, at most 50 % of live requests
# (https://learn.microsoft.com/azure/machine-learning/how-to-safely-rollout-online-endpoints).
MAX_MIRROR_PERCENT = 50
LIVE_KEY = "traffic"
MIRROR_KEY = "mirror_traffic"


def normalise_map(raw: Mapping[str, Any] | None) -> dict[str, int]:
    """Lower-cased names, integer shares, zero entries removed."""
    return {str(k).lower(): int(v) for k, v in (raw or {}).items() if v and int(v) != 0}


def is_share(value: Any) -> bool:
    """A whole percentage as YAML gives it: an int, not a bool, a float or a string. The SDK's
    marshmallow Integer field would truncate 87.5 to 87 without a word."""
    return isinstance(value, int) and not isinstance(value, bool)


def wanted(declared: Mapping[str, Any] | None, live: Mapping[str, Any] | None) -> dict[str, int]:
    """What git wants for one map: its declaration, or (not declared: not managed) what the
    endpoint has now, so that omitting the key never zeroes a serving endpoint."""
    return normalise_map(live if declared is None else declared)


class TrafficIssue(StrEnum):
    UNDECLARED = "undeclared"  # a share names a deployment that does not exist
    LIVE_SUM = "live_sum"  # live shares do not add up to 100
    LIVE_WITHOUT_DEPLOYMENTS = "live_without_deployments"
    LIVE_RANGE = "live_range"  # a live share outside 0..100
    MIRROR_COUNT = "mirror_count"  # more than one deployment mirrored
    MIRROR_RANGE = "mirror_range"  # a mirror share outside 0..MAX_MIRROR_PERCENT
    LIVE_AND_MIRRORED = "live_and_mirrored"
    NOT_INTEGER = "not_integer"  # a share that is not a whole number (87.5, "50", true)
    DUPLICATE = "duplicate"  # two keys naming one deployment (Azure names are case-insensitive)


@dataclass(frozen=True)
class TrafficProblem:
    issue: TrafficIssue
    key: str  # LIVE_KEY or MIRROR_KEY: the map the problem is in
    deployment: str | None  # the entry it is about, as spelled by the caller; None: the whole map
    message: str


@dataclass(frozen=True)
class TrafficRules:
    """How a caller applies the rules. ``declared_in`` completes "which is not declared ..." (where
    the reader should look for deployments); ``may_be_idle`` lets live traffic be all 0 while
    deployments exist, as Azure does (a total of 0 or 100); False demands 100."""

    declared_in: str = ""
    may_be_idle: bool = True


def check_traffic(
    live: Mapping[str, Any],
    mirror: Mapping[str, Any],
    declared: Collection[str],
    rules: TrafficRules | None = None,
) -> list[TrafficProblem]:
    """Every problem of one split, in reading order. Names match ``declared`` case-insensitively
    (Azure lower-cases them); entries with share 0 are still checked for existence. A share that
    is not an integer is reported as such, and the sums are then not checked (87.5 + 12.5 is a
    wrong type, not a 99 % total)."""
    rules = rules or TrafficRules()
    odd = _not_integers(live, mirror)
    out = [*_duplicates(live, mirror), *_undeclared(live, mirror, declared, rules.declared_in), *odd]
    if odd:
        return out
    return [
        *out,
        *_live_sum(live, bool(declared), rules.may_be_idle),
        *_mirror_rules(live, mirror),
        *_live_ranges(live),
    ]


def _not_integers(live: Mapping[str, Any], mirror: Mapping[str, Any]) -> list[TrafficProblem]:
    return [
        TrafficProblem(
            TrafficIssue.NOT_INTEGER,
            key,
            dep,
            f"{key} to {dep!r} is {pct!r}, not an integer; Azure takes whole percentages (0-100)",
        )
        for key, shares in ((LIVE_KEY, live), (MIRROR_KEY, mirror))
        for dep, pct in shares.items()
        if not is_share(pct)
    ]


def _duplicates(live: Mapping[str, Any], mirror: Mapping[str, Any]) -> list[TrafficProblem]:
    out: list[TrafficProblem] = []
    for key, shares in ((LIVE_KEY, live), (MIRROR_KEY, mirror)):
        first: dict[str, str] = {}
        for dep in shares:
            seen = first.setdefault(str(dep).lower(), str(dep))
            if seen != dep:
                out.append(
                    TrafficProblem(
                        TrafficIssue.DUPLICATE,
                        key,
                        dep,
                        f"{key} names deployment {dep!r} twice ({seen!r} and {dep!r}); Azure deployment "
                        "names are case-insensitive, keep one entry",
                    )
                )
    return out


def _undeclared(
    live: Mapping[str, int], mirror: Mapping[str, int], declared: Collection[str], declared_in: str
) -> list[TrafficProblem]:
    known_lower = {d.lower() for d in declared}
    known = ", ".join(sorted(declared)) or "none"
    where = f" {declared_in}" if declared_in else ""
    return [
        TrafficProblem(
            TrafficIssue.UNDECLARED,
            key,
            dep,
            f"{key} names deployment {dep!r}, which is not declared{where} (declared: {known})",
        )
        for key, shares in ((LIVE_KEY, live), (MIRROR_KEY, mirror))
        for dep in shares
        if str(dep).lower() not in known_lower
    ]


def _live_sum(live: Mapping[str, int], has_deployments: bool, may_be_idle: bool) -> list[TrafficProblem]:
    total = sum(v for v in live.values() if v)
    if has_deployments and total != 100 and not (may_be_idle and total == 0):
        rule = "Azure requires a total of 0 or 100" if may_be_idle else "it must sum to 100%"
        return [
            TrafficProblem(
                TrafficIssue.LIVE_SUM,
                LIVE_KEY,
                None,
                f"live traffic sums to {total}%; {rule}",
            )
        ]
    if not has_deployments and total:
        return [
            TrafficProblem(
                TrafficIssue.LIVE_WITHOUT_DEPLOYMENTS,
                LIVE_KEY,
                None,
                "traffic is set but the endpoint has no deployments; remove `traffic`",
            )
        ]
    return []


def _mirror_rules(live: Mapping[str, int], mirror: Mapping[str, int]) -> list[TrafficProblem]:
    mirrored = {k: v for k, v in mirror.items() if v}
    out: list[TrafficProblem] = []
    if len(mirrored) > 1:
        out.append(
            TrafficProblem(
                TrafficIssue.MIRROR_COUNT, MIRROR_KEY, None, "mirror_traffic may name only one deployment"
            )
        )
    for dep, pct in mirrored.items():
        if pct > MAX_MIRROR_PERCENT or pct < 0:
            out.append(
                TrafficProblem(
                    TrafficIssue.MIRROR_RANGE,
                    MIRROR_KEY,
                    dep,
                    f"mirror_traffic to {dep!r} is {pct}%; Azure allows 0-{MAX_MIRROR_PERCENT}%",
                )
            )
        if live.get(dep):
            out.append(
                TrafficProblem(
                    TrafficIssue.LIVE_AND_MIRRORED,
                    MIRROR_KEY,
                    dep,
                    f"deployment {dep!r} receives live traffic ({live[dep]}%) and mirror traffic; a "
                    "deployment can be live or mirrored, not both",
                )
            )
    return out


def _live_ranges(live: Mapping[str, int]) -> list[TrafficProblem]:
    return [
        TrafficProblem(TrafficIssue.LIVE_RANGE, LIVE_KEY, dep, f"traffic to {dep!r} is {pct}%; use 0-100")
        for dep, pct in live.items()
        if pct < 0 or pct > 100
    ]


@dataclass(frozen=True)
class Traffic:
    live: dict[str, int] = field(default_factory=dict)
    mirror: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, live: Mapping[str, Any] | None, mirror: Mapping[str, Any] | None = None) -> Traffic:
        return cls(normalise_map(live), normalise_map(mirror))

    def serving(self) -> set[str]:
        """Deployments that receive requests (live or mirrored)."""
        return set(self.live) | set(self.mirror)

    def share(self, deployment: str) -> int:
        d = deployment.lower()
        return self.live.get(d, 0) or self.mirror.get(d, 0)

    def problems(self, declared: Collection[str], rules: TrafficRules | None = None) -> list[TrafficProblem]:
        """:func:`check_traffic` on this (normalised) split."""
        return check_traffic(self.live, self.mirror, declared, rules)
