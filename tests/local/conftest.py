"""Shared fixtures for the local target's tests (trained models and the registry: tests/conftest.py).

Processes started by a test module are always stopped by that module's fixture (engine.down()).
"""

from __future__ import annotations

import pytest
from localkit import FIXTURES, REPO, SAMPLE, deployment_yaml, score, write_yaml


class Helpers:
    """Handed to tests as a fixture: with --import-mode=importlib test modules cannot import conftest."""

    score = staticmethod(score)
    write_yaml = staticmethod(write_yaml)
    deployment_yaml = staticmethod(deployment_yaml)
    repo = REPO
    sample = SAMPLE
    fixtures = FIXTURES


@pytest.fixture(scope="session")
def h() -> type[Helpers]:
    return Helpers
