"""The traffic rules shared by desired validation and the local target, table-driven."""

from __future__ import annotations

import pytest

from gitops.model.traffic import (
    LIVE_KEY,
    MAX_MIRROR_PERCENT,
    MIRROR_KEY,
    Traffic,
    TrafficIssue,
    TrafficRules,
    check_traffic,
    normalise_map,
    wanted,
)

DECLARED = ("blue", "green")

# (case, live, mirror, declared, rules, expected problems as (issue, key, deployment))
CASES = [
    ("all on one", {"blue": 100}, {}, DECLARED, None, []),
    ("split", {"blue": 90, "green": 10}, {}, DECLARED, None, []),
    ("mirror within limit", {"blue": 100}, {"green": MAX_MIRROR_PERCENT}, DECLARED, None, []),
    ("zero mirror ignored", {"blue": 100}, {"green": 0}, DECLARED, None, []),
    ("names compare case-insensitively", {"Blue": 100}, {}, DECLARED, None, []),
    ("no deployments, no traffic", {}, {}, (), None, []),
    (
        "sum short of 100",
        {"blue": 60, "green": 30},
        {},
        DECLARED,
        None,
        [(TrafficIssue.LIVE_SUM, LIVE_KEY, None)],
    ),
    # Azure: "Total traffic has to either be 0 or sum up to 100" (reference-yaml-endpoint-online).
    ("all zero with deployments: Azure's 0", {"blue": 0}, {}, DECLARED, None, []),
    ("empty map with deployments: Azure's 0", {}, {}, DECLARED, None, []),
    (
        "strict rules demand 100",
        {"blue": 0},
        {},
        DECLARED,
        TrafficRules(may_be_idle=False),
        [(TrafficIssue.LIVE_SUM, LIVE_KEY, None)],
    ),
    (
        "idle allowed still needs 100 when serving",
        {"blue": 50},
        {},
        DECLARED,
        TrafficRules(may_be_idle=True),
        [(TrafficIssue.LIVE_SUM, LIVE_KEY, None)],
    ),
    (
        "fractions are not integers, and the sum is not checked",
        {"blue": 87.5, "green": 12.5},
        {},
        DECLARED,
        None,
        [(TrafficIssue.NOT_INTEGER, LIVE_KEY, "blue"), (TrafficIssue.NOT_INTEGER, LIVE_KEY, "green")],
    ),
    (
        "a whole float is still not an integer",
        {"blue": 100.0},
        {},
        DECLARED,
        None,
        [(TrafficIssue.NOT_INTEGER, LIVE_KEY, "blue")],
    ),
    ("a string share", {"blue": "100"}, {}, DECLARED, None, [(TrafficIssue.NOT_INTEGER, LIVE_KEY, "blue")]),
    ("a boolean share", {"blue": True}, {}, DECLARED, None, [(TrafficIssue.NOT_INTEGER, LIVE_KEY, "blue")]),
    (
        "a fractional mirror",
        {"blue": 100},
        {"green": 2.5},
        DECLARED,
        None,
        [(TrafficIssue.NOT_INTEGER, MIRROR_KEY, "green")],
    ),
    (
        "one deployment twice, in two spellings",
        {"blue": 50, "Blue": 50},
        {},
        DECLARED,
        None,
        [(TrafficIssue.DUPLICATE, LIVE_KEY, "Blue")],
    ),
    (
        "traffic without deployments",
        {"blue": 100},
        {},
        (),
        None,
        [
            (TrafficIssue.UNDECLARED, LIVE_KEY, "blue"),
            (TrafficIssue.LIVE_WITHOUT_DEPLOYMENTS, LIVE_KEY, None),
        ],
    ),
    (
        "undeclared at zero is still undeclared",
        {"blue": 100, "ghost": 0},
        {},
        DECLARED,
        None,
        [(TrafficIssue.UNDECLARED, LIVE_KEY, "ghost")],
    ),
    (
        "undeclared mirror",
        {"blue": 100},
        {"ghost": 10},
        DECLARED,
        None,
        [(TrafficIssue.UNDECLARED, MIRROR_KEY, "ghost")],
    ),
    (
        "share above 100",
        {"blue": 150, "green": -50},
        {},
        DECLARED,
        None,
        [(TrafficIssue.LIVE_RANGE, LIVE_KEY, "blue"), (TrafficIssue.LIVE_RANGE, LIVE_KEY, "green")],
    ),
    (
        "mirror above the limit",
        {"blue": 100},
        {"green": MAX_MIRROR_PERCENT + 1},
        DECLARED,
        None,
        [(TrafficIssue.MIRROR_RANGE, MIRROR_KEY, "green")],
    ),
    (
        "negative mirror",
        {"blue": 100},
        {"green": -5},
        DECLARED,
        None,
        [(TrafficIssue.MIRROR_RANGE, MIRROR_KEY, "green")],
    ),
    (
        "two mirrored",
        {"blue": 100},
        {"green": 10, "red": 10},
        (*DECLARED, "red"),
        None,
        [(TrafficIssue.MIRROR_COUNT, MIRROR_KEY, None)],
    ),
    (
        "live and mirrored",
        {"blue": 50, "green": 50},
        {"green": 10},
        DECLARED,
        None,
        [(TrafficIssue.LIVE_AND_MIRRORED, MIRROR_KEY, "green")],
    ),
]


@pytest.mark.parametrize(
    ("live", "mirror", "declared", "rules", "expected"),
    [pytest.param(*c[1:], id=c[0]) for c in CASES],
)
def test_check_traffic(live, mirror, declared, rules, expected) -> None:
    problems = check_traffic(live, mirror, declared, rules)
    assert [(p.issue, p.key, p.deployment) for p in problems] == expected


@pytest.mark.parametrize(
    ("live", "mirror", "declared", "rules", "message"),
    [
        (
            {"blue": 60, "ghost": 30},
            {},
            DECLARED,
            TrafficRules(declared_in="under endpoints/shop/deployments/"),
            "traffic names deployment 'ghost', which is not declared under endpoints/shop/deployments/ "
            "(declared: blue, green)",
        ),
        (
            {"blue": 90},
            {},
            DECLARED,
            None,
            "live traffic sums to 90%; Azure requires a total of 0 or 100",
        ),
        (
            {"blue": 90},
            {},
            DECLARED,
            TrafficRules(may_be_idle=False),
            "live traffic sums to 90%; it must sum to 100%",
        ),
        (
            {"blue": 87.5, "green": 12.5},
            {},
            DECLARED,
            None,
            "traffic to 'blue' is 87.5, not an integer; Azure takes whole percentages (0-100)",
        ),
        (
            {"blue": 50, "BLUE": 50},
            {},
            DECLARED,
            None,
            "traffic names deployment 'BLUE' twice ('blue' and 'BLUE'); Azure deployment names are "
            "case-insensitive, keep one entry",
        ),
        ({"blue": 100}, {}, (), None, "traffic is set but the endpoint has no deployments; remove `traffic`"),
        (
            {"blue": 100},
            {"green": 70},
            DECLARED,
            None,
            "mirror_traffic to 'green' is 70%; Azure allows 0-50%",
        ),
        (
            {"blue": 60, "green": 40},
            {"blue": 10},
            DECLARED,
            None,
            "deployment 'blue' receives live traffic (60%) and mirror traffic; a deployment can be live "
            "or mirrored, not both",
        ),
        ({"blue": 100, "green": 101}, {}, DECLARED, None, "traffic to 'green' is 101%; use 0-100"),
        (
            {"blue": 100},
            {"x": 1, "y": 1},
            ("blue", "x", "y"),
            None,
            "mirror_traffic may name only one deployment",
        ),
        (
            {},
            {"blue": 1},
            (),
            None,
            "mirror_traffic names deployment 'blue', which is not declared (declared: none)",
        ),
    ],
)
def test_messages(live, mirror, declared, rules, message) -> None:
    assert message in [p.message for p in check_traffic(live, mirror, declared, rules)]


def test_traffic_value_is_normalised_and_checks_itself() -> None:
    t = Traffic.of({"Blue": 90, "Green": 10, "red": 0}, {"Canary": 5})
    assert t == Traffic({"blue": 90, "green": 10}, {"canary": 5})
    assert t.serving() == {"blue", "green", "canary"}
    assert [t.share(d) for d in ("GREEN", "canary", "red")] == [10, 5, 0]
    assert t.problems(["blue", "green", "canary"]) == []
    assert [p.issue for p in t.problems(["blue", "green"])] == [TrafficIssue.UNDECLARED]
    assert normalise_map(None) == {}


@pytest.mark.parametrize(
    ("declared", "live", "expected"),
    [
        (None, {"Blue": 100, "green": 0}, {"blue": 100}),  # not declared: left as it is
        (None, None, {}),  # not declared, nothing live (a new endpoint): nothing
        ({}, {"blue": 100}, {}),  # declared empty: git wants 0 (Azure's "0")
        ({"green": 100}, {"blue": 100}, {"green": 100}),
    ],
)
def test_wanted_keeps_what_git_does_not_declare(declared, live, expected) -> None:
    assert wanted(declared, live) == expected
