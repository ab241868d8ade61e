"""The RBAC table is what gets deployed, and the grants Azure checks come before their users."""

from __future__ import annotations

from typing import Any

import pytest

from mlplatform import rbac, render
from mlplatform.common import ROLES
from mlplatform.render import Capture


def _granted(capture: Capture) -> set[tuple[str, str, str]]:
    """(principal, role, scope) of every identity role assignment, read back from its description."""
    found = set()
    for assignment in capture.of_type("azure-native:authorization:RoleAssignment"):
        if assignment["parent"] != "ids":
            continue
        who, rest = assignment["inputs"]["description"].split(" identity: ", 1)
        role, target = rest.removesuffix(" (mlplatform, least privilege)").split(" on ")
        found.add((who, role, target))
    return found


def test_the_table_is_exactly_what_each_stack_assigns(captures: dict[str, Capture]) -> None:
    table = {(g.principal, g.role, g.scope) for g in rbac.GRANTS}
    managed_only = {(g.principal, g.role, g.scope) for g in rbac.GRANTS if g.managed_network_only}
    assert _granted(captures["prod"]) == table
    assert _granted(captures["dev"]) == table - managed_only
    assert len(rbac.GRANTS) == len(table), "a row appears twice"


def test_every_row_names_a_known_role_and_says_why() -> None:
    for grant in rbac.GRANTS:
        assert grant.role in ROLES, grant
        assert len(grant.why) >= 20, grant


@pytest.fixture(scope="module")
def dependencies() -> dict[str, set[str]]:
    """Every prod resource's dependencies (logical names) as the engine would receive them."""
    from pulumi.runtime import mocks

    recorded: dict[str, set[str]] = {}
    original = mocks.MockMonitor.RegisterResource

    def record(self: mocks.MockMonitor, request: Any) -> Any:
        recorded[request.name] = {urn.rsplit("::", 1)[-1] for urn in request.dependencies}
        return original(self, request)  # type: ignore[no-untyped-call]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mocks.MockMonitor, "RegisterResource", record)
        render.render("prod")
    return recorded


def test_workspace_and_cluster_wait_for_the_grants_azure_checks(dependencies: dict[str, set[str]]) -> None:
    for principal, resource in (("workspace", "mlw-mlw"), ("compute", "mlw-cpu-cluster")):
        data_plane = {
            name
            for name in dependencies
            if name.startswith(f"ids-{principal}-") and not name.startswith(f"ids-{principal}-workspace-")
        }
        assert data_plane, principal
        assert data_plane <= dependencies[resource], (resource, data_plane - dependencies[resource])


def test_grants_on_the_workspace_follow_it(dependencies: dict[str, set[str]]) -> None:
    # ids-<principal>-workspace-<role>: a grant whose scope is the workspace.
    on_workspace = [
        name
        for name in dependencies
        if name.startswith("ids-") and not name.startswith("ids-workspace-") and "-workspace-" in name
    ]
    assert len(on_workspace) == sum(1 for g in rbac.GRANTS if g.scope == "workspace")
    for name in on_workspace:
        assert "mlw-mlw" in dependencies[name], name
