"""Fixtures of the flow tests (helpers live in flow_helpers.py)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flow_helpers import Setup, run_cli

from leadbridge.sandbox.server import RunningSandbox, serve_in_thread
from leadbridge.sandbox.state import MEMORY_URL, Sandbox


@pytest.fixture
def platform() -> Iterator[RunningSandbox]:
    """A new in-memory sandbox (300 people)."""
    with serve_in_thread(Sandbox(MEMORY_URL, seed=3, people=300)) as running:
        yield running


@pytest.fixture
def setup(platform: RunningSandbox, tmp_path: Path) -> Iterator[Setup]:
    value = Setup(platform, tmp_path)
    yield value
    value.close()


@pytest.fixture
def cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    return run_cli
