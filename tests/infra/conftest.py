from __future__ import annotations

import pytest

from mlplatform import render


@pytest.fixture(scope="session")
def captures() -> dict[str, render.Capture]:
    """Both stacks rendered once under Pulumi's mocks: the same capture `mlops render` writes."""
    return {stack: render.render(stack) for stack in ("dev", "prod")}


@pytest.fixture(params=["dev", "prod"])
def stack(request: pytest.FixtureRequest, captures: dict[str, render.Capture]) -> render.Capture:
    capture: render.Capture = captures[request.param]
    return capture
