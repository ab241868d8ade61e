"""Write the bad-input corpus: one folder per defect, each a small environment derived from one valid base.

Why generated: a hundred hand-edited copies drift apart and nobody can tell which line is the defect.
Here the base is written once, each case is one named edit of it, and the expected file, line and
words of the message are computed from the edited text, so a reviewer reads the edit and its
expectation side by side. The generated folders are committed too (binary cases included, written as
bytes), so `git diff` shows what a change to this script did to the corpus.

Run from anywhere: ``.venv/bin/python tests/bad_inputs/make_cases.py``. It rewrites every folder that
holds an ``expect.yaml`` (and ``valid-base/``), and nothing else.

Cases too large to commit (the size cap) carry ``grow:`` in expect.yaml: the runner copies the case to
a temporary folder and pads the named file to the given size before validating.
"""

from __future__ import annotations

import gzip
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
BASE_NAME = "valid-base"

EP = "endpoints/credit-default/endpoint.yml"
BLUE = "endpoints/credit-default/deployments/blue.yml"
GREEN = "endpoints/credit-default/deployments/green.yml"
CHURN_EP = "endpoints/churn-score/endpoint.yml"
MAIN = "endpoints/churn-score/deployments/main.yml"
MON = "monitors/credit-default-blue.yml"
ENV = "environment.yaml"


@dataclass(frozen=True)
class Link:
    """A symbolic link (committed as a link; git stores its target text)."""

    target: str


Tree = dict[str, "bytes | Link | None"]  # None: an empty directory

_DEPLOYMENT = """\
$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json
name: {name}
endpoint_name: {endpoint}
model: azureml:{model}
code_configuration:
  code: azureml:{code}
  scoring_script: score.py
environment: azureml:sklearn-inference:12
instance_type: Standard_DS3_v2
instance_count: 2
egress_public_network_access: disabled
app_insights_enabled: true
request_settings:
  request_timeout_ms: 3000
data_collector:
  collections:
    model_inputs:
      enabled: "true"
    model_outputs:
      enabled: "true"
"""

_ENDPOINT = """\
$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineEndpoint.schema.json
name: {name}
description: {description}
auth_mode: aad_token
public_network_access: disabled
traffic:
{traffic}"""

BASE_TEXT: dict[str, str] = {
    ENV: """\
# A prod-like environment: pinned versions required, private endpoints.
target: azureml
subscription_id: 11111111-1111-1111-1111-111111111111
resource_group: rg-mlops-prod
workspace: mlw-mlops-prod
prune: true
require_pinned_versions: true
apply:
  concurrency: 4
  deployment_timeout_minutes: 60
tags:
  cost-center: ml-platform
""",
    EP: _ENDPOINT.format(
        name="credit-default", description="Credit default risk scoring", traffic="  blue: 90\n  green: 10\n"
    ),
    BLUE: _DEPLOYMENT.format(
        name="blue", endpoint="credit-default", model="credit-default-model:6", code="credit-default-score:3"
    ),
    GREEN: _DEPLOYMENT.format(
        name="green", endpoint="credit-default", model="credit-default-model:7", code="credit-default-score:3"
    ),
    CHURN_EP: _ENDPOINT.format(
        name="churn-score", description="Customer churn propensity", traffic="  main: 100\n"
    ),
    MAIN: _DEPLOYMENT.format(
        name="main", endpoint="churn-score", model="churn-model:3", code="churn-score:1"
    ),
    MON: """\
$schema: http://azureml/sdk-2-0/Schedule.json
name: credit-default-blue-monitor
trigger:
  type: recurrence
  frequency: day
  interval: 1
  schedule:
    hours: 3
    minutes: 15
create_monitor:
  compute:
    instance_type: standard_e4s_v3
    runtime_version: "3.4"
  monitoring_target:
    ml_task: classification
    endpoint_deployment_id: azureml:credit-default:blue
  alert_notification:
    emails:
      - ml-oncall@example.com
""",
}


def base_tree() -> Tree:
    return {k: v.encode() for k, v in BASE_TEXT.items()}


@dataclass
class Case:
    name: str
    defect: str
    file: str
    words: list[str]  # each word must appear (case-insensitive); "a|b" accepts either
    edit: Callable[[Tree], None]
    line: int | str | None = None  # int, or a needle whose (nth) line in the edited file is meant
    nth: int = 1
    feature: str = "existing check"  # the issue 14 feature that makes this case pass
    valid: bool = False  # a case that must validate (BOM, aliases used sensibly)
    grow: dict[str, Any] | None = None
    also: tuple[str, ...] = ()  # other files the message may be reported against (one of two clashing)
    max_errors: int | None = None  # one line per cause: no knock-on messages


def text(tree: Tree, path: str) -> str:
    data = tree[path]
    assert isinstance(data, bytes)
    return data.decode("utf-8", errors="replace")


def sub(path: str, old: str, new: str, count: int = 1) -> Callable[[Tree], None]:
    """Replace ``old`` by ``new`` in one file (the edit must apply: a stale needle is a script bug)."""

    def edit(tree: Tree) -> None:
        s = text(tree, path)
        if old not in s:
            raise SystemExit(f"make_cases: {old!r} not found in {path}")
        tree[path] = s.replace(old, new, count).encode()

    return edit


def put(path: str, data: bytes | str | Link | None) -> Callable[[Tree], None]:
    def edit(tree: Tree) -> None:
        tree[path] = data.encode() if isinstance(data, str) else data

    return edit


def drop(path: str) -> Callable[[Tree], None]:
    def edit(tree: Tree) -> None:
        del tree[path]

    return edit


def raw(path: str, old: bytes, new: bytes) -> Callable[[Tree], None]:
    def edit(tree: Tree) -> None:
        data = tree[path]
        assert isinstance(data, bytes)
        if old not in data:
            raise SystemExit(f"make_cases: {old!r} not found in {path}")
        tree[path] = data.replace(old, new, 1)

    return edit


def each(*edits: Callable[[Tree], None]) -> Callable[[Tree], None]:
    def edit(tree: Tree) -> None:
        for e in edits:
            e(tree)

    return edit


def rename(old: str, new: str) -> Callable[[Tree], None]:
    def edit(tree: Tree) -> None:
        for k in [k for k in tree if k == old or k.startswith(old + "/")]:
            tree[new + k[len(old) :]] = tree.pop(k)

    return edit


LAUGHS = "".join(
    [
        "lol0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n",
        *(
            f"lol{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, "
            f"*a{i - 1}, *a{i - 1}, *a{i - 1}]\n"
            for i in range(1, 10)
        ),
    ]
)
DEEP = "[" * 5000 + "]" * 5000


def _bytes_cases() -> list[Case]:
    return [
        Case(
            "latin1-endpoint-description",
            "endpoint description saved as Latin-1 (é as 0xE9)",
            EP,
            ["UTF-8"],
            raw(EP, b"Credit default", "Crédit default".encode("latin-1")),
            line=3,
            feature="safe loader: encodings",
        ),
        Case(
            "cp1252-deployment-quotes",
            "smart quotes saved as cp1252 (0x93/0x94) in a deployment comment",
            BLUE,
            ["UTF-8"],
            raw(BLUE, b"instance_count: 2\n", "instance_count: 2  # “two”\n".encode("cp1252")),
            line="instance_count",
            feature="safe loader: encodings",
        ),
        Case(
            "latin1-environment-tag",
            "environment.yaml tag value in Latin-1 (ü as 0xFC)",
            ENV,
            ["UTF-8"],
            raw(ENV, b"ml-platform", "ml-plattform-zürich".encode("latin-1")),
            line="cost-center",
            feature="safe loader: encodings",
        ),
        Case(
            "latin1-monitor-email",
            "monitor e-mail address with a Latin-1 byte",
            MON,
            ["UTF-8"],
            raw(MON, b"ml-oncall", "ml-oncäll".encode("latin-1")),
            line="ml-onc",
            feature="safe loader: encodings",
        ),
        Case(
            "cp1252-rollout-euro",
            "rollout.yml comment with a cp1252 euro sign (0x80)",
            "endpoints/credit-default/rollout.yml",
            ["UTF-8"],
            put(
                "endpoints/credit-default/rollout.yml",
                "steps:\n  - {weight: 10, duration: 30m}  # costs 5 € a day\n".encode("cp1252"),
            ),
            line=2,
            feature="safe loader: encodings",
        ),
        Case(
            "truncated-utf8-sequence",
            "file ends in the middle of a UTF-8 sequence (0xC3)",
            GREEN,
            ["UTF-8"],
            raw(GREEN, b'enabled: "true"\n', b'enabled: "true"\n# caf\xc3'),
            line="caf",
            feature="safe loader: encodings",
        ),
        Case(
            "utf16-endpoint",
            "endpoint.yml saved as UTF-16 with a BOM",
            CHURN_EP,
            ["UTF-8|UTF-16"],
            lambda t: t.__setitem__(CHURN_EP, text(t, CHURN_EP).encode("utf-16")),
            line=1,
            feature="safe loader: encodings",
        ),
        Case(
            "nul-in-endpoint",
            "a NUL byte inside the endpoint description",
            EP,
            ["U+0000|NUL"],
            raw(EP, b"risk scoring", b"risk\x00scoring"),
            line=3,
            feature="safe loader: NUL",
        ),
        Case(
            "nul-in-deployment",
            "a NUL byte at the end of a deployment line",
            BLUE,
            ["U+0000|NUL"],
            raw(BLUE, b"instance_type: Standard_DS3_v2", b"instance_type: Standard_DS3_v2\x00"),
            line="instance_type",
            feature="safe loader: NUL",
        ),
        Case(
            "nul-in-environment",
            "environment.yaml padded with NUL bytes (a bad editor save)",
            ENV,
            ["U+0000|NUL|not a text file|binary"],
            lambda t: t.__setitem__(ENV, t[ENV] + b"\x00" * 64),  # type: ignore[operator]
            feature="safe loader: NUL",
        ),
        Case(
            "escape-char-in-monitor",
            "an ESC control character (0x1B) in the monitor name",
            MON,
            ["U+001B|control"],
            raw(MON, b"name: credit-default-blue-monitor", b"name: credit-default-blue-monitor\x1b[0m"),
            line="name:",
            feature="safe loader: control characters",
        ),
        Case(
            "gzip-deployment",
            "a gzip file committed as green.yml",
            GREEN,
            ["text|binary|gzip"],
            lambda t: t.__setitem__(GREEN, gzip.compress(t[GREEN], mtime=0)),  # type: ignore[arg-type]
            line=1,
            feature="safe loader: binary files",
        ),
        Case(
            "gzip-environment",
            "a gzip file committed as environment.yaml",
            ENV,
            ["text|binary|gzip"],
            lambda t: t.__setitem__(ENV, gzip.compress(t[ENV], mtime=0)),  # type: ignore[arg-type]
            line=1,
            feature="safe loader: binary files",
        ),
        Case(
            "png-as-monitor",
            "an image committed as a monitor file",
            MON,
            ["text|binary|UTF-8"],
            put(MON, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01"),
            line=1,
            feature="safe loader: binary files",
        ),
        Case(
            "bom-endpoint",
            "UTF-8 BOM at the start of endpoint.yml (valid: editors write it)",
            EP,
            [],
            lambda t: t.__setitem__(EP, b"\xef\xbb\xbf" + t[EP]),  # type: ignore[operator]
            valid=True,
            feature="safe loader: BOM accepted",
        ),
        Case(
            "bom-every-file",
            "UTF-8 BOM at the start of every file (valid)",
            ENV,
            [],
            lambda t: t.update({k: b"\xef\xbb\xbf" + v for k, v in t.items() if isinstance(v, bytes)}),
            valid=True,
            feature="safe loader: BOM accepted",
        ),
        Case(
            "crlf-line-ends",
            "Windows line ends in every file (valid)",
            ENV,
            [],
            lambda t: t.update({k: v.replace(b"\n", b"\r\n") for k, v in t.items() if isinstance(v, bytes)}),
            valid=True,
            feature="safe loader",
        ),
    ]


def _alias_cases() -> list[Case]:
    return [
        Case(
            "alias-self-reference",
            "an anchor whose value refers to itself",
            EP,
            ["alias|anchor|recurs"],
            sub(EP, "auth_mode: aad_token\n", "auth_mode: aad_token\ntags: &t\n  self: *t\n"),
            line="self:",
            feature="safe loader: alias budget (no recursion)",
        ),
        Case(
            "alias-self-reference-list",
            "a sequence that contains itself",
            BLUE,
            ["alias|anchor|recurs"],
            sub(BLUE, "app_insights_enabled: true\n", "app_insights_enabled: true\ntags: &l [*l]\n"),
            line="tags:",
            feature="safe loader: alias budget (no recursion)",
        ),
        Case(
            "billion-laughs-endpoint",
            "a 1 KB billion-laughs document in endpoint.yml",
            EP,
            ["expand|alias|nodes"],
            sub(EP, "auth_mode: aad_token\n", "auth_mode: aad_token\n" + LAUGHS),
            feature="safe loader: alias budget",
        ),
        Case(
            "billion-laughs-environment",
            "billion laughs in environment.yaml",
            ENV,
            ["expand|alias|nodes"],
            lambda t: t.__setitem__(ENV, t[ENV] + LAUGHS.encode()),  # type: ignore[operator]
            feature="safe loader: alias budget",
        ),
        Case(
            "billion-laughs-monitor",
            "billion laughs in a monitor's properties",
            MON,
            ["expand|alias|nodes"],
            lambda t: t.__setitem__(MON, t[MON] + LAUGHS.encode()),  # type: ignore[operator]
            feature="safe loader: alias budget",
        ),
        Case(
            "deep-nesting",
            "a value nested 5000 levels deep",
            GREEN,
            ["nest|deep|depth"],
            lambda t: t.__setitem__(GREEN, t[GREEN] + f"tags: {DEEP}\n".encode()),  # type: ignore[operator]
            feature="safe loader: nesting depth",
        ),
        Case(
            "deep-nesting-block",
            "block mappings nested 100 levels deep",
            MAIN,
            ["nest|deep|depth"],
            lambda t: t.__setitem__(
                MAIN,
                t[MAIN]
                + (  # type: ignore[operator]
                    "tags:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(100)) + "  " * 101 + "x\n"
                ).encode(),
            ),
            feature="safe loader: nesting depth",
        ),
        Case(
            "alias-undefined",
            "an alias to an anchor that does not exist",
            BLUE,
            ["alias|anchor"],
            sub(BLUE, "instance_count: 2", "instance_count: *count"),
            line="instance_count",
            feature="existing check",
        ),
        Case(
            "alias-collections-valid",
            "one anchor reused for both data collections (valid)",
            BLUE,
            [],
            each(
                sub(BLUE, 'model_inputs:\n      enabled: "true"', 'model_inputs: &on\n      enabled: "true"'),
                sub(BLUE, 'model_outputs:\n      enabled: "true"\n', "model_outputs: *on\n"),
            ),
            valid=True,
            feature="safe loader: aliases allowed",
        ),
        Case(
            "merge-key-valid",
            "request settings merged from an anchor within the same mapping (valid)",
            BLUE,
            [],
            sub(
                BLUE,
                "request_settings:\n  request_timeout_ms: 3000\n",
                "request_settings:\n  <<: {request_timeout_ms: 3000}\n",
            ),
            valid=True,
            feature="safe loader: merge keys",
        ),
    ]


def _dup(
    path: str, after: str, dup: str, name: str, defect: str, *, feature: str = "safe loader: duplicate keys"
) -> Case:
    return Case(
        name,
        defect,
        path,
        ["duplicate"],
        sub(path, after, after + dup),
        line=dup.rstrip("\n"),
        feature=feature,
    )


def _duplicate_cases() -> list[Case]:
    return [
        Case(
            "dup-traffic-key",
            "two `traffic:` keys after a bad merge (last one silently won)",
            EP,
            ["duplicate", "traffic"],
            lambda t: t.__setitem__(EP, t[EP] + b"traffic:\n  blue: 10\n  green: 90\n"),  # type: ignore[operator]
            line="traffic:",
            nth=2,
            feature="safe loader: duplicate keys",
        ),
        _dup(
            BLUE,
            "model: azureml:credit-default-model:6\n",
            "model: azureml:credit-default-model:7\n",
            "dup-model-key",
            "two `model:` keys in one deployment",
        ),
        Case(
            "dup-traffic-map-key",
            "`blue` twice in the traffic map",
            EP,
            ["duplicate", "blue"],
            sub(EP, "  green: 10\n", "  green: 10\n  blue: 0\n"),
            line="blue:",
            nth=2,
            feature="safe loader: duplicate keys",
        ),
        Case(
            "dup-traffic-flow-key",
            "`blue` twice in a flow-style traffic map",
            CHURN_EP,
            ["duplicate"],
            sub(CHURN_EP, "traffic:\n  main: 100\n", "traffic: {main: 100, main: 0}\n"),
            line="traffic:",
            feature="safe loader: duplicate keys",
        ),
        _dup(
            BLUE, "instance_count: 2\n", "instance_count: 1\n", "dup-instance-count", "instance_count twice"
        ),
        _dup(
            GREEN, "name: green\n", "name: blue\n", "dup-deployment-name", "two `name:` keys in a deployment"
        ),
        _dup(
            ENV,
            "require_pinned_versions: true\n",
            "require_pinned_versions: false\n",
            "dup-pinning-flag",
            "require_pinned_versions twice in environment.yaml (the last turned pinning off)",
        ),
        _dup(MON, "interval: 1\n", "  interval: 7\n", "dup-monitor-interval", "the trigger interval twice"),
        Case(
            "dup-collection-key",
            "model_inputs twice under data_collector.collections",
            MAIN,
            ["duplicate"],
            sub(
                MAIN,
                "    model_outputs:\n",
                '    model_inputs:\n      enabled: "false"\n    model_outputs:\n',
            ),
            line="model_inputs:",
            nth=2,
            feature="safe loader: duplicate keys",
        ),
        Case(
            "dup-key-quoted",
            "the same key once plain and once quoted",
            BLUE,
            ["duplicate"],
            sub(
                BLUE,
                "instance_type: Standard_DS3_v2\n",
                'instance_type: Standard_DS3_v2\n"instance_type": Standard_F2s_v2\n',
            ),
            line='"instance_type"',
            feature="safe loader: duplicate keys",
        ),
    ]


def _value_cases() -> list[Case]:
    v = "value rules"
    return [
        Case(
            "instance-count-zero",
            "instance_count 0",
            BLUE,
            ["instance_count"],
            sub(BLUE, "instance_count: 2", "instance_count: 0"),
            line="instance_count",
            feature=f"{v}: instance counts",
        ),
        Case(
            "instance-count-negative",
            "instance_count -1",
            BLUE,
            ["instance_count"],
            sub(BLUE, "instance_count: 2", "instance_count: -1"),
            line="instance_count",
            feature=f"{v}: instance counts",
        ),
        Case(
            "instance-count-fraction",
            "instance_count 2.5",
            BLUE,
            ["instance_count"],
            sub(BLUE, "instance_count: 2", "instance_count: 2.5"),
            line="instance_count",
            feature=f"{v}: instance counts",
        ),
        Case(
            "instance-count-bool",
            "instance_count yes (a YAML 1.1 boolean)",
            GREEN,
            ["instance_count"],
            sub(GREEN, "instance_count: 2", "instance_count: yes"),
            line="instance_count",
            feature=f"{v}: instance counts",
        ),
        Case(
            "instance-count-string",
            "instance_count 'two'",
            MAIN,
            ["instance_count"],
            sub(MAIN, "instance_count: 2", "instance_count: two"),
            line="instance_count",
            feature="existing check",
        ),
        Case(
            "deployment-without-model",
            "a deployment without `model`",
            BLUE,
            ["model"],
            sub(BLUE, "model: azureml:credit-default-model:6\n", ""),
            line=None,
            feature=f"{v}: required fields",
        ),
        Case(
            "deployment-without-instance-type",
            "a managed deployment without instance_type",
            GREEN,
            ["instance_type"],
            sub(GREEN, "instance_type: Standard_DS3_v2\n", ""),
            line=None,
            feature=f"{v}: required fields",
        ),
        Case(
            "traffic-fractional",
            "traffic 87.5 / 12.5 (sums to 100, but Azure takes integers)",
            EP,
            ["integer"],
            each(sub(EP, "blue: 90", "blue: 87.5"), sub(EP, "green: 10", "green: 12.5")),
            line="blue:",
            feature=f"{v}: integer traffic",
        ),
        Case(
            "traffic-string",
            "traffic 'ninety'",
            EP,
            ["integer|number"],
            sub(EP, "blue: 90", "blue: ninety"),
            line="blue:",
            feature=f"{v}: integer traffic",
        ),
        Case(
            "traffic-negative",
            "traffic -10 / 110",
            EP,
            ["0|100"],
            each(sub(EP, "blue: 90", "blue: 110"), sub(EP, "green: 10", "green: -10")),
            line=None,
            feature=f"{v}: integer traffic",
        ),
        Case(
            "traffic-null",
            "a traffic value left empty",
            EP,
            ["integer|number|traffic"],
            sub(EP, "green: 10", "green:"),
            line="green:",
            feature=f"{v}: integer traffic",
        ),
        Case("traffic-sum-99", "traffic sums to 99", EP, ["100"], sub(EP, "blue: 90", "blue: 89"), line=None),
        Case(
            "traffic-unknown-deployment",
            "traffic to a deployment that is not declared",
            EP,
            ["yellow"],
            sub(EP, "green: 10", "yellow: 10"),
            line="yellow",
        ),
        Case(
            "traffic-key-case",
            "traffic map keys `blue` and `Blue`",
            EP,
            ["blue"],
            sub(EP, "green: 10", "green: 10\n  Blue: 0"),
            line="Blue:",
            feature=f"{v}: case-insensitive uniqueness",
        ),
        Case(
            "mirror-over-50",
            "mirror_traffic 60 (Azure allows at most 50)",
            EP,
            ["50"],
            each(
                sub(EP, "blue: 90\n  green: 10\n", "blue: 100\n"),
                lambda t: t.__setitem__(EP, t[EP] + b"mirror_traffic:\n  green: 60\n"),
            ),  # type: ignore[operator]
            line="green:",
            feature=f"{v}: integer traffic",
        ),
        Case(
            "mirror-fractional",
            "mirror_traffic 10.5",
            EP,
            ["integer"],
            each(
                sub(EP, "blue: 90\n  green: 10\n", "blue: 100\n"),
                lambda t: t.__setitem__(EP, t[EP] + b"mirror_traffic:\n  green: 10.5\n"),
            ),  # type: ignore[operator]
            line="green:",
            feature=f"{v}: integer traffic",
        ),
        Case(
            "cron-hour-25",
            "monitor cron `15 25 * * *`",
            MON,
            ["25|hour"],
            sub(
                MON,
                "  type: recurrence\n  frequency: day\n  interval: 1\n  schedule:\n    hours: 3\n    minutes: 15\n",
                '  type: cron\n  expression: "15 25 * * *"\n',
            ),
            line="expression",
            feature=f"{v}: schedule ranges",
        ),
        Case(
            "cron-minute-61",
            "monitor cron `61 3 * * *`",
            MON,
            ["61|minute"],
            sub(
                MON,
                "  type: recurrence\n  frequency: day\n  interval: 1\n  schedule:\n    hours: 3\n    minutes: 15\n",
                '  type: cron\n  expression: "61 3 * * *"\n',
            ),
            line="expression",
            feature=f"{v}: schedule ranges",
        ),
        Case(
            "cron-four-fields",
            "monitor cron with four fields",
            MON,
            ["cron|field"],
            sub(
                MON,
                "  type: recurrence\n  frequency: day\n  interval: 1\n  schedule:\n    hours: 3\n    minutes: 15\n",
                '  type: cron\n  expression: "15 3 * *"\n',
            ),
            line="expression",
            feature=f"{v}: schedule ranges",
        ),
        Case(
            "recurrence-hours-27",
            "recurrence schedule hours 27",
            MON,
            ["27|hour"],
            sub(MON, "hours: 3", "hours: 27"),
            line="hours:",
            feature=f"{v}: schedule ranges",
        ),
        Case(
            "recurrence-minutes-60",
            "recurrence schedule minutes 60",
            MON,
            ["60|minute"],
            sub(MON, "minutes: 15", "minutes: 60"),
            line="minutes:",
            feature=f"{v}: schedule ranges",
        ),
        Case(
            "recurrence-interval-zero",
            "recurrence interval 0",
            MON,
            ["interval"],
            sub(MON, "interval: 1", "interval: 0"),
            line="interval:",
            feature=f"{v}: schedule ranges",
        ),
        Case(
            "recurrence-frequency-fortnight",
            "recurrence frequency 'fortnight'",
            MON,
            ["frequency|fortnight"],
            sub(MON, "frequency: day", "frequency: fortnight"),
            line="frequency",
        ),
        Case(
            "request-timeout-zero",
            "request_timeout_ms 0",
            BLUE,
            ["request_timeout_ms|timeout"],
            sub(BLUE, "request_timeout_ms: 3000", "request_timeout_ms: 0"),
            line="request_timeout_ms",
            feature=f"{v}: request settings",
        ),
        Case(
            "endpoint-names-case",
            "endpoints `churn-score` and `Churn-Score` (Azure names are case-insensitive)",
            "endpoints/Churn-Score/endpoint.yml",
            ["churn-score"],
            each(
                put(
                    "endpoints/Churn-Score/endpoint.yml",
                    BASE_TEXT[CHURN_EP].replace("name: churn-score", "name: Churn-Score"),
                ),
                put(
                    "endpoints/Churn-Score/deployments/main.yml",
                    BASE_TEXT[MAIN].replace("endpoint_name: churn-score", "endpoint_name: Churn-Score"),
                ),
            ),
            line="name:",
            also=(CHURN_EP,),
            feature=f"{v}: case-insensitive uniqueness",
        ),
        Case(
            "deployment-file-case",
            "`Blue.yml` beside `blue.yml`",
            "endpoints/credit-default/deployments/Blue.yml",
            ["blue"],
            put(
                "endpoints/credit-default/deployments/Blue.yml",
                BASE_TEXT[BLUE].replace("name: blue", "name: Blue"),
            ),
            line="name:",
            max_errors=1,
            feature=f"{v}: case-insensitive uniqueness",
        ),
        Case(
            "monitor-names-case",
            "two monitors whose names differ only in case",
            "monitors/credit-default-blue-2.yml",
            ["credit-default-blue-monitor"],
            put(
                "monitors/credit-default-blue-2.yml",
                BASE_TEXT[MON].replace(
                    "name: credit-default-blue-monitor", "name: Credit-Default-Blue-Monitor"
                ),
            ),
            line="name:",
            also=(MON,),
            feature=f"{v}: case-insensitive uniqueness",
        ),
        Case(
            "endpoint-name-too-long",
            "an endpoint name of 33 characters",
            "endpoints/credit-default-risk-scoring-servic/endpoint.yml",
            ["name"],
            each(
                rename("endpoints/credit-default", "endpoints/credit-default-risk-scoring-servic"),
                lambda t: _retarget(t, "credit-default", "credit-default-risk-scoring-servic"),
            ),
            line="name:",
        ),
        Case(
            "endpoint-name-underscore",
            "an endpoint name with an underscore",
            "endpoints/credit_default/endpoint.yml",
            ["name"],
            each(
                rename("endpoints/credit-default", "endpoints/credit_default"),
                lambda t: _retarget(t, "credit-default", "credit_default"),
            ),
            line="name:",
        ),
        Case(
            "deployment-name-digit-first",
            "a deployment name starting with a digit",
            BLUE,
            ["name"],
            sub(BLUE, "name: blue", "name: 1blue"),
            line="name:",
        ),
    ]


def _retarget(tree: Tree, old: str, new: str) -> None:
    """Rename an endpoint everywhere it is named (folder renamed separately)."""
    for k, v in list(tree.items()):
        if isinstance(v, bytes):
            tree[k] = v.replace(f"name: {old}\n".encode(), f"name: {new}\n".encode()).replace(
                f"azureml:{old}:".encode(), f"azureml:{new}:".encode()
            )


def _pinning_cases() -> list[Case]:
    p = "prod pinning"
    return [
        Case(
            "pin-model-labels-latest",
            "model from a registry by labels/latest",
            BLUE,
            ["latest"],
            sub(
                BLUE,
                "model: azureml:credit-default-model:6",
                "model: azureml://registries/azureml/models/credit-default-model/labels/latest",
            ),
            line="model:",
            feature=f"{p}: labels/latest",
        ),
        Case(
            "pin-environment-labels-latest",
            "environment from a registry by labels/latest",
            GREEN,
            ["latest"],
            sub(
                GREEN,
                "environment: azureml:sklearn-inference:12",
                "environment: azureml://registries/azureml/environments/sklearn-1.5/labels/latest",
            ),
            line="environment:",
            feature=f"{p}: labels/latest",
        ),
        Case(
            "pin-model-at-latest",
            "model `azureml:credit-default-model@latest`",
            BLUE,
            ["latest"],
            sub(BLUE, "model: azureml:credit-default-model:6", "model: azureml:credit-default-model@latest"),
            line="model:",
            feature=f"{p}: @latest",
        ),
        Case(
            "pin-environment-at-latest",
            "environment `azureml:sklearn-inference@latest`",
            MAIN,
            ["latest"],
            sub(
                MAIN,
                "environment: azureml:sklearn-inference:12",
                "environment: azureml:sklearn-inference@latest",
            ),
            line="environment:",
            feature=f"{p}: @latest",
        ),
        Case(
            "pin-code-at-latest",
            "code `azureml:credit-default-score@latest`",
            GREEN,
            ["latest"],
            sub(GREEN, "code: azureml:credit-default-score:3", "code: azureml:credit-default-score@latest"),
            line="code:",
            feature=f"{p}: @latest",
        ),
        Case(
            "pin-model-local-folder",
            "model given as an unversioned local folder",
            BLUE,
            ["model", "version"],
            each(
                sub(BLUE, "model: azureml:credit-default-model:6", "model:\n  path: ../model"),
                put("endpoints/credit-default/model/MLmodel", "flavors: {}\n"),
            ),
            line="model:",
            feature=f"{p}: local model folder",
        ),
        Case(
            "pin-model-local-string",
            "model given as a bare local path string",
            GREEN,
            ["model"],
            each(
                sub(GREEN, "model: azureml:credit-default-model:7", "model: ../model"),
                put("endpoints/credit-default/model/MLmodel", "flavors: {}\n"),
            ),
            line="model:",
            feature=f"{p}: local model folder",
        ),
        Case(
            "pin-model-registry-no-version",
            "registry model reference without a version",
            MAIN,
            ["model"],
            sub(
                MAIN, "model: azureml:churn-model:3", "model: azureml://registries/shared/models/churn-model"
            ),
            line="model:",
            feature=f"{p}: registry references",
        ),
        Case(
            "pin-model-unversioned",
            "model `azureml:credit-default-model` (no version)",
            BLUE,
            ["model"],
            sub(BLUE, "model: azureml:credit-default-model:6", "model: azureml:credit-default-model"),
            line="model:",
        ),
        Case(
            "pin-environment-colon-latest",
            "environment `:latest`",
            GREEN,
            ["latest"],
            sub(
                GREEN,
                "environment: azureml:sklearn-inference:12",
                "environment: azureml:sklearn-inference:latest",
            ),
            line="environment:",
        ),
        Case(
            "pin-image-latest",
            "inline environment with an image tagged :latest",
            MAIN,
            ["latest"],
            sub(
                MAIN,
                "environment: azureml:sklearn-inference:12",
                "environment:\n  image: mcr.microsoft.com/azureml/minimal-ubuntu22.04-py39-cpu-inference:latest",
            ),
            line="image:",
            feature=f"{p}: image tags",
        ),
    ]


def _path_cases() -> list[Case]:
    f = "path checks"
    code_dir = "endpoints/credit-default/code"
    local_code = each(put(f"{code_dir}/score.py", "def init():\n    pass\n"))
    return [
        Case(
            "code-parent-escape",
            "`code: ../../../../etc` (apply would upload that folder)",
            BLUE,
            ["code|outside"],
            sub(BLUE, "code: azureml:credit-default-score:3", "code: ../../../../etc"),
            line="code:",
            feature=f"{f}: inside the repository",
        ),
        Case(
            "code-absolute",
            "`code: /etc` (an absolute path)",
            GREEN,
            ["code|outside|absolute"],
            sub(GREEN, "code: azureml:credit-default-score:3", "code: /etc"),
            line="code:",
            feature=f"{f}: inside the repository",
        ),
        Case(
            "code-missing-folder",
            "code folder that does not exist",
            GREEN,
            ["code|exist|not found"],
            sub(GREEN, "code: azureml:credit-default-score:3", "code: ../code"),
            line="code:",
            feature=f"{f}: paths resolve",
        ),
        Case(
            "code-symlink-outside",
            "code folder is a symlink to /etc",
            BLUE,
            ["outside|symlink|link"],
            each(
                sub(BLUE, "code: azureml:credit-default-score:3", "code: ../code"),
                put(code_dir, Link("/etc")),
            ),
            line="code:",
            feature=f"{f}: symlinks",
        ),
        Case(
            "code-symlink-out-of-env",
            "code folder is a symlink to another environment's folder",
            BLUE,
            ["outside|symlink|link"],
            each(
                sub(BLUE, "code: azureml:credit-default-score:3", "code: ../code"),
                put(code_dir, Link(f"../../../../{BASE_NAME}/endpoints/credit-default")),
            ),
            line="code:",
            feature=f"{f}: symlinks",
        ),
        Case(
            "code-file-not-folder",
            "code points at a file, not a folder",
            GREEN,
            ["code|folder|directory"],
            each(sub(GREEN, "code: azureml:credit-default-score:3", "code: ../code/score.py"), local_code),
            line="code:",
            feature=f"{f}: non-directories",
        ),
        Case(
            "scoring-script-escape",
            "scoring_script `../../../../setup.py`",
            GREEN,
            ["scoring_script|outside"],
            each(
                sub(GREEN, "code: azureml:credit-default-score:3", "code: ../code"),
                local_code,
                sub(GREEN, "scoring_script: score.py", "scoring_script: ../../../../setup.py"),
            ),
            line="scoring_script",
            feature=f"{f}: inside the environment",
        ),
        Case(
            "deployment-symlink-outside-env",
            "deployment file is a symlink into another environment",
            GREEN,
            ["symlink|link|outside"],
            put(GREEN, Link(f"../../../../{BASE_NAME}/{GREEN}")),
            line=None,
            feature=f"{f}: symlinks",
        ),
        Case(
            "endpoint-folder-symlink-outside",
            "endpoint folder is a symlink into another environment",
            "endpoints/churn-score",
            ["symlink|link|outside"],
            each(
                drop(CHURN_EP),
                drop(MAIN),
                put("endpoints/churn-score", Link(f"../../{BASE_NAME}/endpoints/churn-score")),
            ),
            line=None,
            feature=f"{f}: symlinks",
        ),
        Case(
            "monitors-symlink-outside",
            "the monitors folder is a symlink out of the environment",
            "monitors",
            ["symlink|link|outside"],
            each(drop(MON), put("monitors", Link(f"../{BASE_NAME}/monitors"))),
            line=None,
            feature=f"{f}: symlinks",
        ),
        Case(
            "symlink-loop-self",
            "an endpoint folder that is a symlink to itself",
            "endpoints/loop",
            ["loop|symlink|link"],
            put("endpoints/loop", Link("loop")),
            line=None,
            feature=f"{f}: symlink loops",
        ),
        Case(
            "symlink-loop-pair",
            "two deployment files linking to each other",
            "endpoints/credit-default/deployments/",
            ["loop|symlink|link"],
            each(
                put("endpoints/credit-default/deployments/a.yml", Link("b.yml")),
                put("endpoints/credit-default/deployments/b.yml", Link("a.yml")),
            ),
            line=None,
            feature=f"{f}: symlink loops",
        ),
        Case(
            "symlink-cycle-dir",
            "an endpoint folder linking back to endpoints/",
            "endpoints/again",
            ["loop|symlink|link|cycle"],
            put("endpoints/again", Link("../endpoints")),
            line=None,
            feature=f"{f}: symlink loops",
        ),
        Case(
            "symlink-dangling",
            "a deployment file that is a dangling symlink",
            "endpoints/credit-default/deployments/red.yml",
            ["symlink|link|exist"],
            put("endpoints/credit-default/deployments/red.yml", Link("gone.yml")),
            line=None,
            feature=f"{f}: symlinks",
        ),
        Case(
            "deployments-is-a-file",
            "a regular file named `deployments`",
            "endpoints/churn-score/deployments",
            ["deployments", "folder|directory"],
            each(drop(MAIN), put("endpoints/churn-score/deployments", BASE_TEXT[MAIN])),
            line=None,
            feature=f"{f}: non-directories",
        ),
        Case(
            "monitors-is-a-file",
            "a regular file named `monitors`",
            "monitors",
            ["monitors", "folder|directory"],
            each(drop(MON), put("monitors", BASE_TEXT[MON])),
            line=None,
            feature=f"{f}: non-directories",
        ),
        Case(
            "endpoints-is-a-file",
            "a regular file named `endpoints`",
            "endpoints",
            ["endpoints", "folder|directory"],
            lambda t: (
                [t.pop(k) for k in [k for k in t if k.startswith("endpoints/")]]
                + [t.update({"endpoints": BASE_TEXT[EP].encode()}), t.pop(MON)]
            ),
            line=None,
            feature=f"{f}: non-directories",
        ),
        Case(
            "endpoint-folder-without-endpoint",
            "an endpoint folder holding only deployments",
            "endpoints/fraud-score",
            ["endpoint.yml"],
            put(
                "endpoints/fraud-score/deployments/main.yml",
                BASE_TEXT[MAIN].replace("churn-score", "fraud-score"),
            ),
            line=None,
        ),
        Case(
            "monitor-data-outside",
            "a monitor's reference data path outside the environment",
            MON,
            ["path|outside"],
            sub(
                MON,
                "  alert_notification:",
                "  monitoring_signals:\n    drift:\n      type: data_drift\n      reference_data:\n"
                "        input_data:\n          path: ../../../../../etc/passwd\n          type: uri_file\n"
                "        data_context: training\n  alert_notification:",
            ),
            line="path:",
            feature=f"{f}: inside the repository",
        ),
        Case(
            "rollout-smoke-request-outside",
            "rollout smoke_test request file outside the repository",
            "endpoints/credit-default/rollout.yml",
            ["request|outside"],
            put(
                "endpoints/credit-default/rollout.yml",
                "steps:\n  - {weight: 10, duration: 30m}\nsmoke_test:\n  request: /etc/hostname\n",
            ),
            line="request:",
            feature=f"{f}: inside the repository",
        ),
    ]


def _template_cases() -> list[Case]:
    t = "safe loader: template placeholders"
    return [
        Case(
            "template-jinja-model",
            "an unrendered Jinja placeholder `{{ model }}`",
            BLUE,
            ["placeholder|template"],
            sub(BLUE, "model: azureml:credit-default-model:6", "model: {{ model }}"),
            line="model:",
            feature=t,
        ),
        Case(
            "template-jinja-quoted",
            "a quoted `{{ version }}` placeholder in the model reference",
            GREEN,
            ["placeholder|template|version"],
            sub(
                GREEN,
                "model: azureml:credit-default-model:7",
                'model: "azureml:credit-default-model:{{ version }}"',
            ),
            line="model:",
            feature=t,
        ),
        Case(
            "template-shell-var",
            "a `${WORKSPACE}` placeholder in environment.yaml",
            ENV,
            ["placeholder|template|workspace"],
            sub(ENV, "workspace: mlw-mlops-prod", "workspace: ${WORKSPACE}"),
            line="workspace:",
            feature=t,
        ),
        Case(
            "template-devops-token",
            "an Azure DevOps `#{ModelVersion}#` token",
            MAIN,
            ["placeholder|template|version"],
            sub(MAIN, "model: azureml:churn-model:3", "model: azureml:churn-model:#{ModelVersion}#"),
            line="model:",
            feature=t,
        ),
        Case(
            "template-subscription",
            "subscription_id left as `<subscription-id>`",
            ENV,
            ["subscription"],
            sub(
                ENV,
                "subscription_id: 11111111-1111-1111-1111-111111111111",
                "subscription_id: <subscription-id>",
            ),
            line="subscription_id",
        ),
    ]


def _ordinary_cases() -> list[Case]:
    return [
        Case(
            "unknown-field-deployment",
            "misspelt field `instance_cnt`",
            BLUE,
            ["instance_cnt"],
            sub(BLUE, "instance_count: 2", "instance_cnt: 2"),
            line="instance_cnt",
        ),
        Case(
            "unknown-field-endpoint",
            "unknown field `trafic`",
            EP,
            ["trafic"],
            sub(EP, "traffic:", "trafic:"),
            line="trafic",
        ),
        Case(
            "unknown-field-environment",
            "misspelt `require_pined_versions`",
            ENV,
            ["require_pined_versions"],
            sub(ENV, "require_pinned_versions", "require_pined_versions"),
            line="require_pined",
        ),
        Case(
            "unknown-field-monitor",
            "unknown field in the monitor trigger",
            MON,
            ["interva"],
            sub(MON, "interval: 1", "interva: 1"),
            line="interva",
        ),
        Case(
            "endpoint-name-differs-from-folder",
            "endpoint name differs from its folder",
            EP,
            ["credit-default"],
            sub(EP, "name: credit-default", "name: credit-risk"),
            line="name:",
        ),
        Case(
            "deployment-name-differs-from-file",
            "deployment name differs from its file",
            GREEN,
            ["green"],
            sub(GREEN, "name: green", "name: teal"),
            line="name:",
        ),
        Case(
            "missing-endpoint-name",
            "deployment without endpoint_name (two endpoints could be meant)",
            BLUE,
            ["endpoint_name"],
            sub(BLUE, "endpoint_name: credit-default\n", ""),
            line=None,
        ),
        Case(
            "wrong-endpoint-name",
            "deployment's endpoint_name names the other endpoint",
            GREEN,
            ["endpoint_name"],
            sub(GREEN, "endpoint_name: credit-default", "endpoint_name: churn-score"),
            line="endpoint_name",
        ),
        Case(
            "missing-deployment-name",
            "deployment without `name`",
            MAIN,
            ["name"],
            sub(MAIN, "name: main\n", ""),
            line=None,
        ),
        Case(
            "missing-endpoint-yml",
            "endpoint folder whose endpoint.yml was deleted",
            "endpoints/churn-score",
            ["endpoint.yml"],
            drop(CHURN_EP),
            line=None,
        ),
        Case(
            "yaml-bad-indent",
            "a key indented wrongly",
            BLUE,
            ["YAML"],
            sub(BLUE, "  scoring_script: score.py", "   scoring_script: score.py"),
            line="scoring_script",
        ),
        Case(
            "yaml-tab-indent",
            "a tab used for indentation",
            EP,
            ["YAML|tab"],
            sub(EP, "  green: 10", "\tgreen: 10"),
            line="green",
        ),
        Case(
            "yaml-unclosed-quote",
            "an unclosed quote",
            GREEN,
            ["YAML|quote|scalar"],
            sub(GREEN, 'model_outputs:\n      enabled: "true"', 'model_outputs:\n      enabled: "true'),
            line=None,
        ),
        Case(
            "yaml-merge-conflict",
            "git conflict markers left in the traffic map",
            EP,
            ["YAML|conflict"],
            sub(
                EP,
                "  blue: 90\n  green: 10\n",
                "<<<<<<< HEAD\n  blue: 90\n  green: 10\n=======\n  blue: 50\n  green: 50\n>>>>>>> canary\n",
            ),
            line=None,
        ),
        Case(
            "yaml-top-level-list",
            "a deployment file holding a list",
            MAIN,
            ["mapping"],
            lambda t: t.__setitem__(
                MAIN, b"- " + text(t, MAIN).replace("\n", "\n  ").rstrip().encode() + b"\n"
            ),
            line=1,
        ),
        Case(
            "yaml-scalar-document",
            "an endpoint file holding a single string",
            CHURN_EP,
            ["mapping"],
            put(CHURN_EP, "churn-score\n"),
            line=1,
        ),
        Case(
            "yaml-empty-deployment",
            "an empty deployment file",
            MAIN,
            ["mapping|empty"],
            put(MAIN, b""),
            line=None,
        ),
        Case(
            "yaml-two-documents",
            "two YAML documents in one endpoint file",
            CHURN_EP,
            ["document"],
            lambda t: t.__setitem__(CHURN_EP, t[CHURN_EP] + b"---\nname: churn-score-2\n"),  # type: ignore[operator]
            line=None,
        ),
        Case(
            "yaml-complex-key",
            "a mapping used as a key",
            EP,
            ["key"],
            sub(EP, "  green: 10\n", "  ? {green: 1}\n  : 10\n"),
            line=None,
        ),
        Case(
            "yaml-truncated",
            "a deployment file cut off mid-line",
            BLUE,
            ["YAML|mapping|data_collector|collections"],
            lambda t: t.__setitem__(BLUE, t[BLUE][: t[BLUE].index(b"data_collector") + 6]),  # type: ignore[index,union-attr]
            line=None,
        ),
        Case(
            "environment-missing-workspace",
            "environment.yaml without `workspace`",
            ENV,
            ["workspace"],
            sub(ENV, "workspace: mlw-mlops-prod\n", ""),
            line=None,
        ),
        Case(
            "environment-unknown-target",
            "target `aws`",
            ENV,
            ["target|aws"],
            sub(ENV, "target: azureml", "target: aws"),
            line="target:",
        ),
        Case(
            "environment-bad-subscription",
            "subscription_id not a GUID",
            ENV,
            ["subscription"],
            sub(ENV, "11111111-1111-1111-1111-111111111111", "my-subscription"),
            line="subscription_id",
        ),
        Case(
            "environment-concurrency-zero",
            "apply.concurrency 0",
            ENV,
            ["concurrency"],
            sub(ENV, "concurrency: 4", "concurrency: 0"),
            line="concurrency",
        ),
        Case(
            "environment-list",
            "environment.yaml holding a list",
            ENV,
            ["mapping|object|array"],
            put(ENV, "- target: azureml\n"),
            line=1,
        ),
        Case(
            "auth-mode-invalid",
            "auth_mode `password`",
            EP,
            ["auth_mode|password"],
            sub(EP, "auth_mode: aad_token", "auth_mode: password"),
            line="auth_mode",
        ),
        Case(
            "monitor-unknown-deployment",
            "monitor targeting a deployment that is not declared",
            MON,
            ["purple"],
            sub(MON, "azureml:credit-default:blue", "azureml:credit-default:purple"),
            line="endpoint_deployment_id",
        ),
        Case(
            "monitor-without-create-monitor",
            "a schedule without create_monitor",
            MON,
            ["create_monitor|monitor"],
            sub(MON, "create_monitor:", "create_job:"),
            line=None,
        ),
        Case(
            "monitor-name-twice",
            "two monitor files with the same name",
            "monitors/credit-default-blue-copy.yml",
            ["credit-default-blue-monitor"],
            put("monitors/credit-default-blue-copy.yml", BASE_TEXT[MON]),
            line="name:",
            also=(MON,),
        ),
        Case(
            "secret-in-environment-variables",
            "a committed secret in environment_variables",
            BLUE,
            ["secret|password"],
            sub(
                BLUE,
                "app_insights_enabled: true\n",
                "app_insights_enabled: true\nenvironment_variables:\n  DB_PASSWORD: hunter2-Secret-Value\n",
            ),
            line="DB_PASSWORD",
        ),
        Case(
            "reserved-tag",
            "the reserved tag mlops-managed-by set by hand",
            EP,
            ["managed-by"],
            sub(EP, "auth_mode: aad_token\n", "auth_mode: aad_token\ntags:\n  mlops-managed-by: someone\n"),
            line="managed-by",
        ),
        Case(
            "rollout-weight-150",
            "rollout step weight 150",
            "endpoints/credit-default/rollout.yml",
            ["150|weight"],
            put("endpoints/credit-default/rollout.yml", "steps:\n  - {weight: 150, duration: 30m}\n"),
            line=2,
        ),
        Case(
            "rollout-unknown-key",
            "rollout.yml with a misspelt `stepz`",
            "endpoints/credit-default/rollout.yml",
            ["stepz"],
            put("endpoints/credit-default/rollout.yml", "stepz:\n  - {weight: 10, duration: 30m}\n"),
            line=1,
        ),
        Case(
            "deployment-declared-twice",
            "a deployment copied to a second file with the same name",
            "endpoints/credit-default/deployments/green.yaml",
            ["green"],
            put("endpoints/credit-default/deployments/green.yaml", BASE_TEXT[GREEN]),
            line="name:",
            also=(GREEN,),
        ),
        Case(
            "non-string-traffic-key",
            "a traffic key that is a number",
            CHURN_EP,
            ["1|traffic|deployment"],
            sub(CHURN_EP, "  main: 100\n", "  main: 99\n  1: 1\n"),
            line="1:",
        ),
    ]


def _size_cases() -> list[Case]:
    s = "safe loader: size cap"
    return [
        Case(
            "size-5mb-deployment",
            "a 5 MB deployment (above ARM's 4 MB request limit)",
            BLUE,
            ["MB|limit|size"],
            lambda t: None,
            line=1,
            feature=s,
            grow={"file": BLUE, "to_bytes": 5_000_000},
        ),
        Case(
            "size-1p2mb-environment",
            "a 1.2 MB environment.yaml",
            ENV,
            ["MB|limit|size"],
            lambda t: None,
            line=1,
            feature=s,
            grow={"file": ENV, "to_bytes": 1_200_000},
        ),
    ]


def all_cases() -> list[Case]:
    cases = (
        _bytes_cases()
        + _alias_cases()
        + _duplicate_cases()
        + _value_cases()
        + _pinning_cases()
        + _path_cases()
        + _template_cases()
        + _ordinary_cases()
        + _size_cases()
    )
    names = [c.name for c in cases]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise SystemExit(f"make_cases: case names used twice: {sorted(dupes)}")
    return cases


def line_of(tree: Tree, path: str, needle: str, nth: int) -> int:
    data = tree.get(path)
    if not isinstance(data, bytes):
        raise SystemExit(f"make_cases: {path} is not a file of the case")
    seen = 0
    for i, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), start=1):
        if needle in line:
            seen += 1
            if seen == nth:
                return i
    raise SystemExit(f"make_cases: {needle!r} (occurrence {nth}) not in {path}")


def expectation(case: Case, tree: Tree) -> dict[str, Any]:
    line = line_of(tree, case.file, case.line, case.nth) if isinstance(case.line, str) else case.line
    out: dict[str, Any] = {"defect": case.defect, "feature": case.feature}
    if case.valid:
        out["valid"] = True
        return out
    out.update({"file": case.file, "line": line, "words": case.words})
    if case.also:
        out["also"] = list(case.also)
    if case.max_errors is not None:
        out["max_errors"] = case.max_errors
    if case.grow:
        out["grow"] = case.grow
    return out


def write_tree(folder: Path, tree: Tree) -> None:
    for rel, data in sorted(tree.items()):
        p = folder / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, Link):
            os.symlink(data.target, p)
        elif data is None:
            p.mkdir(exist_ok=True)
        else:
            p.write_bytes(data)


def _clear(folder: Path) -> None:
    if folder.is_symlink() or not folder.exists():
        return
    shutil.rmtree(folder)


def main() -> int:
    for old in HERE.iterdir():
        if (
            old.is_dir()
            and not old.is_symlink()
            and ((old / "expect.yaml").exists() or old.name == BASE_NAME)
        ):
            _clear(old)
    write_tree(HERE / BASE_NAME, base_tree())
    cases = all_cases()
    for case in cases:
        tree = base_tree()
        case.edit(tree)
        folder = HERE / case.name
        write_tree(folder, tree)
        (folder / "expect.yaml").write_text(
            yaml.safe_dump(expectation(case, tree), sort_keys=False, allow_unicode=True), encoding="utf-8"
        )
    bad = sum(not c.valid for c in cases)
    print(
        f"wrote {len(cases)} cases ({bad} one-defect, {len(cases) - bad} valid) and {BASE_NAME}/ under {HERE}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
