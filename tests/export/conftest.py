"""Fixtures of the export tests: a small sandbox, a campaign that placed calls, a leadbridge.toml."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from export_support import ExportSetup

from leadbridge.sandbox.server import RunningSandbox, serve_in_thread
from leadbridge.sandbox.state import MEMORY_URL, Sandbox


@pytest.fixture
def platform() -> Iterator[RunningSandbox]:
    """A new in-memory sandbox (60 people)."""
    with serve_in_thread(Sandbox(MEMORY_URL, seed=5, people=60)) as running:
        yield running


@pytest.fixture
def setup(platform: RunningSandbox, tmp_path: Path) -> Iterator[ExportSetup]:
    value = ExportSetup(platform, tmp_path)
    yield value
    value.close()


@pytest.fixture
def control(platform: RunningSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform.url, timeout=60) as client:
        yield client
