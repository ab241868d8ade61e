"""Ownership tags and user tags side by side (issue 13 item 6), table-driven: who owns what, what a
user may write in YAML, and that a resource tagged by an earlier version is still owned, compares
equal (no update just for the rename) and is pruned like any other."""

from __future__ import annotations

from pathlib import Path

import pytest
from planworld import converged, load, write_env

from gitops.desired.rules.tags import reserved_tags
from gitops.diff.normalize import user_tags
from gitops.model.tags import (
    MANAGED_BY_VALUE,
    TAG_ENVIRONMENT,
    TAG_MANAGED_BY,
    is_owned,
    migrated,
    ownership_tags,
)
from gitops.model.vocab import ActionKind
from gitops.plan import make_plan
from gitops.targets.base import CAP_MIRROR_TRAFFIC, CAP_MONITORS
from gitops.yamlmarks import load_yaml

LEGACY = {"managed-by": MANAGED_BY_VALUE, "environment": "dev"}


@pytest.mark.parametrize(
    ("tags", "env", "owned"),
    [
        (ownership_tags("dev"), "dev", True),
        (ownership_tags("dev", {"environment": "production"}), "dev", True),  # the user's own tag
        (ownership_tags("prod"), "dev", False),
        (LEGACY, "dev", True),  # written by an earlier version
        ({**LEGACY, "environment": "test"}, "dev", False),
        ({"managed-by": "pulumi", "environment": "dev"}, "dev", False),  # someone else's managed-by
        ({"environment": "dev"}, "dev", False),  # a user's tag alone owns nothing
        ({}, "dev", False),
    ],
)
def test_ownership(tags: dict[str, str], env: str, owned: bool) -> None:
    assert is_owned(tags, env) is owned


def test_user_environment_tag_coexists_with_ownership() -> None:
    tags = ownership_tags("dev", {"environment": "production", "owner": "risk", "project": "credit"})
    assert tags == {
        "environment": "production",
        "owner": "risk",
        "project": "credit",
        TAG_MANAGED_BY: MANAGED_BY_VALUE,
        TAG_ENVIRONMENT: "dev",
    }


def test_legacy_pair_reads_as_todays_keys() -> None:
    assert migrated({**LEGACY, "owner": "me"}) == {
        TAG_MANAGED_BY: MANAGED_BY_VALUE,
        TAG_ENVIRONMENT: "dev",
        "owner": "me",
    }
    assert user_tags({**LEGACY, "git-revision": "abc"}) == user_tags(ownership_tags("dev"))
    # Not ours: left exactly as it is.
    assert migrated({"managed-by": "pulumi", "environment": "dev"}) == {
        "managed-by": "pulumi",
        "environment": "dev",
    }


@pytest.mark.parametrize(
    ("yaml_tags", "expected"),
    [
        ("environment: production\n  owner: risk\n  project: credit\n", []),
        ("managed-by: terraform\n", []),
        ("mlops-environment: dev\n", ["tag `mlops-environment` is set by mlops (ownership tracking)"]),
        ("managed-by: mlops-gitops\n", ["is how earlier versions of mlops marked ownership"]),
        ("cost/center: x\n", ["tag name `cost/center` contains /, which Azure does not allow in tag names"]),
        ('"a<b": x\n', ["contains <, which Azure does not allow"]),
        ("k: " + "v" * 257 + "\n", ["has a value of 257 characters; Azure allows at most 256"]),
    ],
)
def test_yaml_tags(tmp_path: Path, yaml_tags: str, expected: list[str]) -> None:
    path = tmp_path / "endpoint.yml"
    path.write_text("name: shop\ntags:\n  " + yaml_tags)
    messages = [d.message for d in reserved_tags(load_yaml(path))]
    assert len(messages) == len(expected), messages
    for got, fragment in zip(messages, expected, strict=True):
        assert fragment in got


def test_too_many_tags(tmp_path: Path) -> None:
    path = tmp_path / "endpoint.yml"
    path.write_text("name: shop\ntags:\n" + "".join(f"  t{i}: v\n" for i in range(47)))
    (message,) = [d.message for d in reserved_tags(load_yaml(path))]
    assert "47 tags declared; Azure allows 50 per resource and mlops adds 4 of its own" in message


def _legacy_world(tmp_path: Path):
    desired = load(write_env(tmp_path))
    target = converged(desired)
    state = target.read_state()
    for ep in state.endpoints.values():
        for holder in (ep, ep.entity):
            holder.tags = {**{k: v for k, v in holder.tags.items() if not k.startswith("mlops-")}, **LEGACY}
        for dep in ep.deployments.values():
            spec = dep.tags.get("mlops-spec-hash")
            for holder in (dep, dep.entity):
                rest = {k: v for k, v in holder.tags.items() if not k.startswith("mlops-")}
                holder.tags = {**rest, **LEGACY, "mlops-spec-hash": spec}
    return desired, state


def test_resources_tagged_by_an_earlier_version_plan_no_changes(tmp_path: Path) -> None:
    desired, state = _legacy_world(tmp_path)
    plan = make_plan(desired, state, "fake", frozenset({CAP_MIRROR_TRAFFIC, CAP_MONITORS}))
    assert [a for a in plan.actions if a.kind is not ActionKind.UPDATE_MONITOR] == []


def test_resources_tagged_by_an_earlier_version_are_still_pruned(tmp_path: Path) -> None:
    desired, state = _legacy_world(tmp_path)
    shop = state.endpoints["shop"]
    shop.deployments["old"] = type(shop.deployments["green"])(
        "old", "shop", shop.deployments["green"].entity, tags=dict(LEGACY)
    )
    plan = make_plan(desired, state, "fake", frozenset({CAP_MIRROR_TRAFFIC, CAP_MONITORS}))
    assert ("delete_deployment", "deployment/shop/old") in [(str(a.kind), a.resource) for a in plan.actions]
